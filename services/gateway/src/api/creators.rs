//! Creators (content service): profiles, follow / unfollow, follower and following
//! lists. `{id}` may be `me`. Scopes `assets:read` / `assets:write`.

use super::time;
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, fields};
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::content::v1 as pb;
use marquee_proto::convert;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A creator's public profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatorBody {
    pub id: String,
    pub tenant_id: String,
    /// Empty until the creator sets one.
    pub display_name: String,
    pub bio: String,
    /// One of the creator's image assets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_asset_id: Option<String>,
    pub followers: u64,
    pub following: u64,
    /// Whether you follow this creator.
    pub followed_by_me: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<pb::Creator> for CreatorBody {
    fn from(c: pb::Creator) -> Self {
        Self {
            id: c.id,
            tenant_id: c.tenant_id,
            display_name: c.display_name,
            bio: c.bio,
            avatar_asset_id: Some(c.avatar_asset_id).filter(|a| !a.is_empty()),
            followers: c.followers,
            following: c.following,
            followed_by_me: c.followed_by_me,
            updated_at: convert::time(c.updated_at),
        }
    }
}

/// Changes to your profile; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileBody {
    /// At most 80 characters, one line.
    #[schema(max_length = 80, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub display_name: Option<String>,
    /// At most 1000 characters; tab and newline are the only control characters.
    #[schema(
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub bio: Option<String>,
    /// One of your image assets; `""` clears it.
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub avatar_asset_id: Option<String>,
}

/// After a follow or unfollow.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowStateBody {
    pub following: bool,
    /// The creator's follower count now.
    pub followers: u64,
}

/// One follower, or one followed creator.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowEntryBody {
    pub user_id: String,
    pub since: DateTime<Utc>,
}

super::page!(
    /// A page of followers or followed creators, newest first.
    FollowPageBody of FollowEntryBody
);

impl From<pb::FollowEntry> for FollowEntryBody {
    fn from(entry: pb::FollowEntry) -> Self {
        Self {
            user_id: entry.user_id,
            since: time(entry.since),
        }
    }
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size: default 20 (also for 0); larger values are read as 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295.0)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?$"
    )]
    pub cursor: Option<String>,
}

async fn creator(
    state: &AppState,
    caller: &Authenticated,
    id: String,
) -> Result<HttpResponse, Error> {
    let creator = state
        .content
        .grpc()
        .get_creator(for_caller(caller.principal(), pb::GetCreatorRequest { id }))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CreatorBody::from(creator)))
}

/// Your profile
#[utoipa::path(
    tag = "creators",
    responses((status = 200, description = "Your profile", body = CreatorBody)),
)]
#[get("/api/v1/creators/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    creator(&state, &caller, "me".into()).await
}

/// Edit your profile
#[utoipa::path(
    tag = "creators",
    request_body = UpdateProfileBody,
    responses(
        (status = 200, description = "Your profile", body = CreatorBody),
        (status = 400, description = "`display_name_invalid`, `bio_too_long` or `invalid_avatar`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/api/v1/creators/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonObject<UpdateProfileBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    validate::optional_text(&fields::PROFILE_NAME, body.display_name.as_deref())?;
    validate::optional_text(&fields::BIO, body.bio.as_deref())?;
    if let Some(avatar) = body.avatar_asset_id.as_deref()
        && !avatar.is_empty()
        && !marquee_platform::input::is_id(avatar)
    {
        return Err(Error::invalid(
            "invalid_avatar",
            "`avatar_asset_id` must be the id of one of your image assets, or empty",
        ));
    }
    let creator = state
        .content
        .grpc()
        .update_my_profile(for_caller(
            caller.principal(),
            pb::UpdateProfileRequest {
                display_name: body.display_name,
                bio: body.bio,
                avatar_asset_id: body.avatar_asset_id,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CreatorBody::from(creator)))
}

/// A creator's profile
///
/// With follower and following counts. A creator exists once they have a profile or an
/// asset in your tenant; anyone else is 404.
#[utoipa::path(
    tag = "creators",
    params(("id" = String, Path, description = "Creator (user) id, or `me`")),
    responses((status = 200, description = "The profile", body = CreatorBody)),
)]
#[get("/api/v1/creators/{id}")]
pub async fn get_creator(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    creator(&state, &caller, id.into_inner()).await
}

async fn set_follow(
    state: &AppState,
    caller: &Authenticated,
    creator_id: String,
    start: bool,
) -> Result<HttpResponse, Error> {
    let request = for_caller(caller.principal(), pb::FollowRequest { creator_id });
    let mut client = state.content.grpc();
    let answer = if start {
        client.follow(request).await?
    } else {
        client.unfollow(request).await?
    }
    .into_inner();
    Ok(HttpResponse::Ok().json(FollowStateBody {
        following: answer.following,
        followers: answer.followers,
    }))
}

/// Follow a creator
///
/// Idempotent. Rate limited per user (429 `follow_rate_limited` with `Retry-After`).
#[utoipa::path(
    tag = "creators",
    params(("id" = String, Path, description = "Creator (user) id")),
    responses(
        (status = 200, description = "You follow the creator", body = FollowStateBody),
        (status = 400, description = "`cannot_follow_self`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`follow_rate_limited`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/creators/{id}/follow")]
pub async fn follow(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    set_follow(&state, &caller, id.into_inner(), true).await
}

/// Unfollow a creator
///
/// Idempotent.
#[utoipa::path(
    tag = "creators",
    params(("id" = String, Path, description = "Creator (user) id")),
    responses((status = 200, description = "You do not follow the creator", body = FollowStateBody)),
)]
#[delete("/api/v1/creators/{id}/follow")]
pub async fn unfollow(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    set_follow(&state, &caller, id.into_inner(), false).await
}

async fn follows(
    state: &AppState,
    caller: &Authenticated,
    creator_id: String,
    query: PageQuery,
    of_followers: bool,
) -> Result<HttpResponse, Error> {
    validate::cursor(query.cursor.as_deref())?;
    let request = for_caller(
        caller.principal(),
        pb::ListFollowsRequest {
            creator_id,
            limit: query.limit.unwrap_or(0),
            cursor: query.cursor.unwrap_or_default(),
        },
    );
    let mut client = state.content.grpc();
    let page = if of_followers {
        client.list_followers(request).await?
    } else {
        client.list_following(request).await?
    }
    .into_inner();
    Ok(HttpResponse::Ok().json(FollowPageBody::new(page.entries, page.next_cursor)))
}

/// A creator's followers
#[utoipa::path(
    tag = "creators",
    params(("id" = String, Path, description = "Creator (user) id, or `me`"), PageQuery),
    responses((status = 200, description = "A page of followers, newest first", body = FollowPageBody)),
)]
#[get("/api/v1/creators/{id}/followers")]
pub async fn followers(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    follows(&state, &caller, id.into_inner(), query.into_inner(), true).await
}

/// Whom a creator follows
#[utoipa::path(
    tag = "creators",
    params(("id" = String, Path, description = "Creator (user) id, or `me`"), PageQuery),
    responses((status = 200, description = "A page of followed creators, newest first", body = FollowPageBody)),
)]
#[get("/api/v1/creators/{id}/following")]
pub async fn following(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    follows(&state, &caller, id.into_inner(), query.into_inner(), false).await
}
