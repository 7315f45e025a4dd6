use sea_orm::entity::prelude::*;

/// A user's account at an external provider: (provider, subject) is unique, so one
/// provider account signs in to one user.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "external_identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    /// The provider's stable id for the account (`sub`).
    pub subject: String,
    pub user_id: String,
    pub tenant_id: String,
    /// The verified email the provider gave when the link was made.
    pub email: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
