//! Events: what the content service publishes (through the outbox, in the same
//! transaction as the change), the processing worker that consumes
//! `asset.uploaded`, and the quota worker that consumes `asset.deleted`. Event types (routing keys) are `marquee_proto::events::types`.

pub mod processing_worker;
pub mod publish;
pub mod quota_worker;

/// This service's name on the bus (outbox `source`, consumer queue).
pub const SERVICE: &str = "content";
