use sea_orm::entity::prelude::*;

/// Usage of one limit in one period (`2026-11`, or `total` for levels such as storage).
/// `reserved` is what held reservations take; `used + reserved` never exceeds the limit
/// because reservations are taken by one conditional UPDATE.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_counters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub limit_name: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    pub used: i64,
    pub reserved: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
