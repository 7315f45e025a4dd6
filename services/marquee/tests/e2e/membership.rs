//! Tenant membership through the gateway: joining a tenant other than the default one
//! needs an invitation (made by an admin or the tenant's owner, bound to an e-mail,
//! single use, expiring); the tenant's plan is changed by its owners and billing
//! admins, not by its plain members. On SQLite and PostgreSQL.

use super::{Options, PASSWORD, TestFleet, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_by_invitation_and_billing_roles_on_sqlite() {
    membership_by_invitation_and_billing_roles(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_by_invitation_and_billing_roles_on_postgres() {
    membership_by_invitation_and_billing_roles(true).await;
}

fn token(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_string()
}

async fn register(fleet: &TestFleet, body: Value) -> reqwest::Response {
    fleet.post("/api/v1/auth/register", body).await
}

async fn delete(fleet: &TestFleet, path: &str, token: &str) -> reqwest::Response {
    fleet
        .http
        .delete(fleet.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn membership_by_invitation_and_billing_roles(postgres: bool) {
    let fleet = spawn_fleet(Options {
        postgres,
        ..Default::default()
    })
    .await;
    let admin = fleet.admin_token().await;
    let outsider = token(&fleet.register("outsider@example.com").await);
    let tenant = fleet
        .post_with(
            "/api/v1/admin/tenants",
            &admin,
            json!({"name": "Acme", "slug": "acme"}),
        )
        .await;
    assert_eq!(tenant.status(), StatusCode::CREATED);
    let acme = tenant.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Knowing a tenant's id is not enough to join it; an id that names no tenant gets
    // the same answer.
    for tenant_id in [acme.as_str(), "no-such-tenant"] {
        for path in ["/api/v1/auth/register", "/api/v1/auth/browser/register"] {
            let refused = fleet
                .post(
                    path,
                    json!({"email": "eve@example.com", "password": PASSWORD, "tenant_id": tenant_id}),
                )
                .await;
            assert_problem(refused, StatusCode::FORBIDDEN, "invitation_required").await;
        }
    }
    // Plain members invite nobody.
    let refused = fleet
        .post_with(
            "/api/v1/tenant/invitations",
            &outsider,
            json!({"email": "x@example.com"}),
        )
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;

    // An admin invites Acme's first owner; the token is shown once, never cached.
    let response = fleet
        .post_with(
            "/api/v1/tenant/invitations",
            &admin,
            json!({"email": "Olivia@Acme.test", "role": "owner", "tenant_id": acme}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    assert!(response.headers().get(header::LOCATION).is_none());
    let invitation: Value = response.json().await.unwrap();
    assert_eq!(invitation["email"], "olivia@acme.test");
    assert_eq!(invitation["role"], "owner");
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["tenant_id"], acme.as_str());
    let owner_token = invitation["token"].as_str().unwrap().to_string();
    assert!(owner_token.starts_with("mqi_"), "{invitation}");
    assert_eq!(
        invitation["accept_path"],
        format!("/signup?invitation={owner_token}")
    );

    // Someone else holding the token, or a forged one: refused alike.
    for (email, token) in [
        ("mallory@acme.test", owner_token.as_str()),
        ("olivia@acme.test", "mqi_forged"),
        ("olivia@acme.test", "not a token"),
    ] {
        let refused = register(
            &fleet,
            json!({"email": email, "password": PASSWORD, "invitation": token}),
        )
        .await;
        assert_problem(refused, StatusCode::FORBIDDEN, "invitation_invalid").await;
    }
    // The invited address (in any case) joins, as an owner, once.
    let joined = register(
        &fleet,
        json!({"email": "OLIVIA@acme.test", "password": PASSWORD, "tenant_id": acme, "invitation": owner_token}),
    )
    .await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    let olivia: Value = joined.json().await.unwrap();
    assert_eq!(olivia["user"]["tenant_id"], acme.as_str());
    assert_eq!(olivia["user"]["roles"], json!(["creator", "owner"]));
    let owner = token(&olivia);
    let again = register(
        &fleet,
        json!({"email": "olivia@acme.test", "password": PASSWORD, "invitation": owner_token}),
    )
    .await;
    assert_problem(again, StatusCode::FORBIDDEN, "invitation_invalid").await;

    // The owner invites into its own tenant, and no other.
    let bob = fleet.invite(&owner, "", "bob@acme.test", "creator").await;
    let bill = fleet
        .invite(&owner, "", "bill@acme.test", "billing_admin")
        .await;
    let carol = fleet
        .invite(&owner, "", "carol@acme.test", "moderator")
        .await;
    assert_eq!(bob["tenant_id"], acme.as_str());
    let elsewhere = fleet
        .post_with(
            "/api/v1/tenant/invitations",
            &owner,
            json!({"email": "x@example.com", "tenant_id": "some-other-tenant"}),
        )
        .await;
    assert_problem(elsewhere, StatusCode::NOT_FOUND, "not_found").await;
    let admin_role = fleet
        .post_with(
            "/api/v1/tenant/invitations",
            &owner,
            json!({"email": "x@example.com", "role": "admin"}),
        )
        .await;
    assert_problem(admin_role, StatusCode::BAD_REQUEST, "invalid_request").await;

    // Bob joins through the browser flow, Bill with the token API.
    let response = fleet
        .post(
            "/api/v1/auth/browser/register",
            json!({"email": "bob@acme.test", "password": PASSWORD, "invitation": bob["token"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["tenant_id"], acme.as_str());
    assert_eq!(body["user"]["roles"], json!(["creator"]));
    let bob_token = token(&fleet.login_in(&acme, "bob@acme.test").await);
    let response = register(
        &fleet,
        json!({"email": "bill@acme.test", "password": PASSWORD, "invitation": bill["token"]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let bill_session: Value = response.json().await.unwrap();
    assert_eq!(
        bill_session["user"]["roles"],
        json!(["creator", "billing_admin"])
    );
    let bill_token = token(&bill_session);

    // The tenant's invitations: to its owner and admins, not to its members.
    let listed = fleet.get_with("/api/v1/tenant/invitations", &owner).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["next_cursor"], Value::Null);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{listed}");
    assert!(items.iter().all(|item| item.get("token").is_none()));
    let status_of = |id: &Value| {
        items.iter().find(|item| item["id"] == *id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_of(&invitation["id"]), "accepted");
    assert_eq!(status_of(&carol["id"]), "pending");
    let by_admin = fleet
        .get_with(
            &format!("/api/v1/tenant/invitations?tenant_id={acme}"),
            &admin,
        )
        .await;
    let by_admin: Value = by_admin.json().await.unwrap();
    assert_eq!(by_admin["items"].as_array().unwrap().len(), 4);
    for member in [&bob_token, &bill_token] {
        let refused = fleet.get_with("/api/v1/tenant/invitations", member).await;
        assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    }

    // Revoking: a member may not; the owner may, once it is pending; the token then
    // admits nobody. An accepted invitation cannot be revoked; another tenant's is not
    // found.
    let carol_path = format!(
        "/api/v1/tenant/invitations/{}",
        carol["id"].as_str().unwrap()
    );
    let refused = delete(&fleet, &carol_path, &bob_token).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        delete(&fleet, &carol_path, &owner).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&fleet, &carol_path, &owner).await.status(),
        StatusCode::NO_CONTENT,
        "revoking again changes nothing"
    );
    let refused = register(
        &fleet,
        json!({"email": "carol@acme.test", "password": PASSWORD, "invitation": carol["token"]}),
    )
    .await;
    assert_problem(refused, StatusCode::FORBIDDEN, "invitation_invalid").await;
    let accepted = format!(
        "/api/v1/tenant/invitations/{}",
        invitation["id"].as_str().unwrap()
    );
    let refused = delete(&fleet, &accepted, &owner).await;
    assert_problem(refused, StatusCode::CONFLICT, "invitation_accepted").await;
    let foreign = fleet
        .invite(&admin, "", "someone@example.com", "creator")
        .await;
    let refused = delete(
        &fleet,
        &format!(
            "/api/v1/tenant/invitations/{}",
            foreign["id"].as_str().unwrap()
        ),
        &owner,
    )
    .await;
    assert_problem(refused, StatusCode::NOT_FOUND, "not_found").await;

    // Billing: the plan is the whole tenant's. A plain member reads it but may not
    // change it; the billing admin and the owner may.
    let subscription = fleet
        .get_with("/api/v1/billing/subscription", &bob_token)
        .await;
    assert_eq!(subscription.status(), StatusCode::OK);
    for path in ["/api/v1/billing/checkout", "/api/v1/billing/portal"] {
        let refused = fleet
            .post_with(path, &bob_token, json!({"plan": "pro"}))
            .await;
        let problem = assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("billing_admin"),
            "{problem}"
        );
    }
    let plan_of = |token: String| {
        let fleet = &fleet;
        async move {
            let subscription: Value = fleet
                .get_with("/api/v1/billing/subscription", &token)
                .await
                .json()
                .await
                .unwrap();
            subscription["plan"].as_str().unwrap().to_string()
        }
    };
    for (payer, plan) in [(&bill_token, "pro"), (&owner, "business")] {
        let response = fleet
            .post_with("/api/v1/billing/checkout", payer, json!({"plan": plan}))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "checkout {plan}");
        let checkout: Value = response.json().await.unwrap();
        assert_eq!(checkout["subscription"]["plan"], plan);
        assert_eq!(plan_of(bob_token.clone()).await, plan, "the member's too");
    }
    // The portal is Stripe's: reached (a 409 on the local provider), not refused.
    let portal = fleet
        .post_with("/api/v1/billing/portal", &bill_token, json!({}))
        .await;
    assert_problem(portal, StatusCode::CONFLICT, "stripe_not_configured").await;
    assert_eq!(
        plan_of(outsider.clone()).await,
        "free",
        "other tenants keep their plan"
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_invitation_admits_nobody() {
    let fleet = spawn_fleet(Options {
        auth: Box::new(|auth| auth.invitation_ttl_secs = 1),
        ..Default::default()
    })
    .await;
    let admin = fleet.admin_token().await;
    let invitation = fleet
        .invite(&admin, "", "late@example.com", "billing_admin")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let refused = register(
        &fleet,
        json!({"email": "late@example.com", "password": PASSWORD, "invitation": invitation["token"]}),
    )
    .await;
    assert_problem(refused, StatusCode::FORBIDDEN, "invitation_invalid").await;
    let listed: Value = fleet
        .get_with("/api/v1/tenant/invitations", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["status"], "expired", "{listed}");
    fleet.stop().await;
}
