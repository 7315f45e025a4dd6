use super::asset::ModerationState;
use sea_orm::entity::prelude::*;

/// One moderation decision, kept for the record (the audit of moderation).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub asset_id: String,
    /// The moderator's user id; `system` for automatic decisions.
    pub moderator_id: String,
    /// Approved or rejected.
    pub decision: ModerationState,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
