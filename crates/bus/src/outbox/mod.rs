//! The transactional outbox: an event is a row written in the same transaction as the
//! change that causes it ([`enqueue`]), and [`OutboxRelay`] publishes committed rows and
//! marks them published. So there is no event without its change (a rolled-back
//! transaction leaves no row) and no change without its event (a committed row is
//! published eventually, however often the relay or the broker restarts).
//!
//! Delivery is at least once: the relay may publish a row again if it stops between the
//! broker's confirm and marking the row. Consumers deduplicate with the inbox.

pub mod entity;
mod relay;

pub use relay::{OutboxRelay, OutboxWaker};

use crate::envelope;
use crate::error::BusError;
use chrono::Utc;
use marquee_proto::events::v1::Envelope;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// Builds `source`'s event of `event_type` for `tenant_id`, carrying `payload` (whose
/// protobuf full name is `full_name`), and writes it to the outbox in `txn`: what every
/// service's `events/publish.rs` does for each event it announces.
pub async fn enqueue_event(
    txn: &impl ConnectionTrait,
    source: &str,
    event_type: &str,
    tenant_id: &str,
    full_name: &str,
    payload: &impl prost::Message,
) -> Result<(), BusError> {
    let envelope = crate::EventBuilder::new(event_type, source)
        .tenant(tenant_id)
        .payload(full_name, payload)
        .build()?;
    enqueue(txn, &envelope).await
}

/// Writes `envelope` to the outbox. Pass the transaction that makes the change the event
/// announces; the relay publishes it once that commits.
pub async fn enqueue(txn: &impl ConnectionTrait, envelope: &Envelope) -> Result<(), BusError> {
    envelope::validate(envelope)?;
    entity::Entity::insert(entity::ActiveModel {
        id: Set(envelope.id.clone()),
        event_type: Set(envelope.r#type.clone()),
        tenant_id: Set(envelope.tenant_id.clone()),
        envelope: Set(envelope::encode(envelope)),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Rows not yet published.
pub async fn pending(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .count(db)
        .await
}
