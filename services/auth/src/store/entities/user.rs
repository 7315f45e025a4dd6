use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    /// Normalised (trimmed, lower-case); unique per tenant.
    pub email: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub display_name: String,
    /// Space-separated role names.
    pub roles: String,
    pub created_at: DateTimeUtc,
    /// When the user proved they read mail at `email` (a verification link, a password
    /// reset, or a provider's verified address); `None` until then.
    pub email_verified_at: Option<DateTimeUtc>,
    /// When an admin disabled the user; `None` while enabled.
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
