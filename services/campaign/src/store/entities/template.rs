use sea_orm::entity::prelude::*;

/// A campaign saved as a starting point: private to its owner or in the tenant's catalogue.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub visibility: String,
    /// `domain::templates::TemplateBody`.
    pub body: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
