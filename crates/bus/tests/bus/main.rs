//! The bus against the real RabbitMQ and PostgreSQL on this machine, and the same
//! behaviour against the in-process bus; outbox and inbox on SQLite and PostgreSQL.
//!
//! RabbitMQ tests use an exchange (and so queues) of their own and delete them at the
//! end. The test that restarts the broker takes the broker lock exclusively; every other
//! RabbitMQ test (here and in the end-to-end tests) takes it shared, so it never pulls the
//! broker from under them — also when nextest runs tests in separate processes
//! (`marquee_testkit::amqp::BrokerLock`).

mod behaviour;
mod outbox;
mod resilience;

use marquee_bus::{BusSettings, Consumer, EventBus, HandlerError, RetryPolicy};
use marquee_platform::SecretString;
use marquee_proto::events::v1::Envelope;
use marquee_testkit::amqp::{BrokerLock, Topology, amqp_url, unique_name};
use opentelemetry::trace::TracerProvider as _;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// A payload for tests.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Probe {
    #[prost(uint64, tag = "1")]
    pub seq: u64,
    #[prost(string, tag = "2")]
    pub note: String,
}

pub const PROBE: &str = "marquee.test.v1.Probe";

pub fn event(event_type: &str, seq: u64) -> Envelope {
    marquee_bus::EventBuilder::new(event_type, "bus-tests")
        .tenant("tenant-1")
        .payload(
            PROBE,
            &Probe {
                seq,
                note: String::new(),
            },
        )
        .build()
        .unwrap()
}

/// Global test set-up, once per process: crypto provider, a metrics recorder, and a
/// subscriber with the OpenTelemetry layer (so trace ids exist), silent unless
/// `TEST_LOG` is set.
pub fn init() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static METRICS: OnceLock<metrics_exporter_prometheus::PrometheusHandle> = OnceLock::new();
    METRICS.get_or_init(|| {
        marquee_platform::install_crypto_provider();
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let otel = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("bus-tests"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
        let log = std::env::var_os("TEST_LOG").is_some().then(|| {
            tracing_subscriber::fmt::layer().compact().with_filter(
                tracing_subscriber::EnvFilter::new("info,marquee_bus=debug,lapin=warn,sqlx=warn"),
            )
        });
        let _ = tracing_subscriber::registry()
            .with(otel)
            .with(log)
            .try_init();
        std::mem::forget(provider);
        marquee_platform::metrics::install()
    })
}

/// The value of `name{…}` whose labels contain every fragment, from the rendered
/// Prometheus text; 0 when absent.
pub fn metric(name: &str, fragments: &[&str]) -> f64 {
    let text = init().render();
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .filter(|line| fragments.iter().all(|f| line.contains(f)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Amqp,
    Memory,
}

/// Settings that keep tests fast: short retry delays, quick reconnects.
pub fn settings(kind: Kind) -> BusSettings {
    BusSettings {
        amqp_url: (kind == Kind::Amqp).then(|| SecretString::from(amqp_url())),
        exchange: unique_name("test"),
        prefetch: 50,
        concurrency: 1,
        retry: RetryPolicy {
            max_attempts: 3,
            initial_delay_ms: 100,
            multiplier: 2,
            max_delay_ms: 1_000,
        },
        confirm_timeout_ms: 5_000,
        connect_timeout_ms: 2_000,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 1_000,
        depth_interval_ms: 200,
        ..BusSettings::default()
    }
}

/// A bus for one test. For RabbitMQ it holds the broker lock (shared) and deletes the
/// test's exchange and its consumers' queues when dropped.
pub struct TestBus {
    pub bus: Arc<dyn EventBus>,
    pub settings: BusSettings,
    // Dropped after the bus: the topology is deleted, then the lock released.
    topology: Option<Topology>,
    _lock: Option<BrokerLock>,
}

impl TestBus {
    pub fn new(kind: Kind) -> Self {
        Self::with_settings(kind, settings(kind))
    }

    pub fn with_settings(kind: Kind, settings: BusSettings) -> Self {
        Self::build(kind, settings, true)
    }

    /// A RabbitMQ bus for a test that already holds the broker lock exclusively.
    pub fn without_lock(settings: BusSettings) -> Self {
        Self::build(Kind::Amqp, settings, false)
    }

    fn build(kind: Kind, settings: BusSettings, lock: bool) -> Self {
        init();
        let (bus, topology, lock): (Arc<dyn EventBus>, _, _) = match kind {
            Kind::Amqp => (
                Arc::new(marquee_bus::amqp::AmqpBus::new(settings.clone()).unwrap()),
                Some(Topology::new(settings.exchange.clone())),
                lock.then(BrokerLock::shared),
            ),
            Kind::Memory => (
                Arc::new(marquee_bus::memory::InProcessBus::new(settings.clone()).unwrap()),
                None,
                None,
            ),
        };
        Self {
            bus,
            settings,
            topology,
            _lock: lock,
        }
    }

    /// A consumer whose queues are deleted with this bus.
    pub fn consumer<F, Fut>(&self, name: &str, handler: F) -> Consumer
    where
        F: Fn(Envelope) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        if let Some(topology) = &self.topology {
            topology.add_queues(consumer_queues(&self.settings, name));
        }
        Consumer::new(name, handler)
    }

    /// Starts `consumer` on a task of its own.
    pub fn spawn(
        &self,
        consumer: Consumer,
    ) -> (
        tokio::task::JoinHandle<marquee_bus::Result<()>>,
        marquee_platform::shutdown::CancellationToken,
    ) {
        let stop = marquee_platform::shutdown::CancellationToken::new();
        let task = tokio::spawn(consumer.run_until_stopped(self.bus.clone(), stop.clone()));
        (task, stop)
    }
}

/// Every queue `consumer` has on the broker: work, one delay queue per retry delay, and
/// dead-letter.
fn consumer_queues(settings: &BusSettings, consumer: &str) -> Vec<String> {
    let names = marquee_bus::names::QueueNames::new(&settings.exchange, consumer);
    let mut queues = vec![names.work.clone(), names.dead_letter.clone()];
    queues.extend(
        settings
            .retry
            .delays_ms()
            .into_iter()
            .map(|d| names.retry(d)),
    );
    queues
}

/// Declares one test per bus for an `async fn(Kind)` scenario.
#[macro_export]
macro_rules! on_both_buses {
    ($($scenario:ident),* $(,)?) => {
        mod amqp {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
              async fn $scenario() { super::$scenario($crate::Kind::Amqp).await })*
        }
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
              async fn $scenario() { super::$scenario($crate::Kind::Memory).await })*
        }
    };
}

/// The readiness probe: the broker answers → ready; nothing listening → a reason.
#[tokio::test]
async fn ping_follows_the_broker() {
    let _lock = BrokerLock::shared();
    let bus = marquee_bus::connect(&settings(Kind::Amqp)).unwrap();
    marquee_bus::probe(bus)()
        .await
        .expect("the local broker answers");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut gone = settings(Kind::Amqp);
    gone.amqp_url = Some(SecretString::from(format!(
        "amqp://guest:guest@127.0.0.1:{port}/%2f"
    )));
    let bus = marquee_bus::connect(&gone).unwrap();
    let problem = marquee_bus::probe(bus)().await.unwrap_err();
    assert!(!problem.is_empty());

    let memory = marquee_bus::connect(&settings(Kind::Memory)).unwrap();
    marquee_bus::probe(memory)()
        .await
        .expect("the in-process bus is always there");
}
