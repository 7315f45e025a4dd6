//! The OAuth2 token endpoint: client-credentials grant (RFC 6749 §4.4). Requests are
//! form-encoded; the client authenticates with HTTP Basic (`client_secret_basic`) or
//! with `client_id`/`client_secret` in the form (`client_secret_post`), not both.
//! Errors are the RFC 6749 §5.2 JSON object, mapped in one place ([`OAuthError`]) from
//! the stable codes auth returns.

use crate::AppState;
use crate::clients::anonymous;
use crate::request_id::RequestContext;
use crate::validate::fields;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, post, web};
use base64::Engine as _;
use marquee_platform::{Error, ErrorKind};
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The token request (`application/x-www-form-urlencoded`).
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials", value_type = GrantType)]
    pub grant_type: String,
    /// Scopes from the catalogue, separated by single spaces; omitted or empty means
    /// every scope granted to the client.
    #[schema(
        example = "assets:read campaigns:read",
        max_length = 1024,
        pattern = "^((assets:read|assets:write|campaigns:read|campaigns:write|billing:read|tenant:read)( (assets:read|assets:write|campaigns:read|campaigns:write|billing:read|tenant:read))*)?$"
    )]
    pub scope: Option<String>,
    /// With `client_secret_post` only.
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub client_id: Option<String>,
    /// With `client_secret_post` only.
    #[schema(max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub client_secret: Option<String>,
}

/// The one grant the token endpoint serves.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum GrantType {
    ClientCredentials,
}

/// Scopes as the token endpoint takes them: catalogue names separated by single spaces.
fn check_scope(scope: &str) -> Result<(), TokenError> {
    let known = scope.chars().count() <= fields::SCOPE.max_chars
        && scope
            .split(' ')
            .all(|word| marquee_platform::Scope::parse(word).is_some());
    if known {
        Ok(())
    } else {
        Err(TokenError::oauth(
            OAuthCode::InvalidScope,
            format!(
                "`scope` must be scopes from the catalogue separated by single spaces: {}",
                marquee_platform::Scope::join(&marquee_platform::Scope::ALL)
            ),
        ))
    }
}

/// Client credentials of a shape auth could have issued; anything else fails client
/// authentication without reaching auth.
fn check_credentials(client_id: &str, client_secret: &str, basic: bool) -> Result<(), TokenError> {
    let shaped = marquee_platform::input::is_id(client_id)
        && fields::CLIENT_SECRET.check(client_secret).is_ok();
    if shaped {
        Ok(())
    } else {
        Err(TokenError::OAuth {
            code: OAuthCode::InvalidClient,
            description: "client authentication failed".into(),
            basic,
        })
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    #[schema(example = 900)]
    pub expires_in: i64,
    #[schema(example = "assets:read campaigns:read")]
    pub scope: String,
}

/// An error response (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, or `server_error` /
    /// `temporarily_unavailable`.
    #[schema(example = "invalid_client")]
    pub error: String,
    pub error_description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// What the token endpoint answers when it fails.
#[derive(Debug)]
pub enum TokenError {
    /// RFC 6749 §5.2.
    OAuth {
        code: OAuthCode,
        description: String,
        /// The client tried HTTP Basic: a 401 carries the matching challenge.
        basic: bool,
    },
    /// Throttling is answered like everywhere else (problem+json, 429, Retry-After).
    Platform(Error),
}

impl TokenError {
    fn oauth(code: OAuthCode, description: impl Into<String>) -> Self {
        Self::OAuth {
            code,
            description: description.into(),
            basic: false,
        }
    }

    /// Maps an error from auth by its stable code, else by its kind.
    fn from_auth(error: Error, basic: bool) -> Self {
        let code = match error.code.as_ref() {
            "invalid_client" => OAuthCode::InvalidClient,
            "invalid_scope" => OAuthCode::InvalidScope,
            "unauthorized_client" => OAuthCode::UnauthorizedClient,
            "invalid_grant" => OAuthCode::InvalidGrant,
            "invalid_request" => OAuthCode::InvalidRequest,
            _ => match error.kind {
                ErrorKind::RateLimited => return Self::Platform(error),
                ErrorKind::Unauthenticated | ErrorKind::NotFound => OAuthCode::InvalidClient,
                ErrorKind::PermissionDenied => OAuthCode::UnauthorizedClient,
                ErrorKind::InvalidInput => OAuthCode::InvalidRequest,
                ErrorKind::Unavailable => OAuthCode::TemporarilyUnavailable,
                _ => OAuthCode::ServerError,
            },
        };
        Self::OAuth {
            code,
            description: error.message,
            basic,
        }
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OAuth {
                code, description, ..
            } => write!(f, "{}: {description}", code.as_str()),
            Self::Platform(error) => error.fmt(f),
        }
    }
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::OAuth { code, .. } => code.status(),
            Self::Platform(error) => error.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (code, description, basic) = match self {
            Self::OAuth {
                code,
                description,
                basic,
            } => (*code, description, *basic),
            Self::Platform(error) => return error.error_response(),
        };
        let mut response = HttpResponse::build(code.status());
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if code == OAuthCode::InvalidClient && basic {
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"marquee\""));
        }
        response.json(OAuthErrorBody {
            error: code.as_str().to_string(),
            error_description: description.clone(),
        })
    }
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: both parts are
/// form-url-encoded before base64).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || TokenError::OAuth {
        code: OAuthCode::InvalidClient,
        description: "malformed HTTP Basic credentials".into(),
        basic: true,
    };
    let value = value.to_str().map_err(|_| invalid())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(invalid());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::oauth(
            OAuthCode::InvalidRequest,
            "the token endpoint accepts HTTP Basic client authentication only",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
    Ok(Some((
        percent_decode(id).ok_or_else(invalid)?,
        percent_decode(secret).ok_or_else(invalid)?,
    )))
}

/// Decodes `%XX` escapes. `+` is kept as is: secrets may contain it and clients often
/// send them unencoded.
fn percent_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = input.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_form(req: &HttpRequest, body: &[u8]) -> Result<TokenForm, TokenError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(TokenError::oauth(
            OAuthCode::InvalidRequest,
            "the token request must be application/x-www-form-urlencoded",
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|error| {
        TokenError::oauth(
            OAuthCode::InvalidRequest,
            format!("malformed form body: {error}"),
        )
    })?;
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &pairs {
        if !seen.insert(name.as_str()) {
            return Err(TokenError::oauth(
                OAuthCode::InvalidRequest,
                format!("parameter `{name}` is repeated"),
            ));
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Ok(TokenForm {
        grant_type: get("grant_type").ok_or_else(|| {
            TokenError::oauth(OAuthCode::InvalidRequest, "missing parameter `grant_type`")
        })?,
        scope: get("scope"),
        client_id: get("client_id"),
        client_secret: get("client_secret"),
    })
}

/// Issue a client token
///
/// OAuth2 client-credentials grant (RFC 6749 §4.4). Authenticate the client with HTTP
/// Basic or with `client_id` and `client_secret` in the form. The token carries only the
/// granted scopes.
#[utoipa::path(
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Token issued (Cache-Control: no-store)", body = TokenBody),
        (status = 400, description = "invalid_request, unsupported_grant_type, invalid_scope or unauthorized_client", body = OAuthErrorBody),
        (status = 401, description = "invalid_client (with WWW-Authenticate when HTTP Basic was used)", body = OAuthErrorBody),
    ),
    // HTTP Basic, or (the empty requirement) `client_id` and `client_secret` in the form.
    security(("client_basic" = []), ()),
)]
#[post("/api/v1/oauth/token")]
pub async fn token(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, TokenError> {
    let basic = basic_credentials(&req)?;
    let form = parse_form(&req, &body)?;
    if form.grant_type != "client_credentials" {
        return Err(TokenError::oauth(
            OAuthCode::UnsupportedGrantType,
            "only the client_credentials grant is supported",
        ));
    }
    if let Some(scope) = form.scope.as_deref() {
        check_scope(scope)?;
    }
    let used_basic = basic.is_some();
    let (client_id, client_secret) = match (basic, form.client_id, form.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(TokenError::oauth(
                OAuthCode::InvalidRequest,
                "use one client authentication method, not HTTP Basic and form credentials",
            ));
        }
        (Some(credentials), None, None) => credentials,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return Err(TokenError::oauth(
                OAuthCode::InvalidClient,
                "client authentication is required (HTTP Basic or client_id and client_secret)",
            ));
        }
    };
    check_credentials(&client_id, &client_secret, used_basic)?;
    let issued = state
        .auth
        .grpc()
        .issue_client_token(anonymous(pb::IssueClientTokenRequest {
            client_id,
            client_secret,
            scope: form.scope.unwrap_or_default(),
            client: context.client_info(),
        }))
        .await
        .map_err(|status| TokenError::from_auth(Error::from(status), used_basic))?
        .into_inner();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(TokenBody {
            access_token: issued.access_token,
            token_type: if issued.token_type.is_empty() {
                "Bearer".into()
            } else {
                issued.token_type
            },
            expires_in: issued.expires_in,
            scope: issued.scope,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn basic_credentials_are_decoded() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("client%3A1:s+cr%25t");
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, format!("Basic {encoded}")))
            .to_http_request();
        let (id, secret) = basic_credentials(&req).unwrap().unwrap();
        assert_eq!(id, "client:1");
        assert_eq!(secret, "s+cr%t");

        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic !!!"))
            .to_http_request();
        assert!(matches!(
            basic_credentials(&req),
            Err(TokenError::OAuth {
                code: OAuthCode::InvalidClient,
                basic: true,
                ..
            })
        ));
        assert!(
            basic_credentials(&TestRequest::default().to_http_request())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn form_must_be_form_encoded_without_repeats() {
        let form = |content_type: &str, body: &str| {
            let req = TestRequest::default()
                .insert_header((header::CONTENT_TYPE, content_type))
                .to_http_request();
            parse_form(&req, body.as_bytes())
        };
        let ok = form(
            "application/x-www-form-urlencoded; charset=utf-8",
            "grant_type=client_credentials&scope=a+b",
        )
        .unwrap();
        assert_eq!(ok.grant_type, "client_credentials");
        assert_eq!(ok.scope.as_deref(), Some("a b"));
        for (content_type, body) in [
            ("application/json", "{}"),
            ("application/x-www-form-urlencoded", "scope=x"),
            (
                "application/x-www-form-urlencoded",
                "grant_type=a&grant_type=b",
            ),
        ] {
            assert!(matches!(
                form(content_type, body),
                Err(TokenError::OAuth {
                    code: OAuthCode::InvalidRequest,
                    ..
                })
            ));
        }
    }

    #[test]
    fn auth_codes_map_to_rfc6749_errors() {
        let map = |code: &'static str, kind| match TokenError::from_auth(
            Error::new(kind, code, "x"),
            true,
        ) {
            TokenError::OAuth { code, .. } => Some(code),
            TokenError::Platform(_) => None,
        };
        assert_eq!(
            map("invalid_client", ErrorKind::Unauthenticated),
            Some(OAuthCode::InvalidClient)
        );
        assert_eq!(
            map("invalid_scope", ErrorKind::InvalidInput),
            Some(OAuthCode::InvalidScope)
        );
        assert_eq!(
            map("unauthorized_client", ErrorKind::PermissionDenied),
            Some(OAuthCode::UnauthorizedClient)
        );
        assert_eq!(
            map("client_revoked", ErrorKind::Unauthenticated),
            Some(OAuthCode::InvalidClient)
        );
        assert_eq!(
            map("unavailable", ErrorKind::Unavailable),
            Some(OAuthCode::TemporarilyUnavailable)
        );
        assert_eq!(map("rate_limited", ErrorKind::RateLimited), None);

        let response = TokenError::from_auth(
            Error::new(ErrorKind::Unauthenticated, "invalid_client", "bad secret"),
            true,
        )
        .error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"marquee\""
        );
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        let scope = TokenError::oauth(OAuthCode::InvalidScope, "x").error_response();
        assert_eq!(scope.status(), StatusCode::BAD_REQUEST);
        assert!(scope.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
