//! Browser sessions and Google sign-in, for the web studio (cookies, not tokens: see
//! `crate::browser`).

use super::auth::{LoginBody, RegisterBody, open_account, refresh_token, sign_in, token_response};
use super::{UserBody, required};
use crate::AppState;
use crate::browser::{self, OIDC_RETURN_COOKIE, OIDC_STATE_COOKIE, REFRESH_COOKIE};
use crate::clients::anonymous;
use crate::request_id::RequestContext;
use crate::validate::{self, JsonObject};
use actix_web::cookie::Cookie;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, get, post, web};
use marquee_platform::input::Text;
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use utoipa::{IntoParams, ToSchema};

/// The one external sign-in provider so far.
const GOOGLE: &str = "google";
/// The callback's path; the full redirect URI is this origin plus it, and auth accepts
/// only the redirect URIs it is configured with.
const GOOGLE_CALLBACK_PATH: &str = "/api/v1/auth/google/callback";
/// Where a failed Google sign-in lands (the studio shows the `error` code).
const SIGN_IN_PAGE: &str = "/signin";

/// The query parameters of the Google routes, bounded as the OpenAPI document states.
const RETURN_TO: Text = Text::line("return_to", 512, "invalid_input");
const CODE: Text = Text::line("code", 4096, "invalid_input");
const STATE: Text = Text::line("state", 512, "invalid_input");
const GOOGLE_ERROR: Text = Text::line("error", 256, "invalid_input");

/// A signed-in browser session. The tokens are in `HttpOnly` cookies; the page gets the
/// CSRF token to echo in `X-CSRF-Token`.
#[derive(Serialize, ToSchema)]
pub struct BrowserSessionBody {
    pub user: UserBody,
    /// Also in the readable `mq_csrf` cookie; send it as `X-CSRF-Token` on every
    /// `POST`, `PUT`, `PATCH` and `DELETE`.
    pub csrf_token: String,
    /// Lifetime of the access cookie in seconds; refresh before or on a `401`.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// External sign-in providers configured here.
#[derive(Serialize, ToSchema)]
pub struct SignInProvidersBody {
    /// E.g. `["google"]`; empty when none is configured.
    pub providers: Vec<String>,
}

/// Sets a new session's cookies on `builder`; the CSRF token (also the `mq_csrf` cookie)
/// is returned for the page.
fn set_session_cookies(
    state: &AppState,
    builder: &mut HttpResponseBuilder,
    session: &pb::Session,
) -> String {
    let csrf_token = browser::new_csrf_token();
    for cookie in browser::session_cookies(
        &state.settings.browser,
        &session.access_token,
        session.expires_in,
        &session.refresh_token,
        &csrf_token,
    ) {
        builder.cookie(cookie);
    }
    csrf_token
}

/// Answers a new session: cookies set, the page's part in the body.
fn signed_in(
    state: &AppState,
    mut builder: HttpResponseBuilder,
    session: pb::Session,
) -> Result<HttpResponse, Error> {
    let csrf_token = set_session_cookies(state, &mut builder, &session);
    let body = BrowserSessionBody {
        user: required(session.user, "user in session")?.into(),
        csrf_token,
        expires_in: session.expires_in,
    };
    Ok(token_response(builder).json(body))
}

/// An error that also ends the browser session (its cookies are deleted).
fn signed_out_error(state: &AppState, error: Error) -> HttpResponse {
    let mut response = error.error_response();
    for cookie in browser::cleared_session_cookies(&state.settings.browser) {
        // Only fails for a malformed cookie, and these are built here.
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// Create an account (browser)
///
/// As `POST /api/v1/auth/register`, but the session goes into `HttpOnly` cookies.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered and signed in; cookies `mq_access`, `mq_refresh` (HttpOnly) and `mq_csrf` set", body = BrowserSessionBody),
        (status = 400, description = "`invalid_email`, `weak_password`, `invalid_display_name`, `invalid_id` (tenant_id), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`invitation_required` (another tenant than the default one without an invitation) or `invitation_invalid` (as for `POST /api/v1/auth/register`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is already registered in this tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/browser/register")]
pub async fn register(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<RegisterBody>,
) -> Result<HttpResponse, Error> {
    let session = open_account(&state, &context, body.into_inner()).await?;
    signed_in(&state, HttpResponse::Created(), session)
}

/// Sign in (browser)
///
/// As `POST /api/v1/auth/login`, but the session goes into `HttpOnly` cookies.
#[utoipa::path(
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; session cookies set", body = BrowserSessionBody),
        (status = 400, description = "`invalid_email`, `invalid_input` (password), `invalid_id` (tenant_id), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins (`too_many_attempts`) or the caller's rate limit (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/browser/login")]
pub async fn login(
    state: web::Data<AppState>,
    context: RequestContext,
    body: JsonObject<LoginBody>,
) -> Result<HttpResponse, Error> {
    let session = sign_in(&state, &context, body.into_inner()).await?;
    signed_in(&state, HttpResponse::Ok(), session)
}

/// Refresh the browser session
///
/// Rotates the refresh cookie and issues a new access cookie and CSRF token. Needs
/// `X-CSRF-Token`.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "A new session; cookies replaced", body = BrowserSessionBody),
        (status = 401, description = "No, an expired or a revoked refresh cookie (`refresh_token_invalid`), or a reused one (`refresh_token_reused`); the cookies are deleted", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`X-CSRF-Token` missing or not the `mq_csrf` cookie (`csrf_token_invalid`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/browser/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    browser::check_csrf(&req)?;
    let token = req
        .cookie(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_string())
        .unwrap_or_default();
    let session = match refresh_token(token) {
        Ok(refresh_token) => {
            state
                .auth
                .grpc()
                .refresh(anonymous(pb::RefreshRequest {
                    refresh_token,
                    client: context.client_info(),
                }))
                .await
        }
        Err(error) => return Ok(signed_out_error(&state, error)),
    };
    match session {
        Ok(session) => signed_in(&state, HttpResponse::Ok(), session.into_inner()),
        Err(status) => Ok(signed_out_error(&state, status.into())),
    }
}

/// Sign out (browser)
///
/// Revokes the session behind the refresh cookie and deletes the cookies. Needs
/// `X-CSRF-Token`.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out; cookies deleted (also when there was no session)"),
        (status = 403, description = "`X-CSRF-Token` missing or not the `mq_csrf` cookie (`csrf_token_invalid`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/auth/browser/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    browser::check_csrf(&req)?;
    let token = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string());
    if let Some(Ok(refresh_token)) = token.map(refresh_token) {
        state
            .auth
            .grpc()
            .logout(anonymous(pb::LogoutRequest {
                refresh_token,
                client: context.client_info(),
            }))
            .await?;
    }
    let mut response = HttpResponse::NoContent();
    for cookie in browser::cleared_session_cookies(&state.settings.browser) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}

/// External sign-in providers
///
/// Which "Sign in with …" buttons to show.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The configured providers", body = SignInProvidersBody),
    ),
)]
#[get("/api/v1/auth/providers")]
pub async fn providers(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let providers = state
        .auth
        .grpc()
        .list_sign_in_providers(anonymous(pb::ListSignInProvidersRequest {}))
        .await?
        .into_inner()
        .providers;
    Ok(HttpResponse::Ok().json(SignInProvidersBody { providers }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoogleStartQuery {
    /// A path of the studio to land on afterwards (`/campaigns`); anything that is not a
    /// local path means `/`.
    #[param(max_length = 512, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub return_to: Option<String>,
}

/// Sign in with Google
///
/// Starts the OpenID Connect authorization-code flow (PKCE, `state`, `nonce`, kept by
/// auth): redirects to Google with the pending sign-in bound to this browser by a
/// short-lived cookie.
#[utoipa::path(
    tag = "auth",
    params(GoogleStartQuery),
    responses(
        (status = 302, description = "To Google's authorization endpoint; `mq_oidc_state` cookie set"),
        (status = 400, description = "Google sign-in is not configured here (`provider_not_configured`), this origin's callback is not one of auth's configured redirect URIs (`invalid_redirect_uri`), or `return_to` is too long or has control characters (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/auth/google/start")]
pub async fn google_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<GoogleStartQuery>,
) -> Result<HttpResponse, Error> {
    validate::optional_text(&RETURN_TO, query.return_to.as_deref())?;
    let return_to = browser::safe_return_path(query.return_to.as_deref());
    let begun = state
        .auth
        .grpc()
        .begin_external_sign_in(anonymous(pb::BeginExternalSignInRequest {
            provider: GOOGLE.into(),
            redirect_uri: callback_uri(&req),
        }))
        .await?
        .into_inner();
    let mut response = HttpResponse::Found();
    response
        .insert_header((header::LOCATION, begun.authorization_url))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    for cookie in browser::oidc_cookies(
        &state.settings.browser,
        &begun.state,
        &return_to,
        begun.expires_in,
    ) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoogleCallbackQuery {
    #[param(max_length = 4096, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub code: Option<String>,
    #[param(max_length = 512, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub state: Option<String>,
    /// Set by Google instead of `code` when the person declined.
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub error: Option<String>,
}

/// Google's redirect back
///
/// Completes the sign-in (auth exchanges the code and verifies the ID token) and lands
/// in the studio signed in; any failure lands on `/signin?error=<code>`.
#[utoipa::path(
    tag = "auth",
    params(GoogleCallbackQuery),
    responses(
        (status = 302, description = "To the studio, signed in (session cookies set), or to `/signin?error=<code>`"),
        (status = 400, description = "A query parameter longer than stated or with control characters (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/auth/google/callback")]
pub async fn google_callback(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
    query: web::Query<GoogleCallbackQuery>,
) -> Result<HttpResponse, Error> {
    let settings = &state.settings.browser;
    let query = query.into_inner();
    validate::optional_text(&CODE, query.code.as_deref())?;
    validate::optional_text(&STATE, query.state.as_deref())?;
    validate::optional_text(&GOOGLE_ERROR, query.error.as_deref())?;
    let pending = req.cookie(OIDC_STATE_COOKIE);
    let return_to =
        browser::safe_return_path(req.cookie(OIDC_RETURN_COOKIE).as_ref().map(Cookie::value));
    let failed = |code: &str| {
        let mut response = HttpResponse::Found();
        response
            .insert_header((header::LOCATION, format!("{SIGN_IN_PAGE}?error={code}")))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        for cookie in browser::cleared_oidc_cookies(settings) {
            response.cookie(cookie);
        }
        response.finish()
    };
    if query.error.is_some() {
        return Ok(failed("google_declined"));
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Ok(failed("google_incomplete"));
    };
    // The state must come back to the browser that started the sign-in (login CSRF).
    let same_browser = pending.as_ref().is_some_and(|cookie| {
        bool::from(cookie.value().as_bytes().ct_eq(returned_state.as_bytes()))
    });
    if !same_browser {
        return Ok(failed("state_mismatch"));
    }
    let client = context.client_info().unwrap_or_default();
    let completed = state
        .auth
        .grpc()
        .complete_external_sign_in(anonymous(pb::CompleteExternalSignInRequest {
            provider: GOOGLE.into(),
            state: returned_state,
            code,
            redirect_uri: callback_uri(&req),
            client_ip: client.ip,
            user_agent: client.user_agent,
        }))
        .await;
    let session = match completed {
        Ok(session) => session.into_inner(),
        Err(status) => {
            let error = Error::from(status);
            tracing::info!(code = %error.code, "Google sign-in failed");
            return Ok(failed(&sanitized_code(&error.code)));
        }
    };
    let mut response = HttpResponse::Found();
    response
        .insert_header((header::LOCATION, return_to))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    set_session_cookies(&state, &mut response, &session);
    for cookie in browser::cleared_oidc_cookies(settings) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}

/// This origin's callback URL, as the browser reached the gateway. Auth compares it
/// with its configured redirect URIs, so a forged `Host` can only pick a listed one.
fn callback_uri(req: &HttpRequest) -> String {
    let connection = req.connection_info();
    format!(
        "{}://{}{GOOGLE_CALLBACK_PATH}",
        connection.scheme(),
        connection.host()
    )
}

/// Error codes are snake_case already; this keeps a `Location` header clean whatever
/// comes back.
fn sanitized_code(code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .take(64)
        .collect();
    if code.is_empty() {
        "sign_in_failed".into()
    } else {
        code
    }
}
