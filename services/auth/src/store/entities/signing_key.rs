use sea_orm::entity::prelude::*;

/// Ed25519 signing keys. The newest signs; the newest two are published in the JWKS.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// Before m0006: the PKCS#8 DER in base64, in the clear. Emptied when the key is
    /// sealed at start-up; new keys never write it.
    pub private_key: String,
    /// The PKCS#8 DER sealed by `marquee-envelope` (its own data key, wrapped by the
    /// key-encryption key; associated data: the kid). Null only for a key written
    /// before m0006 and not yet sealed.
    #[sea_orm(column_type = "Text", nullable)]
    pub private_key_sealed: Option<String>,
    /// Raw public key, base64url (the JWK `x`).
    pub public_key: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
