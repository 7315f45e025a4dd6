use sea_orm::entity::prelude::*;

/// Sign-ins begun with an external provider and not yet completed. Keyed by the SHA-256
/// of the state (the state itself is only in the browser); deleted when completed or,
/// opportunistically, once expired.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_sign_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub provider: String,
    pub nonce: String,
    /// The PKCE verifier, sent with the code at completion.
    pub code_verifier: String,
    pub redirect_uri: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
