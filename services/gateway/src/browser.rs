//! Browser sessions: the web studio never holds a token.
//!
//! At sign-in the gateway puts the access token and the refresh token in `HttpOnly`,
//! `SameSite=Strict` cookies (script cannot read them, other sites cannot send them) and
//! gives the page a CSRF token, also as a readable cookie. A request authenticated by
//! the access cookie that changes something (`POST`, `PUT`, `PATCH`, `DELETE`) must echo
//! that token in `X-CSRF-Token` (double submit): a forged cross-site request can carry
//! the cookies in old browsers but cannot read the token. A request with an
//! `Authorization` header is a token client and ignores the cookies entirely.
//!
//! The refresh cookie is scoped to `/api/v1/auth/browser`, so it travels only to
//! refresh and sign-out, where auth's rotation (reuse revokes the family) applies as for
//! any other client.

use crate::settings::BrowserSettings;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::Method;
use base64::Engine as _;
use marquee_platform::Error;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

/// The access token (a JWT, as in `Authorization: Bearer`).
pub const ACCESS_COOKIE: &str = "mq_access";
/// The refresh token; sent only to the browser-session routes.
pub const REFRESH_COOKIE: &str = "mq_refresh";
/// The CSRF token: readable by the page, echoed in [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "mq_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Where the refresh cookie is sent.
pub const REFRESH_PATH: &str = "/api/v1/auth/browser";
/// The pending Google sign-in's `state` and where to go afterwards; sent only to the
/// Google routes, and `SameSite=Lax` because Google's redirect back is a cross-site
/// top-level navigation.
pub const OIDC_STATE_COOKIE: &str = "mq_oidc_state";
pub const OIDC_RETURN_COOKIE: &str = "mq_oidc_return";
pub const OIDC_PATH: &str = "/api/v1/auth/google";

/// The access token from the cookie, for a request without an `Authorization`
/// header. `Ok(None)`: no cookie. A state-changing request must carry the CSRF token.
pub fn access_token(req: &HttpRequest) -> Result<Option<String>, Error> {
    let Some(access) = req.cookie(ACCESS_COOKIE) else {
        return Ok(None);
    };
    if !is_safe(req.method()) {
        check_csrf(req)?;
    }
    Ok(Some(access.value().to_string()))
}

/// Refuses a request whose `X-CSRF-Token` does not match its CSRF cookie.
pub fn check_csrf(req: &HttpRequest) -> Result<(), Error> {
    let cookie = req.cookie(CSRF_COOKIE);
    let header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok());
    match (cookie, header) {
        (Some(cookie), Some(header))
            if !header.is_empty()
                && bool::from(cookie.value().as_bytes().ct_eq(header.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(Error::forbidden(
            "csrf_token_invalid",
            "this request needs the X-CSRF-Token header, equal to the mq_csrf cookie",
        )),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A fresh CSRF token: 256 random bits, base64url.
pub fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The cookies of a signed-in browser session.
pub fn session_cookies(
    settings: &BrowserSettings,
    access_token: &str,
    access_ttl_secs: i64,
    refresh_token: &str,
    csrf_token: &str,
) -> [Cookie<'static>; 3] {
    [
        cookie(
            settings,
            ACCESS_COOKIE,
            access_token,
            "/api",
            access_ttl_secs,
            true,
        ),
        cookie(
            settings,
            REFRESH_COOKIE,
            refresh_token,
            REFRESH_PATH,
            settings.refresh_max_age_secs,
            true,
        ),
        cookie(
            settings,
            CSRF_COOKIE,
            csrf_token,
            "/",
            settings.refresh_max_age_secs,
            false,
        ),
    ]
}

/// Cookies that delete the session's cookies.
pub fn cleared_session_cookies(settings: &BrowserSettings) -> [Cookie<'static>; 3] {
    [
        cookie(settings, ACCESS_COOKIE, "", "/api", 0, true),
        cookie(settings, REFRESH_COOKIE, "", REFRESH_PATH, 0, true),
        cookie(settings, CSRF_COOKIE, "", "/", 0, false),
    ]
}

/// The pending Google sign-in's cookies (ten minutes, like the sign-in itself).
pub fn oidc_cookies(
    settings: &BrowserSettings,
    state: &str,
    return_to: &str,
    ttl_secs: i64,
) -> [Cookie<'static>; 2] {
    let mut state = cookie(
        settings,
        OIDC_STATE_COOKIE,
        state,
        OIDC_PATH,
        ttl_secs,
        true,
    );
    state.set_same_site(SameSite::Lax);
    let mut back = cookie(
        settings,
        OIDC_RETURN_COOKIE,
        return_to,
        OIDC_PATH,
        ttl_secs,
        true,
    );
    back.set_same_site(SameSite::Lax);
    [state, back]
}

pub fn cleared_oidc_cookies(settings: &BrowserSettings) -> [Cookie<'static>; 2] {
    oidc_cookies(settings, "", "", 0)
}

fn cookie(
    settings: &BrowserSettings,
    name: &'static str,
    value: &str,
    path: &'static str,
    max_age_secs: i64,
    http_only: bool,
) -> Cookie<'static> {
    Cookie::build(name, value.to_string())
        .path(path)
        .http_only(http_only)
        .secure(settings.cookie_secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(max_age_secs.max(0)))
        .finish()
}

/// A place in the studio to go back to after signing in: a path on this origin only
/// (`/campaigns/abc?tab=posts`), never `//evil.example` or a scheme; anything else is `/`.
pub fn safe_return_path(candidate: Option<&str>) -> String {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.len() <= 512
                && path
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'"' && b != b';') =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn reads_need_no_csrf_but_writes_do() {
        let get = TestRequest::get()
            .cookie(Cookie::new(ACCESS_COOKIE, "jwt"))
            .to_http_request();
        assert_eq!(access_token(&get).unwrap().as_deref(), Some("jwt"));

        let forged = TestRequest::post()
            .cookie(Cookie::new(ACCESS_COOKIE, "jwt"))
            .cookie(Cookie::new(CSRF_COOKIE, "secret"))
            .to_http_request();
        assert_eq!(
            access_token(&forged).unwrap_err().code,
            "csrf_token_invalid"
        );

        let wrong = TestRequest::delete()
            .cookie(Cookie::new(ACCESS_COOKIE, "jwt"))
            .cookie(Cookie::new(CSRF_COOKIE, "secret"))
            .insert_header((CSRF_HEADER, "guess"))
            .to_http_request();
        assert!(access_token(&wrong).is_err());

        let empty = TestRequest::patch()
            .cookie(Cookie::new(ACCESS_COOKIE, "jwt"))
            .cookie(Cookie::new(CSRF_COOKIE, ""))
            .insert_header((CSRF_HEADER, ""))
            .to_http_request();
        assert!(access_token(&empty).is_err());

        let echoed = TestRequest::post()
            .cookie(Cookie::new(ACCESS_COOKIE, "jwt"))
            .cookie(Cookie::new(CSRF_COOKIE, "secret"))
            .insert_header((CSRF_HEADER, "secret"))
            .to_http_request();
        assert_eq!(access_token(&echoed).unwrap().as_deref(), Some("jwt"));

        let none = TestRequest::post().to_http_request();
        assert_eq!(access_token(&none).unwrap(), None);
    }

    #[test]
    fn session_cookies_are_http_only_strict_and_scoped() {
        let settings = BrowserSettings::default();
        let [access, refresh, csrf] = session_cookies(&settings, "a", 900, "r", "c");
        assert!(access.http_only().unwrap() && refresh.http_only().unwrap());
        assert!(!csrf.http_only().unwrap(), "the page reads the CSRF token");
        assert_eq!(refresh.path(), Some(REFRESH_PATH));
        assert_eq!(access.path(), Some("/api"));
        for cookie in [&access, &refresh, &csrf] {
            assert_eq!(cookie.same_site(), Some(SameSite::Strict));
            assert_eq!(cookie.secure(), Some(true));
        }
        assert_eq!(access.max_age(), Some(CookieDuration::seconds(900)));
    }

    #[test]
    fn csrf_tokens_are_long_and_fresh() {
        let (a, b) = (new_csrf_token(), new_csrf_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            safe_return_path(Some("/campaigns/x?tab=1")),
            "/campaigns/x?tab=1"
        );
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a b",
            "",
        ] {
            assert_eq!(safe_return_path(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_return_path(None), "/");
    }
}
