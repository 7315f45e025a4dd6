use sea_orm::entity::prelude::*;

/// One post of a campaign, from generation to publication.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub campaign_id: String,
    pub tenant_id: String,
    pub owner_id: String,
    /// Order within the campaign.
    pub position: i32,
    pub platform: String,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// `Vec<String>`.
    pub hashtags: Json,
    pub selected: bool,
    pub provider: String,
    #[sea_orm(column_type = "Text")]
    pub media_prompt: String,
    pub asset_id: Option<String>,
    pub media_provider: Option<String>,
    pub scheduled_at: Option<DateTimeUtc>,
    pub status: String,
    /// `domain::engagement::Engagement`.
    pub engagement: Json,
    pub theme: String,
    pub ai_generated: bool,
    /// `Vec<String>`.
    pub provenance: Json,
    /// `Vec<String>`.
    pub repairs: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub failure_reason: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    /// A scheduler replica publishing the post holds it until then.
    pub claimed_until: Option<DateTimeUtc>,
    pub publish_attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
