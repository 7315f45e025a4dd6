//! Comments on assets (content service) and their moderation. Scopes `assets:read` /
//! `assets:write`; the moderation routes need the `moderator` role.

use super::creators::PageQuery;
use super::{created, time};
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, OptionalJsonObject, fields};
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::content::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentBody {
    pub id: String,
    pub asset_id: String,
    pub author_id: String,
    pub body: String,
    /// `visible`, `hidden` (reported, pending review; moderators see these) or
    /// `removed`.
    pub status: String,
    /// Open reports (moderators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<u32>,
    pub created_at: DateTime<Utc>,
}

impl From<pb::Comment> for CommentBody {
    fn from(c: pb::Comment) -> Self {
        Self {
            id: c.id,
            asset_id: c.asset_id,
            author_id: c.author_id,
            body: c.body,
            status: c.status,
            reports: (c.reports > 0).then_some(c.reports),
            created_at: time(c.created_at),
        }
    }
}

super::page!(
    /// A page of comments.
    CommentPageBody of CommentBody
);

impl From<pb::ListCommentsResponse> for CommentPageBody {
    fn from(page: pb::ListCommentsResponse) -> Self {
        Self::new(page.comments, page.next_cursor)
    }
}

/// A new comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    /// 1 to 2000 characters (content's `comment_max_chars` may allow fewer), not
    /// blank; tab and newline are the only control characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub body: String,
}

/// Why you report a comment (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// At most 500 characters; tab and newline are the only control characters.
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub reason: String,
}

/// After a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedBody {
    /// Whether the comment is now hidden pending review.
    pub hidden: bool,
}

/// Comment on an asset
///
/// Only on `ready` (approved) assets. Spam rules: at most `comment_max_chars`
/// characters and `comment_max_links` links, no blocked terms, no repeat of your own
/// comment within the duplicate window, and a per-user rate limit.
#[utoipa::path(
    tag = "comments",
    params(("id" = String, Path, description = "Asset id")),
    request_body = NewCommentBody,
    responses(
        (status = 201, description = "Posted", body = CommentBody,
            headers(("Location" = String, description = "The comment: `/api/v1/comments/{id}`"))),
        (status = 400, description = "`comment_empty`, `comment_too_long`, `comment_invalid`, `too_many_links` or `blocked_term`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`duplicate_comment` or `asset_not_commentable`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`comment_rate_limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/assets/{id}/comments")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<NewCommentBody>,
) -> Result<HttpResponse, Error> {
    validate::text(&fields::COMMENT_BODY, &body.body)?;
    let comment = state
        .content
        .grpc()
        .create_comment(for_caller(
            caller.principal(),
            pb::CreateCommentRequest {
                asset_id: id.into_inner(),
                body: body.into_inner().body,
            },
        ))
        .await?
        .into_inner();
    let location = format!("/api/v1/comments/{}", comment.id);
    Ok(created(location, CommentBody::from(comment)))
}

/// A comment
///
/// On an asset you can see. A comment hidden pending review is shown only to its
/// author and moderators (who also see `reports`); a removed one to no one (404).
#[utoipa::path(
    tag = "comments",
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, description = "The comment", body = CommentBody)),
)]
#[get("/api/v1/comments/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let comment = state
        .content
        .grpc()
        .get_comment(for_caller(
            caller.principal(),
            pb::GetCommentRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CommentBody::from(comment)))
}

/// An asset's comments
///
/// Newest first. Reported comments hidden pending review are left out (moderators see
/// them with `status: hidden`).
#[utoipa::path(
    tag = "comments",
    params(("id" = String, Path, description = "Asset id"), PageQuery),
    responses((status = 200, description = "A page of comments", body = CommentPageBody)),
)]
#[get("/api/v1/assets/{id}/comments")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    validate::cursor(query.cursor.as_deref())?;
    let page = state
        .content
        .grpc()
        .list_comments(for_caller(
            caller.principal(),
            pb::ListCommentsRequest {
                asset_id: id.into_inner(),
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CommentPageBody::from(page)))
}

/// Delete a comment
///
/// Its author or a moderator.
#[utoipa::path(
    tag = "comments",
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/api/v1/comments/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .content
        .grpc()
        .delete_comment(for_caller(
            caller.principal(),
            pb::DeleteCommentRequest {
                id: id.into_inner(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Report a comment
///
/// Once per user (reporting again changes nothing). Enough distinct reports hide it
/// until a moderator restores or removes it.
#[utoipa::path(
    tag = "comments",
    params(("id" = String, Path, description = "Comment id")),
    request_body(content = Option<ReportBody>, description = "Optional reason"),
    responses(
        (status = 200, description = "Reported", body = ReportedBody),
        (status = 400, description = "`cannot_report_own_comment` or `reason_too_long`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/comments/{id}/report")]
pub async fn report(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: OptionalJsonObject<ReportBody>,
) -> Result<HttpResponse, Error> {
    let reason = body.into_inner().map(|b| b.reason).unwrap_or_default();
    validate::text(&fields::REPORT_REASON, &reason)?;
    let answer = state
        .content
        .grpc()
        .report_comment(for_caller(
            caller.principal(),
            pb::ReportCommentRequest {
                id: id.into_inner(),
                reason,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(ReportedBody {
        hidden: answer.hidden,
    }))
}

/// Reported comments
///
/// Comments with open reports (hidden or not yet), oldest first.
#[utoipa::path(
    tag = "moderation",
    params(PageQuery),
    responses((status = 200, description = "A page of reported comments", body = CommentPageBody)),
)]
#[get("/api/v1/moderation/comments")]
pub async fn reported(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    validate::cursor(query.cursor.as_deref())?;
    let page = state
        .content
        .grpc()
        .list_reported_comments(for_caller(
            caller.principal(),
            pb::ListReportedCommentsRequest {
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CommentPageBody::from(page)))
}

async fn moderate(
    state: &AppState,
    caller: &Authenticated,
    id: String,
    put_back: bool,
) -> Result<HttpResponse, Error> {
    let comment = state
        .content
        .grpc()
        .moderate_comment(for_caller(
            caller.principal(),
            pb::ModerateCommentRequest {
                id,
                restore: put_back,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CommentBody::from(comment)))
}

/// Restore a reported comment
///
/// Visible again; its reports are cleared.
#[utoipa::path(
    tag = "moderation",
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, description = "Restored", body = CommentBody)),
)]
#[post("/api/v1/moderation/comments/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    moderate(&state, &caller, id.into_inner(), true).await
}

/// Remove a comment
///
/// Shown to no one any more (kept for the record).
#[utoipa::path(
    tag = "moderation",
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, description = "Removed", body = CommentBody)),
)]
#[post("/api/v1/moderation/comments/{id}/remove")]
pub async fn remove_reported(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    moderate(&state, &caller, id.into_inner(), false).await
}
