//! The quota worker: consumes `asset.deleted` (from this service's own outbox) and gives
//! the asset's bytes and count back in billing. The delete already tried once after its
//! commit; this is the guarantee — it retries with backoff until billing answers, and
//! the idempotency keys (`asset:<id>:deleted`) make a second give-back a no-op.

use crate::domain::Content;
use marquee_bus::{Consumer, Envelope, HandlerError};
use marquee_proto::events::types;
use marquee_proto::events::v1::AssetDeleted;

/// The consumer's (and its queue's) stable name.
pub const CONSUMER: &str = "content_quota";

/// The consumer, bound to what it handles.
pub fn consumer(content: Content) -> Consumer {
    Consumer::new(CONSUMER, move |envelope: Envelope| {
        let content = content.clone();
        async move { handle(&content, envelope).await }
    })
    .bind(types::ASSET_DELETED)
}

#[tracing::instrument(skip_all, fields(event_id = %envelope.id, event_type = %envelope.r#type))]
async fn handle(content: &Content, envelope: Envelope) -> Result<(), HandlerError> {
    let event: AssetDeleted =
        marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.AssetDeleted")?;
    content
        .give_back_quota(
            &envelope.tenant_id,
            &event.owner_id,
            &event.asset_id,
            event.size_bytes,
        )
        .await
        .map_err(|error| HandlerError::transient(error.to_string()))
}
