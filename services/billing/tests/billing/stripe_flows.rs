//! The Stripe provider end to end against the fake Stripe server
//! (`marquee_testkit::stripe`, imported as `fake_stripe`), through
//! the real async-stripe client: checkout → signed webhook → subscription; duplicated,
//! replayed and out-of-order webhooks; bad signatures; dunning (past_due grace, then
//! downgrade); meter events; Stripe's error bodies. Webhook processing is driven by
//! calling the worker's pass directly, so nothing waits on time.

use super::start;
use chrono::{DateTime, Duration, Utc};
use marquee_billing::domain::subscriptions::CheckoutInput;
use marquee_billing::domain::webhooks::{MAX_ATTEMPTS, retry_delay};
use marquee_billing::error::BillingError;
use marquee_billing::store::entities::{subscription, usage_record, webhook_event};
use marquee_billing::{Billing, BillingSettings, store};
use marquee_platform::SecretString;
use marquee_proto::events::v1::SubscriptionChanged;
use marquee_testkit::stripe::{self as fake_stripe, FakeStripe, SECRET_KEY, WEBHOOK_SECRET, sign};
use marquee_testkit::{Backend, TestDb};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

marquee_testkit::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    checkout_then_webhook_activates_the_subscription,
    duplicated_replayed_and_out_of_order_webhooks_converge,
    bad_signatures_are_refused_and_store_nothing,
    payment_failure_keeps_the_plan_for_the_grace_period_then_downgrades,
    meter_events_are_sent_once_per_identifier,
    stripe_errors_are_reported_not_swallowed,
);

async fn stripe_billing(backend: Backend, fake: &FakeStripe) -> (Billing, TestDb) {
    fake.add_price("price_pro");
    fake.add_price("price_business");
    let mut settings = BillingSettings {
        stripe_secret_key: Some(SecretString::from(SECRET_KEY)),
        stripe_webhook_secrets: vec![
            SecretString::from("whsec_retired"),
            SecretString::from(WEBHOOK_SECRET),
        ],
        stripe_api_base: Some(fake.base.clone()),
        ..BillingSettings::default()
    };
    settings.plans.pro.stripe_price_id = Some("price_pro".into());
    settings.plans.business.stripe_price_id = Some("price_business".into());
    start(backend, settings).await
}

async fn checkout(billing: &Billing, tenant: &str, plan: &str, key: &str) -> String {
    let checkout = billing
        .checkout(
            tenant,
            "user-1",
            &CheckoutInput {
                plan,
                email: "payer@example.com",
                idempotency_key: Some(key),
                ..CheckoutInput::default()
            },
        )
        .await
        .expect("checkout");
    let session = checkout.session_id.expect("a Checkout Session");
    assert_eq!(
        checkout.url.as_deref(),
        Some(format!("https://checkout.stripe.test/c/pay/{session}").as_str())
    );
    session
}

/// Delivers a signed event, as Stripe would; returns whether it was new.
async fn deliver(billing: &Billing, payload: &str) -> bool {
    billing
        .receive_webhook(payload.as_bytes(), &sign(payload))
        .await
        .expect("webhook accepted")
        .accepted
}

/// One pass of the webhook worker; every stored event must have been processed (also
/// one still waiting out its backoff: `pending` is asked as of a day later).
async fn process(billing: &Billing) {
    billing.process_webhooks().await.expect("processing pass");
    let pending = store::webhooks::pending(
        billing.db(),
        MAX_ATTEMPTS,
        Utc::now() + Duration::days(1),
        100,
    )
    .await
    .unwrap();
    assert!(
        pending.is_empty(),
        "unprocessed events: {:?}",
        pending
            .iter()
            .map(|e| (&e.event_type, &e.last_error))
            .collect::<Vec<_>>()
    );
}

/// The stored inbox row of the event `payload`.
async fn stored(billing: &Billing, payload: &str) -> webhook_event::Model {
    let event: serde_json::Value = serde_json::from_str(payload).unwrap();
    store::webhooks::get(billing.db(), event["id"].as_str().unwrap())
        .await
        .unwrap()
        .expect("stored")
}

/// Moves the event `id`'s next attempt into the past, as if its backoff had passed.
async fn backoff_passes(billing: &Billing, id: &str) {
    webhook_event::Entity::update_many()
        .col_expr(
            webhook_event::Column::NextAttemptAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(webhook_event::Column::Id.eq(id))
        .exec(billing.db())
        .await
        .unwrap();
}

/// Asserts `at` is `delay` after some instant in `[before, after]`.
fn assert_due(
    at: Option<DateTime<Utc>>,
    before: DateTime<Utc>,
    after: DateTime<Utc>,
    delay: Duration,
) {
    let at = at.expect("a next attempt");
    assert!(
        before + delay <= at && at <= after + delay,
        "{at} not {delay} after [{before}, {after}]"
    );
}

/// `subscription.changed` events enqueued for `tenant`, oldest first.
async fn changes(billing: &Billing, tenant: &str) -> Vec<SubscriptionChanged> {
    use marquee_bus::outbox::entity as outbox;
    outbox::Entity::find()
        .filter(outbox::Column::TenantId.eq(tenant))
        .filter(outbox::Column::EventType.eq("subscription.changed"))
        .order_by_asc(outbox::Column::Id)
        .all(billing.db())
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let envelope = marquee_bus::envelope::decode(&row.envelope).unwrap();
            marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.SubscriptionChanged")
                .unwrap()
        })
        .collect()
}

/// Checkout, payment and the `checkout.session.completed` webhook: an active plan.
async fn subscribe(billing: &Billing, fake: &FakeStripe, tenant: &str, plan: &str) -> String {
    let session = checkout(billing, tenant, plan, "first").await;
    let subscription = fake.complete_checkout(&session);
    let event = fake.event("checkout.session.completed", fake.session(&session));
    assert!(deliver(billing, &event).await);
    process(billing).await;
    let view = billing.subscription(tenant).await.unwrap();
    assert_eq!((view.plan.as_str(), view.status.as_str()), (plan, "active"));
    subscription
}

async fn checkout_then_webhook_activates_the_subscription(backend: Backend) {
    let fake = FakeStripe::start().await;
    let (billing, _db) = stripe_billing(backend, &fake).await;

    let session = checkout(&billing, "t1", "pro", "k1").await;
    // The customer was created once, form-encoded, with the tenant in its metadata.
    let customers = fake.requests("POST", "/v1/customers");
    assert_eq!(customers.len(), 1);
    let create = &customers[0];
    assert_eq!(
        create.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(create.stripe_version.is_some());
    assert_eq!(create.idempotency_key.as_deref(), Some("customer-t1"));
    assert_eq!(create.param("metadata[tenant_id]"), Some("t1"));
    assert_eq!(create.param("email"), Some("payer@example.com"));
    let sessions = fake.requests("POST", "/v1/checkout/sessions");
    let create = &sessions[0];
    assert_eq!(create.idempotency_key.as_deref(), Some("checkout-t1-k1"));
    assert_eq!(create.param("mode"), Some("subscription"));
    assert_eq!(create.param("line_items[0][price]"), Some("price_pro"));
    assert_eq!(create.param("line_items[0][quantity]"), Some("1"));
    assert_eq!(create.param("client_reference_id"), Some("t1"));
    assert_eq!(
        create.param("subscription_data[metadata][tenant_id]"),
        Some("t1")
    );
    assert_eq!(
        create.param("customer"),
        fake.session(&session)["customer"].as_str()
    );

    // A retry with the same Idempotency-Key gets the same session; no second customer.
    assert_eq!(checkout(&billing, "t1", "pro", "k1").await, session);
    assert_eq!(fake.requests("POST", "/v1/customers").len(), 1);
    assert_eq!(fake.requests("POST", "/v1/checkout/sessions").len(), 2);
    assert_eq!(fake.meter_events().len(), 0);

    // Nothing changes before Stripe says the customer paid.
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.provider.as_str()),
        ("free", "stripe")
    );

    let subscription = fake.complete_checkout(&session);
    let event = fake.event("checkout.session.completed", fake.session(&session));
    assert!(deliver(&billing, &event).await);
    process(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(view.plan, "pro");
    assert_eq!(view.subscribed_plan, "pro");
    assert_eq!(view.status, "active");
    let period_end = fake.subscription(&subscription)["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();
    assert_eq!(
        view.current_period_end.map(|t| t.timestamp()),
        Some(period_end)
    );
    assert_eq!(
        billing
            .effective_plan("t1", chrono::Utc::now())
            .await
            .unwrap()
            .id,
        "pro"
    );
    let changed = changes(&billing, "t1").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0].previous_plan.as_str(), changed[0].plan.as_str()),
        ("free", "pro")
    );
    assert_eq!(changed[0].provider, "stripe");

    // Invoices and the portal come from Stripe.
    let invoices = billing.invoices("t1", 10).await.unwrap();
    assert_eq!(invoices.len(), 1);
    assert_eq!(
        (invoices[0].status.as_str(), invoices[0].amount_paid),
        ("paid", 1900)
    );
    let list = &fake.requests("GET", "/v1/invoices")[0];
    assert_eq!(list.param("limit"), Some("10"));
    let portal = billing
        .portal("t1", Some("https://app.example/billing"), Some("p1"))
        .await
        .unwrap();
    assert!(portal.starts_with("https://billing.stripe.test/p/session/bps_"));
    let portal = &fake.requests("POST", "/v1/billing_portal/sessions")[0];
    assert_eq!(
        portal.param("return_url"),
        Some("https://app.example/billing")
    );
    assert_eq!(portal.idempotency_key.as_deref(), Some("portal-t1-p1"));
    fake.stop().await;
}

async fn duplicated_replayed_and_out_of_order_webhooks_converge(backend: Backend) {
    let fake = FakeStripe::start().await;
    let (billing, _db) = stripe_billing(backend, &fake).await;
    let session = checkout(&billing, "t1", "pro", "k1").await;
    let subscription = fake.complete_checkout(&session);
    let completed = fake.event("checkout.session.completed", fake.session(&session));
    let created = fake.event(
        "customer.subscription.created",
        fake.subscription(&subscription),
    );
    // The customer upgrades in the portal, then cancels.
    fake.set_price(&subscription, "price_business");
    let upgraded = fake.event(
        "customer.subscription.updated",
        fake.subscription(&subscription),
    );

    // Newest first: the upgrade arrives before the creation and the checkout.
    assert!(deliver(&billing, &upgraded).await);
    process(&billing).await;
    assert_eq!(billing.subscription("t1").await.unwrap().plan, "business");
    assert!(deliver(&billing, &created).await);
    assert!(deliver(&billing, &completed).await);
    process(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.status.as_str()),
        ("business", "active")
    );
    // Duplicates (Stripe retries) are stored once and change nothing.
    assert!(!deliver(&billing, &completed).await);
    assert!(!deliver(&billing, &upgraded).await);
    process(&billing).await;
    assert_eq!(store::webhooks::count(billing.db()).await.unwrap(), 3);
    assert_eq!(changes(&billing, "t1").await.len(), 1);

    // Cancellation; then an old event replayed from the dashboard with a fresh
    // signature: the worker fetches the current state, which stays canceled.
    fake.set_status(&subscription, "canceled");
    let deleted = fake.event(
        "customer.subscription.deleted",
        fake.subscription(&subscription),
    );
    assert!(deliver(&billing, &deleted).await);
    process(&billing).await;
    let replay = created.replace("evt_", "evt_replayed_");
    assert!(deliver(&billing, &replay).await);
    process(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.status.as_str()),
        ("free", "canceled")
    );
    let changed = changes(&billing, "t1").await;
    let last = changed.last().unwrap();
    assert_eq!(
        (
            last.previous_plan.as_str(),
            last.plan.as_str(),
            last.status.as_str()
        ),
        ("business", "free", "canceled")
    );

    // An event captured long ago and re-sent with its old signature is refused
    // (outside the 300 s tolerance) and not stored.
    let old = chrono::Utc::now().timestamp() - 3600;
    let stale = fake.event(
        "customer.subscription.updated",
        fake.subscription(&subscription),
    );
    let error = billing
        .receive_webhook(
            stale.as_bytes(),
            &fake_stripe::signature(&stale, old, &[WEBHOOK_SECRET]),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BillingError::BadSignature(_)), "{error:?}");
    assert_eq!(store::webhooks::count(billing.db()).await.unwrap(), 5);

    // A state fetched before the one already applied is never written over it (two
    // workers finishing out of order).
    let older: marquee_billing::stripe::wire::Subscription = miniserde::json::from_str(
        &fake
            .subscription(&subscription)
            .to_string()
            .replace("\"canceled\"", "\"active\""),
    )
    .unwrap();
    billing
        .apply_stripe_subscription(&older, chrono::Utc::now() - chrono::Duration::seconds(5))
        .await
        .unwrap();
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.status.as_str()),
        ("free", "canceled")
    );
    fake.stop().await;
}

async fn bad_signatures_are_refused_and_store_nothing(backend: Backend) {
    let fake = FakeStripe::start().await;
    let (billing, _db) = stripe_billing(backend, &fake).await;
    let payload = r#"{"id":"evt_bad","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","object":"invoice"}}}"#;
    let now = chrono::Utc::now().timestamp();
    let tampered = payload.replace("in_1", "in_2");
    let cases = [
        ("", payload.to_string()),
        ("garbage", payload.to_string()),
        ("t=1,v1=00", payload.to_string()),
        (
            &*fake_stripe::signature(payload, now, &["whsec_wrong"]),
            payload.to_string(),
        ),
        (
            &*fake_stripe::signature(payload, now, &[WEBHOOK_SECRET]),
            tampered,
        ),
        (
            &*fake_stripe::signature(payload, now + 3600, &[WEBHOOK_SECRET]),
            payload.to_string(),
        ),
    ];
    for (header, body) in &cases {
        let error = billing
            .receive_webhook(body.as_bytes(), header)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::BadSignature(_)),
            "{header:?}: {error:?}"
        );
        let status = tonic::Status::from(error);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    }
    let stored = webhook_event::Entity::find()
        .all(billing.db())
        .await
        .unwrap();
    assert!(stored.is_empty(), "stored {stored:?}");

    // During a secret rotation, a header signed with both secrets, or the old one, verifies.
    let header = fake_stripe::signature(payload, now, &["whsec_new_unknown", "whsec_retired"]);
    assert!(
        billing
            .receive_webhook(payload.as_bytes(), &header)
            .await
            .unwrap()
            .accepted
    );
    assert_eq!(store::webhooks::count(billing.db()).await.unwrap(), 1);
    fake.stop().await;
}

async fn payment_failure_keeps_the_plan_for_the_grace_period_then_downgrades(backend: Backend) {
    let fake = FakeStripe::start().await;
    let (billing, _db) = stripe_billing(backend, &fake).await;
    let subscription = subscribe(&billing, &fake, "t1", "pro").await;

    fake.set_status(&subscription, "past_due");
    let invoice = fake.create_invoice(&subscription, "open");
    let failed = fake.event("invoice.payment_failed", fake.invoice(&invoice));
    assert!(deliver(&billing, &failed).await);
    process(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.status.as_str()),
        ("pro", "past_due")
    );
    let since = view.past_due_since.expect("grace started");
    // Stripe retries the payment and fails again: the grace period does not restart.
    let again = fake.event("invoice.payment_failed", fake.invoice(&invoice));
    assert!(deliver(&billing, &again).await);
    process(&billing).await;
    marquee_billing::events::run_once(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(view.past_due_since, Some(since));
    assert_eq!(view.plan, "pro");

    // The grace period (7 days) runs out: entitlements fall to free, once.
    subscription::Entity::update_many()
        .col_expr(
            subscription::Column::PastDueSince,
            Expr::value(since - chrono::Duration::days(8)),
        )
        .filter(subscription::Column::TenantId.eq("t1"))
        .exec(billing.db())
        .await
        .unwrap();
    assert_eq!(billing.downgrade_expired_grace().await.unwrap(), 1);
    assert_eq!(billing.downgrade_expired_grace().await.unwrap(), 0);
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (
            view.plan.as_str(),
            view.subscribed_plan.as_str(),
            view.status.as_str()
        ),
        ("free", "pro", "unpaid")
    );
    let last = changes(&billing, "t1").await.pop().unwrap();
    assert_eq!(
        (
            last.previous_plan.as_str(),
            last.plan.as_str(),
            last.status.as_str()
        ),
        ("pro", "free", "unpaid")
    );
    // Another failed retry while Stripe still says past_due does not bring the plan back.
    let count = changes(&billing, "t1").await.len();
    let third = fake.event("invoice.payment_failed", fake.invoice(&invoice));
    assert!(deliver(&billing, &third).await);
    process(&billing).await;
    marquee_billing::events::run_once(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.status.as_str()),
        ("free", "unpaid")
    );
    assert_eq!(changes(&billing, "t1").await.len(), count);

    // The customer pays: back to pro.
    fake.set_status(&subscription, "active");
    let paid = fake.create_invoice(&subscription, "paid");
    let event = fake.event("invoice.paid", fake.invoice(&paid));
    assert!(deliver(&billing, &event).await);
    process(&billing).await;
    let view = billing.subscription("t1").await.unwrap();
    assert_eq!(
        (view.plan.as_str(), view.status.as_str()),
        ("pro", "active")
    );
    assert_eq!(view.past_due_since, None);
    let last = changes(&billing, "t1").await.pop().unwrap();
    assert_eq!(
        (last.previous_plan.as_str(), last.plan.as_str()),
        ("free", "pro")
    );
    fake.stop().await;
}

async fn meter_events_are_sent_once_per_identifier(backend: Backend) {
    let fake = FakeStripe::start().await;
    let (billing, _db) = stripe_billing(backend, &fake).await;
    subscribe(&billing, &fake, "t1", "pro").await;
    assert_eq!(fake.requests("POST", "/v1/customers").len(), 1);

    assert!(
        billing
            .report_usage("t1", "ai_text_generations", 3, "job-1")
            .await
            .unwrap()
    );
    assert!(
        !billing
            .report_usage("t1", "ai_text_generations", 3, "job-1")
            .await
            .unwrap()
    );
    assert!(
        billing
            .report_usage("t1", "video_seconds", 12, "job-2")
            .await
            .unwrap()
    );
    // A limit without a meter is only counted locally.
    assert!(
        billing
            .report_usage("t1", "partner_api_calls", 1, "call-1")
            .await
            .unwrap()
    );
    // Stripe is down for the first attempt: the failed send waits out its backoff
    // (30 s), then a pass retries it with the same key.
    fake.fail_next("POST", "/v1/billing/meter_events", 500);
    let before = Utc::now();
    assert_eq!(billing.report_meter_events().await.unwrap(), 1);
    let after = Utc::now();
    let failed = usage_record::Entity::find()
        .filter(usage_record::Column::LastError.is_not_null())
        .all(billing.db())
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].attempts, failed[0].reported_at), (1, None));
    assert_due(
        failed[0].next_attempt_at,
        before,
        after,
        Duration::seconds(30),
    );
    assert_eq!(billing.report_meter_events().await.unwrap(), 0);
    marquee_billing::events::run_once(&billing).await;
    assert_eq!(
        fake.meter_events().len(),
        1,
        "not retried before its backoff"
    );
    usage_record::Entity::update_many()
        .col_expr(
            usage_record::Column::NextAttemptAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(usage_record::Column::Id.eq(&failed[0].id))
        .exec(billing.db())
        .await
        .unwrap();
    assert_eq!(billing.report_meter_events().await.unwrap(), 1);
    assert_eq!(billing.report_meter_events().await.unwrap(), 0);
    marquee_billing::events::run_once(&billing).await;

    let accepted = fake.meter_events();
    let mut identifiers: Vec<&str> = accepted
        .iter()
        .map(|e| e["identifier"].as_str().unwrap())
        .collect();
    identifiers.sort_unstable();
    // Identifiers are scoped by tenant, so two tenants' "job-1" stay distinct.
    assert_eq!(identifiers, ["t1:job-1", "t1:job-2"]);
    let job1 = accepted
        .iter()
        .find(|e| e["identifier"] == "t1:job-1")
        .unwrap();
    assert_eq!(job1["event_name"], "marquee_ai_text_generations");
    assert_eq!(job1["payload"]["value"], "3");
    assert!(
        job1["payload"]["stripe_customer_id"]
            .as_str()
            .unwrap()
            .starts_with("cus_")
    );
    let requests = fake.requests("POST", "/v1/billing/meter_events");
    assert_eq!(
        requests.len(),
        3,
        "one failed attempt, then one per identifier"
    );
    for request in &requests {
        let identifier = request.param("identifier").unwrap();
        assert_eq!(
            request.idempotency_key.as_deref(),
            Some(format!("meter-{identifier}").as_str())
        );
        assert!(request.param("timestamp").is_some());
    }
    let usage = billing.usage("t1").await.unwrap();
    let used = |name: &str| {
        usage
            .limits
            .iter()
            .find(|l| l.limit.as_str() == name)
            .unwrap()
            .used
    };
    assert_eq!(
        (used("ai_text_generations"), used("video_seconds")),
        (3, 12)
    );
    fake.stop().await;
}

async fn stripe_errors_are_reported_not_swallowed(backend: Backend) {
    let fake = FakeStripe::start().await;
    let (billing, _db) = stripe_billing(backend, &fake).await;
    // A price Stripe does not know: Stripe's message reaches the caller as a 400.
    let mut settings = billing.settings().clone();
    settings.plans.business.stripe_price_id = Some("price_deleted".into());
    let db = billing.db().clone();
    let misconfigured = Billing::new(db.clone(), settings).unwrap();
    let error = misconfigured
        .checkout(
            "t1",
            "user-1",
            &CheckoutInput {
                plan: "business",
                ..CheckoutInput::default()
            },
        )
        .await
        .err()
        .expect("refused");
    match &error {
        BillingError::StripeRejected(message) => {
            assert_eq!(message, "No such price: 'price_deleted'");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        tonic::Status::from(error).code(),
        tonic::Code::InvalidArgument
    );

    // A wrong secret key is our configuration's fault, not the caller's: unavailable.
    let mut settings = billing.settings().clone();
    settings.stripe_secret_key = Some(SecretString::from("sk_test_revoked"));
    let revoked = Billing::new(db.clone(), settings).unwrap();
    let error = revoked
        .checkout(
            "t2",
            "user-2",
            &CheckoutInput {
                plan: "pro",
                ..CheckoutInput::default()
            },
        )
        .await
        .err()
        .expect("refused");
    assert!(matches!(error, BillingError::Stripe(_)), "{error:?}");
    assert_ne!(
        tonic::Status::from(error).code(),
        tonic::Code::InvalidArgument
    );

    // Stripe failing while a webhook is processed: the event stays, and is retried only
    // once its backoff has passed — 30 s after the first failure, 60 s after the second.
    let subscription = subscribe(&billing, &fake, "t3", "pro").await;
    let fetches = || {
        fake.requests("GET", &format!("/v1/subscriptions/{subscription}"))
            .len()
    };
    fake.set_price(&subscription, "price_business");
    fake.fail_next("GET", "/v1/subscriptions/", 500);
    fake.fail_next("GET", "/v1/subscriptions/", 500);
    let updated = fake.event(
        "customer.subscription.updated",
        fake.subscription(&subscription),
    );
    assert!(deliver(&billing, &updated).await);
    let fetched = fetches();
    let before = Utc::now();
    assert_eq!(billing.process_webhooks().await.unwrap(), 0);
    let after = Utc::now();
    assert_eq!(fetches(), fetched + 1);
    let event = stored(&billing, &updated).await;
    assert_eq!((event.attempts, event.processed_at), (1, None));
    assert!(event.last_error.as_deref().unwrap().contains("fake outage"));
    assert_due(
        event.next_attempt_at,
        before,
        after,
        retry_delay(Duration::seconds(30), 1),
    );
    // Not due yet: neither the store nor a pass (nor the whole worker) retries it.
    let due = event.next_attempt_at.unwrap();
    let pending_at = |now| store::webhooks::pending(billing.db(), MAX_ATTEMPTS, now, 10);
    assert!(pending_at(Utc::now()).await.unwrap().is_empty());
    assert!(
        pending_at(due - Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );
    let pending = pending_at(due).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, event.id);
    assert_eq!(billing.process_webhooks().await.unwrap(), 0);
    marquee_billing::events::run_once(&billing).await;
    assert_eq!(fetches(), fetched + 1, "retried before its backoff passed");
    assert_eq!(stored(&billing, &updated).await.attempts, 1);

    // Due: retried, fails again, and waits twice as long.
    backoff_passes(&billing, &event.id).await;
    let before = Utc::now();
    assert_eq!(billing.process_webhooks().await.unwrap(), 0);
    let after = Utc::now();
    assert_eq!(fetches(), fetched + 2);
    let event = stored(&billing, &updated).await;
    assert_eq!(event.attempts, 2);
    assert_due(event.next_attempt_at, before, after, Duration::seconds(60));
    assert_eq!(billing.subscription("t3").await.unwrap().plan, "pro");

    // Due again, and Stripe is back: processed.
    backoff_passes(&billing, &event.id).await;
    process(&billing).await;
    assert_eq!(billing.subscription("t3").await.unwrap().plan, "business");
    let event = stored(&billing, &updated).await;
    assert_eq!(event.attempts, 3);
    assert!(event.processed_at.is_some());
    assert_eq!(event.next_attempt_at, None);
    fake.stop().await;
}
