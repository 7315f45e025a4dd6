//! Reading, listing, editing, deleting and downloading assets, with the visibility
//! rule: owners and moderators see everything of theirs / their tenant; everyone else
//! only `ready` (processed and approved) assets. What a caller may not see is a 404,
//! exactly like another tenant's asset.

use super::moderation::blocked_term_flags;
use super::upload::{check_description, check_title};
use super::{Asset, AssetStatus, Content, ModerationState, is_moderator, storage};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use crate::store::assets::{AssetFilter, Visibility};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use marquee_platform::Principal;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub owner_id: Option<String>,
    pub status: Option<AssetStatus>,
    pub kind: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AssetUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
}

pub use super::signing::Variant;

/// A signed download URL (path and query, relative to the gateway's base URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub path: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A requested byte range (HTTP semantics; `end` inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    From { start: u64, end: Option<u64> },
    Suffix(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentHeader {
    pub content_type: String,
    pub total_size: u64,
    /// Inclusive.
    pub start: u64,
    pub end: u64,
    pub partial: bool,
    pub filename: String,
    pub sha256: String,
}

pub struct Download {
    pub header: ContentHeader,
    pub body: BoxStream<'static, Result<Bytes>>,
}

/// Resolves `range` against an object of `size` bytes: `Ok(None)` means the whole
/// object (no range, or an empty object); a range starting at or after the end, or an
/// empty suffix, is 416 (RFC 9110 §14.1.2 / §15.5.17).
pub fn resolve_range(range: Option<ByteRange>, size: u64) -> Result<Option<(u64, u64)>> {
    let Some(range) = range else { return Ok(None) };
    if size == 0 {
        return Ok(None);
    }
    let unsatisfiable = ContentError::RangeNotSatisfiable { size };
    match range {
        ByteRange::From { start, end } => {
            if start >= size {
                return Err(unsatisfiable);
            }
            let end = end.unwrap_or(size - 1).min(size - 1);
            Ok((start <= end).then_some((start, end)))
        }
        ByteRange::Suffix(0) => Err(unsatisfiable),
        ByteRange::Suffix(n) => Ok(Some((size.saturating_sub(n), size - 1))),
    }
}

pub fn parse_cursor(cursor: Option<String>) -> Result<Option<String>> {
    match cursor.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(cursor) => uuid::Uuid::parse_str(&cursor)
            .map(|_| Some(cursor))
            .map_err(|_| ContentError::invalid("invalid_cursor", "the cursor is not valid")),
    }
}

pub fn page_size(limit: u32) -> u64 {
    u64::from(if limit == 0 {
        DEFAULT_PAGE
    } else {
        limit.min(MAX_PAGE)
    })
}

impl Content {
    /// An asset the caller may see.
    pub async fn asset(&self, caller: &Principal, id: &str) -> Result<Asset> {
        marquee_platform::input::id("id", id)?;
        seen_by(
            caller,
            store::assets::find(&self.db, &caller.tenant_id, id).await?,
        )
    }

    /// [`Self::asset`] inside the write transaction `txn`, the row locked until it ends.
    async fn asset_for_update(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        caller: &Principal,
        id: &str,
    ) -> Result<Asset> {
        marquee_platform::input::id("id", id)?;
        seen_by(
            caller,
            store::assets::find_for_update(txn, &caller.tenant_id, id).await?,
        )
    }

    /// One page, newest first, and the cursor of the next page.
    pub async fn list_assets(
        &self,
        caller: &Principal,
        query: ListQuery,
    ) -> Result<(Vec<Asset>, Option<String>)> {
        if let Some(owner) = &query.owner_id {
            marquee_platform::input::id("owner", owner)?;
        }
        if let Some(kind) = &query.kind
            && super::sniff::Kind::parse(kind).is_none()
        {
            return Err(ContentError::invalid(
                "invalid_kind",
                "kind is one of image, video, audio, document",
            ));
        }
        let limit = page_size(query.limit);
        let visibility = if is_moderator(caller) {
            Visibility::All
        } else {
            Visibility::ReadyOrOwnedBy(caller.subject.clone())
        };
        let assets = store::assets::list(
            &self.db,
            AssetFilter {
                tenant_id: caller.tenant_id.clone(),
                visibility,
                owner_id: query.owner_id,
                status: query.status,
                kind: query.kind,
                before_id: parse_cursor(query.cursor)?,
                limit,
            },
        )
        .await?;
        let next = (assets.len() as u64 == limit)
            .then(|| assets.last().map(|a| a.id.clone()))
            .flatten();
        Ok((assets, next))
    }

    /// Changes title and/or description (owner only). New text is checked against the
    /// blocked terms again: a flagged edit sends a published asset back to review.
    pub async fn update_asset(
        &self,
        caller: &Principal,
        id: &str,
        update: AssetUpdate,
    ) -> Result<Asset> {
        // Read and written in one write transaction: processing or a moderator may save
        // the same row meanwhile, and the row is written whole.
        let txn = marquee_db::begin_write(&self.db).await?;
        let mut asset = self.asset_for_update(&txn, caller, id).await?;
        if asset.owner_id != caller.subject {
            return Err(ContentError::Forbidden("only the owner can edit an asset"));
        }
        if let Some(title) = update.title {
            let title = check_title(&title)?;
            if title.is_empty() {
                return Err(ContentError::invalid(
                    "title_required",
                    "the title is empty",
                ));
            }
            asset.title = title;
        }
        if let Some(description) = update.description {
            asset.description = check_description(&description)?;
        }
        let tags = asset.tag_list();
        let flags = blocked_term_flags(
            &self.settings.blocked_terms,
            [asset.title.as_str(), asset.description.as_str()]
                .into_iter()
                .chain(tags.iter().map(String::as_str)),
        );
        if !flags.is_empty() && asset.moderation == ModerationState::Approved {
            asset.moderation = ModerationState::Pending;
            if asset.status == AssetStatus::Ready {
                asset.status = AssetStatus::PendingReview;
            }
        }
        asset.flags = flags.join(" ");
        asset.updated_at = chrono::Utc::now();
        let asset = store::assets::save(&txn, asset).await?;
        txn.commit().await?;
        Ok(asset)
    }

    /// Deletes the asset and its objects (owner or moderator); `asset.deleted` goes out.
    pub async fn delete_asset(&self, caller: &Principal, id: &str) -> Result<()> {
        let asset = self.asset(caller, id).await?;
        if asset.owner_id != caller.subject && !is_moderator(caller) {
            return Err(ContentError::Forbidden(
                "only the owner or a moderator can delete an asset",
            ));
        }
        let txn = marquee_db::begin_write(&self.db).await?;
        let deleted = store::assets::delete(&txn, &asset.tenant_id, &asset.id).await?;
        if deleted == 0 {
            // A concurrent delete won: nothing more to do, nothing to announce.
            return Ok(());
        }
        publish::asset_deleted(&txn, &asset).await?;
        txn.commit().await?;
        self.wake_relay();
        // Quota back after the commit, never while holding the write lock. Should billing
        // not answer now, the `asset.deleted` consumer retries with the same keys.
        let size = u64::try_from(asset.size_bytes).unwrap_or(0);
        if let Err(error) = self
            .give_back_quota(&asset.tenant_id, &asset.owner_id, &asset.id, size)
            .await
        {
            tracing::warn!(%error, asset.id = %asset.id, "quota not given back yet; the asset.deleted consumer retries");
        }
        for key in [
            Some(&asset.original_key),
            asset.display_key.as_ref(),
            asset.thumbnail_key.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            self.discard(&storage::key(key)).await;
        }
        Ok(())
    }

    /// Puts a failed asset back through processing (owner only).
    pub async fn retry_processing(&self, caller: &Principal, id: &str) -> Result<Asset> {
        let txn = marquee_db::begin_write(&self.db).await?;
        let mut asset = self.asset_for_update(&txn, caller, id).await?;
        if asset.owner_id != caller.subject && !is_moderator(caller) {
            return Err(ContentError::Forbidden(
                "only the owner can retry processing",
            ));
        }
        if asset.status != AssetStatus::Failed {
            return Err(ContentError::conflict(
                "not_failed",
                "only failed assets can be processed again",
            ));
        }
        asset.status = AssetStatus::Processing;
        asset.status_reason = String::new();
        asset.updated_at = chrono::Utc::now();
        let asset = store::assets::save(&txn, asset).await?;
        publish::asset_uploaded(&txn, &asset).await?;
        txn.commit().await?;
        self.wake_relay();
        Ok(asset)
    }

    /// The bytes of an asset, or of a range of them.
    pub async fn download(
        &self,
        caller: &Principal,
        id: &str,
        variant: Variant,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let asset = self.asset(caller, id).await?;
        check_variant(caller, &asset, variant)?;
        self.serve(&asset, variant, range).await
    }

    /// A signed URL for `variant` of an asset the caller may download that variant of;
    /// valid `expires_in_secs` (0 = 15 min, capped at 1 h).
    pub async fn signed_url(
        &self,
        caller: &Principal,
        id: &str,
        variant: Variant,
        expires_in_secs: u32,
    ) -> Result<SignedUrl> {
        let asset = self.asset(caller, id).await?;
        check_variant(caller, &asset, variant)?;
        if variant == Variant::Thumbnail && asset.thumbnail_key.is_none() {
            return Err(ContentError::NotFound("thumbnail"));
        }
        let expires_at =
            chrono::Utc::now().timestamp() + i64::from(super::signing::lifetime(expires_in_secs));
        let signature = self.signing_key.sign(&asset.id, variant, expires_at);
        Ok(SignedUrl {
            path: format!(
                "/api/v1/assets/{}/content/signed?variant={}&expires={expires_at}&signature={signature}",
                asset.id,
                variant.name()
            ),
            expires_at,
        })
    }

    /// A download through a signed URL: no caller; the signature and expiry decide.
    /// Assets deleted or rejected since the URL was made are 404.
    pub async fn download_signed(
        &self,
        id: &str,
        variant: Variant,
        expires: i64,
        signature: &str,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        self.signing_key.verify(
            id,
            variant,
            expires,
            signature,
            chrono::Utc::now().timestamp(),
        )?;
        let asset = store::assets::find_any(&self.db, id)
            .await?
            .filter(|asset| asset.status != AssetStatus::Rejected)
            .ok_or(ContentError::NotFound("asset"))?;
        self.serve(&asset, variant, range).await
    }

    async fn serve(
        &self,
        asset: &Asset,
        variant: Variant,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let (key, content_type, filename) = match variant {
            Variant::Original => (
                asset.original_key.clone(),
                asset.content_type.clone(),
                asset.filename.clone(),
            ),
            Variant::Published => match &asset.display_key {
                Some(key) => (
                    key.clone(),
                    asset.content_type.clone(),
                    asset.filename.clone(),
                ),
                None => (
                    asset.original_key.clone(),
                    asset.content_type.clone(),
                    asset.filename.clone(),
                ),
            },
            Variant::Thumbnail => match &asset.thumbnail_key {
                Some(key) => (
                    key.clone(),
                    "image/jpeg".to_string(),
                    "thumbnail.jpg".into(),
                ),
                None => return Err(ContentError::NotFound("thumbnail")),
            },
        };
        let key = storage::key(&key);
        let size = self.objects.head(&key).await?.size;
        let resolved = resolve_range(range, size)?;
        let options = GetOptions {
            range: resolved.map(|(start, end)| GetRange::Bounded(start..end + 1)),
            ..Default::default()
        };
        let result = ObjectStore::get_opts(self.objects.as_ref(), &key, options).await?;
        let (start, end) = resolved.unwrap_or((0, size.saturating_sub(1)));
        let body = result.into_stream().map_err(ContentError::from).boxed();
        Ok(Download {
            header: ContentHeader {
                content_type,
                total_size: size,
                start,
                end,
                partial: resolved.is_some(),
                filename,
                sha256: if variant == Variant::Thumbnail {
                    String::new()
                } else {
                    asset.sha256.clone()
                },
            },
            body,
        })
    }
}

/// The original is the owner's and moderators'; the other variants anyone's who sees
/// the asset.
fn check_variant(caller: &Principal, asset: &Asset, variant: Variant) -> Result<()> {
    let privileged = asset.owner_id == caller.subject || is_moderator(caller);
    if variant == Variant::Original && !privileged {
        return Err(ContentError::Forbidden(
            "only the owner or a moderator can download the original",
        ));
    }
    Ok(())
}

/// The visibility rule.
pub fn visible(caller: &Principal, asset: &Asset) -> bool {
    asset.tenant_id == caller.tenant_id
        && (asset.status == AssetStatus::Ready
            || asset.owner_id == caller.subject
            || is_moderator(caller))
}

/// The asset found, if `caller` may see it; `NotFound` otherwise, exactly like a missing id.
fn seen_by(caller: &Principal, found: Option<Asset>) -> Result<Asset> {
    found
        .filter(|asset| visible(caller, asset))
        .ok_or(ContentError::NotFound("asset"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_http() {
        let from = |start, end| Some(ByteRange::From { start, end });
        let ok = |range, size| resolve_range(range, size).unwrap();
        assert_eq!(ok(None, 10), None);
        assert_eq!(ok(from(0, Some(3)), 10), Some((0, 3)));
        assert_eq!(ok(from(5, None), 10), Some((5, 9)));
        assert_eq!(ok(from(5, Some(99)), 10), Some((5, 9)));
        assert_eq!(ok(Some(ByteRange::Suffix(3)), 10), Some((7, 9)));
        assert_eq!(ok(Some(ByteRange::Suffix(30)), 10), Some((0, 9)));
        assert_eq!(ok(from(0, Some(0)), 0), None);
        for unsatisfiable in [
            from(10, None),
            from(12, Some(20)),
            Some(ByteRange::Suffix(0)),
        ] {
            assert!(matches!(
                resolve_range(unsatisfiable, 10),
                Err(ContentError::RangeNotSatisfiable { size: 10 })
            ));
        }
    }

    #[test]
    fn cursors_and_pages() {
        assert_eq!(parse_cursor(None).unwrap(), None);
        assert_eq!(parse_cursor(Some(String::new())).unwrap(), None);
        assert!(parse_cursor(Some("nope' OR 1=1".into())).is_err());
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(parse_cursor(Some(id.clone())).unwrap(), Some(id));
        assert_eq!(page_size(0), 20);
        assert_eq!(page_size(1000), 100);
    }
}
