//! What every bus does, checked against RabbitMQ and the in-process bus alike.

use crate::{Kind, PROBE, Probe, TestBus, event, metric};
use marquee_bus::{HandlerError, metrics};
use marquee_testkit::wait_until;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

crate::on_both_buses!(
    routes_by_topic_to_every_bound_consumer,
    retries_with_exponential_backoff_then_succeeds,
    poison_message_is_dead_lettered_with_its_error_and_replayed,
    permanent_failures_skip_retries,
    trace_context_continues_in_the_consumer,
    aborted_consumer_loses_nothing,
    stats_report_queue_depth,
    panicking_handler_is_dead_lettered,
);

const WAIT: Duration = Duration::from_secs(20);

type Seen = Arc<Mutex<Vec<String>>>;

fn recorder(
    seen: &Seen,
) -> impl Fn(marquee_bus::Envelope) -> futures::future::Ready<Result<(), HandlerError>>
+ Send
+ Sync
+ 'static {
    let seen = seen.clone();
    move |envelope| {
        seen.lock().unwrap().push(envelope.r#type.clone());
        futures::future::ready(Ok(()))
    }
}

async fn routes_by_topic_to_every_bound_consumer(kind: Kind) {
    let test = TestBus::new(kind);
    let assets: Seen = Seen::default();
    let approvals: Seen = Seen::default();
    let a = test.consumer("assets", recorder(&assets)).bind("asset.*");
    let b = test
        .consumer("approvals", recorder(&approvals))
        .bind("asset.approved")
        .bind("tenant.#");
    test.bus.declare(&a).await.unwrap();
    test.bus.declare(&b).await.unwrap();
    let (task_a, stop_a) = test.spawn(a);
    let (task_b, stop_b) = test.spawn(b);

    let events = [
        "asset.uploaded",
        "asset.approved",
        "tenant.flags.changed",
        "user.registered",
    ];
    let batch: Vec<_> = events.iter().map(|t| event(t, 0)).collect();
    for result in test.bus.publish_batch(&batch).await {
        result.unwrap();
    }
    // Then a barrier for each consumer: a queue delivers in order (one handler at a time
    // here), so a consumer that has its barrier has had everything routed to it before.
    const BARRIERS: [&str; 2] = ["asset.barrier", "tenant.barrier"];
    for barrier in BARRIERS {
        test.bus.publish(&event(barrier, 0)).await.unwrap();
    }
    wait_until(WAIT, "both consumers to receive their events", || async {
        assets.lock().unwrap().last().map(String::as_str) == Some(BARRIERS[0])
            && approvals.lock().unwrap().last().map(String::as_str) == Some(BARRIERS[1])
    })
    .await;
    assets.lock().unwrap().pop();
    approvals.lock().unwrap().pop();
    assert_eq!(
        *assets.lock().unwrap(),
        ["asset.uploaded", "asset.approved"]
    );
    assert_eq!(
        *approvals.lock().unwrap(),
        ["asset.approved", "tenant.flags.changed"]
    );
    assert!(metric(metrics::PUBLISHED, &["type=\"user.registered\""]) >= 1.0);

    stop_a.cancel();
    stop_b.cancel();
    task_a.await.unwrap().unwrap();
    task_b.await.unwrap().unwrap();
}

async fn retries_with_exponential_backoff_then_succeeds(kind: Kind) {
    let mut settings = crate::settings(kind);
    settings.retry.max_attempts = 4;
    settings.retry.initial_delay_ms = 150;
    settings.retry.multiplier = 2;
    let test = TestBus::with_settings(kind, settings);
    let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let consumer = test
        .consumer("flaky", {
            let attempts = attempts.clone();
            move |_envelope| {
                let attempts = attempts.clone();
                async move {
                    let mut attempts = attempts.lock().unwrap();
                    attempts.push(Instant::now());
                    if attempts.len() < 3 {
                        return Err(HandlerError::transient("database unavailable"));
                    }
                    Ok(())
                }
            }
        })
        .bind("order.placed");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);
    test.bus.publish(&event("order.placed", 1)).await.unwrap();

    wait_until(WAIT, "the third attempt", || async {
        attempts.lock().unwrap().len() >= 3
    })
    .await;
    // Handling it again would take a copy of the message somewhere: wait until the
    // success is counted and neither the work queue nor a delay queue holds one.
    let queue = format!("{}.flaky", test.settings.exchange);
    let queue_label = format!("queue=\"{queue}\"");
    wait_until(
        WAIT,
        "the success settled, no copy left to retry",
        || async {
            let stats = test.bus.stats("flaky").await.unwrap();
            metric(metrics::CONSUMED, &[&queue_label, "outcome=\"ok\""]) >= 1.0
                && (stats.ready, stats.retrying) == (0, 0)
        },
    )
    .await;
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(
        attempts.len(),
        3,
        "succeeded on the third attempt, not handled again"
    );
    let first_gap = attempts[1] - attempts[0];
    let second_gap = attempts[2] - attempts[1];
    assert!(
        first_gap >= Duration::from_millis(145),
        "first backoff {first_gap:?}"
    );
    assert!(
        second_gap >= Duration::from_millis(295),
        "second backoff doubles: {second_gap:?}"
    );

    assert_eq!(metric(metrics::RETRIES, &[&queue_label]), 2.0);
    assert_eq!(
        metric(metrics::CONSUMED, &[&queue_label, "outcome=\"ok\""]),
        1.0
    );
    assert_eq!(
        metric(metrics::CONSUMED, &[&queue_label, "outcome=\"retry\""]),
        2.0
    );
    assert!(test.bus.dead_letters("flaky", 10).await.unwrap().is_empty());

    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn poison_message_is_dead_lettered_with_its_error_and_replayed(kind: Kind) {
    let test = TestBus::new(kind);
    let broken = Arc::new(AtomicBool::new(true));
    let poison_calls = Arc::new(AtomicU32::new(0));
    let handled = Arc::new(Mutex::new(Vec::<u64>::new()));
    let consumer = test
        .consumer("worker", {
            let (broken, poison_calls, handled) =
                (broken.clone(), poison_calls.clone(), handled.clone());
            move |envelope| {
                let (broken, poison_calls, handled) =
                    (broken.clone(), poison_calls.clone(), handled.clone());
                async move {
                    let probe: Probe = marquee_bus::envelope::unpack(&envelope, PROBE)?;
                    if probe.note == "poison" {
                        poison_calls.fetch_add(1, Ordering::SeqCst);
                        if broken.load(Ordering::SeqCst) {
                            return Err(HandlerError::transient(
                                "poison: cannot apply a negative quantity",
                            ));
                        }
                    }
                    handled.lock().unwrap().push(probe.seq);
                    Ok(())
                }
            }
        })
        .bind("order.*");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);

    let poison = marquee_bus::EventBuilder::new("order.placed", "bus-tests")
        .payload(
            PROBE,
            &Probe {
                seq: 7,
                note: "poison".into(),
            },
        )
        .build()
        .unwrap();
    test.bus.publish(&poison).await.unwrap();
    test.bus.publish(&event("order.placed", 8)).await.unwrap();

    wait_until(
        WAIT,
        "the poison message in the dead-letter queue",
        || async { test.bus.dead_letters("worker", 10).await.unwrap().len() == 1 },
    )
    .await;
    let letters = test.bus.dead_letters("worker", 10).await.unwrap();
    assert_eq!(letters.len(), 1, "peeking leaves it in place");
    let letter = &letters[0];
    assert_eq!(letter.envelope.id, poison.id);
    assert_eq!(letter.attempts, 3, "handled max_attempts times");
    assert!(
        letter.error.contains("negative quantity"),
        "error kept: {}",
        letter.error
    );
    assert!(!letter.failed_at.is_empty());
    assert_eq!(poison_calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        *handled.lock().unwrap(),
        [8],
        "the good message was not held up"
    );
    let queue = format!("queue=\"{}.worker\"", test.settings.exchange);
    assert_eq!(metric(metrics::DEAD_LETTERS, &[&queue]), 1.0);
    let stats = test.bus.stats("worker").await.unwrap();
    assert_eq!(stats.dead_lettered, 1);
    if kind == Kind::Amqp {
        // What `marquee bus stats worker` prints.
        let shown = marquee_bus::ops::stats(&test.settings, "worker")
            .await
            .unwrap()
            .to_string();
        assert!(
            shown.ends_with("worker: 0 ready, 0 waiting to retry, 1 dead-lettered, 1 consumer(s)"),
            "{shown}"
        );
    }

    // The cause is fixed: replay brings it back and it is handled.
    broken.store(false, Ordering::SeqCst);
    let replayed = match kind {
        // What `marquee bus replay-dlq worker` runs.
        Kind::Amqp => marquee_bus::ops::replay_dead_letters(&test.settings, "worker", None)
            .await
            .unwrap(),
        Kind::Memory => test.bus.replay_dead_letters("worker", None).await.unwrap(),
    };
    assert_eq!(replayed, 1);
    wait_until(WAIT, "the replayed message handled", || async {
        handled.lock().unwrap().contains(&7)
    })
    .await;
    assert!(
        test.bus
            .dead_letters("worker", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(test.bus.stats("worker").await.unwrap().dead_lettered, 0);
    assert_eq!(poison_calls.load(Ordering::SeqCst), 4);

    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn permanent_failures_skip_retries(kind: Kind) {
    let test = TestBus::new(kind);
    let calls = Arc::new(AtomicU32::new(0));
    let consumer = test
        .consumer("strict", {
            let calls = calls.clone();
            move |envelope| {
                calls.fetch_add(1, Ordering::SeqCst);
                // Expecting another payload type: can never succeed.
                let result = marquee_bus::envelope::unpack::<prost_types::Timestamp>(
                    &envelope,
                    "google.protobuf.Timestamp",
                )
                .map(|_| ());
                futures::future::ready(result)
            }
        })
        .bind("order.placed");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);
    test.bus.publish(&event("order.placed", 1)).await.unwrap();

    wait_until(WAIT, "the message dead-lettered", || async {
        !test.bus.dead_letters("strict", 1).await.unwrap().is_empty()
    })
    .await;
    let letter = &test.bus.dead_letters("strict", 1).await.unwrap()[0];
    assert_eq!(letter.attempts, 1);
    assert!(
        letter.error.contains("expected google.protobuf.Timestamp"),
        "{}",
        letter.error
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn trace_context_continues_in_the_consumer(kind: Kind) {
    let test = TestBus::new(kind);
    let seen = Arc::new(Mutex::new(None::<String>));
    let consumer = test
        .consumer("traced", {
            let seen = seen.clone();
            move |_envelope| {
                *seen.lock().unwrap() = marquee_platform::telemetry::current_traceparent();
                futures::future::ready(Ok(()))
            }
        })
        .bind("order.placed");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);

    // The "REST call" that causes the event.
    let request = tracing::info_span!("http.request");
    let envelope = request.in_scope(|| event("order.placed", 1));
    let producer = envelope
        .trace
        .clone()
        .expect("the builder captured the trace context");
    test.bus.publish(&envelope).await.unwrap();

    wait_until(WAIT, "the traced delivery", || async {
        seen.lock().unwrap().is_some()
    })
    .await;
    let consumer_parent = seen.lock().unwrap().clone().unwrap();
    let trace_id = |traceparent: &str| traceparent.split('-').nth(1).unwrap().to_string();
    let span_id = |traceparent: &str| traceparent.split('-').nth(2).unwrap().to_string();
    assert_eq!(
        trace_id(&consumer_parent),
        trace_id(&producer.traceparent),
        "same trace"
    );
    assert_ne!(
        span_id(&consumer_parent),
        span_id(&producer.traceparent),
        "its own span"
    );

    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn aborted_consumer_loses_nothing(kind: Kind) {
    let test = TestBus::new(kind);
    let started = Arc::new(tokio::sync::Notify::new());
    // The first consumer hangs in its handler and is killed there.
    let hanging = test
        .consumer("killable", {
            let started = started.clone();
            move |_envelope| {
                let started = started.clone();
                async move {
                    started.notify_one();
                    std::future::pending::<()>().await;
                    Ok(())
                }
            }
        })
        .bind("order.placed");
    test.bus.declare(&hanging).await.unwrap();
    let (task, _stop) = test.spawn(hanging);
    test.bus.publish(&event("order.placed", 1)).await.unwrap();
    tokio::time::timeout(WAIT, started.notified())
        .await
        .expect("handler started");
    task.abort();
    let _ = task.await;

    let handled = Seen::default();
    let (task, stop) = test.spawn(
        test.consumer("killable", recorder(&handled))
            .bind("order.placed"),
    );
    wait_until(WAIT, "redelivery to the new consumer", || async {
        handled.lock().unwrap().len() == 1
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn stats_report_queue_depth(kind: Kind) {
    let test = TestBus::new(kind);
    let consumer = test
        .consumer("idle", recorder(&Seen::default()))
        .bind("order.placed");
    test.bus.declare(&consumer).await.unwrap();
    let batch: Vec<_> = (0..3).map(|i| event("order.placed", i)).collect();
    for result in test.bus.publish_batch(&batch).await {
        result.unwrap();
    }
    let stats = test.bus.stats("idle").await.unwrap();
    assert_eq!(stats.queue, format!("{}.idle", test.settings.exchange));
    assert_eq!(
        (
            stats.ready,
            stats.retrying,
            stats.dead_lettered,
            stats.consumers
        ),
        (3, 0, 0, 0)
    );
    let label = format!("queue=\"{}\"", stats.queue);
    assert_eq!(metric(metrics::QUEUE_DEPTH, &[&label]), 3.0);
    assert!(
        test.bus.stats("nobody").await.is_err(),
        "unknown consumers are an error"
    );
}

async fn panicking_handler_is_dead_lettered(kind: Kind) {
    let test = TestBus::new(kind);
    let consumer = test
        .consumer("buggy", |envelope| async move {
            let probe: Probe = marquee_bus::envelope::unpack(&envelope, PROBE)?;
            assert!(probe.seq < 100, "sequence out of range: {}", probe.seq);
            Ok(())
        })
        .bind("order.placed");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);
    test.bus.publish(&event("order.placed", 500)).await.unwrap();
    test.bus.publish(&event("order.placed", 5)).await.unwrap();

    wait_until(WAIT, "the panicking message dead-lettered", || async {
        !test.bus.dead_letters("buggy", 1).await.unwrap().is_empty()
    })
    .await;
    let letter = &test.bus.dead_letters("buggy", 1).await.unwrap()[0];
    assert_eq!(letter.attempts, 3);
    assert!(
        letter
            .error
            .contains("handler panicked: sequence out of range: 500"),
        "{}",
        letter.error
    );
    assert!(!task.is_finished(), "the consumer keeps running");
    let queue = format!("queue=\"{}.buggy\"", test.settings.exchange);
    wait_until(WAIT, "the good message handled", || async {
        metric(metrics::CONSUMED, &[&queue, "outcome=\"ok\""]) == 1.0
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
}
