use sea_orm::entity::prelude::*;

/// OAuth2 partner clients (client-credentials grant). The secret is stored as a SHA-256
/// hash: it is 256 random bits, so a slow hash adds nothing.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// Space-separated granted scopes.
    pub scopes: String,
    pub environment: String,
    pub rate_tier: String,
    pub secret_hash: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
