use sea_orm::entity::prelude::*;

/// One event waiting to be (or already) published. `id` is the envelope's UUIDv7, so
/// ordering by id is ordering by creation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub event_type: String,
    pub tenant_id: String,
    /// The protobuf-encoded `Envelope`.
    pub envelope: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    /// Failed publish attempts (broker down, refused).
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
