//! Outbox and inbox on SQLite and PostgreSQL (with the in-process bus; the RabbitMQ path
//! is exercised by `resilience`).

use crate::{Kind, PROBE, Probe, TestBus, event, metric};
use marquee_bus::outbox::{self, OutboxRelay};
use marquee_bus::{BusError, BusKind, Consumer, Envelope, EventBus, inbox};
use marquee_platform::shutdown::CancellationToken;
use marquee_testkit::{Backend, TestDb, wait_until};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryOrder,
};
use sea_orm_migration::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct TestMigrator;

#[async_trait::async_trait]
impl MigratorTrait for TestMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        marquee_bus::migration::migrations()
    }

    fn migration_table_name() -> DynIden {
        "bus_test_migrations".into_iden()
    }
}

/// A migrated database with an `orders` table standing for a service's own state.
pub async fn database(backend: Backend) -> (DatabaseConnection, TestDb) {
    crate::init();
    let guard = TestDb::create(backend, "bus").await;
    let sqlite = backend == Backend::Sqlite;
    let mut options = ConnectOptions::new(guard.url());
    options
        .max_connections(if sqlite { 4 } else { 16 })
        .sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    if sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;")
            .await
            .unwrap();
    }
    TestMigrator::up(&db, None).await.unwrap();
    TestMigrator::up(&db, None).await.unwrap(); // idempotent
    db.execute_unprepared("CREATE TABLE orders (id TEXT PRIMARY KEY, seq BIGINT NOT NULL)")
        .await
        .unwrap();
    (db, guard)
}

marquee_testkit::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    rolled_back_changes_publish_nothing_committed_ones_go_in_order,
    relay_keeps_rows_while_publishing_fails,
    inbox_applies_each_event_once,
    relay_runs_until_stopped_and_reports_pending,
    relay_prunes_published_rows_and_handled_inbox_entries,
);

/// One "state change" and its event, in one transaction.
async fn place_order(txn: &impl ConnectionTrait, seq: u64) -> Envelope {
    let envelope = event("order.placed", seq);
    txn.execute_unprepared(&format!(
        "INSERT INTO orders (id, seq) VALUES ('{}', {seq})",
        envelope.id
    ))
    .await
    .unwrap();
    outbox::enqueue(txn, &envelope).await.unwrap();
    envelope
}

fn collector(test: &TestBus, name: &str) -> (Consumer, Arc<Mutex<Vec<u64>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let consumer = test
        .consumer(name, {
            let seen = seen.clone();
            move |envelope| {
                let seen = seen.clone();
                async move {
                    let probe: Probe = marquee_bus::envelope::unpack(&envelope, PROBE)?;
                    seen.lock().unwrap().push(probe.seq);
                    Ok(())
                }
            }
        })
        .bind("order.*");
    (consumer, seen)
}

async fn rolled_back_changes_publish_nothing_committed_ones_go_in_order(backend: Backend) {
    let (db, _guard) = database(backend).await;
    let test = TestBus::new(Kind::Memory);
    let (consumer, seen) = collector(&test, "orders");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);

    let txn = marquee_db::begin_write(&db).await.unwrap();
    place_order(&txn, 1).await;
    txn.rollback().await.unwrap();
    let txn = marquee_db::begin_write(&db).await.unwrap();
    for seq in [2, 3, 4] {
        place_order(&txn, seq).await;
    }
    // Not committed yet: nothing to relay.
    let relay = OutboxRelay::new("orders-svc", db.clone(), test.bus.clone(), &test.settings);
    assert_eq!(outbox::pending(&db).await.unwrap(), 0);
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    txn.commit().await.unwrap();

    assert_eq!(outbox::pending(&db).await.unwrap(), 3);
    assert_eq!(relay.relay_once().await.unwrap(), 3);
    assert_eq!(
        relay.relay_once().await.unwrap(),
        0,
        "rows are marked published"
    );
    wait_until(Duration::from_secs(10), "three events", || async {
        seen.lock().unwrap().len() == 3
    })
    .await;
    assert_eq!(
        *seen.lock().unwrap(),
        [2, 3, 4],
        "in outbox (id) order; the rolled-back one never"
    );
    let rows = outbox::entity::Entity::find()
        .order_by_asc(outbox::entity::Column::Id)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|row| row.published_at.is_some() && row.attempts == 0)
    );

    stop.cancel();
    task.await.unwrap().unwrap();
}

/// Fails the first `failures` batches, as a broker that is down would.
#[derive(Debug)]
struct FlakyBus {
    inner: Arc<dyn EventBus>,
    failures: AtomicU32,
}

#[async_trait::async_trait]
impl EventBus for FlakyBus {
    fn kind(&self) -> BusKind {
        self.inner.kind()
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<marquee_bus::Result<()>> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return envelopes
                .iter()
                .map(|_| Err(BusError::Unavailable("connection refused".into())))
                .collect();
        }
        self.inner.publish_batch(envelopes).await
    }

    async fn declare(&self, consumer: &Consumer) -> marquee_bus::Result<()> {
        self.inner.declare(consumer).await
    }

    async fn run_consumer(
        &self,
        consumer: Consumer,
        stop: CancellationToken,
    ) -> marquee_bus::Result<()> {
        self.inner.run_consumer(consumer, stop).await
    }

    async fn dead_letters(
        &self,
        consumer: &str,
        limit: usize,
    ) -> marquee_bus::Result<Vec<marquee_bus::DeadLetter>> {
        self.inner.dead_letters(consumer, limit).await
    }

    async fn replay_dead_letters(
        &self,
        consumer: &str,
        limit: Option<u64>,
    ) -> marquee_bus::Result<u64> {
        self.inner.replay_dead_letters(consumer, limit).await
    }

    async fn stats(&self, consumer: &str) -> marquee_bus::Result<marquee_bus::QueueStats> {
        self.inner.stats(consumer).await
    }
}

async fn relay_keeps_rows_while_publishing_fails(backend: Backend) {
    let (db, _guard) = database(backend).await;
    let test = TestBus::new(Kind::Memory);
    let (consumer, seen) = collector(&test, "orders");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);
    let flaky: Arc<dyn EventBus> = Arc::new(FlakyBus {
        inner: test.bus.clone(),
        failures: AtomicU32::new(2),
    });

    let txn = marquee_db::begin_write(&db).await.unwrap();
    place_order(&txn, 1).await;
    place_order(&txn, 2).await;
    txn.commit().await.unwrap();

    // A relay that dies after a failure leaves the rows for the next one.
    let relay = OutboxRelay::new("orders-svc", db.clone(), flaky.clone(), &test.settings);
    assert!(relay.relay_once().await.unwrap_err().is_transient());
    drop(relay);
    let relay = OutboxRelay::new("orders-svc", db.clone(), flaky, &test.settings);
    assert!(relay.relay_once().await.is_err());
    let rows = outbox::entity::Entity::find().all(&db).await.unwrap();
    assert!(
        rows.iter()
            .all(|row| row.published_at.is_none() && row.attempts == 2)
    );
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("connection refused")
    );
    assert_eq!(outbox::pending(&db).await.unwrap(), 2);

    assert_eq!(relay.relay_once().await.unwrap(), 2, "the broker is back");
    wait_until(Duration::from_secs(10), "both events", || async {
        seen.lock().unwrap().len() == 2
    })
    .await;
    assert_eq!(outbox::pending(&db).await.unwrap(), 0);

    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn inbox_applies_each_event_once(backend: Backend) {
    let (db, _guard) = database(backend).await;
    let envelope = event("order.placed", 1);

    // An effect that fails rolls the inbox entry back with it.
    let txn = inbox::claim(&db, "billing", &envelope)
        .await
        .unwrap()
        .unwrap();
    drop(txn);
    assert!(!inbox::contains(&db, "billing", &envelope.id).await.unwrap());

    let txn = inbox::claim(&db, "billing", &envelope)
        .await
        .unwrap()
        .expect("first time");
    txn.execute_unprepared("INSERT INTO orders (id, seq) VALUES ('effect', 1)")
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert!(inbox::contains(&db, "billing", &envelope.id).await.unwrap());
    assert!(
        inbox::claim(&db, "billing", &envelope)
            .await
            .unwrap()
            .is_none(),
        "a redelivery has no second effect"
    );
    // Another consumer has its own record.
    let txn = inbox::claim(&db, "tagging", &envelope)
        .await
        .unwrap()
        .expect("other consumer");
    txn.commit().await.unwrap();

    let pruned = inbox::prune(&db, chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(pruned, 2);
}

async fn relay_runs_until_stopped_and_reports_pending(backend: Backend) {
    let (db, _guard) = database(backend).await;
    let test = TestBus::new(Kind::Memory);
    let (consumer, seen) = collector(&test, "orders");
    test.bus.declare(&consumer).await.unwrap();
    let (task, stop) = test.spawn(consumer);
    let service = format!("svc-{}", uuid::Uuid::new_v4().simple());
    let mut settings = test.settings.clone();
    settings.outbox.poll_interval_ms = 60_000; // only the waker gets it going
    let relay = OutboxRelay::new(service.clone(), db.clone(), test.bus.clone(), &settings);
    let waker = relay.waker();
    let relay_stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run_until_stopped(relay_stop.clone()));

    for seq in 0..5 {
        let txn = marquee_db::begin_write(&db).await.unwrap();
        place_order(&txn, seq).await;
        txn.commit().await.unwrap();
        waker.wake();
    }
    wait_until(Duration::from_secs(10), "five events", || async {
        seen.lock().unwrap().len() == 5
    })
    .await;
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3, 4]);
    let label = format!("service=\"{service}\"");
    wait_until(
        Duration::from_secs(5),
        "outbox_pending reported as 0",
        || async {
            crate::init()
                .render()
                .contains(&format!("marquee_bus_outbox_pending{{{label}}} 0"))
        },
    )
    .await;
    assert_eq!(metric(marquee_bus::metrics::OUTBOX_PENDING, &[&label]), 0.0);

    relay_stop.cancel();
    relay_task.await.unwrap().unwrap();
    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn relay_prunes_published_rows_and_handled_inbox_entries(backend: Backend) {
    let (db, _guard) = database(backend).await;
    let test = TestBus::new(Kind::Memory);
    let handled = event("order.placed", 1);
    let txn = inbox::claim(&db, "billing", &handled)
        .await
        .unwrap()
        .expect("first time");
    txn.commit().await.unwrap();
    let txn = marquee_db::begin_write(&db).await.unwrap();
    place_order(&txn, 2).await;
    txn.commit().await.unwrap();
    assert!(inbox::contains(&db, "billing", &handled.id).await.unwrap());

    // No retention: the relay's first pass publishes, then prunes everything older.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut settings = test.settings.clone();
    settings.outbox.retention_hours = 0;
    let relay = OutboxRelay::new("orders-svc", db.clone(), test.bus.clone(), &settings);
    let stop = CancellationToken::new();
    let task = tokio::spawn(relay.run_until_stopped(stop.clone()));
    wait_until(
        Duration::from_secs(10),
        "the inbox entry pruned",
        || async { !inbox::contains(&db, "billing", &handled.id).await.unwrap() },
    )
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(outbox::pending(&db).await.unwrap(), 0);
}
