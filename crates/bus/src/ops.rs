//! Operator commands behind `marquee bus …`: they act on RabbitMQ (the in-process bus
//! lives inside the `marquee up` process and cannot be reached from another one).

use crate::EventBus;
use crate::amqp::AmqpBus;
use crate::consumer::QueueStats;
use crate::error::{BusError, Result};
use crate::settings::BusSettings;
use std::fmt;

fn broker(settings: &BusSettings) -> Result<AmqpBus> {
    if settings.amqp_url.is_none() {
        return Err(BusError::Unsupported(
            "no MARQUEE_AMQP_URL: the in-process bus lives inside `marquee up` and keeps nothing \
             to replay after it stops; set MARQUEE_AMQP_URL to operate RabbitMQ"
                .into(),
        ));
    }
    AmqpBus::new(settings.clone())
}

/// `marquee bus replay-dlq <consumer>`: moves up to `limit` (default: all there now)
/// dead-lettered messages back to the consumer's work queue; returns how many.
pub async fn replay_dead_letters(
    settings: &BusSettings,
    consumer: &str,
    limit: Option<u64>,
) -> Result<u64> {
    broker(settings)?.replay_dead_letters(consumer, limit).await
}

/// `marquee bus stats <consumer>`: the consumer's queue depths.
pub async fn stats(settings: &BusSettings, consumer: &str) -> Result<QueueStats> {
    broker(settings)?.stats(consumer).await
}

impl fmt::Display for QueueStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ready, {} waiting to retry, {} dead-lettered, {} consumer(s)",
            self.queue, self.ready, self.retrying, self.dead_lettered, self.consumers
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn operator_commands_need_rabbitmq() {
        let error = replay_dead_letters(&BusSettings::default(), "tagging", None)
            .await
            .unwrap_err();
        assert!(matches!(error, BusError::Unsupported(_)));
        assert!(error.to_string().contains("MARQUEE_AMQP_URL"));
    }
}
