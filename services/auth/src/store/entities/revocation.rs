use sea_orm::entity::prelude::*;

/// An access-token revocation the gateway enforces until `expires_at`: one session, or
/// every token of a subject issued before `not_before`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "revocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `session` or `subject`.
    pub kind: String,
    /// The session id (a refresh-token family) or the subject (user or client id).
    pub value: String,
    pub not_before: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
