//! The Stripe provider through the gateway, against the fake Stripe server
//! (`marquee_testkit::stripe`) driving the real async-stripe client inside billing:
//! checkout → the customer pays → signed `checkout.session.completed` webhook through
//! the gateway → active `pro`; the same webhook again changes nothing; portal and
//! invoices come from Stripe.

use super::{Options, spawn_fleet};
use marquee_platform::SecretString;
use marquee_testkit::stripe::{FakeStripe, SECRET_KEY, WEBHOOK_SECRET, sign};
use marquee_testkit::wait_for;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_webhook_portal_and_invoices_through_the_gateway() {
    let fake = FakeStripe::start().await;
    fake.add_price("price_pro");
    fake.add_price("price_business");
    let base = fake.base.clone();
    let fleet = spawn_fleet(Options {
        billing: Box::new(move |billing| {
            billing.stripe_secret_key = Some(SecretString::from(SECRET_KEY));
            billing.stripe_webhook_secrets = vec![SecretString::from(WEBHOOK_SECRET)];
            billing.stripe_api_base = Some(base);
            billing.plans.pro.stripe_price_id = Some("price_pro".into());
            billing.plans.business.stripe_price_id = Some("price_business".into());
            // The worker is woken by each stored event; the timer is only its fallback.
            billing.worker_interval_ms = 50;
        }),
        ..Options::default()
    })
    .await;
    // The tenant's subscription is changed by its owner (a plain member may not).
    let (_, session) = fleet
        .tenant_with_owner("stripe-co", "stripe-payer@example.com")
        .await;
    let token = session["access_token"].as_str().unwrap().to_string();

    let subscription: Value = fleet
        .get_with("/api/v1/billing/subscription", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(subscription["plan"], "free");
    assert_eq!(subscription["provider"], "stripe");

    // Checkout: a Stripe Checkout Session to redirect to; the plan does not change yet.
    let response = fleet
        .http
        .post(fleet.at("/api/v1/billing/checkout"))
        .bearer_auth(&token)
        .header("idempotency-key", "e2e-checkout-1")
        .json(&json!({"plan": "pro"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let checkout: Value = response.json().await.unwrap();
    assert_eq!(checkout["provider"], "stripe");
    let session_id = checkout["session_id"].as_str().expect("a session id");
    assert_eq!(
        checkout["url"].as_str(),
        Some(format!("https://checkout.stripe.test/c/pay/{session_id}").as_str())
    );
    let created = fake.requests("POST", "/v1/checkout/sessions");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].param("line_items[0][price]"), Some("price_pro"));
    assert!(
        created[0]
            .idempotency_key
            .as_deref()
            .is_some_and(|k| k.starts_with("checkout-") && k.ends_with("-e2e-checkout-1")),
        "checkout idempotency key: {:?}",
        created[0].idempotency_key
    );
    let still_free: Value = fleet
        .get_with("/api/v1/billing/subscription", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still_free["plan"], "free");

    // The customer pays; Stripe sends the signed event to the gateway (raw body).
    let subscription_id = fake.complete_checkout(session_id);
    let event = fake.event("checkout.session.completed", fake.session(session_id));
    let ack = deliver(&fleet, &event).await;
    assert_eq!(ack["accepted"], true);
    let event_id = ack["event_id"].as_str().unwrap().to_string();

    // Processing is asynchronous: wait (bounded) for the worker's result.
    let subscription = wait_for(
        Duration::from_secs(10),
        "the subscription on the pro plan",
        || async {
            let subscription: Value = fleet
                .get_with("/api/v1/billing/subscription", &token)
                .await
                .json()
                .await
                .unwrap();
            if subscription["plan"] == "pro" {
                Ok(subscription)
            } else {
                Err(subscription)
            }
        },
    )
    .await;
    assert_eq!(subscription["plan"], "pro", "subscription: {subscription}");
    assert_eq!(subscription["subscribed_plan"], "pro");
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["provider"], "stripe");
    assert!(subscription["current_period_end"].is_string());
    // The worker fetched the current state from Stripe rather than trusting the event.
    assert!(
        !fake
            .requests("GET", &format!("/v1/subscriptions/{subscription_id}"))
            .is_empty()
    );

    // The same delivery again: acknowledged as a duplicate, stored and applied once.
    let fetches = fake
        .requests("GET", &format!("/v1/checkout/sessions/{session_id}"))
        .len();
    let again = deliver(&fleet, &event).await;
    assert_eq!(again["event_id"], event_id.as_str());
    assert_eq!(again["accepted"], false);
    let unchanged: Value = fleet
        .get_with("/api/v1/billing/subscription", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, subscription);
    assert_eq!(
        fake.requests("GET", &format!("/v1/checkout/sessions/{session_id}"))
            .len(),
        fetches
    );

    // The Customer Portal for the customer the checkout created.
    let response = fleet
        .http
        .post(fleet.at("/api/v1/billing/portal"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let portal: Value = response.json().await.unwrap();
    let portals = fake.requests("POST", "/v1/billing_portal/sessions");
    assert_eq!(portals.len(), 1);
    assert_eq!(
        portals[0].param("customer"),
        fake.session(session_id)["customer"].as_str()
    );
    assert!(
        portal["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://billing.stripe.test/p/session/bps_")),
        "portal: {portal}"
    );

    // Invoices: the paid first invoice, as Stripe lists it.
    let response = fleet.get_with("/api/v1/billing/invoices", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let invoices: Value = response.json().await.unwrap();
    assert_eq!(invoices["next_cursor"], Value::Null);
    let invoices = invoices["items"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "invoices: {invoices:?}");
    let invoice = &invoices[0];
    let stored = fake.invoice(invoice["id"].as_str().unwrap());
    assert_eq!(invoice["number"], stored["number"]);
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_paid"], 1900);
    assert_eq!(invoice["currency"], "usd");
    assert_eq!(invoice["hosted_invoice_url"], stored["hosted_invoice_url"]);

    fleet.stop().await;
    fake.stop().await;
}

/// Posts a signed event to the gateway's webhook route as Stripe would; returns the ack.
async fn deliver(fleet: &super::TestFleet, payload: &str) -> Value {
    let response = fleet
        .http
        .post(fleet.at("/api/v1/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", sign(payload))
        .body(payload.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "webhook status {}",
        response.status()
    );
    response.json().await.unwrap()
}
