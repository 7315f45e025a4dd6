//! The content rules, independent of transport: the gRPC handlers in `api/` and the
//! event consumers in `events/` call these.

pub mod assets;
pub mod comments;
pub mod community;
pub mod flags;
pub mod moderation;
pub mod pipeline;
pub mod processing;
pub mod review;
pub mod signing;
pub mod sniff;
pub mod spam;
pub mod storage;
pub mod upload;

use crate::settings::ContentSettings;
use marquee_bus::OutboxWaker;
use marquee_platform::Principal;
use object_store::ObjectStore;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use crate::store::entities::asset::Model as Asset;
pub use crate::store::entities::comment::Model as Comment;

/// Roles that may moderate (and see everything in their tenant).
pub const MODERATOR_ROLES: [&str; 2] = ["moderator", "admin"];

/// Asset statuses.
pub mod status {
    pub const PROCESSING: &str = "processing";
    pub const PENDING_REVIEW: &str = "pending_review";
    pub const READY: &str = "ready";
    pub const REJECTED: &str = "rejected";
    pub const FAILED: &str = "failed";
}

/// Moderation states (independent of processing).
pub mod moderation_state {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
}

pub fn is_moderator(caller: &Principal) -> bool {
    MODERATOR_ROLES.iter().any(|role| caller.has_role(role))
}

/// The content service core, cheap to clone.
#[derive(Clone)]
pub struct Content {
    pub(crate) db: DatabaseConnection,
    pub(crate) objects: Arc<dyn ObjectStore>,
    pub(crate) settings: Arc<ContentSettings>,
    pub(crate) flags: Arc<dyn flags::FlagSource>,
    pub(crate) waker: Option<OutboxWaker>,
    pub(crate) signing_key: signing::SigningKey,
    /// Storage and asset quotas; `None` (tests, tools) means unmetered. `serve` always
    /// sets it.
    pub(crate) billing: Option<crate::billing::BillingClient>,
}

impl Content {
    pub fn new(
        db: DatabaseConnection,
        objects: Arc<dyn ObjectStore>,
        settings: ContentSettings,
        flags: Arc<dyn flags::FlagSource>,
    ) -> Self {
        Self {
            db,
            objects,
            signing_key: signing::SigningKey::from_settings(settings.signing_key.as_ref()),
            settings: Arc::new(settings),
            flags,
            waker: None,
            billing: None,
        }
    }

    /// Holds storage and asset quota in billing for uploads, gives it back on delete.
    pub fn with_billing(mut self, billing: crate::billing::BillingClient) -> Self {
        self.billing = Some(billing);
        self
    }

    /// Wakes this relay after each commit that wrote an event (publish now rather than
    /// at the next poll).
    pub fn with_waker(mut self, waker: OutboxWaker) -> Self {
        self.waker = Some(waker);
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    pub fn settings(&self) -> &ContentSettings {
        &self.settings
    }

    pub(crate) fn wake_relay(&self) {
        if let Some(waker) = &self.waker {
            waker.wake();
        }
    }
}

/// The tags column holds a JSON array.
pub fn tags_of(asset: &Asset) -> Vec<String> {
    serde_json::from_str(&asset.tags).unwrap_or_default()
}

pub fn flags_of(asset: &Asset) -> Vec<String> {
    asset.flags.split_whitespace().map(str::to_string).collect()
}
