//! Moderation of assets (role `moderator`): the review queue and decisions.

use super::assets::{AssetBody, AssetPageBody};
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, OptionalJsonObject, fields};
use actix_web::{HttpResponse, get, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::content::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Paging of the review queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Page size: default 20 (also for 0); larger values are read as 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295.0)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?$"
    )]
    pub cursor: Option<String>,
}

/// A moderation decision's note (optional when approving).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// At most 1000 characters; tab and newline are the only control characters.
    #[serde(default)]
    #[schema(
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub reason: String,
}

/// A rejection: the owner reads its reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RejectionBody {
    /// 1 to 1000 characters, not blank; tab and newline are the only control
    /// characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub reason: String,
}

/// The review queue
///
/// Processed assets waiting for a decision, oldest first; flagged ones carry `flags`.
#[utoipa::path(
    tag = "moderation",
    params(QueueQuery),
    responses((status = 200, description = "A page of assets to review", body = AssetPageBody)),
)]
#[get("/api/v1/moderation/assets")]
pub async fn queue(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    validate::cursor(query.cursor.as_deref())?;
    let page = state
        .content
        .grpc()
        .list_moderation_queue(for_caller(
            caller.principal(),
            pb::ListModerationQueueRequest {
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetPageBody::from(page)))
}

async fn decide(
    state: &AppState,
    caller: &Authenticated,
    id: String,
    approved: bool,
    reason: String,
) -> Result<HttpResponse, Error> {
    let asset = state
        .content
        .grpc()
        .moderate_asset(for_caller(
            caller.principal(),
            pb::ModerateAssetRequest {
                id,
                approve: approved,
                reason,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}

/// Approve an asset
///
/// It becomes visible to everyone in the tenant (once processed).
#[utoipa::path(
    tag = "moderation",
    params(("id" = String, Path, description = "Asset id")),
    request_body(content = Option<DecisionBody>, description = "Optional note"),
    responses(
        (status = 200, description = "Approved", body = AssetBody),
        (status = 409, description = "The asset failed processing (`not_reviewable`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/moderation/assets/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: OptionalJsonObject<DecisionBody>,
) -> Result<HttpResponse, Error> {
    let reason = body.into_inner().map(|b| b.reason).unwrap_or_default();
    validate::text(&fields::DECISION_REASON, &reason)?;
    decide(&state, &caller, id.into_inner(), true, reason).await
}

/// Reject an asset
///
/// Needs a `reason`, which the owner sees.
#[utoipa::path(
    tag = "moderation",
    params(("id" = String, Path, description = "Asset id")),
    request_body = RejectionBody,
    responses(
        (status = 200, description = "Rejected", body = AssetBody),
        (status = 400, description = "`reason_required`, `reason_too_long`, `invalid_input` (control characters), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset failed processing (`not_reviewable`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/moderation/assets/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<DecisionBody>,
) -> Result<HttpResponse, Error> {
    let reason = body.into_inner().reason;
    validate::text(&fields::REJECTION_REASON, &reason)?;
    decide(&state, &caller, id.into_inner(), false, reason).await
}
