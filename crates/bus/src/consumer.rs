//! Consumers: a name (one queue), topic bindings, and a handler
//! `async fn(Envelope) -> Result<(), HandlerError>`.
//!
//! ```
//! # use marquee_bus::{Consumer, HandlerError};
//! let consumer = Consumer::new("tagging", |envelope| async move {
//!     tracing::info!(event = %envelope.r#type, "tagging it");
//!     Ok::<_, HandlerError>(())
//! })
//! .bind("asset.*")
//! .bind("tenant.deleted");
//! # let _ = consumer;
//! ```
//!
//! Handlers must be idempotent: delivery is at least once. Record the event in the
//! inbox ([`crate::inbox::claim`]) in the same transaction as the effect.

use crate::error::{BusError, FailureKind, HandlerError};
use crate::metrics::{self, Outcome};
use crate::names::{self, Topic};
use crate::settings::RetryPolicy;
use futures::FutureExt;
use futures::future::BoxFuture;
use marquee_proto::events::v1::Envelope;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tracing::Instrument;

type HandlerFn = dyn Fn(Envelope) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync;

/// One consuming service's subscription.
#[derive(Clone)]
pub struct Consumer {
    name: String,
    bindings: Vec<String>,
    concurrency: Option<usize>,
    handler: Arc<HandlerFn>,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.name)
            .field("bindings", &self.bindings)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// `name` names the queue (usually the service: `tagging`); it must stay stable, since
    /// the durable queue and its dead letters are found by it.
    pub fn new<F, Fut>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Envelope) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        Self {
            name: name.into(),
            bindings: Vec::new(),
            concurrency: None,
            handler: Arc::new(move |envelope| Box::pin(handler(envelope))),
        }
    }

    /// Adds a topic binding: `asset.uploaded`, `asset.*` (one word), `asset.#` (any).
    pub fn bind(mut self, pattern: impl Into<String>) -> Self {
        self.bindings.push(pattern.into());
        self
    }

    /// Deliveries handled at once (default: the bus setting `concurrency`). More than one
    /// gives up the queue's order.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency.max(1));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn bindings(&self) -> &[String] {
        &self.bindings
    }

    pub(crate) fn concurrency_or(&self, default: usize) -> usize {
        self.concurrency.unwrap_or(default).max(1)
    }

    /// Checks the name and bindings; returns the parsed topics.
    pub(crate) fn validate(&self) -> Result<Vec<Topic>, BusError> {
        names::validate_consumer(&self.name)?;
        if self.bindings.is_empty() {
            return Err(BusError::Config(format!(
                "consumer {} has no bindings",
                self.name
            )));
        }
        self.bindings.iter().map(|b| Topic::parse(b)).collect()
    }

    /// Runs the handler in the delivery's span (a child of the producer's) and decides
    /// what becomes of the delivery. Records `marquee_bus_consumed_total` and friends.
    pub(crate) async fn handle(
        &self,
        envelope: Envelope,
        queue: &str,
        attempt: u32,
        policy: &RetryPolicy,
        span: tracing::Span,
    ) -> Decision {
        // Handlers may do work before their first await: call them inside the span too.
        // A panicking handler is a bug, not a reason to stop consuming: it counts as a
        // failed attempt, and the message ends in the dead-letter queue.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            span.in_scope(|| (self.handler)(envelope))
        }));
        let result = match result {
            Ok(future) => AssertUnwindSafe(future.instrument(span.clone()))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(panicked(panic.as_ref()))),
            Err(panic) => Err(panicked(panic.as_ref())),
        };
        let decision = decide(result, attempt, policy);
        span.in_scope(|| match &decision {
            Decision::Ack => tracing::debug!("handled"),
            Decision::Retry { delay_ms, error } => {
                tracing::warn!(error = %error, delay_ms, "handler failed; retrying later");
            }
            Decision::DeadLetter { error } => {
                tracing::error!(error = %error, "handler failed for good; dead-lettering");
            }
        });
        metrics::consumed(queue, decision.outcome());
        decision
    }
}

fn panicked(panic: &(dyn std::any::Any + Send)) -> HandlerError {
    let message = panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    HandlerError::transient(format!("handler panicked: {message}"))
}

/// What becomes of a delivery once its handler returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Ack,
    Retry { delay_ms: u64, error: String },
    DeadLetter { error: String },
}

impl Decision {
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            Self::Ack => Outcome::Ok,
            Self::Retry { .. } => Outcome::Retry,
            Self::DeadLetter { .. } => Outcome::DeadLetter,
        }
    }
}

pub(crate) fn decide(
    result: Result<(), HandlerError>,
    attempt: u32,
    policy: &RetryPolicy,
) -> Decision {
    match result {
        Ok(()) => Decision::Ack,
        Err(error) if error.kind == FailureKind::Transient && attempt < policy.max_attempts => {
            Decision::Retry {
                delay_ms: policy.delay_ms(attempt),
                error: error.message.into_owned(),
            }
        }
        Err(error) => Decision::DeadLetter {
            error: error.message.into_owned(),
        },
    }
}

/// A message parked in a consumer's dead-letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub envelope: Envelope,
    /// The handler's last error.
    pub error: String,
    /// How many times it was handled.
    pub attempts: u32,
    /// RFC 3339.
    pub failed_at: String,
}

/// A consumer's queues at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queue: String,
    /// Ready in the work queue (not counting deliveries in flight).
    pub ready: u64,
    /// Waiting in delay queues for a retry.
    pub retrying: u64,
    pub dead_lettered: u64,
    pub consumers: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_the_policy() {
        let policy = RetryPolicy {
            max_attempts: 3,
            initial_delay_ms: 10,
            multiplier: 2,
            max_delay_ms: 1000,
        };
        assert_eq!(decide(Ok(()), 1, &policy), Decision::Ack);
        assert_eq!(
            decide(Err(HandlerError::transient("db down")), 1, &policy),
            Decision::Retry {
                delay_ms: 10,
                error: "db down".into()
            }
        );
        assert_eq!(
            decide(Err(HandlerError::transient("db down")), 2, &policy),
            Decision::Retry {
                delay_ms: 20,
                error: "db down".into()
            }
        );
        assert_eq!(
            decide(Err(HandlerError::transient("db down")), 3, &policy),
            Decision::DeadLetter {
                error: "db down".into()
            }
        );
        assert_eq!(
            decide(Err(HandlerError::permanent("garbage")), 1, &policy),
            Decision::DeadLetter {
                error: "garbage".into()
            }
        );
    }

    #[test]
    fn consumers_need_a_valid_name_and_bindings() {
        let handler = |_| async { Ok::<_, HandlerError>(()) };
        assert!(Consumer::new("tagging", handler).validate().is_err());
        assert!(
            Consumer::new("tagging", handler)
                .bind("asset.*")
                .validate()
                .is_ok()
        );
        assert!(
            Consumer::new("Tag ging", handler)
                .bind("asset.*")
                .validate()
                .is_err()
        );
    }
}
