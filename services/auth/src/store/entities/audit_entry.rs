use sea_orm::entity::prelude::*;

/// Append-only audit log. `id` is a UUIDv7, so ordering by id is ordering by time.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub actor_id: String,
    pub action: String,
    pub outcome: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
