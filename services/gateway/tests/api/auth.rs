use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn register_login_refresh_logout_me() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/register"))
        .header("user-agent", "gateway-test/1")
        .json(&json!({"email": "ada@example.com", "password": "correct horse", "display_name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let session: serde_json::Value = response.json().await.unwrap();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    assert_eq!(session["user"]["email"], "ada@example.com");
    assert_eq!(session["user"]["roles"], json!(["creator"]));
    assert!(
        session["user"]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(session["refresh_token"].is_string());
    {
        let infos = app.seen.client_infos.lock().unwrap();
        let info = infos.last().expect("client info forwarded");
        assert_eq!(info.ip, "127.0.0.1");
        assert_eq!(info.user_agent, "gateway-test/1");
    }

    let response = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ada@example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let session: serde_json::Value = response.json().await.unwrap();
    let access = session["access_token"].as_str().unwrap().to_string();

    let response = app.get("/api/v1/auth/me", Some(&access)).await;
    assert_eq!(response.status(), 200);
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(me["id"], "user-1", "the principal reached auth in metadata");
    assert_eq!(me["tenant_id"], "tenant-1");
    assert_eq!(me["email"], "ada@example.com");

    let response = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": "refresh-1"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": "refresh-1"}),
        )
        .await;
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn admin_routes_work_for_admins() {
    let app = spawn_app(|_| {}).await;
    let admin = app.user_token(&["admin"]);
    let response = app
        .http
        .post(app.url("/api/v1/admin/oauth-clients"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Acme", "scopes": ["assets:read"], "environment": "sandbox", "rate_tier": "standard"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap()),
        Some("/api/v1/admin/oauth-clients/client-1")
    );
    let created: serde_json::Value = response.json().await.unwrap();
    // The client as its read returns it, plus the OAuth2 credentials.
    assert_eq!(created["id"], "client-1");
    assert_eq!(created["client_id"], "client-1");
    assert_eq!(created["client_secret"], "s3cret");
    assert_eq!(created["rate_tier"], "standard");
    assert_eq!(created["tenant_id"], "tenant-1");
    assert!(created.get("revoked_at").is_none());
    assert!(created.get("client").is_none());

    // A new secret, answered as the create answers, never cached.
    let response = app
        .http
        .post(app.url("/api/v1/admin/oauth-clients/client-1/rotate-secret"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    assert!(response.headers().get("location").is_none());
    let rotated: serde_json::Value = response.json().await.unwrap();
    assert_eq!(rotated["id"], "client-1");
    assert_eq!(rotated["client_id"], "client-1");
    assert_eq!(rotated["client_secret"], "n3w-s3cret");
    assert_eq!(rotated["scopes"], json!(["assets:read"]));
    let response = app
        .http
        .post(app.url("/api/v1/admin/oauth-clients/client-9/rotate-secret"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    crate::helpers::problem(response, 404, "not_found").await;
    // Admins only.
    let response = app
        .http
        .post(app.url("/api/v1/admin/oauth-clients/client-1/rotate-secret"))
        .bearer_auth(app.user_token(&["creator"]))
        .send()
        .await
        .unwrap();
    crate::helpers::problem(response, 403, "forbidden").await;

    let response = app.get("/api/v1/admin/oauth-clients", Some(&admin)).await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"items": [], "next_cursor": null})
    );

    let response = app
        .http
        .post(app.url("/api/v1/admin/tenants"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Acme", "slug": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap()),
        Some("/api/v1/admin/tenants/tenant-2")
    );
    let tenant: serde_json::Value = response.json().await.unwrap();
    assert_eq!(tenant["sandbox"], false);
    assert_eq!(tenant["slug"], "acme");

    let response = app.get("/api/v1/admin/tenants", Some(&admin)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"items": [], "next_cursor": null})
    );
    // The reads a `Location` names reach auth (the fake knows no single tenant or client).
    let response = app
        .get("/api/v1/admin/tenants/tenant-9", Some(&admin))
        .await;
    crate::helpers::problem(response, 404, "not_found").await;
    let response = app
        .get("/api/v1/admin/oauth-clients/client-9", Some(&admin))
        .await;
    crate::helpers::problem(response, 404, "not_found").await;

    let response = app
        .http
        .put(app.url("/api/v1/admin/tenants/tenant-2/flags"))
        .bearer_auth(&admin)
        .json(&json!({"flags": {"video": true, "theme": "light"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"tenant_id": "tenant-2", "flags": {"video": true, "theme": "light"}})
    );
    let response = app
        .http
        .put(app.url("/api/v1/admin/tenants/tenant-2/flags"))
        .bearer_auth(&admin)
        .json(&json!({"flags": {"video": 3}}))
        .send()
        .await
        .unwrap();
    crate::helpers::problem(response, 400, "invalid_request").await;

    let response = app
        .get("/api/v1/admin/tenants/tenant-2/flags", Some(&admin))
        .await;
    assert_eq!(response.status(), 200);
    let flags: serde_json::Value = response.json().await.unwrap();
    assert_eq!(flags["flags"]["beta"], true);
}

/// The client address auth records: the peer, unless the peer is a trusted proxy; then
/// the right-most `X-Forwarded-For` hop that is not a trusted proxy.
#[tokio::test]
async fn client_address_comes_from_trusted_proxies_only() {
    async fn recorded_ip(app: &crate::helpers::TestApp, forwarded_for: &str) -> String {
        let response = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": "ada@example.com", "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let infos = app.seen.client_infos.lock().unwrap();
        infos.last().expect("client info forwarded").ip.clone()
    }

    // No trusted proxies (the default): the header is ignored.
    let app = spawn_app(|_| {}).await;
    assert_eq!(recorded_ip(&app, "198.51.100.7").await, "127.0.0.1");

    let app = spawn_app(|settings| {
        settings.trusted_proxies = vec!["127.0.0.1/32".into(), "10.0.0.0/8".into()];
    })
    .await;
    assert_eq!(recorded_ip(&app, "198.51.100.7").await, "198.51.100.7");
    // The client's own left-most entry is not believed; trusted hops are skipped.
    assert_eq!(
        recorded_ip(&app, "1.2.3.4, 198.51.100.7, 10.0.0.9").await,
        "198.51.100.7"
    );
    assert_eq!(recorded_ip(&app, "1.2.3.4, garbage").await, "127.0.0.1");
}
