use sea_orm::entity::prelude::*;

/// Invitations to join a tenant. The token is stored as a SHA-256 hash: it is 256
/// random bits, so a slow hash adds nothing. Single use: `accepted_at` is set by a
/// conditional update, in the transaction that creates the user.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    /// Normalised (trimmed, lower-case).
    pub email: String,
    /// One role name (`creator`, `moderator`, `billing_admin`, `owner`).
    pub role: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub accepted_by: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
