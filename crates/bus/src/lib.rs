//! The event backbone: one publish/consume API ([`EventBus`]) with two implementations
//! chosen by configuration — RabbitMQ ([`amqp::AmqpBus`], when `MARQUEE_AMQP_URL` is set)
//! and an in-process bus ([`memory::InProcessBus`]) for the embedded fleet — plus the
//! transactional [`outbox`] producers publish through and the [`inbox`] consumers
//! deduplicate with.
//!
//! ```ignore
//! let settings = BusSettings::load()?;
//! let bus = marquee_bus::connect(&settings)?;             // Arc<dyn EventBus>
//!
//! // producer: the event is a row in the same transaction as the change
//! let txn = marquee_db::begin_write(&db).await?;
//! /* … the change … */
//! marquee_bus::outbox::enqueue(&txn, &EventBuilder::new("asset.uploaded", "content")
//!     .tenant(tenant).payload("marquee.events.v1.AssetUploaded", &payload).build()?).await?;
//! txn.commit().await?;
//! let relay = OutboxRelay::new("content", db.clone(), bus.clone(), &settings);
//! tokio::spawn(relay.run_until_stopped(shutdown.clone()));
//!
//! // consumer: handled at least once, applied once (inbox)
//! let consumer = Consumer::new("tagging", handler).bind("asset.*");
//! tokio::spawn(consumer.run_until_stopped(bus.clone(), shutdown.clone()));
//! ```
//!
//! See `docs/events.md` for the topology, retry and dead-letter policy, headers and
//! metrics.

pub mod amqp;
pub mod consumer;
pub mod envelope;
pub mod error;
pub mod inbox;
pub mod memory;
pub mod metrics;
pub mod migration;
pub mod names;
pub mod ops;
pub mod outbox;
pub mod settings;
pub mod trace;

pub use consumer::{Consumer, DeadLetter, QueueStats};
pub use envelope::EventBuilder;
pub use error::{BusError, FailureKind, HandlerError, Result};
pub use marquee_proto::events::v1::{Envelope, TraceContext};
pub use outbox::{OutboxRelay, OutboxWaker};
pub use settings::{BusSettings, OutboxSettings, RetryPolicy};

use marquee_platform::shutdown::CancellationToken;
use std::sync::Arc;

/// Which implementation a bus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    RabbitMq,
    InProcess,
}

/// Publishing and consuming events. Services hold it as `Arc<dyn EventBus>`.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + std::fmt::Debug + 'static {
    fn kind(&self) -> BusKind;

    /// Publishes one event and waits until the broker has it (publisher confirm).
    /// Producers normally go through the [`outbox`] instead.
    async fn publish(&self, envelope: &Envelope) -> Result<()> {
        self.publish_batch(std::slice::from_ref(envelope))
            .await
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Publishes events in order, waiting for all confirms together; one result each.
    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<()>>;

    /// Declares the consumer's queues and bindings (idempotent). Consumers do it
    /// themselves when they start; declaring earlier means events published before the
    /// first start are kept for it.
    async fn declare(&self, consumer: &Consumer) -> Result<()>;

    /// Consumes until `stop` is cancelled, reconnecting on its own; then finishes the
    /// deliveries in hand and returns. Errors only for configuration that cannot work.
    async fn run_consumer(&self, consumer: Consumer, stop: CancellationToken) -> Result<()>;

    /// Up to `limit` parked messages of `consumer`, oldest first, left in place.
    async fn dead_letters(&self, consumer: &str, limit: usize) -> Result<Vec<DeadLetter>>;

    /// Moves up to `limit` (default: all there now) dead-lettered messages of `consumer`
    /// back to its work queue with a fresh attempt count; returns how many.
    async fn replay_dead_letters(&self, consumer: &str, limit: Option<u64>) -> Result<u64>;

    /// Depths of the consumer's queues (also reported as `marquee_bus_queue_depth`).
    async fn stats(&self, consumer: &str) -> Result<QueueStats>;

    /// Whether the broker answers now: a service's readiness follows it (the relay and
    /// consumers reconnect on their own, so a lost broker shows nowhere else).
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

/// The readiness probe of a service's bus (for `Service::watch`).
pub fn probe(
    bus: Arc<dyn EventBus>,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>>
+ Send
+ 'static {
    move || {
        let bus = bus.clone();
        Box::pin(async move { bus.ping().await.map_err(|error| error.to_string()) })
    }
}

/// The bus the settings ask for: RabbitMQ when `amqp_url` is set (connecting lazily,
/// so a service starts while the broker is down), else the process's shared
/// in-process bus for `settings.exchange`.
pub fn connect(settings: &BusSettings) -> Result<Arc<dyn EventBus>> {
    settings.validate()?;
    if settings.amqp_url.is_some() {
        Ok(Arc::new(amqp::AmqpBus::new(settings.clone())?))
    } else {
        Ok(memory::InProcessBus::shared(settings.clone())?)
    }
}

impl Consumer {
    /// Runs this consumer on `bus` until `stop` is cancelled
    /// ([`EventBus::run_consumer`]).
    pub async fn run_until_stopped(
        self,
        bus: Arc<dyn EventBus>,
        stop: CancellationToken,
    ) -> Result<()> {
        bus.run_consumer(self, stop).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_chooses_the_bus() {
        let embedded = BusSettings {
            exchange: "test.connect".into(),
            ..BusSettings::default()
        };
        let first = connect(&embedded).unwrap();
        let second = connect(&embedded).unwrap();
        assert_eq!(first.kind(), BusKind::InProcess);
        assert!(
            Arc::ptr_eq(&first, &second),
            "services of one process share the in-process bus"
        );

        let rabbit = BusSettings {
            amqp_url: Some(marquee_platform::SecretString::from(
                "amqp://127.0.0.1:1/%2f",
            )),
            ..BusSettings::default()
        };
        // Lazy: no broker needed to build it.
        assert_eq!(connect(&rabbit).unwrap().kind(), BusKind::RabbitMq);
    }
}
