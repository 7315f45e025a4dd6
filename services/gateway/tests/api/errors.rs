use crate::helpers::{problem, spawn_app};
use serde_json::json;

#[tokio::test]
async fn malformed_and_incomplete_json_are_400_problems() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    problem(response, 400, "malformed_json").await;

    let response = app
        .post_json("/api/v1/auth/login", &json!({"email": "a@b.c"}))
        .await;
    let body = problem(response, 400, "invalid_request").await;
    assert!(
        body["detail"].as_str().unwrap().contains("password"),
        "{body}"
    );

    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": 5, "password": "x", "display_name": "y"}),
        )
        .await;
    problem(response, 400, "invalid_request").await;

    let response = app.post_json("/api/v1/auth/login", &json!([1, 2])).await;
    problem(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(response, 415, "unsupported_media_type").await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app(|_| {}).await;
    let big = format!(
        "{{\"email\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let response = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    problem(response, 413, "payload_too_large").await;

    let token = app.user_token(&["admin"]);
    let big_form = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(2 * 1024 * 1024)
    );
    let response = app
        .http
        .post(app.url("/api/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .bearer_auth(token)
        .body(big_form)
        .send()
        .await
        .unwrap();
    problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let app = spawn_app(|_| {}).await;
    problem(
        app.get("/api/v1/nothing-here", None).await,
        404,
        "route_not_found",
    )
    .await;
    problem(
        app.get("/api/v1/auth/me/", None).await,
        404,
        "route_not_found",
    )
    .await;
    let response = app
        .http
        .patch(app.url("/api/v1/admin/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("allow").unwrap(), "GET, POST");
    problem(response, 405, "method_not_allowed").await;
    let response = app.get("/api/v1/auth/login", None).await;
    problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn bad_path_and_query_parameters_are_400() {
    let app = spawn_app(|_| {}).await;
    let admin = app.user_token(&["admin"]);
    for query in [
        "since=yesterday",
        "limit=-3",
        "limit=abc",
        "until=2026-13-45T00:00:00Z",
    ] {
        let response = app
            .get(&format!("/api/v1/admin/audit?{query}"), Some(&admin))
            .await;
        problem(response, 400, "invalid_request").await;
    }
    let response = app
        .get(
            "/api/v1/admin/audit?since=2026-11-01T00:00:00Z&limit=5&action=login",
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["items"][0]["action"], "login");
    assert_eq!(body["next_cursor"], serde_json::Value::Null);
    assert!(
        body.get("next_cursor").is_some(),
        "present, null on the last page"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .get(app.url("/api/v1/nope"))
        .header("x-request-id", "my-trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "my-trace-123"
    );
    let body = problem(response, 404, "route_not_found").await;
    assert_eq!(body["request_id"], "my-trace-123");

    let response = app.get("/healthz", None).await;
    let id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn errors_from_auth_keep_their_code() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "taken@example.com", "password": "long enough", "display_name": "A"}),
        )
        .await;
    problem(response, 409, "email_taken").await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "a@example.com", "password": "short", "display_name": "A"}),
        )
        .await;
    problem(response, 400, "weak_password").await;
    let response = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "a@example.com", "password": "nope"}),
        )
        .await;
    problem(response, 401, "invalid_credentials").await;
    let response = app
        .post_json("/api/v1/auth/refresh", &json!({"refresh_token": "reused"}))
        .await;
    problem(response, 401, "refresh_token_reused").await;
    let admin = app.user_token(&["admin"]);
    let response = app
        .http
        .delete(app.url("/api/v1/admin/oauth-clients/nope"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn auth_down_is_503_not_a_hang() {
    let app = spawn_app(|_| {}).await;
    app.shutdown.cancel(); // stops the fake auth (and the gateway)
    let _ = app.server.await;
    // A fresh gateway pointing at a dead port: not ready, token routes 503.
    let app = spawn_ready_without_auth().await;
    let response = app.0.get(format!("{}/readyz", app.1)).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let response = app
        .0
        .post(format!("{}/api/v1/auth/login", app.1))
        .json(&json!({"email": "a@b.c", "password": "x"}))
        .send()
        .await
        .unwrap();
    problem(response, 503, "unavailable").await;
    app.2.cancel();
}

async fn spawn_ready_without_auth() -> (
    reqwest::Client,
    String,
    marquee_platform::shutdown::CancellationToken,
) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let settings = marquee_gateway::GatewaySettings {
        auth_url: format!("http://{dead_addr}"),
        workers: 1,
        access_log: false,
        ..Default::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = marquee_platform::shutdown::CancellationToken::new();
    tokio::spawn(marquee_gateway::serve(settings, listener, shutdown.clone()));
    let http = reqwest::Client::new();
    marquee_testkit::wait_until(
        std::time::Duration::from_secs(5),
        "the gateway to answer /healthz",
        || async { http.get(format!("{address}/healthz")).send().await.is_ok() },
    )
    .await;
    (http, address, shutdown)
}
