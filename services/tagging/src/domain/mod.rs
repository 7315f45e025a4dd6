//! The tagging rules, independent of transport: the gRPC handlers in `api/` and the
//! event consumers in `events/` call these. Pure parts (ranking, keywords, colours, tag
//! edits, the vector index) sit beside the service that uses them.

pub mod assets;
pub mod index;
pub mod keywords;
pub mod palette;
pub mod recommendations;
pub mod search;
pub mod tagger;
pub mod tags;
pub mod taxonomy;
pub mod vector;
pub mod zero_shot;

use crate::inference::EMBEDDING_DIM;
use crate::settings::TaggingSettings;
use index::{ExactIndex, ExactSearch, VectorSearch};
use marquee_bus::OutboxWaker;
use marquee_platform::{Principal, Role};
use parking_lot::Mutex;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::Arc;
use tagger::{EmbeddedTaxonomy, ImageSource, Tagger};

pub use crate::store::entities::interaction::InteractionKind;
pub use crate::store::entities::tagged_asset::{Model as TaggedAsset, TaggingState};

/// Whether the caller may moderate (edit any asset's tags in their tenant).
pub fn is_moderator(caller: &Principal) -> bool {
    caller.acts_as(Role::Moderator)
}

/// The tagging service core, cheap to clone.
#[derive(Clone)]
pub struct Tagging {
    pub(crate) db: DatabaseConnection,
    pub(crate) settings: Arc<TaggingSettings>,
    pub(crate) index: Arc<ExactIndex>,
    /// Where nearest-neighbour queries go: the exact index, or pgvector.
    pub(crate) vectors: Arc<dyn VectorSearch>,
    /// `None` when the models are not there: no AI tags, search by words only.
    pub(crate) tagger: Option<Tagger>,
    /// Why AI tagging is off (shown in logs, `/readyz` and on assets).
    pub(crate) models_off: Option<String>,
    pub(crate) images: Arc<dyn ImageSource>,
    /// Embedded taxonomies by tenant (`""`: the default one).
    pub(crate) taxonomies: Arc<Mutex<HashMap<String, Arc<EmbeddedTaxonomy>>>>,
    pub(crate) waker: Option<OutboxWaker>,
}

impl Tagging {
    pub fn new(
        db: DatabaseConnection,
        settings: TaggingSettings,
        tagger: Result<Tagger, String>,
        images: Arc<dyn ImageSource>,
    ) -> Self {
        let (tagger, models_off) = match tagger {
            Ok(tagger) => (Some(tagger), None),
            Err(reason) => (None, Some(reason)),
        };
        let index = Arc::new(ExactIndex::new(EMBEDDING_DIM));
        Self {
            db,
            settings: Arc::new(settings),
            vectors: Arc::new(ExactSearch(index.clone())),
            index,
            tagger,
            models_off,
            images,
            taxonomies: Arc::default(),
            waker: None,
        }
    }

    /// Wakes the outbox relay after each commit that wrote an event.
    pub fn with_waker(mut self, waker: OutboxWaker) -> Self {
        self.waker = Some(waker);
        self
    }

    /// Sends nearest-neighbour queries to `vectors` (pgvector) instead of the exact index.
    pub fn with_vector_search(mut self, vectors: Arc<dyn VectorSearch>) -> Self {
        self.vectors = vectors;
        self
    }

    /// `exact` or `pgvector`.
    pub fn vector_search(&self) -> &'static str {
        self.vectors.name()
    }

    /// Why AI tagging is off, if it is.
    pub fn models_off(&self) -> Option<&str> {
        self.models_off.as_deref()
    }

    pub fn index(&self) -> &Arc<ExactIndex> {
        &self.index
    }

    pub(crate) fn wake_outbox(&self) {
        if let Some(waker) = &self.waker {
            waker.wake();
        }
    }
}
