//! The quota worker: consumes this service's own `asset.holds` and `asset.deleted` (from
//! its outbox, so they exist exactly when the row change committed) and settles them in
//! billing: an upload's holds committed, a deleted asset's bytes and count given back.
//! The upload and the delete already tried once after their commit; this is the
//! guarantee — it retries with backoff until billing answers, and a second commit or
//! give-back is a no-op (committed holds stay committed; idempotency keys
//! `asset:<id>:deleted`).

use crate::domain::Content;
use marquee_bus::{Consumer, Envelope, HandlerError};
use marquee_proto::events::types;
use marquee_proto::events::v1::{AssetDeleted, AssetHolds};

/// The consumer's (and its queue's) stable name.
pub const CONSUMER: &str = "content_quota";

/// The consumer, bound to what it handles.
pub fn consumer(content: Content) -> Consumer {
    Consumer::new(CONSUMER, move |envelope: Envelope| {
        let content = content.clone();
        async move { handle(&content, envelope).await }
    })
    .bind(types::ASSET_HOLDS)
    .bind(types::ASSET_DELETED)
}

#[tracing::instrument(skip_all, fields(event_id = %envelope.id, event_type = %envelope.r#type))]
async fn handle(content: &Content, envelope: Envelope) -> Result<(), HandlerError> {
    if envelope.r#type == types::ASSET_HOLDS {
        let event: AssetHolds =
            marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.AssetHolds")?;
        return content
            .commit_upload_holds(
                &envelope.tenant_id,
                &event.owner_id,
                &event.asset_id,
                &event.reservation_ids,
            )
            .await
            .map_err(|error| HandlerError::transient(error.to_string()));
    }
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
