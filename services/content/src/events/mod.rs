//! Events: what the content service publishes (through the outbox, in the same
//! transaction as the change) and the processing worker that consumes
//! `asset.uploaded`.

pub mod processing_worker;
pub mod publish;

/// Event types (routing keys).
pub mod types {
    pub const ASSET_UPLOADED: &str = "asset.uploaded";
    pub const ASSET_PROCESSED: &str = "asset.processed";
    pub const ASSET_APPROVED: &str = "asset.approved";
    pub const ASSET_REJECTED: &str = "asset.rejected";
    pub const ASSET_DELETED: &str = "asset.deleted";
    pub const CREATOR_FOLLOWED: &str = "creator.followed";
    pub const COMMENT_CREATED: &str = "comment.created";
}

/// This service's name on the bus (outbox `source`, consumer queue).
pub const SERVICE: &str = "content";
