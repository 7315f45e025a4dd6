//! The campaign studio's rules, independent of transport: the gRPC handlers in `api/`,
//! the job runner and the scheduler call these. Other services and the AI providers are
//! reached through the ports declared here (implemented in `clients/` and `providers/`),
//! so the rules are tested without them.

pub mod analysis;
pub mod brief;
pub mod campaigns;
pub mod chat;
pub mod connectors;
pub mod engagement;
pub mod export;
pub mod jobs;
pub mod media;
pub mod posts;
pub mod schedule;
pub mod templates;
pub mod topic;
pub mod writer;

use crate::error::{CampaignError, Result};
use async_trait::async_trait;
use bytes::Bytes;
use marquee_bus::OutboxWaker;
use marquee_platform::{Principal, Role};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::Notify;
use writer::Writer;

/// What the studio reads about a creator's asset (content's metadata and extracted text,
/// tagging's tags).
#[derive(Debug, Clone, Default)]
pub struct AssetFacts {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub content_type: String,
    pub text_excerpt: String,
    pub tags: Vec<String>,
}

/// A file the studio made (an image or video), stored as the owner's asset.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub filename: String,
    pub bytes: Bytes,
}

/// Content (and tagging's tags on it), for the caller (`owner`).
#[async_trait]
pub trait Assets: Send + Sync {
    /// The asset's facts, if the owner may read it.
    async fn facts(&self, owner: &Principal, asset_id: &str) -> Result<AssetFacts>;
    /// The asset's picture (its thumbnail, or the file), at most `max_bytes`.
    async fn picture(&self, owner: &Principal, asset_id: &str, max_bytes: u64) -> Result<Bytes>;
    /// Uploads as the owner (moderated, tagged and quota-counted like any upload).
    async fn upload(&self, owner: &Principal, asset: NewAsset) -> Result<String>;
}

/// The tenant's taxonomy labels (tagging), to suggest hashtags from.
#[async_trait]
pub trait Taxonomy: Send + Sync {
    async fn labels(&self, owner: &Principal) -> Result<Vec<String>>;
}

/// A held amount of a billing limit, settled when the work ends.
#[derive(Debug, Clone)]
pub struct Hold {
    pub id: String,
}

/// Billing's quota holds: reserve before AI work, commit on success, release on failure.
#[async_trait]
pub trait Quota: Send + Sync {
    async fn reserve(&self, owner: &Principal, limit: &str, amount: u64, key: &str)
    -> Result<Hold>;
    async fn commit(&self, owner: &Principal, hold: &Hold) -> Result<()>;
    async fn release(&self, owner: &Principal, hold: &Hold) -> Result<()>;
}

/// A web page read for the analysis.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub url: String,
    pub title: String,
    pub description: String,
    pub text: String,
}

/// Fetches a business's website (with the SSRF rules of `clients::web`).
#[async_trait]
pub trait Web: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Page>;
}

/// Everything the studio works with, cheap to clone.
#[derive(Clone)]
pub struct Studio {
    pub(crate) db: DatabaseConnection,
    pub(crate) writer: Arc<dyn Writer>,
    pub(crate) visuals: media::Visuals,
    pub(crate) assets: Arc<dyn Assets>,
    pub(crate) taxonomy: Arc<dyn Taxonomy>,
    pub(crate) quota: Arc<dyn Quota>,
    pub(crate) web: Arc<dyn Web>,
    pub(crate) publishers: connectors::Publishers,
    pub(crate) sealer: connectors::Sealer,
    /// Wakes the job runner when a job is queued.
    pub(crate) jobs_waiting: Arc<Notify>,
    pub(crate) waker: Option<OutboxWaker>,
}

/// The ports and providers a studio is built from.
pub struct Parts {
    pub writer: Arc<dyn Writer>,
    pub visuals: media::Visuals,
    pub assets: Arc<dyn Assets>,
    pub taxonomy: Arc<dyn Taxonomy>,
    pub quota: Arc<dyn Quota>,
    pub web: Arc<dyn Web>,
    pub publishers: connectors::Publishers,
    pub sealer: connectors::Sealer,
}

impl Studio {
    pub fn new(db: DatabaseConnection, parts: Parts) -> Self {
        Self {
            db,
            writer: parts.writer,
            visuals: parts.visuals,
            assets: parts.assets,
            taxonomy: parts.taxonomy,
            quota: parts.quota,
            web: parts.web,
            publishers: parts.publishers,
            sealer: parts.sealer,
            jobs_waiting: Arc::new(Notify::new()),
            waker: None,
        }
    }

    /// Wakes the outbox relay after each commit that wrote an event.
    pub fn with_waker(mut self, waker: OutboxWaker) -> Self {
        self.waker = Some(waker);
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which provider writes text: `gemini`, `local` or `rules`.
    pub fn provider(&self) -> &'static str {
        self.writer.provider()
    }

    pub(crate) fn wake_relay(&self) {
        if let Some(waker) = &self.waker {
            waker.wake();
        }
    }
}

/// Whether `caller` may see and change what `owner_id` owns in `tenant_id`: the owner,
/// or an admin of the tenant.
pub fn may_access(caller: &Principal, tenant_id: &str, owner_id: &str) -> bool {
    caller.tenant_id == tenant_id && (caller.subject == owner_id || caller.acts_as(Role::Admin))
}

/// Creating campaigns is a creator's work.
pub fn require_creator(caller: &Principal) -> Result<()> {
    if caller.acts_as(Role::Creator) {
        Ok(())
    } else {
        Err(CampaignError::Forbidden("campaigns are a creator's"))
    }
}

/// A new id: UUIDv7, so ids sort by creation time (cursors use that).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
