use super::start;
use marquee_billing::BillingSettings;
use marquee_billing::error::BillingError;
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    parallel_reservations_never_exceed_the_limit,
    reserve_commit_release_and_expire,
    local_plan_change_applies_at_once
);

fn settings(limit: u64) -> BillingSettings {
    let mut settings = BillingSettings::default();
    settings.plans.free.limits.ai_text_generations = Some(limit);
    settings
}

async fn parallel_reservations_never_exceed_the_limit(backend: Backend) {
    let (billing, _db) = start(backend, settings(25)).await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let billing = billing.clone();
            tokio::spawn(async move {
                billing
                    .reserve("t1", "ai_text_generations", 1, Some(&format!("job-{i}")), 0)
                    .await
            })
        })
        .collect();
    let mut held = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => held += 1,
            Err(BillingError::QuotaExceeded { limit, .. }) => {
                assert_eq!(limit, "ai_text_generations");
                refused += 1;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((held, refused), (25, 75));
    let check = billing.check("t1", "ai_text_generations", 1).await.unwrap();
    assert!(!check.allowed);
    assert_eq!((check.used, check.limit), (25, 25));
    // Another tenant has its own budget.
    assert!(
        billing
            .check("t2", "ai_text_generations", 25)
            .await
            .unwrap()
            .allowed
    );
}

async fn reserve_commit_release_and_expire(backend: Backend) {
    let (billing, _db) = start(backend, settings(10)).await;
    let a = billing
        .reserve("t1", "ai_text_generations", 4, Some("a"), 0)
        .await
        .unwrap();
    let again = billing
        .reserve("t1", "ai_text_generations", 4, Some("a"), 0)
        .await
        .unwrap();
    assert_eq!(a.id, again.id, "same key, same reservation");
    let b = billing
        .reserve("t1", "ai_text_generations", 6, None, 0)
        .await
        .unwrap();
    assert!(matches!(
        billing
            .reserve("t1", "ai_text_generations", 1, None, 0)
            .await,
        Err(BillingError::QuotaExceeded { .. })
    ));
    let committed = billing.commit("t1", &a.id, 3).await.unwrap();
    assert_eq!(committed.state, "committed");
    assert_eq!(
        billing.commit("t1", &a.id, 3).await.unwrap().state,
        "committed",
        "idempotent"
    );
    assert!(matches!(
        billing.release("t1", &a.id).await,
        Err(BillingError::Conflict { .. })
    ));
    let released = billing.release("t1", &b.id).await.unwrap();
    assert_eq!(released.state, "released");
    let usage = billing.usage("t1").await.unwrap();
    let ai = usage
        .limits
        .iter()
        .find(|l| l.limit.as_str() == "ai_text_generations")
        .unwrap();
    assert_eq!((ai.used, ai.reserved, ai.allowed), (3, 0, 10));
    // Expiry: a 1-second hold nobody settles is given back by the sweeper.
    let c = billing
        .reserve("t1", "ai_text_generations", 7, None, 1)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(billing.expire_reservations().await.unwrap(), 1);
    assert!(matches!(
        billing.commit("t1", &c.id, 0).await,
        Err(BillingError::Conflict { .. })
    ));
    assert!(
        billing
            .check("t1", "ai_text_generations", 7)
            .await
            .unwrap()
            .allowed
    );
    // Reported usage counts once per identifier; other tenants cannot see reservations.
    assert!(
        billing
            .report_usage("t1", "video_seconds", 5, "r1")
            .await
            .unwrap()
    );
    assert!(
        !billing
            .report_usage("t1", "video_seconds", 5, "r1")
            .await
            .unwrap()
    );
    assert!(matches!(
        billing.commit("t2", &a.id, 0).await,
        Err(BillingError::NotFound(_))
    ));
    assert!(matches!(
        billing.reserve("t1", "bananas", 1, None, 0).await,
        Err(BillingError::Invalid {
            code: "unknown_limit",
            ..
        })
    ));
    // Levels (storage) can be freed; monthly limits cannot.
    let s = billing
        .reserve("t1", "storage_bytes", 100, None, 0)
        .await
        .unwrap();
    billing.commit("t1", &s.id, 0).await.unwrap();
    billing
        .free_usage("t1", "storage_bytes", 60, "asset:a1:deleted")
        .await
        .unwrap();
    // A retried free (same key) gives nothing back twice.
    billing
        .free_usage("t1", "storage_bytes", 60, "asset:a1:deleted")
        .await
        .unwrap();
    assert_eq!(
        billing.check("t1", "storage_bytes", 0).await.unwrap().used,
        40
    );
    assert!(
        billing
            .free_usage("t1", "video_seconds", 1, "k")
            .await
            .is_err()
    );
    assert!(
        billing
            .free_usage("t1", "storage_bytes", 1, "")
            .await
            .is_err()
    );
}

async fn local_plan_change_applies_at_once(backend: Backend) {
    let (billing, _db) = start(backend, settings(1)).await;
    assert_eq!(billing.subscription("t1").await.unwrap().plan, "free");
    billing
        .reserve("t1", "ai_text_generations", 1, None, 0)
        .await
        .unwrap();
    assert!(
        billing
            .reserve("t1", "ai_text_generations", 1, None, 0)
            .await
            .is_err()
    );
    let checkout = billing
        .checkout(
            "t1",
            "u1",
            &marquee_billing::domain::subscriptions::CheckoutInput {
                plan: "pro",
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(checkout.url.is_none());
    assert_eq!(checkout.subscription.plan, "pro");
    assert_eq!(checkout.subscription.provider.as_str(), "local");
    billing
        .reserve("t1", "ai_text_generations", 1, None, 0)
        .await
        .unwrap();
    // The change was published through the outbox.
    assert_eq!(marquee_bus::outbox::pending(billing.db()).await.unwrap(), 1);
}
