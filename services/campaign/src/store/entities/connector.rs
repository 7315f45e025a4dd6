use sea_orm::entity::prelude::*;

/// Where a creator's posts are published. The secret is sealed (envelope encryption).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connectors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub kind: String,
    pub name: String,
    /// `Vec<String>` of platform ids.
    pub platforms: Json,
    #[sea_orm(column_type = "Text")]
    pub endpoint: String,
    pub account: String,
    /// Sealed by `marquee-envelope` (`menv1.…`); earlier versions wrote
    /// base64(nonce ‖ ciphertext) under the connector key. See `domain::connectors`.
    #[sea_orm(column_type = "Text")]
    pub secret_sealed: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
