//! The web studio's edge: browser sessions in cookies with CSRF protection, and the
//! studio's files served at `/`.

use super::{Options, PASSWORD, TestFleet, assert_problem, spawn_fleet};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

/// One `Set-Cookie`: its value and attributes (lower-cased names).
#[derive(Debug)]
struct SetCookie {
    value: String,
    attributes: HashMap<String, String>,
}

fn set_cookies(headers: &HeaderMap) -> HashMap<String, SetCookie> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|line| {
            let line = line.to_str().unwrap();
            let mut parts = line.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let attributes = parts
                .map(|attribute| {
                    let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
                    (key.to_ascii_lowercase(), value.to_string())
                })
                .collect();
            (
                name.to_string(),
                SetCookie {
                    value: value.to_string(),
                    attributes,
                },
            )
        })
        .collect()
}

/// What a browser would send back: `name=value; …` of the live cookies.
fn cookie_header(cookies: &HashMap<String, SetCookie>, names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("{name}={}", cookies[*name].value))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A request as the studio's page sends it: the cookies, and `X-CSRF-Token` when given.
fn as_browser(
    fleet: &TestFleet,
    method: Method,
    path: &str,
    cookies: &str,
    csrf: Option<&str>,
) -> RequestBuilder {
    let request = fleet
        .http
        .request(method, fleet.at(path))
        .header(header::COOKIE, cookies);
    match csrf {
        Some(token) => request.header("x-csrf-token", token),
        None => request,
    }
}

#[tokio::test]
async fn browser_sessions_live_in_http_only_cookies_and_writes_need_the_csrf_token() {
    let fleet = spawn_fleet(Options::default()).await;
    let registered = fleet
        .post(
            "/api/v1/auth/browser/register",
            json!({"email": "bea@example.com", "password": PASSWORD, "display_name": "Bea"}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    assert_eq!(registered.headers()[header::CACHE_CONTROL], "no-store");
    let cookies = set_cookies(registered.headers());
    let body: Value = registered.json().await.unwrap();
    assert_eq!(body["user"]["email"], "bea@example.com");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    let access = &cookies["mq_access"];
    let refresh = &cookies["mq_refresh"];
    let csrf = &cookies["mq_csrf"];
    for cookie in [access, refresh, csrf] {
        assert_eq!(cookie.attributes["samesite"], "Strict");
        assert!(cookie.attributes.contains_key("secure"));
    }
    assert!(access.attributes.contains_key("httponly"));
    assert!(refresh.attributes.contains_key("httponly"));
    assert!(
        !csrf.attributes.contains_key("httponly"),
        "the page reads it"
    );
    assert_eq!(access.attributes["path"], "/api");
    assert_eq!(refresh.attributes["path"], "/api/v1/auth/browser");
    assert_eq!(body["csrf_token"], csrf.value.as_str());

    // Reads need only the cookie.
    let session = cookie_header(&cookies, &["mq_access", "mq_csrf"]);
    let me = as_browser(&fleet, Method::GET, "/api/v1/auth/me", &session, None)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "bea@example.com");

    // A write without the token (a forged cross-site form, say) is refused; with it, done.
    let profile = json!({"display_name": "Bea B.", "bio": "Makes things."});
    let forged = as_browser(&fleet, Method::PUT, "/api/v1/creators/me", &session, None)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_problem(forged, StatusCode::FORBIDDEN, "csrf_token_invalid").await;
    let guessed = as_browser(
        &fleet,
        Method::PUT,
        "/api/v1/creators/me",
        &session,
        Some("guessed"),
    )
    .json(&profile)
    .send()
    .await
    .unwrap();
    assert_problem(guessed, StatusCode::FORBIDDEN, "csrf_token_invalid").await;
    let updated = as_browser(
        &fleet,
        Method::PUT,
        "/api/v1/creators/me",
        &session,
        Some(&csrf.value),
    )
    .json(&profile)
    .send()
    .await
    .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);

    // An Authorization header wins: a token client never acts on ambient cookies.
    let bearer = fleet
        .http
        .get(fleet.at("/api/v1/auth/me"))
        .header(header::COOKIE, &session)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);

    // Refresh rotates (CSRF checked); the rotated-out cookie is refused and ends it all.
    let refresh_cookies = cookie_header(&cookies, &["mq_refresh", "mq_csrf"]);
    let no_csrf = as_browser(
        &fleet,
        Method::POST,
        "/api/v1/auth/browser/refresh",
        &refresh_cookies,
        None,
    )
    .send()
    .await
    .unwrap();
    assert_problem(no_csrf, StatusCode::FORBIDDEN, "csrf_token_invalid").await;
    let refreshed = as_browser(
        &fleet,
        Method::POST,
        "/api/v1/auth/browser/refresh",
        &refresh_cookies,
        Some(&csrf.value),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let rotated = set_cookies(refreshed.headers());
    assert_ne!(rotated["mq_refresh"].value, refresh.value);
    assert_ne!(rotated["mq_csrf"].value, csrf.value);
    let reused = as_browser(
        &fleet,
        Method::POST,
        "/api/v1/auth/browser/refresh",
        &refresh_cookies,
        Some(&csrf.value),
    )
    .send()
    .await
    .unwrap();
    let cleared = set_cookies(reused.headers());
    assert_eq!(cleared["mq_access"].attributes["max-age"], "0");
    assert_problem(reused, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;

    // Sign in again, then sign out: the refresh cookie is dead afterwards.
    let login = fleet
        .post(
            "/api/v1/auth/browser/login",
            json!({"email": "bea@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let cookies = set_cookies(login.headers());
    let both = cookie_header(&cookies, &["mq_refresh", "mq_csrf"]);
    let logout = as_browser(
        &fleet,
        Method::POST,
        "/api/v1/auth/browser/logout",
        &both,
        Some(&cookies["mq_csrf"].value),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        set_cookies(logout.headers())["mq_refresh"].attributes["max-age"],
        "0"
    );
    let after = as_browser(
        &fleet,
        Method::POST,
        "/api/v1/auth/browser/refresh",
        &both,
        Some(&cookies["mq_csrf"].value),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    fleet.stop().await;
}

async fn text(response: Response) -> String {
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_gateway_serves_the_studio_at_the_root_and_keeps_the_api_its_own() {
    let build = tempfile::tempdir().unwrap();
    std::fs::create_dir(build.path().join("assets")).unwrap();
    std::fs::write(
        build.path().join("index.html"),
        r#"<!doctype html><title>Marquee</title><script type="module" src="/assets/index-4f2a.js"></script>"#,
    )
    .unwrap();
    std::fs::write(build.path().join("assets/index-4f2a.js"), "export {};").unwrap();
    let dir = build.path().to_path_buf();
    let fleet = spawn_fleet(Options {
        gateway: Box::new(move |gateway| gateway.studio_dir = dir),
        ..Default::default()
    })
    .await;

    let index = fleet.http.get(fleet.at("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(index.headers()[header::CACHE_CONTROL], "no-cache");
    let csp = index.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(text(index).await.contains("<title>Marquee</title>"));

    // An app route is the app; a hashed file is cached for good; a missing one is a 404.
    let route = fleet
        .http
        .get(fleet.at("/campaigns/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(route.status(), StatusCode::OK);
    assert!(text(route).await.contains("<title>Marquee</title>"));
    let script = fleet
        .http
        .get(fleet.at("/assets/index-4f2a.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let missing = fleet
        .http
        .get(fleet.at("/assets/gone-1.js"))
        .send()
        .await
        .unwrap();
    assert_problem(missing, StatusCode::NOT_FOUND, "route_not_found").await;

    // The API is never the app: unknown API paths and other methods stay problems.
    let api = fleet
        .http
        .get(fleet.at("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_problem(api, StatusCode::NOT_FOUND, "route_not_found").await;
    let post = fleet
        .http
        .post(fleet.at("/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    fleet.stop().await;
}

/// The public origin the Google tests reach the gateway by (sent as `Host`): auth knows
/// only this callback.
const PUBLIC_HOST: &str = "studio.marquee.test";

/// Google sign-in through the gateway against a local OpenID provider: start → the
/// provider's authorize endpoint → the callback with `code` and `state` → signed in by
/// cookies. A callback from another browser (no state cookie), a forged ID token and an
/// origin auth does not know are each refused.
#[tokio::test]
async fn google_sign_in_lands_in_the_studio_signed_in() {
    use marquee_platform::SecretString;
    use marquee_testkit::oidc::{CLIENT_ID, CLIENT_SECRET, FakeIdentity, FakeOidcProvider, Tamper};

    let provider = FakeOidcProvider::start().await;
    provider.set_identity(FakeIdentity {
        sub: "g-4242".into(),
        email: "grace@example.com".into(),
        name: Some("Grace Hopper".into()),
        email_verified: true,
    });
    let issuer = provider.issuer().to_string();
    let fleet = spawn_fleet(Options {
        auth: Box::new(move |auth| {
            auth.oidc_google_client_id = Some(CLIENT_ID.into());
            auth.oidc_google_client_secret = Some(SecretString::from(CLIENT_SECRET.to_string()));
            auth.oidc_google_issuer = issuer;
            auth.oidc_google_redirect_uris =
                vec![format!("http://{PUBLIC_HOST}/api/v1/auth/google/callback")];
        }),
        ..Default::default()
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let providers: Value = http
        .get(fleet.at("/api/v1/auth/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(providers["providers"], json!(["google"]));

    // Reached by an origin auth does not list: refused before anyone is redirected.
    let unknown_origin = http
        .get(fleet.at("/api/v1/auth/google/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_origin.status(), StatusCode::BAD_REQUEST);

    let sign_in = |return_to: &'static str| {
        let http = http.clone();
        let start = fleet.at(&format!("/api/v1/auth/google/start?return_to={return_to}"));
        let gateway = fleet.url.clone();
        async move {
            let started = http
                .get(start)
                .header(header::HOST, PUBLIC_HOST)
                .send()
                .await
                .unwrap();
            assert_eq!(started.status(), StatusCode::FOUND);
            let pending = set_cookies(started.headers());
            assert_eq!(pending["mq_oidc_state"].attributes["samesite"], "Lax");
            assert!(pending["mq_oidc_state"].attributes.contains_key("httponly"));
            let authorize = started.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                authorize.contains("code_challenge_method=S256"),
                "{authorize}"
            );
            // The provider signs the person in and sends the browser back.
            let back = http.get(&authorize).send().await.unwrap();
            assert_eq!(back.status(), StatusCode::FOUND);
            let callback = back.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_string();
            let path = callback
                .strip_prefix(&format!("http://{PUBLIC_HOST}"))
                .expect("back to the configured callback");
            let state_cookie = format!(
                "mq_oidc_state={}; mq_oidc_return={}",
                pending["mq_oidc_state"].value, pending["mq_oidc_return"].value
            );
            (http, gateway, path.to_string(), state_cookie)
        }
    };

    // From another browser (no state cookie): refused, whatever the code.
    let (http, gateway, path, _) = sign_in("/campaigns").await;
    let stolen = http
        .get(format!("{gateway}{path}"))
        .header(header::HOST, PUBLIC_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stolen.headers()[header::LOCATION],
        "/signin?error=state_mismatch"
    );

    // A forged ID token: refused, and no session.
    provider.tamper_next_token(Tamper::Forged);
    let (http, gateway, path, state_cookie) = sign_in("/campaigns").await;
    let forged = http
        .get(format!("{gateway}{path}"))
        .header(header::HOST, PUBLIC_HOST)
        .header(header::COOKIE, state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.headers()[header::LOCATION],
        "/signin?error=id_token_invalid"
    );
    assert!(!set_cookies(forged.headers()).contains_key("mq_access"));

    // The real thing: back where the person started, signed in by cookies.
    let (http, gateway, path, state_cookie) = sign_in("/campaigns").await;
    let landed = http
        .get(format!("{gateway}{path}"))
        .header(header::HOST, PUBLIC_HOST)
        .header(header::COOKIE, state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), StatusCode::FOUND);
    assert_eq!(landed.headers()[header::LOCATION], "/campaigns");
    let cookies = set_cookies(landed.headers());
    assert_eq!(cookies["mq_oidc_state"].attributes["max-age"], "0");
    let me: Value = http
        .get(fleet.at("/api/v1/auth/me"))
        .header(
            header::COOKIE,
            format!("mq_access={}", cookies["mq_access"].value),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "grace@example.com");
    assert_eq!(me["display_name"], "Grace Hopper");
    fleet.stop().await;
    provider.stop().await;
}
