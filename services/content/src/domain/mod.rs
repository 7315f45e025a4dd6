//! The content rules, independent of transport: the gRPC handlers in `api/` and the
//! event consumers in `events/` call these.

pub mod assets;
pub mod comments;
pub mod community;
pub mod flags;
pub mod moderation;
pub mod pipeline;
pub mod processing;
pub mod quota;
pub mod review;
pub mod signing;
pub mod sniff;
pub mod spam;
pub mod storage;
pub mod upload;

use crate::settings::ContentSettings;
use marquee_bus::OutboxWaker;
use marquee_platform::{Principal, Role};
use object_store::ObjectStore;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use crate::store::entities::asset::Model as Asset;
pub use crate::store::entities::asset::{AssetStatus, ModerationState};
pub use crate::store::entities::comment::Model as Comment;

/// Whether the caller may moderate (and see everything in their tenant): a role that
/// grants moderator — moderators and admins ([`Role::grants`]).
pub fn is_moderator(caller: &Principal) -> bool {
    caller.acts_as(Role::Moderator)
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
    /// Storage and asset quotas (billing); `None` (tests, tools) means unmetered.
    /// `serve` always sets it.
    pub(crate) quota: Option<Arc<dyn quota::Quota>>,
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
            quota: None,
        }
    }

    /// Holds storage and asset quota for uploads, gives it back on delete.
    pub fn with_quota(mut self, quota: Arc<dyn quota::Quota>) -> Self {
        self.quota = Some(quota);
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

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::PrincipalKind;

    fn with_roles(roles: &[&str]) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            subject: "u1".into(),
            tenant_id: "t1".into(),
            roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
            scopes: Vec::new(),
        }
    }

    #[test]
    fn moderators_and_admins_moderate() {
        assert!(is_moderator(&with_roles(&[Role::Moderator.as_str()])));
        assert!(is_moderator(&with_roles(&[
            Role::Creator.as_str(),
            Role::Admin.as_str()
        ])));
        assert!(!is_moderator(&with_roles(&[Role::Creator.as_str()])));
        assert!(!is_moderator(&with_roles(&["Moderator", "root"])));
        assert!(!is_moderator(&with_roles(&[])));
    }
}
