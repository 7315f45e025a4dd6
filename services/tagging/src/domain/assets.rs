//! Assets as tagging sees them: content's events record them, tag them, change who may
//! see them and delete them; people read and edit their tags; the in-memory index follows
//! every change.

use super::index::IndexedAsset;
use super::tagger::AssetText;
use super::tags::{self, Tag};
use super::{TaggedAsset, Tagging, TaggingState, is_moderator, vector};
use crate::error::{Result, TaggingError};
use crate::events::publish;
use crate::inference::EMBEDDING_DIM;
use crate::store;
use crate::store::assets::{Outcome, Processed};
use chrono::{DateTime, Utc};
use marquee_bus::Envelope;
use marquee_platform::Principal;
use std::time::Duration;

/// Rows read per page while the index loads or catches up.
const SYNC_PAGE: u64 = 2000;

impl Tagging {
    /// `asset.processed` (ok): records the asset, runs the models outside any
    /// transaction, then stores the tags, the embedding and `asset.tagged` in the inbox
    /// transaction. A failure is stored on the asset and returned, so the bus retries.
    pub async fn tag_processed(
        &self,
        consumer: &str,
        envelope: &Envelope,
        asset: Processed,
    ) -> Result<()> {
        if marquee_bus::inbox::contains(&self.db, consumer, &envelope.id).await? {
            return Ok(());
        }
        let asset_id = asset.asset_id.clone();
        let Some(row) = store::assets::upsert_processed(&self.db, asset).await? else {
            // Deleted meanwhile: nothing to tag.
            return self.acknowledge(consumer, envelope).await;
        };
        self.index_row(&row, None).await?;

        let Some(tagger) = &self.tagger else {
            let reason = self.models_off.clone().unwrap_or_default();
            return self
                .finish(
                    consumer,
                    envelope,
                    &asset_id,
                    Err((TaggingState::Untagged, reason)),
                )
                .await;
        };
        let text = asset_text(&row);
        let result = async {
            let image = if row.kind == "image" {
                self.images
                    .image_bytes(&row.tenant_id, &row.asset_id, self.settings.max_image_bytes)
                    .await?
            } else {
                None
            };
            let taxonomy = self.embedded_taxonomy(&row.tenant_id).await?;
            tagger.tag(&text, image, &taxonomy).await
        }
        .await;
        match result {
            Ok(mut result) => {
                if result.orientation.is_none() {
                    let (w, h) = (row.width.max(0) as u32, row.height.max(0) as u32);
                    result.orientation = super::palette::orientation(w, h).map(str::to_string);
                    result.size_class = super::palette::size_class(w, h).map(str::to_string);
                }
                self.finish(consumer, envelope, &asset_id, Ok(result)).await
            }
            Err(error) => {
                let reason = error.to_string();
                tracing::warn!(asset_id, %reason, "tagging failed; the bus retries it");
                metrics::counter!("marquee_tagging_failures_total").increment(1);
                store::assets::save_outcome(
                    &self.db,
                    &asset_id,
                    Outcome {
                        state: TaggingState::Failed,
                        failure_reason: Some(reason),
                        embedding: None,
                        palette: Vec::new(),
                        orientation: None,
                        size_class: None,
                    },
                )
                .await?;
                Err(error)
            }
        }
    }

    /// Stores the outcome with the event recorded as handled, and `asset.tagged`.
    async fn finish(
        &self,
        consumer: &str,
        envelope: &Envelope,
        asset_id: &str,
        result: std::result::Result<super::tagger::AiResult, (TaggingState, String)>,
    ) -> Result<()> {
        let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? else {
            return Ok(());
        };
        let vector = result.as_ref().ok().map(|ai| ai.embedding.clone());
        let (outcome, fresh) = match result {
            Ok(ai) => (
                Outcome {
                    state: TaggingState::Tagged,
                    failure_reason: None,
                    embedding: Some(vector::to_bytes(&ai.embedding)),
                    palette: ai.palette,
                    orientation: ai.orientation,
                    size_class: ai.size_class,
                },
                ai.tags,
            ),
            Err((state, reason)) => (
                Outcome {
                    state,
                    failure_reason: Some(reason),
                    embedding: None,
                    palette: Vec::new(),
                    orientation: None,
                    size_class: None,
                },
                Vec::new(),
            ),
        };
        let ok = outcome.state == TaggingState::Tagged;
        let reason = outcome.failure_reason.clone().unwrap_or_default();
        let Some(row) = store::assets::save_outcome(&txn, asset_id, outcome).await? else {
            txn.commit().await?;
            return Ok(());
        };
        if let Some(vector) = &vector {
            self.vectors.save(&txn, asset_id, Some(vector)).await?;
        }
        let existing = tags::from_rows(store::tags::of(&txn, asset_id).await?);
        let removed = store::tags::removed(&txn, asset_id).await?;
        let merged = tags::merge_ai(fresh, &existing, &removed);
        store::tags::replace(&txn, asset_id, tags::to_rows(asset_id, &merged)).await?;
        publish::asset_tagged(&txn, &row, ok, &reason, tags::published(&merged)).await?;
        // Into the index before the commit: once anyone can read `tagged`, search finds
        // it. Should the commit fail, the event is retried and tags it again.
        self.index_row(&row, Some(&merged)).await?;
        txn.commit().await?;
        self.wake_outbox();
        if ok {
            metrics::counter!("marquee_tagging_assets_tagged_total").increment(1);
        }
        Ok(())
    }

    /// Records the event as handled with no other effect.
    async fn acknowledge(&self, consumer: &str, envelope: &Envelope) -> Result<()> {
        if let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? {
            txn.commit().await?;
        }
        Ok(())
    }

    /// `asset.approved` / `asset.rejected`.
    pub async fn moderated(
        &self,
        consumer: &str,
        envelope: &Envelope,
        owner_id: &str,
        asset_id: &str,
        approved: bool,
    ) -> Result<()> {
        let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? else {
            return Ok(());
        };
        let row =
            store::assets::set_visible(&txn, &envelope.tenant_id, owner_id, asset_id, approved)
                .await?;
        txn.commit().await?;
        match row {
            Some(row) => self.index_row(&row, None).await,
            None => Ok(()),
        }
    }

    /// `asset.deleted`: its tags, vector and signals go; a tombstone stays.
    pub async fn deleted(
        &self,
        consumer: &str,
        envelope: &Envelope,
        owner_id: &str,
        asset_id: &str,
    ) -> Result<()> {
        let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? else {
            return Ok(());
        };
        store::assets::tombstone(&txn, &envelope.tenant_id, owner_id, asset_id).await?;
        self.vectors.save(&txn, asset_id, None).await?;
        store::tags::delete_all(&txn, asset_id).await?;
        store::interactions::forget_asset(&txn, asset_id).await?;
        txn.commit().await?;
        self.index.remove(&envelope.tenant_id, asset_id);
        Ok(())
    }

    /// Puts a row in the index (tags read when not given); tombstones leave it.
    async fn index_row(&self, row: &TaggedAsset, tags: Option<&[Tag]>) -> Result<()> {
        if row.state == TaggingState::Deleted {
            self.index.remove(&row.tenant_id, &row.asset_id);
            return Ok(());
        }
        let names = match tags {
            Some(tags) => tags.iter().map(|t| t.name.clone()).collect(),
            None => store::tags::of(&self.db, &row.asset_id)
                .await?
                .into_iter()
                .map(|row| row.name)
                .collect(),
        };
        let embedding = row
            .embedding
            .as_deref()
            .and_then(|bytes| vector::from_bytes(bytes, EMBEDDING_DIM));
        self.index.upsert(indexed(row, names), embedding.as_deref());
        Ok(())
    }

    /// Loads or catches up the index from rows changed at or after `since`; returns the
    /// newest change seen (the next call's `since`).
    pub async fn sync_index(&self, since: Option<DateTime<Utc>>) -> Result<Option<DateTime<Utc>>> {
        let mut watermark = since;
        let mut cursor: Option<(DateTime<Utc>, String)> = None;
        loop {
            let (from, after) = match &cursor {
                Some((at, id)) => (Some(*at), Some(id.as_str())),
                None => (since, None),
            };
            let rows = store::assets::changed_since(&self.db, from, after, SYNC_PAGE).await?;
            let ids: Vec<String> = rows.iter().map(|r| r.asset_id.clone()).collect();
            let mut tags_of = store::tags::of_many(&self.db, &ids).await?;
            for row in &rows {
                if row.state == TaggingState::Deleted {
                    self.index.remove(&row.tenant_id, &row.asset_id);
                    continue;
                }
                let names = tags_of
                    .remove(&row.asset_id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.name)
                    .collect();
                let embedding = row
                    .embedding
                    .as_deref()
                    .and_then(|bytes| vector::from_bytes(bytes, EMBEDDING_DIM));
                self.index.upsert(indexed(row, names), embedding.as_deref());
            }
            let Some(last) = rows.last() else { break };
            watermark = Some(watermark.map_or(last.updated_at, |w| w.max(last.updated_at)));
            cursor = Some((last.updated_at, last.asset_id.clone()));
            if (rows.len() as u64) < SYNC_PAGE {
                break;
            }
        }
        Ok(watermark)
    }

    /// Keeps the index in step with other replicas' writes until `shutdown`: every
    /// `interval`, rows changed since the last look (with a margin for clock skew and
    /// transactions that commit late).
    pub async fn follow_changes(
        &self,
        mut since: Option<DateTime<Utc>>,
        interval: Duration,
        shutdown: marquee_platform::shutdown::CancellationToken,
    ) -> Result<()> {
        let margin = chrono::Duration::seconds(5);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(interval) => {}
            }
            let from = since.map(|s| s - margin);
            if let Some(newest) = self.sync_index(from).await? {
                since = Some(since.map_or(newest, |s| s.max(newest)));
            }
        }
    }
}

/// An asset's tags and what else tagging knows of it, as callers see it.
#[derive(Clone, Debug)]
pub struct AssetTags {
    pub asset: TaggedAsset,
    pub tags: Vec<Tag>,
}

impl Tagging {
    /// The tags on an asset the caller may see.
    pub async fn tags(&self, caller: &Principal, asset_id: &str) -> Result<AssetTags> {
        let asset = self.visible_asset(caller, asset_id).await?;
        let tags = tags::from_rows(store::tags::of(&self.db, asset_id).await?);
        Ok(AssetTags { asset, tags })
    }

    /// Replaces an asset's tags: its owner (as `creator`) or a moderator (as
    /// `moderator`). Removed `ai` tags are remembered; `asset.tagged` tells the rest.
    pub async fn set_tags(
        &self,
        caller: &Principal,
        asset_id: &str,
        requested: Vec<tags::RequestedTag>,
    ) -> Result<AssetTags> {
        let asset = self.visible_asset(caller, asset_id).await?;
        let as_source = if asset.owner_id == caller.subject {
            tags::TagSource::Creator
        } else if is_moderator(caller) {
            tags::TagSource::Moderator
        } else {
            return Err(TaggingError::Forbidden(
                "only the asset's owner or a moderator may edit its tags",
            ));
        };
        let txn = marquee_db::begin_write(&self.db).await?;
        let existing = tags::from_rows(store::tags::of(&txn, asset_id).await?);
        let edit = tags::apply_edit(&existing, requested, as_source)?;
        store::tags::replace(&txn, asset_id, tags::to_rows(asset_id, &edit.tags)).await?;
        store::tags::remember_removed(&txn, asset_id, &edit.removed_ai, &caller.subject).await?;
        publish::asset_tagged(&txn, &asset, true, "", tags::published(&edit.tags)).await?;
        txn.commit().await?;
        self.wake_outbox();
        let names: Vec<String> = edit.tags.iter().map(|t| t.name.clone()).collect();
        if let Some((indexed, _)) = self.index.get(&asset.tenant_id, asset_id) {
            let mut indexed = (*indexed).clone();
            indexed.tags = names;
            self.index.upsert(indexed, None);
        }
        Ok(AssetTags {
            asset,
            tags: edit.tags,
        })
    }

    /// The asset, if the caller may see it: same tenant, and approved, their own, or
    /// the caller moderates. Anything else is "not found" (no probing other tenants).
    pub(crate) async fn visible_asset(
        &self,
        caller: &Principal,
        asset_id: &str,
    ) -> Result<TaggedAsset> {
        let asset = store::assets::find(&self.db, asset_id)
            .await?
            .filter(|a| a.tenant_id == caller.tenant_id && a.state != TaggingState::Deleted)
            .filter(|a| a.visible || a.owner_id == caller.subject || is_moderator(caller))
            .ok_or(TaggingError::NotFound("asset"))?;
        Ok(asset)
    }
}

fn indexed(row: &TaggedAsset, tags: Vec<String>) -> IndexedAsset {
    IndexedAsset {
        asset_id: row.asset_id.clone(),
        tenant_id: row.tenant_id.clone(),
        owner_id: row.owner_id.clone(),
        visible: row.visible,
        kind: row.kind.clone(),
        title: row.title.clone(),
        tags,
        has_thumbnail: row.has_thumbnail,
        created_at: row.created_at,
        view_count: row.view_count,
    }
}

/// What the models read of a stored asset.
pub fn asset_text(row: &TaggedAsset) -> AssetText {
    AssetText {
        title: row.title.clone(),
        description: row.description.clone(),
        creator_tags: serde_json::from_str(&row.creator_tags).unwrap_or_default(),
        kind: row.kind.clone(),
        text_excerpt: row.text_excerpt.clone(),
    }
}
