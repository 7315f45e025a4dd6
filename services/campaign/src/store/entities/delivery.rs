use sea_orm::entity::prelude::*;

/// The delivery log: one row per post and connector.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub campaign_id: String,
    pub post_id: String,
    pub connector_id: String,
    pub connector_kind: String,
    pub status: String,
    pub attempts: i32,
    pub status_code: i32,
    #[sea_orm(column_type = "Text")]
    pub remote_id: String,
    #[sea_orm(column_type = "Text")]
    pub remote_url: String,
    #[sea_orm(column_type = "Text")]
    pub error: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
