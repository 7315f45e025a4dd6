//! Processing an uploaded asset (what the `asset.uploaded` consumer runs): metadata,
//! thumbnail and metadata-free published copy for images; then the asset becomes
//! `ready`, `pending_review`, `rejected` or `failed` (with a reason the owner reads),
//! and `asset.processed` goes out — in the inbox transaction, so a redelivered event
//! has no second effect.

use super::processing::{ProcessingFailure, process_image};
use super::{Content, moderation_state, status};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use marquee_bus::Envelope;
use object_store::{ObjectStoreExt, PutPayload};

/// Images larger than this are not processed (failed with a reason).
pub const MAX_PROCESSED_IMAGE_BYTES: i64 = 64 * 1024 * 1024;

/// What processing produced, before it is recorded.
#[derive(Debug, Default)]
struct Outcome {
    width: Option<i32>,
    height: Option<i32>,
    display_key: Option<String>,
    thumbnail_key: Option<String>,
    failure: Option<String>,
}

impl Content {
    /// Processes the asset named by an `asset.uploaded` event, once. Storage and
    /// database errors are returned (the bus retries); a bad file marks the asset failed.
    pub async fn process_uploaded(
        &self,
        consumer: &str,
        envelope: &Envelope,
        asset_id: &str,
    ) -> Result<()> {
        let tenant_id = envelope.tenant_id.as_str();
        let Some(asset) = store::assets::find(&self.db, tenant_id, asset_id).await? else {
            return Ok(()); // deleted meanwhile
        };
        if asset.status != status::PROCESSING {
            return Ok(()); // already processed (an older event)
        }
        let outcome = if asset.kind == "image" {
            self.process_image_asset(&asset).await?
        } else {
            Outcome::default()
        };

        let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? else {
            return Ok(());
        };
        let Some(mut asset) = store::assets::find(&txn, tenant_id, asset_id).await? else {
            txn.commit().await?;
            return Ok(());
        };
        if asset.status != status::PROCESSING {
            txn.commit().await?;
            return Ok(());
        }
        let ok = outcome.failure.is_none();
        asset.width = outcome.width;
        asset.height = outcome.height;
        asset.display_key = outcome.display_key;
        asset.thumbnail_key = outcome.thumbnail_key;
        match outcome.failure {
            Some(reason) => {
                asset.status = status::FAILED.to_string();
                asset.status_reason = reason;
            }
            None => {
                asset.status = match asset.moderation.as_str() {
                    moderation_state::APPROVED => status::READY,
                    moderation_state::REJECTED => status::REJECTED,
                    _ => status::PENDING_REVIEW,
                }
                .to_string();
                if asset.moderation != moderation_state::REJECTED {
                    asset.status_reason = String::new();
                }
            }
        }
        asset.updated_at = chrono::Utc::now();
        let asset = store::assets::save(&txn, asset).await?;
        publish::asset_processed(&txn, &asset, ok).await?;
        txn.commit().await?;
        self.wake_relay();
        metrics::counter!("marquee_content_processed_total", "outcome" => if ok { "ok" } else { "failed" })
            .increment(1);
        tracing::info!(asset_id, status = %asset.status, "asset processed");
        Ok(())
    }

    async fn process_image_asset(&self, asset: &super::Asset) -> Result<Outcome> {
        if asset.size_bytes > MAX_PROCESSED_IMAGE_BYTES {
            return Ok(Outcome {
                failure: Some(format!(
                    "the image is larger than {} MiB and cannot be processed",
                    MAX_PROCESSED_IMAGE_BYTES / 1024 / 1024
                )),
                ..Default::default()
            });
        }
        let original = super::storage::key(&asset.original_key);
        let bytes = self.objects.get(&original).await?.bytes().await?;
        let thumbnail_size = self.settings.thumbnail_size;
        let max_pixels = self.settings.max_image_pixels;
        let processed =
            tokio::task::spawn_blocking(move || process_image(&bytes, thumbnail_size, max_pixels))
                .await
                .map_err(|error| ContentError::Internal(format!("image worker: {error}")))?;
        let processed = match processed {
            Ok(processed) => processed,
            Err(ProcessingFailure(reason)) => {
                return Ok(Outcome {
                    failure: Some(reason),
                    ..Default::default()
                });
            }
        };
        let dir = asset
            .original_key
            .strip_suffix("/original")
            .unwrap_or(&asset.original_key)
            .to_string();
        let thumbnail_key = format!("{dir}/thumbnail.jpg");
        self.objects
            .put(
                &super::storage::key(&thumbnail_key),
                PutPayload::from(processed.thumbnail),
            )
            .await?;
        let display_key = match processed.display {
            Some((bytes, ext)) => {
                let key = format!("{dir}/display.{ext}");
                self.objects
                    .put(&super::storage::key(&key), PutPayload::from(bytes))
                    .await?;
                Some(key)
            }
            None => None,
        };
        Ok(Outcome {
            width: i32::try_from(processed.width).ok(),
            height: i32::try_from(processed.height).ok(),
            display_key,
            thumbnail_key: Some(thumbnail_key),
            failure: None,
        })
    }
}
