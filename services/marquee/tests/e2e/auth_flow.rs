use super::{Options, PASSWORD, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use serde_json::json;

async fn register_login_me_refresh_reuse_logout(postgres: bool) {
    let fleet = spawn_fleet(Options {
        postgres,
        ..Default::default()
    })
    .await;

    let registered = fleet.register("Ada@Example.com").await;
    assert_eq!(registered["token_type"], "Bearer");
    assert!(registered["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(registered["user"]["email"], "ada@example.com");
    assert_eq!(registered["user"]["roles"], json!(["creator"]));

    let login = fleet.login("ada@example.com", PASSWORD).await;
    let access = login["access_token"].as_str().unwrap();
    let me = fleet.get_with("/api/v1/auth/me", access).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["id"], registered["user"]["id"]);
    assert_eq!(me["display_name"], "Test User");

    let old_refresh = login["refresh_token"].as_str().unwrap();
    let refreshed = fleet
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": old_refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);
    let me = fleet
        .get_with(
            "/api/v1/auth/me",
            refreshed["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    // Reusing the rotated-out token is refused and revokes the whole family.
    let reused = fleet
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": old_refresh}),
        )
        .await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
    let successor = fleet
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": new_refresh}),
        )
        .await;
    assert_problem(successor, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;

    // Logout ends the registration's session (another family).
    let registration_refresh = registered["refresh_token"].as_str().unwrap();
    let logout = fleet
        .post(
            "/api/v1/auth/logout",
            json!({"refresh_token": registration_refresh}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = fleet
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": registration_refresh}),
        )
        .await;
    assert_problem(after, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;

    // Wrong password and unknown email: same status, same code.
    let wrong = fleet
        .post(
            "/api/v1/auth/login",
            json!({"email": "ada@example.com", "password": "not the password"}),
        )
        .await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = fleet
        .post(
            "/api/v1/auth/login",
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong["detail"], unknown["detail"]);

    fleet.stop().await;
}

#[tokio::test]
async fn session_lifecycle_on_sqlite() {
    register_login_me_refresh_reuse_logout(false).await;
}

#[tokio::test]
async fn session_lifecycle_on_postgres() {
    register_login_me_refresh_reuse_logout(true).await;
}

#[tokio::test]
async fn register_rejects_duplicates_and_weak_passwords() {
    let fleet = spawn_fleet(Options::default()).await;
    fleet.register("grace@example.com").await;
    let duplicate = fleet
        .post(
            "/api/v1/auth/register",
            json!({"email": "GRACE@example.com", "password": PASSWORD, "display_name": "G"}),
        )
        .await;
    assert_problem(duplicate, StatusCode::CONFLICT, "email_taken").await;
    let weak = fleet
        .post(
            "/api/v1/auth/register",
            json!({"email": "alan@example.com", "password": "short", "display_name": "A"}),
        )
        .await;
    assert_problem(weak, StatusCode::BAD_REQUEST, "weak_password").await;
    let as_email = fleet
        .post(
            "/api/v1/auth/register",
            json!({"email": "alan@example.com", "password": "alan@example.com", "display_name": "A"}),
        )
        .await;
    assert_problem(as_email, StatusCode::BAD_REQUEST, "weak_password").await;
    let bad_email = fleet
        .post(
            "/api/v1/auth/register",
            json!({"email": "not-an-email", "password": PASSWORD, "display_name": "A"}),
        )
        .await;
    assert_problem(bad_email, StatusCode::BAD_REQUEST, "invalid_email").await;
    fleet.stop().await;
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled() {
    let fleet = spawn_fleet(Options {
        auth: Box::new(|auth| {
            auth.throttle.source_free_failures = 3;
            auth.throttle.source_first_delay_secs = 60;
        }),
        ..Default::default()
    })
    .await;
    fleet.register("mary@example.com").await;
    for _ in 0..3 {
        let response = fleet
            .post(
                "/api/v1/auth/login",
                json!({"email": "mary@example.com", "password": "bad password!"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = fleet
        .post(
            "/api/v1/auth/login",
            json!({"email": "mary@example.com", "password": PASSWORD}),
        )
        .await;
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    fleet.stop().await;
}
