use sea_orm::entity::prelude::*;

/// What tagging knows of one asset: the words it was tagged from, whether others may see
/// it, how tagging went, its picture's colours and shape, and its embedding. A deleted
/// asset stays as a tombstone (`state = deleted`, no embedding, no words) so a late
/// event cannot bring it back.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tagged_assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub asset_id: String,
    pub tenant_id: String,
    pub owner_id: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// The creator's own tags at upload, JSON array.
    #[sea_orm(column_type = "Text")]
    pub creator_tags: String,
    pub kind: String,
    pub content_type: String,
    #[sea_orm(column_type = "Text")]
    pub text_excerpt: String,
    /// Approved (others may see it); the owner always may.
    pub visible: bool,
    pub has_thumbnail: bool,
    pub width: i32,
    pub height: i32,
    pub state: TaggingState,
    #[sea_orm(column_type = "Text", nullable)]
    pub failure_reason: Option<String>,
    /// Dominant colours, JSON array of `#rrggbb`.
    #[sea_orm(column_type = "Text")]
    pub palette: String,
    pub orientation: Option<String>,
    pub size_class: Option<String>,
    /// 384 little-endian f32, L2-normalised.
    pub embedding: Option<Vec<u8>>,
    pub view_count: i64,
    pub created_at: DateTimeUtc,
    pub tagged_at: Option<DateTimeUtc>,
    /// Moves on every change: replicas' in-memory indexes catch up from it.
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

marquee_db::stored_enum! {
    /// Where an asset's tagging stands. Stored as these exact strings.
    pub enum TaggingState {
        /// Processed, tags on their way.
        Pending = "pending",
        Tagged = "tagged",
        /// Tagging failed (`failure_reason`); the bus retries it.
        Failed = "failed",
        /// AI tagging is off (no models): only people's tags.
        Untagged = "untagged",
        /// A tombstone: the asset was deleted.
        Deleted = "deleted",
    }
}
