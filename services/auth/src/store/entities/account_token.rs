use sea_orm::entity::prelude::*;

/// E-mail verification and password-reset tokens, stored only as SHA-256 hashes (256
/// random bits: a slow hash adds nothing). Single use: `used_at` is set by a conditional
/// update.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// `verify_email` or `reset_password`.
    pub purpose: String,
    pub tenant_id: String,
    pub user_id: String,
    /// The address the token was mailed to: verification counts only while the user's
    /// address is still this one.
    pub email: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
