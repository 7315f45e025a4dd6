//! Processing an uploaded asset (what the `asset.uploaded` consumer runs): metadata,
//! thumbnail and metadata-free published copy for images; page count and text excerpt
//! for PDFs, a text excerpt for plain text, the duration of MP4/QuickTime/M4A files
//! (from their `moov` box, read with ranged reads); then the asset becomes
//! `ready`, `pending_review`, `rejected` or `failed` (with a reason the owner reads),
//! and `asset.processed` goes out — in the inbox transaction, so a redelivered event
//! has no second effect.

use super::processing::{
    DocumentMetadata, ProcessingFailure, box_header, is_mp4_family, mp4_duration_ms, process_image,
    process_pdf, process_text,
};
use super::{AssetStatus, Content, ModerationState};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use marquee_bus::Envelope;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Images larger than this are not processed (failed with a reason).
pub const MAX_PROCESSED_IMAGE_BYTES: i64 = 64 * 1024 * 1024;

/// PDFs larger than this are not read: processed without page count or text.
pub const MAX_PROCESSED_PDF_BYTES: i64 = 64 * 1024 * 1024;

/// How much of a plain-text file is read for its excerpt.
const TEXT_HEAD_BYTES: u64 = 8 * 1024;

/// An MP4 `moov` box larger than this is not read (no duration).
const MAX_MP4_MOOV_BYTES: u64 = 16 * 1024 * 1024;

/// How many top-level MP4 boxes are walked looking for `moov`.
const MAX_MP4_TOP_LEVEL_BOXES: usize = 64;

/// What processing produced, before it is recorded.
#[derive(Debug, Default)]
struct Outcome {
    width: Option<i32>,
    height: Option<i32>,
    duration_ms: Option<i64>,
    page_count: Option<i32>,
    text_excerpt: Option<String>,
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
        if asset.status != AssetStatus::Processing {
            return Ok(()); // already processed (an older event)
        }
        let outcome = if asset.kind == "image" {
            self.process_image_asset(&asset).await?
        } else if asset.content_type == "application/pdf" {
            self.process_pdf_asset(&asset).await?
        } else if asset.content_type == "text/plain" {
            self.process_text_asset(&asset).await?
        } else if is_mp4_family(&asset.content_type) {
            Outcome {
                duration_ms: self.mp4_duration(&asset).await?,
                ..Default::default()
            }
        } else {
            // WebM, Matroska, MP3, Ogg, WAV, FLAC: nothing extracted (yet).
            Outcome::default()
        };

        let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? else {
            return Ok(());
        };
        let Some(mut asset) = store::assets::find(&txn, tenant_id, asset_id).await? else {
            txn.commit().await?;
            return Ok(());
        };
        if asset.status != AssetStatus::Processing {
            txn.commit().await?;
            return Ok(());
        }
        let ok = outcome.failure.is_none();
        asset.width = outcome.width;
        asset.height = outcome.height;
        asset.duration_ms = outcome.duration_ms;
        asset.page_count = outcome.page_count;
        asset.text_excerpt = outcome.text_excerpt;
        asset.display_key = outcome.display_key;
        asset.thumbnail_key = outcome.thumbnail_key;
        match outcome.failure {
            Some(reason) => {
                asset.status = AssetStatus::Failed;
                asset.status_reason = reason;
            }
            None => {
                asset.status = match asset.moderation {
                    ModerationState::Approved => AssetStatus::Ready,
                    ModerationState::Rejected => AssetStatus::Rejected,
                    ModerationState::Pending => AssetStatus::PendingReview,
                };
                if asset.moderation != ModerationState::Rejected {
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

    async fn process_pdf_asset(&self, asset: &super::Asset) -> Result<Outcome> {
        if asset.size_bytes > MAX_PROCESSED_PDF_BYTES {
            return Ok(Outcome::default());
        }
        let original = super::storage::key(&asset.original_key);
        let bytes = self.objects.get(&original).await?.bytes().await?;
        let processed = tokio::task::spawn_blocking(move || process_pdf(&bytes))
            .await
            .map_err(|error| ContentError::Internal(format!("PDF worker: {error}")))?;
        Ok(match processed {
            Ok(metadata) => document_outcome(metadata),
            Err(ProcessingFailure(reason)) => Outcome {
                failure: Some(reason),
                ..Default::default()
            },
        })
    }

    async fn process_text_asset(&self, asset: &super::Asset) -> Result<Outcome> {
        let size = u64::try_from(asset.size_bytes).unwrap_or(0);
        if size == 0 {
            return Ok(Outcome::default());
        }
        let original = super::storage::key(&asset.original_key);
        let head = self
            .objects
            .get_range(&original, 0..size.min(TEXT_HEAD_BYTES))
            .await?;
        Ok(document_outcome(process_text(&head)))
    }

    /// Walks the top-level boxes with ranged reads (headers only) to find `ftyp` and
    /// `moov`, reads just those, and takes the duration from `moov/mvhd`. The media
    /// data is never read. `None` when there is no (readable) duration.
    async fn mp4_duration(&self, asset: &super::Asset) -> Result<Option<i64>> {
        let size = u64::try_from(asset.size_bytes).unwrap_or(0);
        let original = super::storage::key(&asset.original_key);
        let (mut offset, mut ftyp, mut moov) = (0u64, None, None);
        for _ in 0..MAX_MP4_TOP_LEVEL_BOXES {
            if offset.saturating_add(8) > size || (ftyp.is_some() && moov.is_some()) {
                break;
            }
            let head = self
                .objects
                .get_range(&original, offset..size.min(offset + 16))
                .await?;
            let Some(found) = box_header(&head, size - offset) else {
                break;
            };
            match &found.name {
                b"ftyp" => ftyp = Some(offset..offset + found.size),
                b"moov" => moov = Some(offset..offset + found.size),
                _ => {}
            }
            offset += found.size;
        }
        let (Some(ftyp), Some(moov)) = (ftyp, moov) else {
            return Ok(None);
        };
        if ftyp.end - ftyp.start > MAX_MP4_MOOV_BYTES || moov.end - moov.start > MAX_MP4_MOOV_BYTES
        {
            return Ok(None);
        }
        let parts = self.objects.get_ranges(&original, &[ftyp, moov]).await?;
        let boxes: Vec<u8> = parts.concat();
        let duration = tokio::task::spawn_blocking(move || mp4_duration_ms(&boxes))
            .await
            .map_err(|error| ContentError::Internal(format!("MP4 worker: {error}")))?;
        Ok(duration.and_then(|ms| i64::try_from(ms).ok()))
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
            ..Default::default()
        })
    }
}

fn document_outcome(metadata: DocumentMetadata) -> Outcome {
    Outcome {
        page_count: metadata.page_count.and_then(|n| i32::try_from(n).ok()),
        text_excerpt: metadata.text_excerpt,
        ..Default::default()
    }
}
