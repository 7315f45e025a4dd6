//! Read, list, edit, delete and retry of assets.

use super::{AssetBody, AssetPageBody, ListAssetsQuery, UpdateAssetBody, check_kind, parse_status};
use crate::AppState;
use crate::clients::{self, for_caller};
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, fields};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::content::v1 as pb;

/// An asset
///
/// Yours in any state; other people's once they are `ready` (processed and approved).
/// A user's read counts as a view for recommendations (recorded in the background:
/// it never delays nor fails this answer).
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses((status = 200, description = "The asset", body = AssetBody)),
)]
#[get("/api/v1/assets/{id}")]
pub async fn get_asset(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let asset = state
        .content
        .grpc()
        .get_asset(for_caller(
            caller.principal(),
            pb::GetAssetRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    clients::tagging::record_view(&state.tagging, caller.principal(), &asset.id);
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}

/// List assets
///
/// Newest first: every `ready` asset of your tenant plus all of yours (moderators see
/// everything), filtered, paged with `cursor`.
#[utoipa::path(
    tag = "assets",
    params(ListAssetsQuery),
    responses((status = 200, description = "A page of assets", body = AssetPageBody)),
)]
#[get("/api/v1/assets")]
pub async fn list_assets(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListAssetsQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        Some(status) => parse_status(status)?,
        None => pb::AssetStatus::Unspecified,
    };
    if let Some(owner) = query.owner.as_deref() {
        validate::id("owner", owner)?;
    }
    check_kind(query.kind.as_deref())?;
    validate::cursor(query.cursor.as_deref())?;
    let page = state
        .content
        .grpc()
        .list_assets(for_caller(
            caller.principal(),
            pb::ListAssetsRequest {
                owner_id: query.owner.unwrap_or_default(),
                status: status.into(),
                kind: query.kind.unwrap_or_default(),
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetPageBody::from(page)))
}

/// Edit an asset
///
/// Title and/or description (owner only). Text with a blocked term sends the asset
/// back to review.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    request_body = UpdateAssetBody,
    responses(
        (status = 200, description = "The edited asset", body = AssetBody),
        (status = 400, description = "`title_required`, `title_too_long`, `description_too_long`, `invalid_input` (control characters), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner (`forbidden`), or the token lacks `assets:write`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/api/v1/assets/{id}")]
pub async fn update_asset(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<UpdateAssetBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    validate::optional_text(&fields::NEW_TITLE, body.title.as_deref())?;
    validate::optional_text(&fields::DESCRIPTION, body.description.as_deref())?;
    let asset = state
        .content
        .grpc()
        .update_asset(for_caller(
            caller.principal(),
            pb::UpdateAssetRequest {
                id: id.into_inner(),
                title: body.title,
                description: body.description,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}

/// Delete an asset
///
/// The owner or a moderator; the stored files go with it.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/api/v1/assets/{id}")]
pub async fn delete_asset(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .content
        .grpc()
        .delete_asset(for_caller(
            caller.principal(),
            pb::DeleteAssetRequest {
                id: id.into_inner(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Process a failed asset again
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses(
        (status = 200, description = "Back in processing", body = AssetBody),
        (status = 409, description = "The asset has not failed (`not_failed`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/assets/{id}/retry")]
pub async fn retry_processing(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let asset = state
        .content
        .grpc()
        .retry_processing(for_caller(
            caller.principal(),
            pb::RetryProcessingRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}
