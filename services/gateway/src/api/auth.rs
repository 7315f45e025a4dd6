//! Accounts and sessions: register, login, refresh, logout, me.

use super::{UserBody, required};
use crate::AppState;
use crate::clients::{anonymous, for_caller};
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, get, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Sign-up details.
#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple", format = Password)]
    pub password: String,
    /// At most 100 characters; the email's local part when omitted or blank.
    #[serde(default)]
    #[schema(example = "Ada")]
    pub display_name: Option<String>,
    /// Tenant to join; the default tenant when omitted.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// Sign-in details.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    /// Tenant of the account; the default tenant when omitted.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// A refresh token, for `refresh` and `logout`.
#[derive(Deserialize, ToSchema)]
pub struct RefreshTokenBody {
    pub refresh_token: String,
}

/// A signed-in session.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    pub user: UserBody,
    /// Short-lived JWT (EdDSA) for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque, single use: each refresh returns a new one. Reusing an old one revokes
    /// the whole session family.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// A response carrying tokens: never stored by caches (RFC 6749 §5.1).
pub fn token_response(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

impl TryFrom<pb::Session> for SessionBody {
    type Error = Error;

    fn try_from(session: pb::Session) -> Result<Self, Error> {
        Ok(Self {
            user: required(session.user, "user in session")?.into(),
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            token_type: if session.token_type.is_empty() {
                "Bearer".into()
            } else {
                session.token_type
            },
            expires_in: session.expires_in,
        })
    }
}

/// Create an account
///
/// Registers a user (password policy: at least the minimum length, not the email) and
/// signs them in.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered and signed in (Cache-Control: no-store)", body = SessionBody),
        (status = 409, description = "The email is already registered in this tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    context: RequestContext,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let session = state
        .auth
        .grpc()
        .register(anonymous(pb::RegisterRequest {
            email: body.email,
            password: body.password,
            // Empty: auth uses the email's local part.
            display_name: body.display_name.unwrap_or_default(),
            tenant_id: body.tenant_id.unwrap_or_default(),
            client: context.client_info(),
        }))
        .await?
        .into_inner();
    Ok(token_response(HttpResponse::Created()).json(SessionBody::try_from(session)?))
}

/// Sign in
///
/// Exchanges email and password for a session. A failed sign-in never reveals whether
/// the email exists; repeated failures are throttled (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in (Cache-Control: no-store)", body = SessionBody),
    ),
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    context: RequestContext,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let session = state
        .auth
        .grpc()
        .login(anonymous(pb::LoginRequest {
            email: body.email,
            password: body.password,
            tenant_id: body.tenant_id.unwrap_or_default(),
            client: context.client_info(),
        }))
        .await?
        .into_inner();
    Ok(token_response(HttpResponse::Ok()).json(SessionBody::try_from(session)?))
}

/// Refresh a session
///
/// Rotates the refresh token and issues a new access token.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshTokenBody,
    responses(
        (status = 200, description = "A new session (Cache-Control: no-store)", body = SessionBody),
    ),
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    context: RequestContext,
    body: web::Json<RefreshTokenBody>,
) -> Result<HttpResponse, Error> {
    let session = state
        .auth
        .grpc()
        .refresh(anonymous(pb::RefreshRequest {
            refresh_token: body.into_inner().refresh_token,
            client: context.client_info(),
        }))
        .await?
        .into_inner();
    Ok(token_response(HttpResponse::Ok()).json(SessionBody::try_from(session)?))
}

/// Sign out
///
/// Revokes the refresh token (and with it the session).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshTokenBody,
    responses(
        (status = 204, description = "Signed out"),
    ),
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    context: RequestContext,
    body: web::Json<RefreshTokenBody>,
) -> Result<HttpResponse, Error> {
    state
        .auth
        .grpc()
        .logout(anonymous(pb::LogoutRequest {
            refresh_token: body.into_inner().refresh_token,
            client: context.client_info(),
        }))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The calling user", body = UserBody),
    ),
)]
#[get("/api/v1/auth/me")]
pub async fn me(state: web::Data<AppState>, caller: Authenticated) -> Result<HttpResponse, Error> {
    let user = state
        .auth
        .grpc()
        .get_me(for_caller(caller.principal(), pb::GetMeRequest {}))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(UserBody::from(user)))
}
