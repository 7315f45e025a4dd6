//! The public signing keys, so anyone can verify Marquee access tokens offline.

use crate::AppState;
use crate::token::JwkSet;
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

/// The JSON Web Key Set
///
/// Ed25519 public keys (RFC 8037) of the current and previous signing keys, as cached by
/// the gateway from auth.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The JWKS", body = JwkSet)),
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(state.verifier.jwks())
}
