//! The processing worker: consumes `asset.uploaded` (from this service's own outbox)
//! and processes the asset ([`Content::process_uploaded`]). Several replicas compete on
//! one queue; the inbox makes redeliveries harmless.
//!
//! Retry or fail: a file that cannot be processed — corrupt, over a processing limit
//! (`image too large: …`, `PDF too large to read: …`), or one that makes a decoder
//! panic — is not an error here: `process_uploaded` marks the asset `failed` with the
//! reason and acks, so a poison file is never redelivered. Only what retrying can fix
//! (storage, database, bus) comes back as an error, which is transient: the bus retries
//! with backoff and dead-letters after `retry.max_attempts`.

use crate::domain::Content;
use marquee_bus::{Consumer, Envelope, HandlerError};
use marquee_proto::events::types;
use marquee_proto::events::v1::AssetUploaded;

/// The consumer's (and its queue's) stable name.
pub const CONSUMER: &str = "content";

/// The consumer, bound to what it handles.
pub fn consumer(content: Content) -> Consumer {
    Consumer::new(CONSUMER, move |envelope: Envelope| {
        let content = content.clone();
        async move { handle(&content, envelope).await }
    })
    .bind(types::ASSET_UPLOADED)
}

#[tracing::instrument(skip_all, fields(event_id = %envelope.id, event_type = %envelope.r#type))]
async fn handle(content: &Content, envelope: Envelope) -> Result<(), HandlerError> {
    match envelope.r#type.as_str() {
        types::ASSET_UPLOADED => {
            let event: AssetUploaded =
                marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.AssetUploaded")?;
            content
                .process_uploaded(CONSUMER, &envelope, &event.asset_id)
                .await
                .map_err(|error| HandlerError::transient(error.to_string()))
        }
        other => Err(HandlerError::permanent(format!("unexpected event {other}"))),
    }
}
