//! Accounts and sessions: register, login, refresh, logout, me.

use super::{UserBody, required};
use crate::AppState;
use crate::clients::{anonymous, for_caller};
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use crate::validate::{self, JsonObject, fields};
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, get, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Sign-up details.
#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    /// Trimmed and lower-cased; at most 254 characters, one `@`, a dotted domain.
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 10 to 256 characters, no control characters, not the email.
    #[schema(
        example = "correct horse battery staple",
        format = Password,
        min_length = 10,
        max_length = 256,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub password: String,
    /// At most 100 characters, one line; the email's local part when omitted or blank.
    #[serde(default)]
    #[schema(
        example = "Ada",
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub display_name: Option<String>,
    /// Tenant to join; the default tenant when omitted or empty (with an invitation:
    /// its tenant). Any other tenant needs an invitation (`403 invitation_required`).
    #[serde(default)]
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub tenant_id: Option<String>,
    /// An invitation token (`POST /api/v1/tenant/invitations`) made for this email:
    /// joins its tenant with its role, once.
    #[serde(default)]
    #[schema(max_length = 512, pattern = "^[A-Za-z0-9_-]{0,512}$")]
    pub invitation: Option<String>,
}

/// Sign-in details.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    #[schema(
        format = Password,
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub password: String,
    /// Tenant of the account; the default tenant when omitted or empty.
    #[serde(default)]
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub tenant_id: Option<String>,
}

/// A refresh token, for `refresh` and `logout`.
#[derive(Deserialize, ToSchema)]
pub struct RefreshTokenBody {
    /// As issued: `mqr_` and base64url, at most 512 characters.
    #[schema(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub refresh_token: String,
}

/// A refresh token of the shape auth issues; anything else is refused like an unknown
/// token (`401 refresh_token_invalid`), without asking auth.
pub(super) fn refresh_token(token: String) -> Result<String, Error> {
    let shaped = !token.is_empty()
        && token.len() <= fields::MAX_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if shaped {
        Ok(token)
    } else {
        Err(Error::unauthenticated(
            "refresh_token_invalid",
            "the refresh token is invalid, expired or revoked",
        ))
    }
}

/// Registers and signs in (checked as the OpenAPI document says); shared by the token
/// and browser flows.
pub(super) async fn open_account(
    state: &AppState,
    context: &RequestContext,
    body: RegisterBody,
) -> Result<pb::Session, Error> {
    let email = validate::email(&body.email)?;
    validate::text(&fields::PASSWORD, &body.password)?;
    validate::optional_text(&fields::DISPLAY_NAME, body.display_name.as_deref())?;
    validate::optional_id("tenant_id", body.tenant_id.as_deref())?;
    let invitation = body.invitation.map(invitation_token).transpose()?;
    let session = state
        .auth
        .grpc()
        .register(anonymous(pb::RegisterRequest {
            email,
            password: body.password,
            // Empty: auth uses the email's local part.
            display_name: body.display_name.unwrap_or_default(),
            tenant_id: body.tenant_id.unwrap_or_default(),
            client: context.client_info(),
            invitation: invitation.unwrap_or_default(),
        }))
        .await?
        .into_inner();
    Ok(session)
}

/// An invitation token of the shape auth issues (empty counts as none); anything else
/// is refused like an unknown one (`403 invitation_invalid`), without asking auth.
fn invitation_token(token: String) -> Result<String, Error> {
    let shaped = token.len() <= fields::MAX_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if shaped {
        Ok(token)
    } else {
        Err(Error::forbidden(
            "invitation_invalid",
            "this invitation cannot be used: it is unknown, used, revoked or expired, or it was made for another e-mail address or tenant",
        ))
    }
}

/// Signs in with email and password; shared by the token and browser flows.
pub(super) async fn sign_in(
    state: &AppState,
    context: &RequestContext,
    body: LoginBody,
) -> Result<pb::Session, Error> {
    let email = validate::email(&body.email)?;
    validate::text(&fields::LOGIN_PASSWORD, &body.password)?;
    validate::optional_id("tenant_id", body.tenant_id.as_deref())?;
    let session = state
        .auth
        .grpc()
        .login(anonymous(pb::LoginRequest {
            email,
            password: body.password,
            tenant_id: body.tenant_id.unwrap_or_default(),
            client: context.client_info(),
        }))
        .await?
        .into_inner();
    Ok(session)
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
        (status = 400, description = "`invalid_email`, `weak_password`, `invalid_display_name`, `invalid_id` (tenant_id), or a malformed body (`invalid_request`, `malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`invitation_required`: a tenant other than the default one without an invitation (whether or not it exists); `invitation_invalid`: an invitation unknown, used, revoked, expired, or made for another email or tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is already registered in this tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<RegisterBody>,
) -> Result<HttpResponse, Error> {
    let session = open_account(&state, &context, body.into_inner()).await?;
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
        (status = 400, description = "`invalid_email`, `invalid_input` (password), `invalid_id` (tenant_id), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password, or no such account (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins for this account or address (`too_many_attempts`, with `Retry-After`) or the caller's rate limit (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<LoginBody>,
) -> Result<HttpResponse, Error> {
    let session = sign_in(&state, &context, body.into_inner()).await?;
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
        (status = 401, description = "Unknown, malformed, expired or revoked refresh token (`refresh_token_invalid`), or one used before (`refresh_token_reused`: its whole session is revoked)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<RefreshTokenBody>,
) -> Result<HttpResponse, Error> {
    let refresh_token = refresh_token(body.into_inner().refresh_token)?;
    let session = state
        .auth
        .grpc()
        .refresh(anonymous(pb::RefreshRequest {
            refresh_token,
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
        (status = 204, description = "Signed out (also for a token that is already revoked or unknown)"),
        (status = 401, description = "A malformed refresh token (`refresh_token_invalid`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<RefreshTokenBody>,
) -> Result<HttpResponse, Error> {
    let refresh_token = refresh_token(body.into_inner().refresh_token)?;
    state
        .auth
        .grpc()
        .logout(anonymous(pb::LogoutRequest {
            refresh_token,
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

/// A token from a mailed link (`mqv_…` or `mqp_…`).
#[derive(Deserialize, ToSchema)]
pub struct VerifyEmailBody {
    /// The `token` parameter of the link: `mqv_` and base64url, at most 512 characters.
    #[schema(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub token: String,
}

/// Who forgot their password.
#[derive(Deserialize, ToSchema)]
pub struct ForgotPasswordBody {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// Tenant of the account; the default tenant when omitted or empty.
    #[serde(default)]
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub tenant_id: Option<String>,
}

/// A reset link's token and the new password.
#[derive(Deserialize, ToSchema)]
pub struct ResetPasswordBody {
    /// The `token` parameter of the link: `mqp_` and base64url, at most 512 characters.
    #[schema(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub token: String,
    /// The registration policy: 10 to 256 characters, no control characters, not the
    /// email.
    #[schema(
        example = "correct horse battery staple",
        format = Password,
        min_length = 10,
        max_length = 256,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub password: String,
}

/// A link token of the shape auth issues; anything else is refused like an unknown one
/// (`400 <code>`), without asking auth.
fn link_token(token: String, code: &'static str) -> Result<String, Error> {
    let shaped = !token.is_empty()
        && token.len() <= fields::MAX_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if shaped {
        Ok(token)
    } else {
        Err(Error::invalid(
            code,
            "the link is invalid, expired or already used",
        ))
    }
}

/// Verify an e-mail address
///
/// Consumes the token of the link mailed at registration (or resent): single use,
/// valid 24 hours. No session is needed (the link may be opened anywhere).
#[utoipa::path(
    tag = "auth",
    request_body = VerifyEmailBody,
    responses(
        (status = 200, description = "Verified: the user as they are now", body = UserBody),
        (status = 400, description = "An unknown, expired, used or malformed token (`verification_token_invalid`), or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/email/verify")]
pub async fn verify_email(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<VerifyEmailBody>,
) -> Result<HttpResponse, Error> {
    let token = link_token(body.into_inner().token, "verification_token_invalid")?;
    let user = state
        .auth
        .grpc()
        .verify_email(anonymous(pb::VerifyEmailRequest {
            token,
            client: context.client_info(),
        }))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(UserBody::from(user)))
}

/// Mail a new verification link
///
/// To the signed-in user's address, at most one per minute; nothing is sent when the
/// address is verified already.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 202, description = "A link is on its way (or the address is verified already)"),
        (status = 429, description = "A link was mailed moments ago (`mail_recently_sent`, with `Retry-After`), or the caller's rate limit (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/email/verification")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    context: RequestContext,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    state
        .auth
        .grpc()
        .resend_verification(for_caller(
            caller.principal(),
            pb::ResendVerificationRequest {
                client: context.client_info(),
            },
        ))
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Ask for a password-reset link
///
/// Mails a reset link (valid 1 hour) when the account exists. The answer is the same,
/// and as quick, whether or not it does; an account gets at most one link per minute.
#[utoipa::path(
    tag = "auth",
    request_body = ForgotPasswordBody,
    responses(
        (status = 202, description = "If the account exists, a link is on its way"),
        (status = 400, description = "`invalid_email`, `invalid_id` (tenant_id), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The caller's rate limit (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/password/forgot")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<ForgotPasswordBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let email = validate::email(&body.email)?;
    validate::optional_id("tenant_id", body.tenant_id.as_deref())?;
    state
        .auth
        .grpc()
        .forgot_password(anonymous(pb::ForgotPasswordRequest {
            email,
            tenant_id: body.tenant_id.unwrap_or_default(),
            client: context.client_info(),
        }))
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Reset the password
///
/// Sets a new password with the token of a reset link (single use, valid 1 hour). Every
/// session of the user ends (refresh tokens, browser sessions); sign in again with the
/// new password.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordBody,
    responses(
        (status = 204, description = "The password is changed and every session ended"),
        (status = 400, description = "An unknown, expired, used or malformed token (`reset_token_invalid`), `weak_password` (the link stays usable), or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/password/reset")]
pub async fn reset_password(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<ResetPasswordBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let token = link_token(body.token, "reset_token_invalid")?;
    validate::text(&fields::PASSWORD, &body.password)?;
    state
        .auth
        .grpc()
        .reset_password(anonymous(pb::ResetPasswordRequest {
            token,
            new_password: body.password,
            client: context.client_info(),
        }))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
