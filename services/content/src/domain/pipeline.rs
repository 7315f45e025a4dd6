//! Processing an uploaded asset (what the `asset.uploaded` consumer runs): metadata,
//! thumbnail and metadata-free published copy for images; page count and text excerpt
//! for PDFs, a text excerpt for plain text, the duration of MP4/QuickTime/M4A files
//! (from their `moov` box, read with ranged reads); then the asset becomes
//! `ready`, `pending_review`, `rejected` or `failed` (with a reason the owner reads),
//! and `asset.processed` goes out — in the inbox transaction, so a redelivered event
//! has no second effect.
//!
//! Decoding an image or reading a PDF is the CPU- and memory-heavy part: it runs on a
//! blocking thread, holding one of `max_concurrent_decodes` permits for the process
//! from before the original is fetched until the work is done, so the memory bounds of
//! [`super::processing`] multiply by that setting, not by the events in flight.

use super::processing::{
    DocumentMetadata, ImageLimits, PdfLimits, ProcessingFailure, box_header, is_mp4_family,
    mp4_duration_ms, process_image_with, process_pdf_with, process_text,
};
use super::{AssetStatus, Content, ModerationState};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use marquee_bus::Envelope;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::OnceLock;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Images larger than this are not processed (failed with a reason).
pub const MAX_PROCESSED_IMAGE_BYTES: i64 = 64 * 1024 * 1024;

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
        let Some(mut asset) = store::assets::find_for_update(&txn, tenant_id, asset_id).await?
        else {
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

    /// A PDF over `max_pdf_bytes` is not read at all: the asset is processed without
    /// page count or excerpt (it is still a valid document to publish).
    async fn process_pdf_asset(&self, asset: &super::Asset) -> Result<Outcome> {
        let max_bytes = self.settings.max_pdf_bytes;
        if u64::try_from(asset.size_bytes).unwrap_or(0) > max_bytes {
            tracing::info!(
                asset_id = %asset.id,
                size_bytes = asset.size_bytes,
                max_pdf_bytes = max_bytes,
                "PDF not read: larger than max_pdf_bytes; processed without page count or text"
            );
            return Ok(Outcome::default());
        }
        let limits = PdfLimits {
            max_expanded_bytes: self.settings.max_pdf_expanded_bytes,
            max_text_pages: self.settings.max_pdf_text_pages,
            max_objects: self.settings.max_pdf_objects,
        };
        let permit = self.decode_permit().await?;
        let original = super::storage::key(&asset.original_key);
        let bytes = self.objects.get(&original).await?.bytes().await?;
        let processed = run_heavy("PDF", permit, move || process_pdf_with(&bytes, &limits)).await?;
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
        let limits = ImageLimits {
            thumbnail_size: self.settings.thumbnail_size,
            max_pixels: self.settings.max_image_pixels,
            max_side: self.settings.max_image_side,
            max_display_side: self.settings.max_display_side,
        };
        let permit = self.decode_permit().await?;
        let original = super::storage::key(&asset.original_key);
        let bytes = self.objects.get(&original).await?.bytes().await?;
        let processed =
            run_heavy("image", permit, move || process_image_with(&bytes, &limits)).await?;
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

/// The process's decode permits, sized by the first `Content` to decode
/// (`max_concurrent_decodes`; every `Content` of a process shares one configuration).
static DECODE_PERMITS: OnceLock<Semaphore> = OnceLock::new();

impl Content {
    /// Waits for a turn to decode.
    async fn decode_permit(&self) -> Result<SemaphorePermit<'static>> {
        let permits = DECODE_PERMITS
            .get_or_init(|| Semaphore::new(self.settings.max_concurrent_decodes.max(1)));
        permits
            .acquire()
            .await
            .map_err(|error| ContentError::Internal(format!("decode permits: {error}")))
    }
}

/// Runs `work` on a blocking thread, holding `permit` until it is done (also when the
/// event's handling is abandoned meanwhile: the thread cannot be stopped). A panic in
/// a decoder is the file's doing and would recur on every retry: it fails the asset
/// with a reason like any other bad file, instead of being retried.
async fn run_heavy<T: Send + 'static>(
    what: &'static str,
    permit: SemaphorePermit<'static>,
    work: impl FnOnce() -> std::result::Result<T, ProcessingFailure> + Send + 'static,
) -> Result<std::result::Result<T, ProcessingFailure>> {
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    });
    match task.await {
        Ok(result) => Ok(result),
        Err(error) if error.is_panic() => {
            tracing::error!(what, "processing panicked; the asset fails");
            metrics::counter!("marquee_content_processing_panics_total").increment(1);
            Ok(Err(ProcessingFailure(format!(
                "the {what} could not be processed: its decoder failed"
            ))))
        }
        Err(error) => Err(ContentError::Internal(format!("{what} worker: {error}"))),
    }
}

fn document_outcome(metadata: DocumentMetadata) -> Outcome {
    Outcome {
        page_count: metadata.page_count.and_then(|n| i32::try_from(n).ok()),
        text_excerpt: metadata.text_excerpt,
        ..Default::default()
    }
}
