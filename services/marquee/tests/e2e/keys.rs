//! Rotating the signing key logs nobody out: old tokens keep working, new ones carry
//! the new kid and the gateway learns it from the JWKS.

use super::{Options, PASSWORD, spawn_fleet};
use marquee_testkit::wait_for;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn rotation_keeps_sessions_and_publishes_both_keys() {
    let fleet = spawn_fleet(Options::default()).await;
    let before = fleet.register("rota@example.com").await;
    let old_token = before["access_token"].as_str().unwrap().to_string();

    let (new_kid, published) = marquee_auth::rotate_signing_key(fleet.auth_settings.clone())
        .await
        .unwrap();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0], new_kid);
    assert_eq!(published[1], kid_of(&old_token));

    // The running auth service reloads keys every second in tests.
    let new_token = wait_for(
        Duration::from_secs(10),
        "auth to sign with the new key",
        || async {
            let session = fleet.login("rota@example.com", PASSWORD).await;
            let token = session["access_token"].as_str().unwrap().to_string();
            if kid_of(&token) == new_kid {
                Ok(token)
            } else {
                Err(kid_of(&token))
            }
        },
    )
    .await;
    assert_eq!(kid_of(&new_token), new_kid, "auth signs with the new key");

    // The gateway fetches the JWKS again when it meets the unknown kid; such refreshes
    // are at most one per 5 s, and the fleet fetched it moments ago at start.
    let status = wait_for(
        Duration::from_secs(12),
        "the gateway to learn the new key",
        || async {
            let status = fleet.get_with("/api/v1/auth/me", &new_token).await.status();
            if status == StatusCode::OK {
                Ok(status)
            } else {
                Err(status)
            }
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the gateway learns the new key");
    assert_eq!(
        fleet.get_with("/api/v1/auth/me", &old_token).await.status(),
        StatusCode::OK
    );
    let jwks: Value = fleet
        .http
        .get(fleet.at("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&new_kid.as_str()) && kids.contains(&kid_of(&old_token).as_str()));
    fleet.stop().await;
}

#[tokio::test]
async fn admins_rotate_through_the_api() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;
    let creator = fleet.register("keys@example.com").await;
    let denied = fleet
        .http
        .post(fleet.at("/api/v1/admin/keys/rotate"))
        .bearer_auth(creator["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let rotated = fleet
        .http
        .post(fleet.at("/api/v1/admin/keys/rotate"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let new_kid = rotated["kid"].as_str().unwrap();
    assert_eq!(rotated["published_kids"][0], new_kid);
    assert_eq!(rotated["published_kids"][1], kid_of(&admin).as_str());

    // Signed with the new key at once, and this gateway already knows it.
    let session = fleet.login("keys@example.com", PASSWORD).await;
    let token = session["access_token"].as_str().unwrap();
    assert_eq!(kid_of(token), new_kid);
    assert_eq!(
        fleet.get_with("/api/v1/auth/me", token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        fleet
            .get_with("/api/v1/admin/tenants", &admin)
            .await
            .status(),
        StatusCode::OK
    );

    let audit: Value = fleet
        .get_with("/api/v1/admin/audit?action=key_rotated", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    fleet.stop().await;
}
