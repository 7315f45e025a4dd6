//! Partner clients: an admin creates one, it gets a token with the client-credentials
//! grant, and scopes are enforced per route; an admin rotates its secret.

use super::{Options, assert_problem, spawn_fleet};
use marquee_testkit::wait_for;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn client_credentials_and_scopes() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;

    let created = fleet
        .post_with("/api/v1/admin/oauth-clients", &admin, json!({"name": "Acme sync", "scopes": ["assets:read"], "environment": "live", "rate_tier": "standard"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created_at = created.headers()["location"].to_str().unwrap().to_string();
    let created: Value = created.json().await.unwrap();
    let client_id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert_eq!(created["scopes"], json!(["assets:read"]));
    // The client as its read returns it, plus `client_id` (= `id`) and the secret.
    assert_eq!(created["id"], client_id.as_str());
    assert_eq!(
        created_at,
        format!("/api/v1/admin/oauth-clients/{client_id}")
    );
    let read: Value = fleet
        .get_with(&created_at, &admin)
        .await
        .json()
        .await
        .unwrap();
    let mut answered = created.clone();
    answered.as_object_mut().unwrap().remove("client_secret");
    answered.as_object_mut().unwrap().remove("client_id");
    assert_eq!(read, answered, "the secret is shown only by the create");

    // Client authentication with HTTP Basic.
    let token = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    assert_eq!(token.headers()["cache-control"], "no-store");
    let token: Value = token.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "assets:read");
    let access = token["access_token"].as_str().unwrap();

    // A route needing a scope the client lacks.
    let denied = fleet.get_with("/api/v1/tenant/flags", access).await;
    assert_problem(denied, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // A users-only route.
    let me = fleet.get_with("/api/v1/auth/me", access).await;
    assert_eq!(me.status(), StatusCode::FORBIDDEN);

    // A client granted tenant:read, authenticating with form fields this time.
    let reader: Value = fleet
        .post_with("/api/v1/admin/oauth-clients", &admin, json!({"name": "Flags reader", "scopes": ["tenant:read"], "environment": "live", "rate_tier": "basic"}))
        .await
        .json()
        .await
        .unwrap();
    let reader_token: Value = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", reader["client_id"].as_str().unwrap()),
            ("client_secret", reader["client_secret"].as_str().unwrap()),
            ("scope", "tenant:read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let flags = fleet
        .get_with(
            "/api/v1/tenant/flags",
            reader_token["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(flags.status(), StatusCode::OK);

    // RFC 6749 §5.2 errors.
    let bad_secret = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(&client_id, Some("mqs_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_secret.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad_secret.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let wrong_grant = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_grant.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong_grant.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let extra_scope = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "billing:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(extra_scope.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        extra_scope.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );

    // Revoked clients get no more tokens.
    let revoked = fleet
        .http
        .delete(fleet.at(&format!("/api/v1/admin/oauth-clients/{client_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let after = fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    // The denial and the client's life are in the audit log.
    let audit: Value = fleet
        .get_with("/api/v1/admin/audit?action=client_created", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 2);
    // The gateway records denials without making the caller wait.
    let denied_entries = wait_for(
        std::time::Duration::from_secs(10),
        "the access_denied audit entry",
        || async {
            let response: Value = fleet
                .get_with(
                    "/api/v1/admin/audit?action=access_denied&outcome=denied",
                    &admin,
                )
                .await
                .json()
                .await
                .unwrap();
            match response["items"].as_array().unwrap().len() {
                0 => Err(response),
                entries => Ok(entries),
            }
        },
    )
    .await;
    assert!(denied_entries > 0, "access_denied was audited");
    fleet.stop().await;
}

#[tokio::test]
async fn sandbox_client_acts_in_the_sandbox_tenant() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;
    let created: Value = fleet
        .post_with("/api/v1/admin/oauth-clients", &admin, json!({"name": "Sandbox app", "scopes": ["tenant:read"], "environment": "sandbox", "rate_tier": "basic"}))
        .await
        .json()
        .await
        .unwrap();
    let tenants: Value = fleet
        .get_with("/api/v1/admin/tenants", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tenants["next_cursor"], Value::Null, "one page: {tenants}");
    let sandbox = tenants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == created["tenant_id"])
        .expect("the client's tenant exists");
    assert_eq!(sandbox["sandbox"], true);
    fleet.stop().await;
}

/// A token with `secret` from the client-credentials grant (HTTP Basic).
async fn token_with(fleet: &super::TestFleet, client_id: &str, secret: &str) -> reqwest::Response {
    fleet
        .http
        .post(fleet.at("/api/v1/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rotating_a_secret_retires_the_old_one() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;
    let created: Value = fleet
        .post_with("/api/v1/admin/oauth-clients", &admin, json!({"name": "Rotated app", "scopes": ["tenant:read"], "environment": "live", "rate_tier": "basic"}))
        .await
        .json()
        .await
        .unwrap();
    let client_id = created["client_id"].as_str().unwrap().to_string();
    let old = created["client_secret"].as_str().unwrap().to_string();
    let before = token_with(&fleet, &client_id, &old).await;
    assert_eq!(before.status(), StatusCode::OK);
    let before: Value = before.json().await.unwrap();
    let issued = before["access_token"].as_str().unwrap().to_string();

    let rotate = format!("/api/v1/admin/oauth-clients/{client_id}/rotate-secret");
    let rotated = fleet
        .http
        .post(fleet.at(&rotate))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    let rotated: Value = rotated.json().await.unwrap();
    let new = rotated["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    // The same client, answered as the create answers it.
    let mut same = created.clone();
    same["client_secret"] = json!(new);
    assert_eq!(rotated, same);

    // The old secret is refused as any wrong secret is; the new one works.
    let refused = token_with(&fleet, &client_id, &old).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let after = token_with(&fleet, &client_id, &new).await;
    assert_eq!(after.status(), StatusCode::OK);
    let after: Value = after.json().await.unwrap();
    assert_eq!(after["scope"], "tenant:read");
    let flags = fleet
        .get_with(
            "/api/v1/tenant/flags",
            after["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(flags.status(), StatusCode::OK);
    // A token issued before the rotation lives until it expires.
    let flags = fleet.get_with("/api/v1/tenant/flags", &issued).await;
    assert_eq!(flags.status(), StatusCode::OK);

    let audit: Value = fleet
        .get_with("/api/v1/admin/audit?action=client_secret_rotated", &admin)
        .await
        .json()
        .await
        .unwrap();
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(entries[0]["detail"].as_str().unwrap().contains(&client_id));

    // Unknown clients, and revoked ones, are not rotated.
    let unknown = fleet
        .http
        .post(fleet.at("/api/v1/admin/oauth-clients/mqc_unknown/rotate-secret"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let revoked = fleet
        .http
        .delete(fleet.at(&format!("/api/v1/admin/oauth-clients/{client_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = fleet
        .http
        .post(fleet.at(&rotate))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(refused, StatusCode::CONFLICT, "client_revoked").await;
    let after_revoke = token_with(&fleet, &client_id, &new).await;
    assert_eq!(after_revoke.status(), StatusCode::UNAUTHORIZED);

    // Admins only.
    let creator = fleet.register("rotator@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let denied = fleet
        .http
        .post(fleet.at(&rotate))
        .bearer_auth(&creator)
        .send()
        .await
        .unwrap();
    assert_problem(denied, StatusCode::FORBIDDEN, "forbidden").await;
    fleet.stop().await;
}
