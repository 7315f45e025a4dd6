//! Billing through the gateway on the local provider: subscription, usage against
//! limits, a plan change applied at once (by an admin: a plain member may not).

use super::{Options, spawn_fleet};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn local_provider_subscription_usage_and_plan_change() {
    let fleet = spawn_fleet(Options::default()).await;
    let session = fleet.register("payer@example.com").await;
    let token = session["access_token"].as_str().unwrap().to_string();

    let response = fleet.get_with("/api/v1/billing/subscription", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let subscription: Value = response.json().await.unwrap();
    assert_eq!(subscription["plan"], "free");
    assert_eq!(subscription["provider"], "local");

    let response = fleet.get_with("/api/v1/billing/usage", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let usage: Value = response.json().await.unwrap();
    let limits = usage["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 6);
    assert!(
        limits
            .iter()
            .any(|l| l["limit"] == "ai_text_generations" && l["limit_value"] == 50)
    );

    // The catalogue is a list like any other: one page, no cursor.
    let response = fleet.get_with("/api/v1/billing/plans", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let plans: Value = response.json().await.unwrap();
    assert_eq!(plans["next_cursor"], Value::Null, "{plans}");
    assert!(
        plans["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "pro" && p["purchasable"] == true),
        "{plans}"
    );

    // The subscription is the whole tenant's: a plain member may not change it (not
    // even in the default tenant), an admin may.
    let refused = fleet
        .post_with("/api/v1/billing/checkout", &token, json!({"plan": "pro"}))
        .await;
    super::assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let admin = fleet.admin_token().await;
    let response = fleet
        .http
        .post(fleet.at("/api/v1/billing/checkout"))
        .bearer_auth(&admin)
        .json(&json!({"plan": "pro"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let checkout: Value = response.json().await.unwrap();
    assert_eq!(checkout["provider"], "local");
    assert!(checkout["url"].is_null());
    assert_eq!(checkout["subscription"]["plan"], "pro");
    let usage: Value = fleet
        .get_with("/api/v1/billing/usage", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["plan"], "pro");

    // Unauthenticated callers are refused; bad webhook signatures are 400.
    let response = fleet
        .http
        .get(fleet.at("/api/v1/billing/usage"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = fleet
        .http
        .post(fleet.at("/api/v1/webhooks/stripe"))
        .header("stripe-signature", "t=1,v1=00")
        .body(r#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1"}}}"#)
        .send()
        .await
        .unwrap();
    super::assert_problem(response, StatusCode::BAD_REQUEST, "invalid_signature").await;
    fleet.stop().await;
}
