//! RabbitMQ for fleets started with `Options { amqp: true, .. }`: the broker on this
//! machine (`MARQUEE_TEST_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672/%2f`),
//! an exchange of the fleet's own (so parallel tests never share queues), and the
//! exchange and every queue of the fleet's consumers deleted when the fleet is dropped.

use marquee_bus::BusSettings;
use marquee_bus::names::QueueNames;

pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

pub fn amqp_url() -> String {
    std::env::var("MARQUEE_TEST_AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.to_string())
}

/// Deletes the fleet's exchange and its consumers' queues (work, delay, dead-letter)
/// when dropped.
pub struct Topology {
    settings: BusSettings,
    consumers: Vec<&'static str>,
}

impl Topology {
    pub fn new(settings: BusSettings, consumers: Vec<&'static str>) -> Self {
        Self {
            settings,
            consumers,
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let settings = self.settings.clone();
        let consumers = std::mem::take(&mut self.consumers);
        // Drop runs outside any runtime guarantee: use a small one of our own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(delete(settings, consumers));
        })
        .join();
    }
}

async fn delete(settings: BusSettings, consumers: Vec<&'static str>) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let Ok(connection) =
        lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    let Ok(channel) = connection.create_channel().await else {
        return;
    };
    for consumer in consumers {
        let names = QueueNames::new(&settings.exchange, consumer);
        let mut queues = vec![names.work.clone(), names.dead_letter.clone()];
        queues.extend(
            settings
                .retry
                .delays_ms()
                .into_iter()
                .map(|d| names.retry(d)),
        );
        for queue in queues {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
    let _ = channel
        .exchange_delete(
            settings.exchange.as_str().into(),
            ExchangeDeleteOptions::default(),
        )
        .await;
    let _ = connection.close(200, "e2e test done".into()).await;
}
