//! Bus metrics through the `metrics` facade (rendered by each service's `/metrics`).
//!
//! | metric | labels | meaning |
//! |---|---|---|
//! | `marquee_bus_published_total` | `type` | events the broker confirmed |
//! | `marquee_bus_consumed_total` | `queue`, `outcome` (`ok`, `retry`, `dead_letter`) | deliveries handled |
//! | `marquee_bus_retries_total` | `queue` | deliveries sent to a delay queue |
//! | `marquee_bus_dead_letters_total` | `queue` | deliveries parked in the dead-letter queue |
//! | `marquee_bus_queue_depth` | `queue` (work queue and `<queue>.dlq`) | ready messages, polled |
//! | `marquee_bus_outbox_pending` | `service` | outbox rows not yet published |

pub const PUBLISHED: &str = "marquee_bus_published_total";
pub const CONSUMED: &str = "marquee_bus_consumed_total";
pub const RETRIES: &str = "marquee_bus_retries_total";
pub const DEAD_LETTERS: &str = "marquee_bus_dead_letters_total";
pub const QUEUE_DEPTH: &str = "marquee_bus_queue_depth";
pub const OUTBOX_PENDING: &str = "marquee_bus_outbox_pending";

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Retry,
    DeadLetter,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Retry => "retry",
            Self::DeadLetter => "dead_letter",
        }
    }
}

pub(crate) fn published(event_type: &str) {
    metrics::counter!(PUBLISHED, "type" => event_type.to_string()).increment(1);
}

pub(crate) fn consumed(queue: &str, outcome: Outcome) {
    metrics::counter!(CONSUMED, "queue" => queue.to_string(), "outcome" => outcome.as_str())
        .increment(1);
    match outcome {
        Outcome::Ok => {}
        Outcome::Retry => {
            metrics::counter!(RETRIES, "queue" => queue.to_string()).increment(1);
        }
        Outcome::DeadLetter => {
            metrics::counter!(DEAD_LETTERS, "queue" => queue.to_string()).increment(1);
        }
    }
}

pub(crate) fn queue_depth(queue: &str, depth: u64) {
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!(QUEUE_DEPTH, "queue" => queue.to_string()).set(depth as f64);
}

pub(crate) fn outbox_pending(service: &str, pending: u64) {
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!(OUTBOX_PENDING, "service" => service.to_string()).set(pending as f64);
}
