//! Events: what the content service publishes (through the outbox, in the same
//! transaction as the change) and the processing worker that consumes
//! `asset.uploaded`. Event types (routing keys) are `marquee_proto::events::types`.

pub mod processing_worker;
pub mod publish;

/// This service's name on the bus (outbox `source`, consumer queue).
pub const SERVICE: &str = "content";
