//! Admin routes: tenants, flags, audit — and that non-admins are refused.

use super::{Options, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn tenants_flags_and_audit() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;
    let creator = fleet.register("creator@example.com").await;
    let creator_token = creator["access_token"].as_str().unwrap();

    let refused = fleet.get_with("/api/v1/admin/tenants", creator_token).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;

    let created = fleet
        .http
        .post(fleet.at("/api/v1/admin/tenants"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Acme Studios", "slug": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let tenant: Value = created.json().await.unwrap();
    let tenant_id = tenant["id"].as_str().unwrap();
    let duplicate = fleet
        .http
        .post(fleet.at("/api/v1/admin/tenants"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Acme again", "slug": "acme"}))
        .send()
        .await
        .unwrap();
    assert_problem(duplicate, StatusCode::CONFLICT, "slug_taken").await;

    let flags_path = format!("/api/v1/admin/tenants/{tenant_id}/flags");
    let put = fleet
        .http
        .put(fleet.at(&flags_path))
        .bearer_auth(&admin)
        .json(&json!({"flags": {"auto_approve_assets": true, "campaign_model": "local"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let read: Value = fleet
        .get_with(&flags_path, &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["flags"]["auto_approve_assets"], true);
    assert_eq!(read["flags"]["campaign_model"], "local");
    let bad = fleet
        .http
        .put(fleet.at(&flags_path))
        .bearer_auth(&admin)
        .json(&json!({"flags": {"Bad Name": 3}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // A user of that tenant reads its flags through the gateway's cache.
    let member = fleet.register_in(tenant_id, "member@acme.test").await;
    assert_eq!(member.status(), StatusCode::CREATED);
    let member: Value = member.json().await.unwrap();
    assert_eq!(member["user"]["tenant_id"], tenant_id);
    let mine: Value = fleet
        .get_with(
            "/api/v1/tenant/flags",
            member["access_token"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["flags"]["auto_approve_assets"], true);

    // Disabled (what the tenant operator sets when the tenant's `Tenant` resource is
    // deleted): its people can neither refresh nor sign in; enabled again, they can.
    for disabled in [true, false] {
        let put = fleet
            .http
            .put(fleet.at(&flags_path))
            .bearer_auth(&admin)
            .json(&json!({"flags": {"auto_approve_assets": true, "disabled": disabled}}))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);
        let refresh = fleet
            .post(
                "/api/v1/auth/refresh",
                json!({"refresh_token": member["refresh_token"]}),
            )
            .await;
        let login = fleet
            .post(
                "/api/v1/auth/login",
                json!({"email": "member@acme.test", "password": super::PASSWORD, "tenant_id": tenant_id}),
            )
            .await;
        if disabled {
            assert_problem(refresh, StatusCode::FORBIDDEN, "tenant_disabled").await;
            assert_problem(login, StatusCode::FORBIDDEN, "tenant_disabled").await;
        } else {
            assert_eq!(refresh.status(), StatusCode::OK);
            assert_eq!(login.status(), StatusCode::OK);
        }
    }

    // Audit: filters and pagination.
    let page: Value = fleet
        .get_with("/api/v1/admin/audit?limit=2", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().expect("more pages");
    let next: Value = fleet
        .get_with(
            &format!("/api/v1/admin/audit?limit=2&cursor={cursor}"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);
    let logins: Value = fleet
        .get_with("/api/v1/admin/audit?action=login&outcome=success", &admin)
        .await
        .json()
        .await
        .unwrap();
    let entry = &logins["items"][0];
    assert_eq!(entry["action"], "login");
    assert_eq!(entry["ip"], "127.0.0.1");
    assert!(!entry["user_agent"].as_str().unwrap().is_empty() || entry["user_agent"] == "");
    let bad_filter = fleet
        .get_with("/api/v1/admin/audit?outcome=maybe", &admin)
        .await;
    assert_eq!(bad_filter.status(), StatusCode::BAD_REQUEST);
    fleet.stop().await;
}
