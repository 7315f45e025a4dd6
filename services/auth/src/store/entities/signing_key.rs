use sea_orm::entity::prelude::*;

/// Ed25519 signing keys. The newest signs; the newest two are published in the JWKS.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// PKCS#8 DER, base64. Never leaves the auth service.
    pub private_key: String,
    /// Raw public key, base64url (the JWK `x`).
    pub public_key: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
