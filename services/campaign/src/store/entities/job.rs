use sea_orm::entity::prelude::*;

/// A background job: analysis, post generation, regeneration, image or video.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub campaign_id: String,
    pub post_id: Option<String>,
    pub kind: String,
    pub state: String,
    pub progress: i32,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    #[sea_orm(column_type = "Text")]
    pub error: String,
    pub asset_id: Option<String>,
    pub provider: String,
    /// The job's parameters (`domain::jobs::JobParams`).
    pub params: Json,
    pub idempotency_key: Option<String>,
    pub cancel_requested: bool,
    /// The replica running the job owns it until then (renewed while it runs).
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
