//! The auth rules, independent of transport: gRPC handlers in `api/` and the `marquee`
//! CLI both call these.

pub mod accounts;
pub mod audit;
pub mod bootstrap;
pub mod clients;
pub mod email;
pub mod invitations;
pub mod keys;
pub mod oidc;
pub mod password;
pub mod revocations;
pub mod sessions;
pub mod tenants;
pub mod throttle;
pub mod tokens;
pub mod users;

use crate::settings::AuthSettings;
use crate::store::Db;
use std::sync::Arc;

/// Where a request came from (as the gateway saw it): audit and IP throttling use it.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub ip: String,
    pub user_agent: String,
}

/// The auth service core, cheap to clone.
#[derive(Clone)]
pub struct Auth {
    pub(crate) db: Db,
    pub(crate) settings: Arc<AuthSettings>,
    pub(crate) keys: keys::KeyRing,
    pub(crate) users: users::UserCache,
    pub(crate) oidc: oidc::Providers,
    pub(crate) mailer: crate::clients::mail::Mailer,
}

impl Auth {
    /// Loads (or creates) the signing keys and the default tenant, and bootstraps the
    /// first admin if configured.
    pub async fn start(db: Db, settings: AuthSettings) -> crate::error::Result<Self> {
        let oidc = oidc::Providers::from_settings(&settings)?;
        let mailer = crate::clients::mail::Mailer::from_settings(&settings)
            .map_err(|error| crate::error::AuthError::Internal(error.to_string()))?;
        tracing::info!(?mailer, "outgoing mail");
        let keys = keys::KeyRing::load_or_create(&db, &settings).await?;
        let auth = Self {
            db,
            settings: Arc::new(settings),
            keys,
            users: users::UserCache::new(),
            oidc,
            mailer,
        };
        auth.ensure_default_tenant().await?;
        auth.bootstrap_admin().await?;
        Ok(auth)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Reloads signing keys from the database every `key_reload_secs` until `stop`.
    pub async fn reload_keys_until_stopped(
        self,
        stop: marquee_platform::shutdown::CancellationToken,
    ) {
        let period = std::time::Duration::from_secs(self.settings.key_reload_secs.max(1));
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(period) => {
                    if let Err(error) = self.keys.reload(&self.db).await {
                        tracing::warn!(%error, "reloading signing keys failed");
                    }
                }
            }
        }
    }
}
