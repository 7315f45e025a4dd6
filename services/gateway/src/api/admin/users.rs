//! Users of the admin's tenant: disabling one (every session ends, no sign-in), enabling
//! them again, and ending all of a user's sessions (a lost laptop, a leaked token).
//! Access tokens already issued are refused within the revocation poll
//! (`revocation_poll_secs`) on every gateway replica.

use crate::AppState;
use crate::api::UserBody;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use actix_web::{HttpResponse, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

/// What ending a user's sessions revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedSessionsBody {
    /// Live refresh tokens revoked (their access tokens are refused too).
    pub refresh_tokens_revoked: u64,
}

async fn set_disabled(
    state: &AppState,
    caller: &Authenticated,
    user_id: String,
    disabled: bool,
) -> Result<HttpResponse, Error> {
    let user = state
        .auth
        .grpc()
        .set_user_disabled(for_caller(
            caller.principal(),
            pb::SetUserDisabledRequest { user_id, disabled },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(UserBody::from(user)))
}

/// Disable a user
///
/// The user can no longer sign in or refresh, and every session they have ends at once
/// (access tokens are refused within seconds). An admin cannot disable themselves.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "User id (of the admin's tenant)")),
    responses(
        (status = 200, description = "The user, now disabled", body = UserBody),
        (status = 400, description = "Disabling oneself (`cannot_disable_self`) or a malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/users/{id}/disable")]
pub async fn disable_user(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    set_disabled(&state, &caller, id.into_inner(), true).await
}

/// Enable a user again
///
/// A disabled user may sign in again (their old sessions stay ended).
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "User id (of the admin's tenant)")),
    responses(
        (status = 200, description = "The user, enabled", body = UserBody),
        (status = 404, description = "No such user in the tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/users/{id}/enable")]
pub async fn enable_user(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    set_disabled(&state, &caller, id.into_inner(), false).await
}

/// End all of a user's sessions
///
/// Every refresh token of the user is revoked and every access token issued so far is
/// refused within seconds; the user can sign in again.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "User id (of the admin's tenant)")),
    responses(
        (status = 200, description = "Sessions ended", body = RevokedSessionsBody),
        (status = 404, description = "No such user in the tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/users/{id}/revoke-sessions")]
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let revoked = state
        .auth
        .grpc()
        .revoke_user_sessions(for_caller(
            caller.principal(),
            pb::RevokeUserSessionsRequest {
                user_id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(RevokedSessionsBody {
        refresh_tokens_revoked: revoked.refresh_tokens_revoked,
    }))
}
