//! Recommendations: what a user engaged with (views, comments) makes a profile — the
//! weighted mean of those assets' embeddings — and assets near it rank high; assets of
//! creators they follow rank higher. Assets they made or already engaged with are left
//! out. A user with no history gets popular and recent assets.

use super::index::{Filter, IndexedAsset, Scored};
use super::search::{Page, page_size, recency};
use super::{InteractionKind, Tagging, vector};
use crate::error::Result;
use crate::inference::EMBEDDING_DIM;
use crate::store;
use chrono::{Duration, Utc};
use marquee_bus::Envelope;
use marquee_platform::Principal;
use std::collections::{HashMap, HashSet};

/// Interactions read per user (the most recent).
const HISTORY: u64 = 200;
/// Candidates drawn from the profile before boosts re-rank them.
const CANDIDATES: usize = 200;
/// Added to a followed creator's assets.
const FOLLOW_BOOST: f32 = 0.3;
const COMMENT_WEIGHT: f32 = 3.0;
const VIEW_WEIGHT: f32 = 1.0;
/// Recent assets count for more, halving every this many days.
const RECENCY_HALF_LIFE_DAYS: f32 = 7.0;

/// A signal from another service's event.
#[derive(Clone, Debug)]
pub enum Signal {
    Followed {
        follower_id: String,
        creator_id: String,
    },
    Commented {
        author_id: String,
        asset_id: String,
    },
}

/// How fresh an asset is: 1 today, ½ a half-life ago.
fn freshness(asset: &IndexedAsset) -> f32 {
    let age_days = (Utc::now() - asset.created_at).num_minutes().max(0) as f32 / 1440.0;
    0.5f32.powf(age_days / RECENCY_HALF_LIFE_DAYS)
}

/// Cold start: popular (views, dampened) and recent.
fn popular_and_recent(asset: &IndexedAsset) -> f32 {
    (1.0 + asset.view_count.max(0) as f32).ln() + freshness(asset)
}

impl Tagging {
    /// Assets for the caller, best first.
    pub async fn recommendations(&self, caller: &Principal, limit: u32) -> Result<Page> {
        let limit = page_size(limit)?;
        let history =
            store::interactions::of_user(&self.db, &caller.tenant_id, &caller.subject, HISTORY)
                .await?;
        let mut followed = HashSet::new();
        let mut engaged: HashMap<String, f32> = HashMap::new();
        for signal in &history {
            match (signal.kind, &signal.asset_id, &signal.creator_id) {
                (InteractionKind::Follow, _, Some(creator)) => {
                    followed.insert(creator.clone());
                }
                (InteractionKind::Comment, Some(asset), _) => {
                    *engaged.entry(asset.clone()).or_default() += COMMENT_WEIGHT;
                }
                (InteractionKind::View, Some(asset), _) => {
                    *engaged.entry(asset.clone()).or_default() += VIEW_WEIGHT;
                }
                _ => {}
            }
        }
        let filter = Filter {
            tenant_id: caller.tenant_id.clone(),
            viewer: caller.subject.clone(),
            exclude_owner: Some(caller.subject.clone()),
            exclude: engaged.keys().cloned().collect(),
            ..Filter::default()
        };
        if followed.is_empty() && engaged.is_empty() {
            let hits = self.index.top_by(&filter, limit, popular_and_recent);
            return Ok(Page {
                hits,
                next_cursor: None,
            });
        }

        let ids: Vec<String> = engaged.keys().cloned().collect();
        let vectors = self.index.vectors_of(&caller.tenant_id, &ids);
        let profile = vector::weighted_mean(
            vectors
                .iter()
                .map(|(id, v)| (v.as_slice(), engaged.get(id).copied().unwrap_or(1.0))),
            EMBEDDING_DIM,
        );
        let mut scored: HashMap<String, Scored> = HashMap::new();
        if let Some(profile) = &profile {
            for mut hit in self.vectors.nearest(profile, &filter, CANDIDATES).await? {
                if followed.contains(&hit.asset.owner_id) {
                    hit.score += FOLLOW_BOOST;
                }
                hit.score += 0.05 * freshness(&hit.asset);
                scored.insert(hit.asset.asset_id.clone(), hit);
            }
        }
        // Followed creators' newest work, whether or not it resembles the profile.
        let from_followed = self.index.top_by(&filter, CANDIDATES, |asset| {
            if followed.contains(&asset.owner_id) {
                recency(asset)
            } else {
                f32::MIN
            }
        });
        for hit in from_followed.into_iter().filter(|h| h.score > f32::MIN) {
            scored
                .entry(hit.asset.asset_id.clone())
                .or_insert_with(|| Scored {
                    score: FOLLOW_BOOST + 0.05 * freshness(&hit.asset),
                    asset: hit.asset,
                });
        }
        let mut hits: Vec<Scored> = scored.into_values().collect();
        if hits.len() < limit {
            // Top up with what is popular, so a narrow history still fills the page.
            let mut more = filter.clone();
            more.exclude
                .extend(hits.iter().map(|h| h.asset.asset_id.clone()));
            hits.extend(
                self.index
                    .top_by(&more, limit - hits.len(), popular_and_recent)
                    .into_iter()
                    .map(|mut h| {
                        h.score = -1.0 + h.score.min(0.9) / 10.0;
                        h
                    }),
            );
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        Ok(Page {
            hits,
            next_cursor: None,
        })
    }

    /// The caller read an asset: counted once per user and hour.
    pub async fn record_view(&self, caller: &Principal, asset_id: &str) -> Result<()> {
        let asset = self.visible_asset(caller, asset_id).await?;
        let since = Utc::now() - Duration::hours(1);
        if store::interactions::viewed_since(
            &self.db,
            &caller.tenant_id,
            &caller.subject,
            asset_id,
            since,
        )
        .await?
        {
            return Ok(());
        }
        let txn = marquee_db::begin_write(&self.db).await?;
        store::interactions::record(
            &txn,
            &caller.tenant_id,
            &caller.subject,
            InteractionKind::View,
            Some(asset_id),
            Some(&asset.owner_id),
        )
        .await?;
        store::assets::count_view(&txn, asset_id).await?;
        txn.commit().await?;
        if let Some((indexed, _)) = self.index.get(&asset.tenant_id, asset_id) {
            let mut indexed = (*indexed).clone();
            indexed.view_count += 1;
            self.index.upsert(indexed, None);
        }
        Ok(())
    }

    /// `creator.followed` / `comment.created`.
    pub async fn record_signal(
        &self,
        consumer: &str,
        envelope: &Envelope,
        signal: Signal,
    ) -> Result<()> {
        let Some(txn) = marquee_bus::inbox::claim(&self.db, consumer, envelope).await? else {
            return Ok(());
        };
        match &signal {
            Signal::Followed {
                follower_id,
                creator_id,
            } => {
                store::interactions::record(
                    &txn,
                    &envelope.tenant_id,
                    follower_id,
                    InteractionKind::Follow,
                    None,
                    Some(creator_id),
                )
                .await?
            }
            Signal::Commented {
                author_id,
                asset_id,
            } => {
                store::interactions::record(
                    &txn,
                    &envelope.tenant_id,
                    author_id,
                    InteractionKind::Comment,
                    Some(asset_id),
                    None,
                )
                .await?
            }
        }
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(views: i64, age_days: i64) -> IndexedAsset {
        IndexedAsset {
            asset_id: "a".into(),
            tenant_id: "t".into(),
            owner_id: "o".into(),
            visible: true,
            kind: "image".into(),
            title: String::new(),
            tags: Vec::new(),
            has_thumbnail: false,
            created_at: Utc::now() - Duration::days(age_days),
            view_count: views,
        }
    }

    #[test]
    fn cold_start_favours_popular_then_recent() {
        assert!(popular_and_recent(&asset(100, 30)) > popular_and_recent(&asset(0, 0)));
        assert!(popular_and_recent(&asset(0, 0)) > popular_and_recent(&asset(0, 30)));
        assert!((freshness(&asset(0, 7)) - 0.5).abs() < 0.01);
    }
}
