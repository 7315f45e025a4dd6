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

/// Where an asset stands: processing, then waiting for review, published (`ready`),
/// rejected by a moderator, or failed processing. Stored as these exact strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AssetStatus {
    #[sea_orm(string_value = "processing")]
    Processing,
    #[sea_orm(string_value = "pending_review")]
    PendingReview,
    #[sea_orm(string_value = "ready")]
    Ready,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl AssetStatus {
    /// The stored (and published) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::PendingReview => "pending_review",
            Self::Ready => "ready",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for AssetStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for AssetStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The moderation decision on an asset, independent of processing. Stored as these
/// exact strings (in `assets.moderation` and `moderation_decisions.decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ModerationState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl ModerationState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for ModerationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ModerationState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};

    /// `as_str` and the stored value are the same strings, for every variant.
    #[test]
    fn names_match_the_stored_values() {
        for status in AssetStatus::iter() {
            assert_eq!(status.as_str(), status.to_value());
            assert_eq!(
                AssetStatus::try_from_value(&status.to_value()).unwrap(),
                status
            );
        }
        for state in ModerationState::iter() {
            assert_eq!(state.as_str(), state.to_value());
            assert_eq!(
                ModerationState::try_from_value(&state.to_value()).unwrap(),
                state
            );
        }
        assert!(AssetStatus::try_from_value(&"unknown".to_string()).is_err());
    }
}
