//! Bad input gets a clear 4xx problem+json, never a 5xx.

use super::{Options, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn bad_requests_are_clear_problems() {
    let fleet = spawn_fleet(Options::default()).await;
    let register = fleet.at("/api/v1/auth/register");

    let malformed = fleet
        .http
        .post(&register)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;

    let missing = fleet
        .post("/api/v1/auth/register", json!({"email": "a@example.com"}))
        .await;
    assert_problem(missing, StatusCode::BAD_REQUEST, "invalid_request").await;

    let wrong_type = fleet
        .post(
            "/api/v1/auth/register",
            json!({"email": 5, "password": [], "display_name": null}),
        )
        .await;
    assert_problem(wrong_type, StatusCode::BAD_REQUEST, "invalid_request").await;

    let not_json = fleet
        .http
        .post(&register)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let huge = "x".repeat(1024 * 1024 + 10);
    let oversized = fleet
        .post(
            "/api/v1/auth/register",
            json!({"email": "a@example.com", "password": huge, "display_name": "A"}),
        )
        .await;
    assert_problem(
        oversized,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;

    let unknown = fleet
        .http
        .get(fleet.at("/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_problem(unknown, StatusCode::NOT_FOUND, "route_not_found").await;

    let wrong_method = fleet
        .http
        .get(fleet.at("/api/v1/auth/register"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);

    let token = fleet.register("probe@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let bad_path = fleet
        .http
        .delete(fleet.at("/api/v1/admin/oauth-clients/%ZZ"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(bad_path.status().is_client_error());
    fleet.stop().await;
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let fleet = spawn_fleet(Options::default()).await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            fleet
                .http
                .get(fleet.at(path))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    // Metrics live on the admin port only (the embedded fleet opens none): the public
    // API port does not serve them.
    assert_eq!(
        fleet
            .http
            .get(fleet.at("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let spec: serde_json::Value = fleet
        .http
        .get(fleet.at("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
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
        "/api/v1/admin/tenants",
        "/api/v1/admin/tenants/{id}/flags",
        "/api/v1/admin/audit",
        "/api/v1/tenant/flags",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(spec["components"]["schemas"].get("Problem").is_some());
    let docs = fleet.http.get(fleet.at("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("/api/v1/openapi.json"));
    fleet.stop().await;
}
