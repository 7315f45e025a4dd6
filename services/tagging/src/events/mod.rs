//! Events: what tagging publishes (`asset.tagged`, through the outbox in the same
//! transaction as the tags) and what it consumes — content's asset events (tag, show,
//! hide, forget) and its community events (signals for recommendations).

pub mod asset_worker;
pub mod publish;
pub mod signal_worker;

/// This service's name on the bus (outbox `source`).
pub const SERVICE: &str = "tagging";
