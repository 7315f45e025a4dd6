//! Sessions that really end: after logout, refresh-token reuse, partner-client
//! revocation, an admin disabling a user or ending their sessions, the access tokens
//! already issued are refused by the gateway within its revocation poll — though it
//! verified and cached them before.

use super::{Options, PASSWORD, TestFleet, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const ME: &str = "/api/v1/auth/me";

fn fast_poll() -> Options {
    Options {
        gateway: Box::new(|gateway| {
            gateway.revocation_poll_secs = 1;
            // Many sign-ins from one address: not what this test is about.
            gateway.rate_limit.anonymous_per_minute = 0;
        }),
        ..Options::default()
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

/// Waits until `token` is refused with `token_revoked` (a few polls at most).
async fn until_revoked(fleet: &TestFleet, token: &str, path: &str) {
    marquee_testkit::wait_until(
        Duration::from_secs(10),
        "the token to be revoked",
        || async { fleet.get_with(path, token).await.status() == StatusCode::UNAUTHORIZED },
    )
    .await;
    assert_problem(
        fleet.get_with(path, token).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
}

async fn refresh(fleet: &TestFleet, refresh_token: &str) -> reqwest::Response {
    fleet
        .post(
            "/api/v1/auth/refresh",
            json!({ "refresh_token": refresh_token }),
        )
        .await
}

async fn sessions_end(fleet: TestFleet) {
    // Logout: the cached access token stops working; another session of the same user
    // goes on.
    let session = fleet.register("lou@example.com").await;
    let access = text(&session, "access_token");
    assert_eq!(fleet.get_with(ME, access).await.status(), StatusCode::OK);
    let other = fleet.login("lou@example.com", PASSWORD).await;
    let logout = fleet
        .post_with(
            "/api/v1/auth/logout",
            access,
            json!({ "refresh_token": text(&session, "refresh_token") }),
        )
        .await;
    assert!(logout.status().is_success(), "logout: {}", logout.status());
    until_revoked(&fleet, access, ME).await;
    assert_eq!(
        fleet
            .get_with(ME, text(&other, "access_token"))
            .await
            .status(),
        StatusCode::OK,
        "only the session that logged out ended"
    );

    // Refresh-token reuse: the thief's replay ends the family, access tokens included.
    let session = fleet.register("ria@example.com").await;
    let first_refresh = text(&session, "refresh_token").to_string();
    let rotated: Value = refresh(&fleet, &first_refresh).await.json().await.unwrap();
    let rotated_access = text(&rotated, "access_token");
    assert_eq!(
        fleet.get_with(ME, rotated_access).await.status(),
        StatusCode::OK
    );
    assert_problem(
        refresh(&fleet, &first_refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    until_revoked(&fleet, rotated_access, ME).await;

    // An admin disables a user: their tokens and sign-in stop; enabled again, they sign in.
    let admin = fleet.admin_token().await;
    let session = fleet.register("dee@example.com").await;
    let user_id = text(&session["user"], "id").to_string();
    let access = text(&session, "access_token");
    assert_eq!(fleet.get_with(ME, access).await.status(), StatusCode::OK);
    let disabled = fleet
        .post_with(
            &format!("/api/v1/admin/users/{user_id}/disable"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    let disabled: Value = disabled.json().await.unwrap();
    assert_eq!(disabled["disabled"], true);
    until_revoked(&fleet, access, ME).await;
    assert_problem(
        fleet
            .post(
                "/api/v1/auth/login",
                json!({"email": "dee@example.com", "password": PASSWORD}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "account_disabled",
    )
    .await;
    assert_problem(
        refresh(&fleet, text(&session, "refresh_token")).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_invalid",
    )
    .await;
    let enabled = fleet
        .post_with(
            &format!("/api/v1/admin/users/{user_id}/enable"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    let again = fleet.login("dee@example.com", PASSWORD).await;
    assert_eq!(
        fleet
            .get_with(ME, text(&again, "access_token"))
            .await
            .status(),
        StatusCode::OK,
        "a token issued after the revocation works"
    );
    // Not someone else's tenant's users, and not themselves.
    let me = fleet
        .get_with(ME, &admin)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_problem(
        fleet
            .post_with(
                &format!("/api/v1/admin/users/{}/disable", text(&me, "id")),
                &admin,
                json!({}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "cannot_disable_self",
    )
    .await;
    assert_problem(
        fleet
            .post_with(
                "/api/v1/admin/users/no-such-user/revoke-sessions",
                &admin,
                json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A plain user cannot.
    assert_eq!(
        fleet
            .post_with(
                &format!("/api/v1/admin/users/{user_id}/disable"),
                text(&again, "access_token"),
                json!({})
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // An admin ends all of a user's sessions: every token and refresh token; a new
    // sign-in works.
    let first = fleet.register("sam@example.com").await;
    let second = fleet.login("sam@example.com", PASSWORD).await;
    let user_id = text(&first["user"], "id");
    let revoked = fleet
        .post_with(
            &format!("/api/v1/admin/users/{user_id}/revoke-sessions"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked: Value = revoked.json().await.unwrap();
    assert_eq!(revoked["refresh_tokens_revoked"], 2);
    until_revoked(&fleet, text(&first, "access_token"), ME).await;
    until_revoked(&fleet, text(&second, "access_token"), ME).await;
    assert_eq!(
        refresh(&fleet, text(&second, "refresh_token"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // The revocation covers tokens issued before it: one issued right after works.
    let fresh = fleet.login("sam@example.com", PASSWORD).await;
    assert_eq!(
        fleet
            .get_with(ME, text(&fresh, "access_token"))
            .await
            .status(),
        StatusCode::OK
    );

    // A revoked partner client's tokens stop at once, not in an hour.
    let created: Value = fleet
        .post_with(
            "/api/v1/admin/oauth-clients",
            &admin,
            json!({"name": "Acme", "scopes": ["tenant:read"], "environment": "live"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token: Value = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(
            text(&created, "client_id"),
            Some(text(&created, "client_secret")),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let partner = text(&token, "access_token");
    assert_eq!(
        fleet
            .get_with("/api/v1/tenant/flags", partner)
            .await
            .status(),
        StatusCode::OK
    );
    let revoke = fleet
        .http
        .delete(fleet.at(&format!(
            "/api/v1/admin/oauth-clients/{}",
            text(&created, "client_id")
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(revoke.status().is_success());
    until_revoked(&fleet, partner, "/api/v1/tenant/flags").await;
    fleet.stop().await;
}

#[tokio::test]
async fn sessions_end_at_the_gateway_when_they_end_in_auth() {
    sessions_end(spawn_fleet(fast_poll()).await).await;
}

#[tokio::test]
async fn sessions_end_at_the_gateway_on_postgres_and_rabbitmq() {
    sessions_end(
        spawn_fleet(Options {
            postgres: true,
            amqp: true,
            ..fast_poll()
        })
        .await,
    )
    .await;
}
