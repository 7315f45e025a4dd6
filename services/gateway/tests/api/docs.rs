use crate::helpers::spawn_app;

#[tokio::test]
async fn openapi_docs_jwks_and_metrics_are_served() {
    // Metrics are served on the admin port only.
    let admin = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app(|settings| settings.common.admin_addr = admin.to_string()).await;
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/oauth/token",
        "/.well-known/jwks.json",
        "/api/v1/admin/oauth-clients",
        "/api/v1/admin/oauth-clients/{id}",
        "/api/v1/admin/oauth-clients/{id}/rotate-secret",
        "/api/v1/admin/tenants",
        "/api/v1/admin/tenants/{id}/flags",
        "/api/v1/admin/audit",
        "/api/v1/tenant/flags",
        "/api/v1/assets/{id}/tags",
        "/api/v1/search",
        "/api/v1/taxonomy",
        "/api/v1/admin/taxonomy",
        "/healthz",
        "/readyz",
        "/api/v1/openapi.json",
        "/docs",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }

    let response = app.get("/docs", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("/api/v1/openapi.json")
    );

    let response = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(response.status(), 200);
    let jwks: serde_json::Value = response.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert_eq!(jwks["keys"][0]["use"], "sig");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    assert_eq!(jwks["keys"][0]["x"], app.signer.public_x.as_str());

    app.get("/api/v1/auth/me", None).await;
    let metrics = app
        .http
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/auth/me\""), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds"));
}

#[tokio::test]
async fn cors_is_off_by_default_and_follows_settings() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let app =
        spawn_app(|settings| settings.cors.allowed_origins = vec!["https://app.example".into()])
            .await;
    let response = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/me"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://app.example"
    );
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://app.example"
    );
    let response = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/me"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(response.status().is_client_error());
    crate::helpers::problem(response, 400, "invalid_request").await;
}
