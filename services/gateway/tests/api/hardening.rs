//! The edge's hardening: bounded admin input, transport failures that are not rate
//! limits, security and cache headers, metrics kept off the public port, the docs UI
//! served from the binary, and the defaults of optional request fields.

use crate::helpers::{TestApp, problem, spawn_app};
use serde_json::json;

/// An address on which nothing listens (bound, then released).
fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

async fn put_flags(app: &TestApp, tenant: &str, body: &serde_json::Value) -> reqwest::Response {
    app.http
        .put(app.url(&format!("/api/v1/admin/tenants/{tenant}/flags")))
        .bearer_auth(app.user_token(&["admin"]))
        .json(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn oversized_or_malformed_flags_are_refused_at_the_edge() {
    let app = spawn_app(|_| {}).await;
    let huge = "a".repeat(100 * 1024);
    let many: serde_json::Map<String, serde_json::Value> = (0..101)
        .map(|i| (format!("flag{i}"), json!(true)))
        .collect();
    for body in [
        json!({"flags": {huge.clone(): true}}),
        json!({"flags": {"": true}}),
        json!({"flags": {"Not Allowed": true}}),
        json!({"flags": {"theme": "x".repeat(257)}}),
        json!({"flags": {"theme": huge.clone()}}),
        json!({"flags": many}),
    ] {
        let response = put_flags(&app, "tenant-1", &body).await;
        let problem = problem(response, 400, "invalid_flags").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.len() < 200, "the input is not echoed: {detail}");
        assert!(!detail.contains("h2"), "{detail}");
    }

    let long_id = "t".repeat(10 * 1024);
    let response = put_flags(&app, &long_id, &json!({"flags": {}})).await;
    problem(response, 400, "invalid_id").await;
    let response = app
        .get(
            &format!("/api/v1/admin/tenants/{long_id}/flags"),
            Some(&app.user_token(&["admin"])),
        )
        .await;
    problem(response, 400, "invalid_id").await;

    let longest = "a".repeat(64);
    let response = put_flags(
        &app,
        "tenant-1",
        &json!({"flags": {longest.clone(): true, "ui.theme-v2": "d".repeat(256)}}),
    )
    .await;
    assert_eq!(response.status(), 200, "at the bounds: accepted");
    let flags: serde_json::Value = response.json().await.unwrap();
    assert_eq!(flags["flags"][longest.as_str()], true);
}

#[tokio::test]
async fn transport_failures_are_503_not_rate_limits_and_do_not_leak() {
    let billing = closed_port();
    let app = spawn_app(|settings| settings.billing_url = format!("http://{billing}")).await;
    // An id this long used to reach auth and, echoed in its "not found" status, no
    // longer fit in an HTTP/2 header block (a transport failure); it is refused at the
    // edge now, without a call.
    let id = "c".repeat(50 * 1024);
    let response = app
        .http
        .delete(app.url(&format!("/api/v1/admin/oauth-clients/{id}")))
        .bearer_auth(app.user_token(&["admin"]))
        .send()
        .await
        .expect("request");
    let body = problem(response, 400, "invalid_id").await;
    assert!(body["detail"].as_str().unwrap().len() < 200);

    // A backing service that is not there at all: 503, not a rate limit, no internals.
    let response = app
        .get("/api/v1/billing/plans", Some(&app.user_token(&[])))
        .await;
    assert!(response.headers().get("retry-after").is_none());
    let body = problem(response, 503, "unavailable").await;
    assert_eq!(
        body["detail"],
        "a backing service is unavailable, try again shortly"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("connect") && !detail.contains("transport"),
        "{detail}"
    );
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(|_| {}).await;
    let responses = [
        app.get("/healthz", None).await,
        app.get("/api/v1/openapi.json", None).await,
        app.get("/api/v1/auth/me", None).await,
        app.get("/no/such/route", None).await,
        app.http
            .patch(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap(),
        app.post_json("/api/v1/auth/login", &json!({"email": 1}))
            .await,
    ];
    for response in &responses {
        let at = response.url().path().to_string();
        assert_eq!(
            header(response, "x-content-type-options"),
            Some("nosniff"),
            "{at}"
        );
        assert_eq!(header(response, "x-frame-options"), Some("DENY"), "{at}");
        assert_eq!(
            header(response, "referrer-policy"),
            Some("no-referrer"),
            "{at}"
        );
        assert_eq!(
            header(response, "content-security-policy"),
            Some(API_CSP),
            "{at}"
        );
        assert_eq!(
            header(response, "strict-transport-security"),
            None,
            "plain HTTP: {at}"
        );
    }

    // From a peer that is not a trusted proxy the header is the client's word.
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "strict-transport-security"), None);
    // Behind the TLS-terminating ingress (a trusted proxy).
    let app = spawn_app(|settings| settings.trusted_proxies = vec!["127.0.0.1/32".into()]).await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "strict-transport-security"),
        Some("max-age=31536000")
    );
    let app = spawn_app(|settings| {
        settings.trusted_proxies = vec!["127.0.0.1/32".into()];
        settings.trust_forwarded_proto = false;
    })
    .await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "strict-transport-security"), None);
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn token_responses_are_never_cached() {
    let app = spawn_app(|_| {}).await;
    let responses = [
        app.post_json(
            "/api/v1/auth/register",
            &json!({"email": "ada@example.com", "password": "correct horse", "display_name": "Ada"}),
        )
        .await,
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ada@example.com", "password": "correct horse"}),
        )
        .await,
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": "refresh-1"}))
            .await,
        app.http
            .post(app.url("/api/v1/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "client-1"),
                ("client_secret", "s3cret"),
            ])
            .send()
            .await
            .unwrap(),
    ];
    for response in &responses {
        let at = response.url().path().to_string();
        assert!(
            response.status().is_success(),
            "{at}: {}",
            response.status()
        );
        assert_eq!(header(response, "cache-control"), Some("no-store"), "{at}");
        assert_eq!(header(response, "pragma"), Some("no-cache"), "{at}");
    }
}

#[tokio::test]
async fn metrics_are_served_on_the_admin_port_only() {
    let admin = closed_port();
    let app = spawn_app(|settings| settings.common.admin_addr = admin.to_string()).await;
    app.get("/healthz", None).await;
    problem(app.get("/metrics", None).await, 404, "route_not_found").await;
    let document: serde_json::Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(document["paths"].get("/metrics").is_none());

    let response = app
        .http
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let metrics = response.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    let response = app
        .http
        .get(format!("http://{admin}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_docs_ui_is_served_from_the_binary_under_a_strict_policy() {
    let app = spawn_app(|_| {}).await;
    let response = app.get("/docs", None).await;
    assert_eq!(response.status(), 200);
    let csp = header(&response, "content-security-policy")
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("http"),
        "{csp}"
    );
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
    let page = response.text().await.unwrap();
    assert!(page.contains("/api/v1/openapi.json"));
    assert!(
        !page.contains("https://") && !page.contains("http://"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "no inline script: {page}");

    let scripts: Vec<&str> = page
        .split("<script src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(scripts.len(), 2, "{page}");
    for src in scripts {
        assert!(src.starts_with("/docs/") && src.contains("?v="), "{src}");
        let response = app.get(src, None).await;
        assert_eq!(response.status(), 200, "{src}");
        assert_eq!(
            header(&response, "content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            header(&response, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
        let body = response.text().await.unwrap();
        assert!(!body.is_empty(), "{src}");
        if src.starts_with("/docs/init.js") {
            assert!(body.contains("/api/v1/openapi.json"));
            assert!(body.contains("telemetry: false"));
        } else {
            assert!(body.contains("createApiReference"), "the Scalar bundle");
        }
    }
}

#[tokio::test]
async fn optional_fields_have_defaults() {
    let app = spawn_app(|_| {}).await;
    // No display_name: auth uses the email's local part.
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "grace@example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "grace@example.com", "password": "correct horse", "display_name": null}),
        )
        .await;
    assert_eq!(response.status(), 201);

    // No rate_tier: auth applies `standard` (the fake echoes what it was sent: none).
    let response = app
        .http
        .post(app.url("/api/v1/admin/oauth-clients"))
        .bearer_auth(app.user_token(&["admin"]))
        .json(&json!({"name": "Acme sync", "scopes": ["assets:read"], "environment": "live"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["rate_tier"], "");
    assert_eq!(created["client_secret"], "s3cret");

    let document: serde_json::Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let schemas = &document["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        schemas[schema]["required"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(!required("RegisterBody").contains(&"display_name".to_string()));
    assert!(!required("CreateOAuthClientBody").contains(&"rate_tier".to_string()));
}
