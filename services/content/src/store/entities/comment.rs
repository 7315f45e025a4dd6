use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub asset_id: String,
    pub author_id: String,
    pub body: String,
    /// Hex SHA-256 of the normalised body (duplicate detection).
    pub body_hash: String,
    /// visible | hidden | removed
    pub status: String,
    /// Reports since the last review.
    pub report_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
