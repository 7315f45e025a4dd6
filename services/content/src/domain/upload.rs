//! Uploads: the bytes stream into object storage while their size and SHA-256 are
//! computed; the type is sniffed from the first bytes before anything is stored; the
//! same bytes from the same owner give back the existing asset.

use super::moderation::blocked_term_flags;
use super::quota::UploadHold;
use super::sniff::{SNIFF_WINDOW, sniff};
use super::{Asset, AssetStatus, Content, ModerationState, flags, storage};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use marquee_platform::Principal;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tracing::Instrument;

use marquee_platform::input::fields;

pub const MAX_TITLE_CHARS: usize = fields::TITLE.max_chars;
pub const MAX_DESCRIPTION_CHARS: usize = fields::DESCRIPTION.max_chars;
pub const MAX_TAGS: usize = fields::MAX_TAGS;
pub const MAX_TAG_CHARS: usize = fields::TAG.max_chars;

/// Parts of an upload stream, in order: metadata, data…, optionally metadata again,
/// then `End`. A stream that stops before `End` was interrupted (the client went away)
/// and stores nothing.
#[derive(Debug, Clone)]
pub enum UploadPart {
    Metadata(UploadMetadata),
    Data(Bytes),
    /// The file is complete: `size_bytes` is what the sender sent.
    End {
        size_bytes: u64,
    },
}

fn interrupted() -> ContentError {
    ContentError::invalid(
        "upload_interrupted",
        "the upload stopped before the file was complete",
    )
}

#[derive(Debug, Clone, Default)]
pub struct UploadMetadata {
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub filename: String,
}

impl UploadMetadata {
    /// Non-empty fields of `later` override.
    fn merge(&mut self, later: UploadMetadata) {
        if !later.title.is_empty() {
            self.title = later.title;
        }
        if !later.description.is_empty() {
            self.description = later.description;
        }
        if !later.tags.is_empty() {
            self.tags = later.tags;
        }
        if !later.filename.is_empty() {
            self.filename = later.filename;
        }
    }
}

#[derive(Debug, Clone)]
pub struct Uploaded {
    pub asset: Asset,
    pub deduplicated: bool,
}

/// Part size for multipart writes: memory per upload stays around two of these.
const PART_SIZE: usize = 5 * 1024 * 1024;

/// Validated (as sent: lengths, control characters), normalised title, description,
/// tags and file name: the rules of `marquee_platform::input::fields`, which the
/// gateway enforces too.
pub fn check_title(title: &str) -> Result<String> {
    fields::TITLE.check(title)?;
    Ok(title.trim().to_string())
}

pub fn check_description(description: &str) -> Result<String> {
    fields::DESCRIPTION.check(description)?;
    Ok(description.trim().to_string())
}

pub fn check_filename(filename: &str) -> Result<String> {
    fields::FILENAME.check(filename)?;
    Ok(filename.trim().to_string())
}

pub fn check_tags(tags: Vec<String>) -> Result<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(ContentError::invalid(
            "invalid_tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        // Checked before lower-casing, which may lengthen a few characters.
        fields::TAG.check(&tag)?;
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || clean.contains(&tag) {
            continue;
        }
        clean.push(tag);
    }
    if clean.len() > MAX_TAGS {
        return Err(ContentError::invalid(
            "invalid_tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(clean)
}

/// The next part of an upload, or `upload_stalled` when none comes within `idle`.
async fn next_part<S>(parts: &mut S, idle: Duration) -> Result<Option<UploadPart>>
where
    S: Stream<Item = Result<UploadPart>> + Unpin,
{
    match tokio::time::timeout(idle, parts.next()).await {
        Ok(part) => part.transpose(),
        Err(_) => Err(ContentError::invalid(
            "upload_stalled",
            format!(
                "no bytes arrived for {} s; the upload was abandoned",
                idle.as_secs()
            ),
        )),
    }
}

impl Content {
    /// Stores an upload as a new asset (status `processing`, `asset.uploaded` in the
    /// outbox), or answers the owner's existing asset with the same bytes.
    ///
    /// The work runs in a task of its own, so that a caller who goes away (a client
    /// disconnect drops the gRPC handler) cannot cut it off between its steps: the
    /// stream then fails, and every hold is released and the partial object aborted.
    pub async fn upload<S>(&self, caller: &Principal, parts: S) -> Result<Uploaded>
    where
        S: Stream<Item = Result<UploadPart>> + Unpin + Send + 'static,
    {
        let content = self.clone();
        let caller = caller.clone();
        // In the call's span: billing's calls and the `asset.uploaded` event continue
        // the caller's trace.
        tokio::spawn(async move { content.upload_to_end(&caller, parts).await }.in_current_span())
            .await
            .map_err(|error| ContentError::Internal(format!("upload task failed: {error}")))?
    }

    async fn upload_to_end<S>(&self, caller: &Principal, mut parts: S) -> Result<Uploaded>
    where
        S: Stream<Item = Result<UploadPart>> + Unpin + Send,
    {
        let idle = Duration::from_secs(self.settings.upload_idle_timeout_secs.max(1));
        let mut metadata = match next_part(&mut parts, idle).await? {
            Some(UploadPart::Metadata(metadata)) => metadata,
            _ => {
                return Err(ContentError::invalid(
                    "metadata_first",
                    "an upload starts with its metadata",
                ));
            }
        };
        let limit = self.settings.max_upload_bytes;

        // Read the sniffing window, then decide before storing anything.
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_WINDOW);
        let mut pending: Vec<Bytes> = Vec::new();
        // The size the sender declared with `End`, once it has come.
        let mut declared: Option<u64> = None;
        while head.len() < SNIFF_WINDOW {
            match next_part(&mut parts, idle).await? {
                Some(UploadPart::Data(data)) => {
                    let take = data.len().min(SNIFF_WINDOW - head.len());
                    head.extend_from_slice(&data[..take]);
                    pending.push(data);
                }
                Some(UploadPart::Metadata(later)) => metadata.merge(later),
                Some(UploadPart::End { size_bytes }) => {
                    declared = Some(size_bytes);
                    break;
                }
                None => return Err(interrupted()),
            }
        }
        if head.is_empty() {
            return Err(ContentError::invalid("empty_file", "the file is empty"));
        }
        let sniffed = sniff(&head).map_err(|found| {
            ContentError::UnsupportedType(format!(
                "this file type is not supported ({found}); upload an image (JPEG, PNG, GIF, WebP), video (MP4, WebM, QuickTime, Matroska), audio (MP3, Ogg, WAV, FLAC, M4A), PDF or plain text"
            ))
        })?;
        let title = check_title(&metadata.title)?;
        let description = check_description(&metadata.description)?;
        let tags = check_tags(std::mem::take(&mut metadata.tags))?;
        check_filename(&metadata.filename)?;

        let asset_id = uuid::Uuid::now_v7().to_string();
        // Quota before a byte is stored: one asset held, the storage left caps the stream.
        let mut hold = UploadHold::start(self.quota.as_ref(), caller, &asset_id).await?;
        let dir = storage::asset_dir(&caller.tenant_id, &caller.subject, &asset_id);
        let key = storage::original_key(&dir);
        let mut stored = false;
        let result: Result<Uploaded> = async {
            let upload = self.objects.put_multipart(&key).await?;
            let mut writer = Some(WriteMultipart::new_with_chunk_size(upload, PART_SIZE));
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            // Past the storage left, bytes are only hashed (a duplicate costs nothing),
            // and only up to the owner's largest asset: nothing longer can be one.
            let mut horizon: u64 = 0;

            let streamed: Result<()> = async {
                let mut pending = pending.drain(..);
                loop {
                    let data = match pending.next() {
                        Some(data) => data,
                        None if declared.is_some() => break,
                        None => match next_part(&mut parts, idle).await? {
                            Some(UploadPart::Data(data)) => data,
                            Some(UploadPart::Metadata(later)) => {
                                metadata.merge(later);
                                continue;
                            }
                            Some(UploadPart::End { size_bytes }) => {
                                declared = Some(size_bytes);
                                continue;
                            }
                            None => return Err(interrupted()),
                        },
                    };
                    size += data.len() as u64;
                    if size > limit {
                        return Err(ContentError::TooLarge { limit });
                    }
                    if size > hold.cap
                        && let Some(full) = writer.take()
                    {
                        full.abort().await?;
                        horizon = self.largest_owned_size(caller).await?;
                    }
                    if writer.is_none() && size > horizon {
                        return Err(hold.over_quota(size).await);
                    }
                    hasher.update(&data);
                    if let Some(writer) = writer.as_mut() {
                        writer.write(&data);
                        // Bounded memory: at most two parts in flight.
                        writer.wait_for_capacity(2).await?;
                    }
                }
                if declared != Some(size) {
                    return Err(ContentError::invalid(
                        "upload_incomplete",
                        format!(
                            "the sender declared {} bytes but {size} arrived",
                            declared.unwrap_or_default()
                        ),
                    ));
                }
                Ok(())
            }
            .await;
            if let Err(error) = streamed {
                if let Some(writer) = writer
                    && let Err(abort) = writer.abort().await
                {
                    tracing::warn!(error = %abort, "aborting a failed upload");
                }
                return Err(error);
            }
            let sha256 = hex::encode(hasher.finalize());
            let Some(writer) = writer else {
                // Over the storage left: only the owner's same bytes are accepted.
                return match store::assets::find_by_hash(
                    &self.db,
                    &caller.tenant_id,
                    &caller.subject,
                    &sha256,
                )
                .await?
                {
                    Some(existing) => Ok(Uploaded {
                        asset: existing,
                        deduplicated: true,
                    }),
                    None => Err(hold.over_quota(size).await),
                };
            };
            writer.finish().await?;
            stored = true;

            if let Some(existing) =
                store::assets::find_by_hash(&self.db, &caller.tenant_id, &caller.subject, &sha256)
                    .await?
            {
                return Ok(Uploaded {
                    asset: existing,
                    deduplicated: true,
                });
            }

            // Metadata sent after the file may carry title etc.; re-check the merged values.
            let title = if metadata.title.is_empty() {
                title
            } else {
                check_title(&metadata.title)?
            };
            let description = if metadata.description.is_empty() {
                description
            } else {
                check_description(&metadata.description)?
            };
            let tags = if metadata.tags.is_empty() {
                tags
            } else {
                check_tags(std::mem::take(&mut metadata.tags))?
            };
            let filename = check_filename(&metadata.filename)?;
            let title = if title.is_empty() {
                if filename.is_empty() {
                    "Untitled".to_string()
                } else {
                    filename.clone()
                }
            } else {
                title
            };

            // The actual size, held atomically in billing: parallel uploads that each
            // fitted the cap cannot pass the limit together.
            hold.reserve_storage(size).await?;

            let flags = blocked_term_flags(
                &self.settings.blocked_terms,
                [title.as_str(), description.as_str()]
                    .into_iter()
                    .chain(tags.iter().map(String::as_str)),
            );
            let auto_approve = flags.is_empty()
                && match self.flags.enabled(caller, flags::AUTO_APPROVE_ASSETS).await {
                    Ok(on) => on,
                    Err(error) => {
                        tracing::warn!(%error, "tenant flags unavailable; the asset goes to review");
                        false
                    }
                };

            let now = chrono::Utc::now();
            let digest = sha256.clone();
            let asset = Asset {
                id: asset_id.clone(),
                tenant_id: caller.tenant_id.clone(),
                owner_id: caller.subject.clone(),
                title,
                description,
                tags: serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()),
                filename,
                content_type: sniffed.content_type.to_string(),
                kind: sniffed.kind.as_str().to_string(),
                size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
                sha256,
                original_key: key.to_string(),
                display_key: None,
                thumbnail_key: None,
                width: None,
                height: None,
                duration_ms: None,
                page_count: None,
                text_excerpt: None,
                status: AssetStatus::Processing,
                status_reason: String::new(),
                moderation: if auto_approve {
                    ModerationState::Approved
                } else {
                    ModerationState::Pending
                },
                flags: flags.join(" "),
                created_at: now,
                updated_at: now,
            };
            let txn = marquee_db::begin_write(&self.db).await?;
            let inserted = match store::assets::insert(&txn, asset).await {
                Ok(inserted) => inserted,
                Err(error) if store::is_unique_violation(&error) => {
                    // The same bytes raced in from another upload of this owner.
                    drop(txn);
                    let existing = store::assets::find_by_hash(
                        &self.db,
                        &caller.tenant_id,
                        &caller.subject,
                        &digest,
                    )
                    .await?;
                    return existing
                        .map(|asset| Uploaded {
                            asset,
                            deduplicated: true,
                        })
                        .ok_or_else(|| ContentError::Database(error));
                }
                Err(error) => return Err(error.into()),
            };
            publish::asset_uploaded(&txn, &inserted).await?;
            if auto_approve {
                publish::asset_moderated(&txn, &inserted, "", true, "auto_approve_assets")
                    .await?;
            }
            // Billed after the row is stored, and durably: `asset.holds` goes out with the
            // row, and the quota worker commits the holds if this process dies first or
            // billing does not answer now. (Billing first lost the usage's give-back to a
            // crash between the two: `make chaos` counted an asset too many.) The holds
            // already count against the plan, so nothing can pass a limit meanwhile.
            let reservations = hold.reservation_ids();
            if !reservations.is_empty() {
                publish::asset_holds(&txn, &inserted, reservations).await?;
            }
            txn.commit().await?;
            if let Err(error) = hold.commit().await {
                tracing::warn!(%error, asset_id = %inserted.id, "billing the upload now failed; the quota worker commits its holds");
            }
            Ok(Uploaded {
                asset: inserted,
                deduplicated: false,
            })
        }
        .await;

        match result {
            Ok(uploaded) if !uploaded.deduplicated => {
                self.wake_relay();
                metrics::counter!("marquee_content_uploads_total", "kind" => uploaded.asset.kind.clone())
                    .increment(1);
                metrics::counter!("marquee_content_upload_bytes_total")
                    .increment(u64::try_from(uploaded.asset.size_bytes).unwrap_or(0));
                Ok(uploaded)
            }
            // A deduplicated or failed upload costs nothing and leaves no object.
            other => {
                hold.settle_failed().await;
                if stored {
                    self.discard(&key).await;
                }
                other
            }
        }
    }

    /// The size of the caller's largest asset (0 without any): no longer upload can be
    /// one of their duplicates.
    async fn largest_owned_size(&self, caller: &Principal) -> Result<u64> {
        let largest =
            store::assets::largest_size(&self.db, &caller.tenant_id, &caller.subject).await?;
        Ok(largest.map_or(0, |size| u64::try_from(size).unwrap_or(0)))
    }

    /// Deletes an object we no longer need; failures only leave garbage behind.
    pub(crate) async fn discard(&self, key: &object_store::path::Path) {
        if let Err(error) = self.objects.delete(key).await {
            tracing::warn!(%error, %key, "could not delete an unneeded object");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<impl std::fmt::Debug>) -> &'static str {
        match result {
            Err(ContentError::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_is_checked_as_sent_then_trimmed() {
        assert_eq!(check_title("  Harbour ").unwrap(), "Harbour");
        assert_eq!(code(check_title("Har\0bour")), "invalid_input");
        assert_eq!(code(check_title("Har\nbour")), "invalid_input");
        assert_eq!(code(check_title(&"t".repeat(201))), "title_too_long");
        assert_eq!(check_title(&"𝔸".repeat(200)).unwrap().chars().count(), 200);
        assert_eq!(
            check_title("\u{202e}abc \u{200d}😀 \u{301}").unwrap(),
            "\u{202e}abc \u{200d}😀 \u{301}"
        );
        assert_eq!(
            check_description("line one\n\tline two").unwrap(),
            "line one\n\tline two"
        );
        assert_eq!(code(check_description("a\u{1b}[31m")), "invalid_input");
        assert_eq!(
            code(check_description(&"d".repeat(100_000))),
            "description_too_long"
        );
        assert_eq!(code(check_filename("a\0.png")), "invalid_filename");
        assert_eq!(code(check_filename(&"f".repeat(256))), "invalid_filename");
    }

    #[test]
    fn tags_are_bounded_before_lower_casing() {
        assert_eq!(
            check_tags(vec![" Sea ".into(), "sea".into(), String::new()]).unwrap(),
            ["sea"]
        );
        assert_eq!(code(check_tags(vec!["a\0".into()])), "invalid_tags");
        assert_eq!(code(check_tags(vec!["t".repeat(51)])), "invalid_tags");
        assert_eq!(code(check_tags(vec!["t".into(); 21])), "invalid_tags");
        // 'İ' lower-cases to two characters: the limit applies to what was sent.
        assert!(check_tags(vec!["İ".repeat(50)]).is_ok());
    }
}
