//! Signed download URLs: making them, and downloading through them without a token.

use super::downloads::{parse_variant, request_range, respond};
use crate::AppState;
use crate::api::time;
use crate::clients::{for_caller, stream_anonymous};
use crate::policy::Authenticated;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::content::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What a signed URL should grant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignedUrlRequest {
    /// `published` (default), `thumbnail` or `original` (owner and moderators).
    #[schema(value_type = Option<super::VariantName>)]
    pub variant: Option<String>,
    /// Seconds the URL stays valid: default 900; larger values are read as 3600.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    pub expires_in: Option<u32>,
}

/// A short-lived download URL that needs no token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedUrlBody {
    /// Path and query, relative to the API's base URL (this gateway).
    #[schema(
        example = "/api/v1/assets/0190…/content/signed?variant=published&expires=1767225600&signature=9f…"
    )]
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Make a signed download URL
///
/// For an asset (and variant) you may download; whoever holds the URL can download
/// it without a token until `expires_at`.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    request_body = SignedUrlRequest,
    responses(
        (status = 200, description = "The URL", body = SignedUrlBody),
        (status = 400, description = "`invalid_variant`, `invalid_expires_in`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/assets/{id}/signed-url")]
pub async fn create_signed_url(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: crate::validate::JsonObject<SignedUrlRequest>,
) -> Result<HttpResponse, Error> {
    let variant = parse_variant(body.variant.as_deref())?;
    let expires_in = match body.expires_in {
        None => 0,
        Some(0) => {
            return Err(Error::invalid(
                "invalid_expires_in",
                "expires_in is at least 1 second",
            ));
        }
        Some(seconds) => seconds,
    };
    let signed = state
        .content
        .grpc()
        .create_signed_url(for_caller(
            caller.principal(),
            pb::CreateSignedUrlRequest {
                id: id.into_inner(),
                variant: variant.into(),
                expires_in_secs: expires_in,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(SignedUrlBody {
        url: signed.path,
        expires_at: time(signed.expires_at),
    }))
}

/// The query of a signed download URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedContentQuery {
    #[param(value_type = Option<super::VariantName>, inline)]
    pub variant: Option<String>,
    /// Unix seconds.
    pub expires: i64,
    /// Hex HMAC-SHA256.
    pub signature: String,
}

/// Download through a signed URL
///
/// No token: the content service checks the signature (over asset id, variant and
/// expiry) and the expiry. Range works as on `/content`.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id"), SignedContentQuery),
    responses(
        (status = 200, description = "The file, with the type sniffed at upload (the thumbnail is JPEG)", content(("image/*"), ("video/*"), ("audio/*"), ("application/pdf"), ("text/plain"))),
        (status = 206, description = "The requested range", content(("image/*"), ("video/*"), ("audio/*"), ("application/pdf"), ("text/plain"))),
        (status = 403, description = "`invalid_signature` or `url_expired`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/assets/{id}/content/signed")]
pub async fn download_signed(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<SignedContentQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, Error> {
    let variant = parse_variant(query.variant.as_deref())?;
    let stream = state
        .content
        .grpc()
        // A server stream: no overall deadline (see `download`).
        .get_asset_content(stream_anonymous(pb::GetAssetContentRequest {
            id: id.into_inner(),
            variant: variant.into(),
            range: request_range(&request),
            signed: Some(pb::SignedAccess {
                expires: query.expires,
                signature: query.signature.clone(),
            }),
        }))
        .await?
        .into_inner();
    respond(stream).await
}
