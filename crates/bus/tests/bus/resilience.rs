//! 10,000 events through the outbox on PostgreSQL and RabbitMQ while the broker is
//! restarted and the consumer is killed and restarted: every event is applied exactly
//! once (inbox), none is lost.

use crate::{Kind, PROBE, Probe, TestBus, event};
use marquee_bus::outbox::{self, OutboxRelay};
use marquee_bus::{Consumer, HandlerError, inbox};
use marquee_platform::shutdown::CancellationToken;
use marquee_testkit::amqp::BrokerLock;
use marquee_testkit::{Backend, wait_until};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const EVENTS: u64 = 10_000;
const PER_TRANSACTION: u64 = 50;

/// Stops and starts the broker's application with `rabbitmqctl`. If the test fails while
/// it is stopped, dropping the guard starts it again.
struct Broker {
    stopped: bool,
}

impl Broker {
    async fn ctl(args: &[&str]) {
        let status = tokio::process::Command::new("rabbitmqctl")
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .expect("rabbitmqctl runs (as root, on the broker's machine)");
        assert!(status.success(), "rabbitmqctl {args:?} failed");
    }

    async fn stop(&mut self) {
        self.stopped = true;
        Self::ctl(&["stop_app"]).await;
    }

    async fn start(&mut self) {
        Self::ctl(&["start_app"]).await;
        Self::ctl(&["await_startup"]).await;
        self.stopped = false;
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if self.stopped {
            let _ = std::process::Command::new("rabbitmqctl")
                .arg("start_app")
                .status();
            let _ = std::process::Command::new("rabbitmqctl")
                .arg("await_startup")
                .status();
        }
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Handler calls under way: counted up when one starts, down when it ends, however it
/// ends (an aborted consumer drops its handlers).
struct Running(Arc<AtomicU64>);

impl Running {
    fn enter(running: &Arc<AtomicU64>) -> Self {
        running.fetch_add(1, Ordering::SeqCst);
        Self(running.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handler call counters shared by every consumer instance.
#[derive(Clone, Default)]
struct Counters {
    calls: Arc<AtomicU64>,
    skipped: Arc<AtomicU64>,
    running: Arc<AtomicU64>,
}

fn worker(test: &TestBus, db: &DatabaseConnection, counters: &Counters) -> Consumer {
    let (db, counters) = (db.clone(), counters.clone());
    test.consumer("ledger", move |envelope| {
        let (db, counters) = (db.clone(), counters.clone());
        async move {
            let _running = Running::enter(&counters.running);
            counters.calls.fetch_add(1, Ordering::Relaxed);
            let probe: Probe = marquee_bus::envelope::unpack(&envelope, PROBE)?;
            let Some(txn) = inbox::claim(&db, "ledger", &envelope).await? else {
                counters.skipped.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            };
            // The effect: not idempotent by itself (no unique key), so a second
            // application would show as a duplicate row.
            txn.execute_unprepared(&format!(
                "INSERT INTO effects (event_id, seq) VALUES ('{}', {})",
                envelope.id, probe.seq
            ))
            .await?;
            txn.commit().await?;
            Ok::<_, HandlerError>(())
        }
    })
    .bind("ledger.*")
    .concurrency(8)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_broker_restart_and_consumer_kill() {
    // Nobody else may use the broker while it is pulled away.
    let _exclusive = BrokerLock::exclusive();
    let started = Instant::now();
    let (db, guard) = crate::outbox::database(Backend::Postgres).await;
    let database_url = guard.url();
    // Each consumer instance has a connection pool of its own, as a process would: when
    // it is killed, its connections go with it and PostgreSQL rolls back what it had
    // under way.
    let consumer_pool = || async {
        sea_orm::Database::connect(
            sea_orm::ConnectOptions::new(database_url)
                .max_connections(10)
                .sqlx_logging(false)
                .to_owned(),
        )
        .await
        .unwrap()
    };
    db.execute_unprepared(
        "CREATE TABLE effects (id BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL, seq BIGINT NOT NULL)",
    )
    .await
    .unwrap();

    let mut settings = crate::settings(Kind::Amqp);
    settings.prefetch = 100;
    settings.outbox.batch_size = 250;
    settings.outbox.poll_interval_ms = 50;
    // The shared lock is ours already (exclusive); the test bus must not wait for it.
    let test = TestBus::without_lock(settings.clone());
    let counters = Counters::default();
    let first_pool = consumer_pool().await;
    let consumer = worker(&test, &first_pool, &counters);
    test.bus.declare(&consumer).await.unwrap();
    let (mut consumer_task, mut consumer_stop) = test.spawn(consumer);

    let relay = OutboxRelay::new("ledger-producer", db.clone(), test.bus.clone(), &settings);
    let waker = relay.waker();
    let relay_stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run_until_stopped(relay_stop.clone()));

    // The producer: each transaction makes 50 state changes and enqueues their events.
    let producer = tokio::spawn({
        let db = db.clone();
        async move {
            for chunk in 0..EVENTS / PER_TRANSACTION {
                let txn = marquee_db::begin_write(&db).await.unwrap();
                for i in 0..PER_TRANSACTION {
                    let seq = chunk * PER_TRANSACTION + i;
                    let envelope = event("ledger.entry", seq);
                    txn.execute_unprepared(&format!(
                        "INSERT INTO orders (id, seq) VALUES ('{}', {seq})",
                        envelope.id
                    ))
                    .await
                    .unwrap();
                    outbox::enqueue(&txn, &envelope).await.unwrap();
                }
                txn.commit().await.unwrap();
                waker.wake();
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }
    });

    // 1. Pull the broker while events are being produced, relayed and consumed.
    let mut broker = Broker { stopped: false };
    wait_until(Duration::from_secs(60), "1,000 events applied", || async {
        count(&db, "SELECT COUNT(*) FROM effects").await >= 1_000
    })
    .await;
    let stopped_at = Instant::now();
    broker.stop().await;
    // What had been applied when the broker went (handlers in hand may still add theirs).
    let applied_at_stop = count(&db, "SELECT COUNT(*) FROM effects").await;
    // Down until the relay has met the outage: rows it tried to publish and could not.
    wait_until(
        Duration::from_secs(30),
        "the relay failing to publish while the broker is down",
        || async {
            count(
                &db,
                "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL AND attempts > 0",
            )
            .await
                > 0
        },
    )
    .await;
    let pending_while_down = outbox::pending(&db).await.unwrap();
    broker.start().await;
    let broker_down_for = stopped_at.elapsed();

    // 2. Kill the consumer mid-stream (its task aborted, deliveries unacked) and start a
    //    new one.
    let target = (applied_at_stop + 2_000).min(i64::try_from(EVENTS).unwrap() - 1_000);
    wait_until(
        Duration::from_secs(60),
        "progress after the restart",
        || async { count(&db, "SELECT COUNT(*) FROM effects").await >= target },
    )
    .await;
    let killed_at = started.elapsed();
    consumer_task.abort();
    let _ = consumer_task.await;
    drop(consumer_stop);
    first_pool.close().await.unwrap();
    let second_pool = consumer_pool().await;
    (consumer_task, consumer_stop) = test.spawn(worker(&test, &second_pool, &counters));

    producer.await.unwrap();
    let produced_at = started.elapsed();
    wait_until(Duration::from_secs(90), "every event applied", || async {
        count(&db, "SELECT COUNT(*) FROM effects").await >= i64::try_from(EVENTS).unwrap()
            && outbox::pending(&db).await.unwrap() == 0
    })
    .await;
    let drained_at = started.elapsed();
    // Anything still in flight would show up as a second effect: wait until no delivery
    // is left to make (work and delay queues empty, no handler running), then stop the
    // consumer, which lets any handler in hand finish first.
    wait_until(
        Duration::from_secs(30),
        "the ledger queues empty and no handler running",
        || async {
            let stats = test.bus.stats("ledger").await.unwrap();
            let running = counters.running.load(Ordering::SeqCst);
            (stats.ready, stats.retrying, running) == (0, 0, 0)
        },
    )
    .await;
    relay_stop.cancel();
    relay_task.await.unwrap().unwrap();
    consumer_stop.cancel();
    consumer_task.await.unwrap().unwrap();

    let effects = count(&db, "SELECT COUNT(*) FROM effects").await;
    let distinct_events = count(&db, "SELECT COUNT(DISTINCT event_id) FROM effects").await;
    let distinct_seqs = count(&db, "SELECT COUNT(DISTINCT seq) FROM effects").await;
    let applied_twice = count(
        &db,
        "SELECT COUNT(*) FROM \
         (SELECT event_id FROM effects GROUP BY event_id HAVING COUNT(*) > 1) AS twice",
    )
    .await;
    let inbox_rows = count(&db, "SELECT COUNT(*) FROM inbox").await;
    let expected = i64::try_from(EVENTS).unwrap();
    assert!(
        0 < applied_at_stop && applied_at_stop < expected,
        "the broker stopped mid-run: {applied_at_stop} of {expected} applied then"
    );
    assert!(
        pending_while_down > 0,
        "events waited in the outbox while the broker was down"
    );
    assert_eq!(applied_twice, 0, "no event applied twice");
    assert_eq!(effects, expected, "no event applied twice");
    assert_eq!(distinct_events, expected, "none lost");
    assert_eq!(distinct_seqs, expected, "every produced event");
    assert_eq!(inbox_rows, expected);
    let stats = test.bus.stats("ledger").await.unwrap();
    assert_eq!((stats.ready, stats.dead_lettered), (0, 0));

    eprintln!(
        "10,000 events: {} handler calls, {} duplicates skipped by the inbox; broker stopped at \
         {applied_at_stop} applied ({pending_while_down} outbox rows pending while it was down, \
         down for {broker_down_for:?}); consumer killed at {killed_at:?}; all produced at \
         {produced_at:?}; all applied at {drained_at:?}; total {:?}",
        counters.calls.load(Ordering::Relaxed),
        counters.skipped.load(Ordering::Relaxed),
        started.elapsed()
    );
}
