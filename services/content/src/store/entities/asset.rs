use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub title: String,
    pub description: String,
    /// JSON array of strings.
    pub tags: String,
    pub filename: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    /// image | video | audio | document
    pub kind: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Key of the uploaded bytes in object storage.
    pub original_key: String,
    /// Key of the published bytes (images re-encoded without metadata), once processed.
    pub display_key: Option<String>,
    pub thumbnail_key: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Milliseconds, for processed MP4/QuickTime/M4A files (migration 0003).
    pub duration_ms: Option<i64>,
    /// Pages, for processed PDFs.
    pub page_count: Option<i32>,
    /// The first ~2,000 characters of a processed document's text.
    pub text_excerpt: Option<String>,
    pub status: AssetStatus,
    pub status_reason: String,
    pub moderation: ModerationState,
    /// Space-separated automatic moderation flags.
    pub flags: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The tags column holds a JSON array.
    pub fn tag_list(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    /// The flags column holds space-separated names.
    pub fn flag_list(&self) -> Vec<String> {
        self.flags.split_whitespace().map(str::to_string).collect()
    }
}

marquee_db::stored_enum! {
    /// Where an asset stands: processing, then waiting for review, published (`ready`),
    /// rejected by a moderator, or failed processing. Stored as these exact strings.
    pub enum AssetStatus {
        Processing = "processing",
        PendingReview = "pending_review",
        Ready = "ready",
        Rejected = "rejected",
        Failed = "failed",
    }
}

marquee_db::stored_enum! {
    /// The moderation decision on an asset, independent of processing. Stored as these
    /// exact strings (in `assets.moderation` and `moderation_decisions.decision`).
    pub enum ModerationState {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}
