//! Events: what billing publishes (`subscription.changed`, written to the transactional
//! outbox in the domain's transaction by `publish`; the outbox relay is started in
//! `lib.rs`) and the background webhook worker.

pub mod publish;
pub mod webhook_worker;

/// This service's name on the bus (outbox `source`).
pub const SERVICE: &str = "billing";

/// Kept at `events::run_once` for the integration tests that drive one pass directly.
pub use webhook_worker::run_once;
