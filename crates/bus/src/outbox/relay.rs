//! The relay: publishes committed outbox rows in id order and marks them published.

use super::entity;
use crate::EventBus;
use crate::envelope;
use crate::error::BusError;
use crate::metrics;
use crate::settings::{Backoff, BusSettings, OutboxSettings};
use chrono::Utc;
use marquee_platform::shutdown::CancellationToken;
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

const PENDING_REPORT_EVERY: Duration = Duration::from_secs(1);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Wakes the relay at once instead of at its next poll. Call it after committing a
/// transaction that enqueued events; forgetting to only costs latency.
#[derive(Debug, Clone)]
pub struct OutboxWaker(Arc<Notify>);

impl OutboxWaker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Publishes a service's outbox. Run one per service replica; on PostgreSQL several
/// replicas split the rows between them (`FOR UPDATE SKIP LOCKED`).
pub struct OutboxRelay {
    service: String,
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    settings: OutboxSettings,
    backoff: Backoff,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("service", &self.service)
            .field("bus", &self.bus)
            .finish_non_exhaustive()
    }
}

impl OutboxRelay {
    /// `service` labels `marquee_bus_outbox_pending{service}`.
    pub fn new(
        service: impl Into<String>,
        db: DatabaseConnection,
        bus: Arc<dyn EventBus>,
        settings: &BusSettings,
    ) -> Self {
        Self {
            service: service.into(),
            db,
            bus,
            settings: settings.outbox.clone(),
            backoff: settings.reconnect_backoff(),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn waker(&self) -> OutboxWaker {
        OutboxWaker(self.wake.clone())
    }

    /// Publishes one batch of pending rows; returns how many were published. An error
    /// means some rows could not be (they stay pending, with the error recorded).
    pub async fn relay_once(&self) -> Result<usize, BusError> {
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let txn = marquee_db::begin_write(&self.db).await?;
            let published = self.relay_batch(&txn, true).await;
            txn.commit().await?;
            published
        } else {
            // SQLite has one writer anyway; a long read transaction would only get in
            // the way of the service's own writes.
            self.relay_batch(&self.db, false).await
        }
    }

    async fn relay_batch(
        &self,
        conn: &impl ConnectionTrait,
        lock: bool,
    ) -> Result<usize, BusError> {
        let mut query = entity::Entity::find()
            .filter(entity::Column::PublishedAt.is_null())
            .order_by_asc(entity::Column::Id)
            .limit(self.settings.batch_size.max(1));
        if lock {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(conn).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut envelopes = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        let mut undecodable = Vec::new();
        for row in rows {
            match envelope::decode(&row.envelope) {
                Ok(envelope) => {
                    ids.push(row.id);
                    envelopes.push(envelope);
                }
                Err(error) => {
                    tracing::error!(id = %row.id, %error, "outbox row cannot be decoded; left pending");
                    undecodable.push(row.id);
                }
            }
        }
        if !undecodable.is_empty() {
            mark_failed(conn, undecodable, "undecodable envelope").await?;
        }
        let results = self.bus.publish_batch(&envelopes).await;
        let mut published = Vec::new();
        let mut failed = Vec::new();
        let mut first_error = None;
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(()) => published.push(id),
                Err(error) => {
                    failed.push(id);
                    first_error.get_or_insert(error);
                }
            }
        }
        let count = published.len();
        if !published.is_empty() {
            entity::Entity::update_many()
                .col_expr(entity::Column::PublishedAt, Expr::value(Utc::now()))
                .filter(entity::Column::Id.is_in(published))
                .exec(conn)
                .await?;
        }
        match first_error {
            None => Ok(count),
            Some(error) => {
                mark_failed(conn, failed, &error.to_string()).await?;
                Err(error)
            }
        }
    }

    /// Relays until `stop` is cancelled: at once while rows keep coming, every
    /// `poll_interval_ms` (or when woken) when idle, with backoff while publishing fails.
    pub async fn run_until_stopped(mut self, stop: CancellationToken) -> Result<(), BusError> {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(1));
        let batch = usize::try_from(self.settings.batch_size.max(1)).unwrap_or(usize::MAX);
        let retention = chrono::Duration::hours(
            i64::try_from(self.settings.retention_hours).unwrap_or(i64::MAX / 3600),
        );
        let mut last_report = None::<Instant>;
        let mut last_prune = None::<Instant>;
        tracing::info!(service = %self.service, bus = ?self.bus.kind(), "outbox relay running");
        loop {
            if stop.is_cancelled() {
                break;
            }
            let mut changed = false;
            let (wait, wakeable) = match self.relay_once().await {
                Ok(published) => {
                    self.backoff.reset();
                    changed = published > 0;
                    if published >= batch {
                        (Duration::ZERO, true)
                    } else {
                        (poll, true)
                    }
                }
                Err(error) => {
                    // New rows do not cut the backoff short: the broker is what we wait for.
                    let delay = self.backoff.next_delay();
                    tracing::warn!(service = %self.service, %error, retry_in = ?delay, "outbox relay could not publish");
                    (delay, false)
                }
            };
            if changed || last_report.is_none_or(|at| at.elapsed() >= PENDING_REPORT_EVERY) {
                last_report = Some(Instant::now());
                match super::pending(&self.db).await {
                    Ok(pending) => metrics::outbox_pending(&self.service, pending),
                    Err(error) => tracing::warn!(%error, "cannot count pending outbox rows"),
                }
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(Instant::now());
                self.prune(Utc::now() - retention).await;
            }
            if wait.is_zero() {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.wake.notified(), if wakeable => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!(service = %self.service, "outbox relay stopped");
        Ok(())
    }

    async fn prune(&self, before: chrono::DateTime<Utc>) {
        let result = entity::Entity::delete_many()
            .filter(entity::Column::PublishedAt.lt(before))
            .exec(&self.db)
            .await;
        match result {
            Ok(done) if done.rows_affected > 0 => {
                tracing::info!(service = %self.service, rows = done.rows_affected, "pruned published outbox rows");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot prune the outbox"),
        }
        // The service's consumers' inbox (the same database, the same migration) keeps
        // one row per event handled: forgotten after the same retention, or it grows
        // with every event for ever (found by `make soak`). A redelivery older than that
        // would apply again; consumers are idempotent, as `marquee bus replay-dlq` relies on.
        match crate::inbox::prune(&self.db, before).await {
            Ok(rows) if rows > 0 => {
                tracing::info!(service = %self.service, rows, "pruned handled inbox entries");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot prune the inbox"),
        }
    }
}

async fn mark_failed(
    conn: &impl ConnectionTrait,
    ids: Vec<String>,
    error: &str,
) -> Result<(), BusError> {
    use sea_orm::sea_query::ExprTrait;
    entity::Entity::update_many()
        .col_expr(
            entity::Column::Attempts,
            Expr::col(entity::Column::Attempts).add(1),
        )
        .col_expr(entity::Column::LastError, Expr::value(error.to_string()))
        .filter(entity::Column::Id.is_in(ids))
        .exec(conn)
        .await?;
    Ok(())
}
