//! Events: the background webhook worker. Billing publishes `subscription.changed`
//! through the transactional outbox from `domain::subscriptions` (the outbox relay is
//! started in `lib.rs`).

pub mod webhook_worker;

/// This service's name on the bus (outbox `source`).
pub const SERVICE: &str = "billing";

/// Kept at `events::run_once` for the integration tests that drive one pass directly.
pub use webhook_worker::run_once;
