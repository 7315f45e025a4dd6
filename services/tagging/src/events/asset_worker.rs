//! The asset worker: content's asset events. `asset.processed` (ok) tags the asset;
//! approval and rejection change who may see it; deletion forgets it. The inbox makes
//! redeliveries harmless; a failed tagging is retried by the bus with backoff.

use crate::domain::Tagging;
use crate::error::TaggingError;
use crate::store::assets::Processed;
use marquee_bus::{Consumer, Envelope, HandlerError};
use marquee_proto::convert::time;
use marquee_proto::events::types;
use marquee_proto::events::v1::{AssetDeleted, AssetModerated, AssetProcessed};

/// The consumer's (and its queue's) stable name.
pub const CONSUMER: &str = "tagging";

/// Status content gives an asset that others may see.
const PUBLISHED: &str = "ready";

pub fn consumer(tagging: Tagging) -> Consumer {
    Consumer::new(CONSUMER, move |envelope: Envelope| {
        let tagging = tagging.clone();
        async move { handle(&tagging, envelope).await }
    })
    .bind(types::ASSET_PROCESSED)
    .bind(types::ASSET_APPROVED)
    .bind(types::ASSET_REJECTED)
    .bind(types::ASSET_DELETED)
}

#[tracing::instrument(skip_all, fields(event_id = %envelope.id, event_type = %envelope.r#type))]
async fn handle(tagging: &Tagging, envelope: Envelope) -> Result<(), HandlerError> {
    match envelope.r#type.as_str() {
        types::ASSET_PROCESSED => {
            let event: AssetProcessed =
                marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.AssetProcessed")?;
            if !event.ok {
                // Processing failed: there is nothing to tag (content shows why).
                return Ok(());
            }
            let asset = Processed {
                asset_id: event.asset_id,
                tenant_id: envelope.tenant_id.clone(),
                owner_id: event.owner_id,
                title: event.title,
                description: event.description,
                creator_tags: event.tags,
                kind: event.kind,
                content_type: event.content_type,
                text_excerpt: event.text_excerpt,
                ready: event.status == PUBLISHED,
                has_thumbnail: event.has_thumbnail,
                width: event.width,
                height: event.height,
                created_at: time(event.created_at).unwrap_or_else(chrono::Utc::now),
            };
            tagging
                .tag_processed(CONSUMER, &envelope, asset)
                .await
                .map_err(retry_unless_invalid)
        }
        types::ASSET_APPROVED | types::ASSET_REJECTED => {
            let event: AssetModerated =
                marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.AssetModerated")?;
            tagging
                .moderated(
                    CONSUMER,
                    &envelope,
                    &event.owner_id,
                    &event.asset_id,
                    event.approved,
                )
                .await
                .map_err(retry_unless_invalid)
        }
        types::ASSET_DELETED => {
            let event: AssetDeleted =
                marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.AssetDeleted")?;
            tagging
                .deleted(CONSUMER, &envelope, &event.owner_id, &event.asset_id)
                .await
                .map_err(retry_unless_invalid)
        }
        other => Err(HandlerError::permanent(format!("unexpected event {other}"))),
    }
}

/// Bad input (undecodable picture bytes) stays bad: parked at once. Anything else (content
/// or the database unavailable, an inference error) is retried with backoff.
fn retry_unless_invalid(error: TaggingError) -> HandlerError {
    match error {
        TaggingError::Invalid { .. } => HandlerError::permanent(error.to_string()),
        _ => HandlerError::transient(error.to_string()),
    }
}
