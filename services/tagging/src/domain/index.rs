//! The vector index: every asset tagging knows, with its embedding, kept per tenant.
//!
//! [`ExactIndex`] answers nearest-neighbour queries exactly: one pass of dot products over
//! a tenant's contiguous vectors (`vector::dot`, vectorised), in memory. It is loaded from
//! the database at start-up and kept in step by this process's own writes and by
//! [`ExactIndex::apply`] of rows other replicas changed (the service polls
//! `updated_at`). At 100k assets one query is one 150 MB scan (see
//! docs/benchmarks.md); past a few million per tenant an approximate index (pgvector's
//! HNSW) is the step up.

use super::vector;
use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use sea_orm::DatabaseTransaction;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What search answers need of an asset, without a database round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedAsset {
    pub asset_id: String,
    pub tenant_id: String,
    pub owner_id: String,
    /// Approved: others may see it.
    pub visible: bool,
    pub kind: String,
    pub title: String,
    /// Tag names, strongest first.
    pub tags: Vec<String>,
    pub has_thumbnail: bool,
    pub created_at: DateTime<Utc>,
    pub view_count: i64,
}

impl IndexedAsset {
    /// Whether `viewer` (a user id) may see it: approved, or their own.
    pub fn visible_to(&self, viewer: &str) -> bool {
        self.visible || self.owner_id == viewer
    }
}

/// Which assets a query may return.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub tenant_id: String,
    /// The caller: approved assets and the caller's own pass.
    pub viewer: String,
    pub kind: Option<String>,
    /// Every one must be among the asset's tags.
    pub tags: Vec<String>,
    /// Leave out this owner's assets (recommendations leave out the user's own).
    pub exclude_owner: Option<String>,
    /// Leave out these assets.
    pub exclude: HashSet<String>,
}

impl Filter {
    pub fn admits(&self, asset: &IndexedAsset) -> bool {
        asset.tenant_id == self.tenant_id
            && asset.visible_to(&self.viewer)
            && self.kind.as_deref().is_none_or(|kind| asset.kind == kind)
            && self.tags.iter().all(|tag| asset.tags.contains(tag))
            && self
                .exclude_owner
                .as_deref()
                .is_none_or(|owner| asset.owner_id != owner)
            && !self.exclude.contains(&asset.asset_id)
    }
}

/// An asset and how well it answers a query (cosine, −1…1).
#[derive(Clone, Debug)]
pub struct Scored {
    pub asset: Arc<IndexedAsset>,
    pub score: f32,
}

#[derive(Default)]
struct TenantIndex {
    assets: Vec<Arc<IndexedAsset>>,
    /// `dim` floats per asset, in the order of `assets`; zeros for an asset without an
    /// embedding (`has_vector` false).
    vectors: Vec<f32>,
    has_vector: Vec<bool>,
    position: HashMap<String, usize>,
}

impl TenantIndex {
    fn upsert(&mut self, asset: Arc<IndexedAsset>, embedding: Option<&[f32]>, dim: usize) {
        let row = match self.position.get(&asset.asset_id) {
            Some(&row) => row,
            None => {
                self.position
                    .insert(asset.asset_id.clone(), self.assets.len());
                self.assets.push(asset.clone());
                self.vectors.extend(std::iter::repeat_n(0.0, dim));
                self.has_vector.push(false);
                self.assets.len() - 1
            }
        };
        self.assets[row] = asset;
        if let Some(embedding) = embedding.filter(|e| e.len() == dim) {
            self.vectors[row * dim..(row + 1) * dim].copy_from_slice(embedding);
            self.has_vector[row] = true;
        }
    }

    fn remove(&mut self, asset_id: &str, dim: usize) -> bool {
        let Some(row) = self.position.remove(asset_id) else {
            return false;
        };
        let last = self.assets.len() - 1;
        self.assets.swap_remove(row);
        self.has_vector.swap_remove(row);
        if row != last {
            let (head, tail) = self.vectors.split_at_mut(last * dim);
            head[row * dim..(row + 1) * dim].copy_from_slice(&tail[..dim]);
            self.position.insert(self.assets[row].asset_id.clone(), row);
        }
        self.vectors.truncate(last * dim);
        true
    }

    fn vector(&self, row: usize, dim: usize) -> Option<&[f32]> {
        self.has_vector[row].then(|| &self.vectors[row * dim..(row + 1) * dim])
    }
}

/// Exact nearest-neighbour search over in-memory vectors, per tenant.
pub struct ExactIndex {
    dim: usize,
    tenants: RwLock<HashMap<String, TenantIndex>>,
}

impl ExactIndex {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            tenants: RwLock::new(HashMap::new()),
        }
    }

    /// Adds or replaces an asset; `embedding` `None` keeps the one it had (if any).
    pub fn upsert(&self, asset: IndexedAsset, embedding: Option<&[f32]>) {
        let mut tenants = self.tenants.write();
        tenants.entry(asset.tenant_id.clone()).or_default().upsert(
            Arc::new(asset),
            embedding,
            self.dim,
        );
    }

    pub fn remove(&self, tenant_id: &str, asset_id: &str) -> bool {
        let mut tenants = self.tenants.write();
        tenants
            .get_mut(tenant_id)
            .is_some_and(|tenant| tenant.remove(asset_id, self.dim))
    }

    pub fn len(&self) -> usize {
        self.tenants.read().values().map(|t| t.assets.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(
        &self,
        tenant_id: &str,
        asset_id: &str,
    ) -> Option<(Arc<IndexedAsset>, Option<Vec<f32>>)> {
        let tenants = self.tenants.read();
        let tenant = tenants.get(tenant_id)?;
        let row = *tenant.position.get(asset_id)?;
        Some((
            tenant.assets[row].clone(),
            tenant.vector(row, self.dim).map(<[f32]>::to_vec),
        ))
    }

    /// The embeddings of these assets (those that have one), for a profile.
    pub fn vectors_of(&self, tenant_id: &str, asset_ids: &[String]) -> Vec<(String, Vec<f32>)> {
        let tenants = self.tenants.read();
        let Some(tenant) = tenants.get(tenant_id) else {
            return Vec::new();
        };
        asset_ids
            .iter()
            .filter_map(|id| {
                let row = *tenant.position.get(id)?;
                Some((id.clone(), tenant.vector(row, self.dim)?.to_vec()))
            })
            .collect()
    }

    /// The `limit` admitted assets closest to `query`, best first.
    pub fn nearest(&self, query: &[f32], filter: &Filter, limit: usize) -> Vec<Scored> {
        if limit == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let tenants = self.tenants.read();
        let Some(tenant) = tenants.get(&filter.tenant_id) else {
            return Vec::new();
        };
        let mut best = TopK::new(limit);
        for (row, asset) in tenant.assets.iter().enumerate() {
            let Some(vector) = tenant.vector(row, self.dim) else {
                continue;
            };
            let score = vector::dot(query, vector);
            if best.would_take(score) && filter.admits(asset) {
                best.push(score, row);
            }
        }
        best.into_sorted()
            .into_iter()
            .map(|(score, row)| Scored {
                asset: tenant.assets[row].clone(),
                score,
            })
            .collect()
    }

    /// The `limit` admitted assets ranked highest by `rank` (no query vector: tag and kind
    /// browsing, popular and recent), best first.
    pub fn top_by(
        &self,
        filter: &Filter,
        limit: usize,
        rank: impl Fn(&IndexedAsset) -> f32,
    ) -> Vec<Scored> {
        let tenants = self.tenants.read();
        let Some(tenant) = tenants.get(&filter.tenant_id) else {
            return Vec::new();
        };
        let mut best = TopK::new(limit);
        for (row, asset) in tenant.assets.iter().enumerate() {
            if filter.admits(asset) {
                let score = rank(asset);
                if best.would_take(score) {
                    best.push(score, row);
                }
            }
        }
        best.into_sorted()
            .into_iter()
            .map(|(score, row)| Scored {
                asset: tenant.assets[row].clone(),
                score,
            })
            .collect()
    }
}

/// Where nearest-neighbour queries go, and where vectors are written for them: the exact
/// in-memory index, or pgvector's HNSW index (`store::pgvector`). Either way the
/// in-memory index keeps every asset's metadata (and vector, for profiles and similar
/// assets).
#[async_trait]
pub trait VectorSearch: Send + Sync {
    /// `exact` or `pgvector`.
    fn name(&self) -> &'static str;

    /// The `limit` admitted assets nearest to `query`, best first.
    async fn nearest(&self, query: &[f32], filter: &Filter, limit: usize) -> Result<Vec<Scored>>;

    /// Stores (or clears) an asset's vector in the same transaction as its tags.
    async fn save(
        &self,
        txn: &DatabaseTransaction,
        asset_id: &str,
        vector: Option<&[f32]>,
    ) -> Result<()>;
}

/// Exact search over the in-memory index (which the service updates itself).
pub struct ExactSearch(pub Arc<ExactIndex>);

#[async_trait]
impl VectorSearch for ExactSearch {
    fn name(&self) -> &'static str {
        "exact"
    }

    async fn nearest(&self, query: &[f32], filter: &Filter, limit: usize) -> Result<Vec<Scored>> {
        Ok(self.0.nearest(query, filter, limit))
    }

    async fn save(&self, _: &DatabaseTransaction, _: &str, _: Option<&[f32]>) -> Result<()> {
        Ok(())
    }
}

/// The k best (score, row) pairs seen, kept in a small sorted vector (k is a page, not
/// the corpus: insertion is cheaper than a heap at these sizes and keeps ties stable).
struct TopK {
    k: usize,
    items: Vec<(f32, usize)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    fn would_take(&self, score: f32) -> bool {
        self.k > 0 && (self.items.len() < self.k || score > self.items[self.items.len() - 1].0)
    }

    fn push(&mut self, score: f32, row: usize) {
        let at = self.items.partition_point(|(s, _)| *s >= score);
        self.items.insert(at, (score, row));
        self.items.truncate(self.k);
    }

    fn into_sorted(self) -> Vec<(f32, usize)> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(id: &str, tenant: &str, owner: &str, visible: bool) -> IndexedAsset {
        IndexedAsset {
            asset_id: id.into(),
            tenant_id: tenant.into(),
            owner_id: owner.into(),
            visible,
            kind: "image".into(),
            title: id.into(),
            tags: vec!["cat".into()],
            has_thumbnail: false,
            created_at: Utc::now(),
            view_count: 0,
        }
    }

    fn unit(angle: f32) -> Vec<f32> {
        vec![angle.cos(), angle.sin()]
    }

    fn filter(tenant: &str, viewer: &str) -> Filter {
        Filter {
            tenant_id: tenant.into(),
            viewer: viewer.into(),
            ..Filter::default()
        }
    }

    #[test]
    fn nearest_ranks_by_cosine_and_respects_visibility_and_tenants() {
        let index = ExactIndex::new(2);
        index.upsert(asset("a", "t1", "alice", true), Some(&unit(0.0)));
        index.upsert(asset("b", "t1", "alice", true), Some(&unit(0.5)));
        index.upsert(asset("c", "t1", "bob", false), Some(&unit(0.1)));
        index.upsert(asset("d", "t2", "carol", true), Some(&unit(0.0)));
        let ids = |hits: Vec<Scored>| -> Vec<String> {
            hits.into_iter().map(|h| h.asset.asset_id.clone()).collect()
        };
        assert_eq!(
            ids(index.nearest(&unit(0.0), &filter("t1", "alice"), 10)),
            ["a", "b"]
        );
        assert_eq!(
            ids(index.nearest(&unit(0.0), &filter("t1", "bob"), 10)),
            ["a", "c", "b"]
        );
        assert_eq!(
            ids(index.nearest(&unit(0.0), &filter("t1", "bob"), 1)),
            ["a"]
        );
        assert_eq!(
            ids(index.nearest(&unit(0.0), &filter("t3", "bob"), 10)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn removing_keeps_the_other_vectors_with_their_assets() {
        let index = ExactIndex::new(2);
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            index.upsert(asset(id, "t", "o", true), Some(&unit(i as f32)));
        }
        assert!(index.remove("t", "a"));
        assert!(!index.remove("t", "a"));
        assert_eq!(index.len(), 2);
        let (_, c) = index.get("t", "c").unwrap();
        assert_eq!(c.unwrap(), unit(2.0));
        let hits = index.nearest(&unit(1.0), &filter("t", "o"), 1);
        assert_eq!(hits[0].asset.asset_id, "b");
        assert!((hits[0].score - 1.0).abs() < 1e-6);
    }

    #[test]
    fn an_update_without_embedding_keeps_the_vector_and_refreshes_the_rest() {
        let index = ExactIndex::new(2);
        index.upsert(asset("a", "t", "o", false), Some(&unit(0.0)));
        index.upsert(asset("a", "t", "o", true), None);
        let (meta, vector) = index.get("t", "a").unwrap();
        assert!(meta.visible);
        assert_eq!(vector.unwrap(), unit(0.0));
    }

    #[test]
    fn filters_by_kind_tags_owner_and_exclusions() {
        let index = ExactIndex::new(2);
        index.upsert(asset("a", "t", "alice", true), Some(&unit(0.0)));
        let mut video = asset("v", "t", "bob", true);
        video.kind = "video".into();
        index.upsert(video, Some(&unit(0.0)));
        let mut f = filter("t", "x");
        f.kind = Some("video".into());
        assert_eq!(index.nearest(&unit(0.0), &f, 5).len(), 1);
        let mut f = filter("t", "x");
        f.tags = vec!["dog".into()];
        assert!(index.nearest(&unit(0.0), &f, 5).is_empty());
        let mut f = filter("t", "x");
        f.exclude_owner = Some("alice".into());
        f.exclude.insert("v".into());
        assert!(index.top_by(&f, 5, |_| 1.0).is_empty());
    }
}
