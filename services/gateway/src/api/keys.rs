//! Signing-key rotation (admin): the admin-call twin of `marquee keys rotate`.

use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use actix_web::{HttpResponse, post, web};
use marquee_platform::Error;
use marquee_proto::auth::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

/// The outcome of a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKeysBody {
    /// The key that signs from now on.
    pub kid: String,
    /// Keys in the JWKS, newest first: the new key and its predecessor, so tokens signed
    /// before the rotation stay valid until they expire.
    pub published_kids: Vec<String>,
}

/// Rotate the signing key
///
/// Auth starts signing with a new Ed25519 key at once; the previous key stays
/// published. This gateway reloads the JWKS immediately, other replicas when they
/// first meet the new `kid`.
#[utoipa::path(
    tag = "admin",
    responses((status = 200, description = "The new signing key", body = RotatedKeysBody)),
)]
#[post("/api/v1/admin/keys/rotate")]
pub async fn rotate_signing_key(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
) -> Result<HttpResponse, Error> {
    let rotated = state
        .auth
        .grpc()
        .rotate_signing_key(for_caller(
            caller.principal(),
            pb::RotateSigningKeyRequest {
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    if let Err(error) = state.verifier.refresh().await {
        tracing::warn!(%error, "reloading the JWKS after a rotation failed; the next unknown kid will");
    }
    Ok(HttpResponse::Ok().json(RotatedKeysBody {
        kid: rotated.kid,
        published_kids: rotated.published_kids,
    }))
}
