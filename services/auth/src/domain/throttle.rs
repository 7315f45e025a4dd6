//! Login throttling: too many failed sign-ins for one account or from one IP lock that
//! key for a while (429 with Retry-After). Counters live in the database so every
//! replica sees the same counts.

use super::Auth;
use crate::error::{AuthError, Result};
use crate::store;
use chrono::{Duration, Utc};

pub fn account_key(tenant_id: &str, email: &str) -> String {
    format!("account:{tenant_id}:{email}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

impl Auth {
    /// Fails with `TooManyAttempts` if any key is locked.
    pub(crate) async fn check_throttle(&self, keys: &[&str]) -> Result<()> {
        let now = Utc::now();
        match store::throttle::locked_until(&self.db, keys).await? {
            Some(until) if until > now => Err(AuthError::TooManyAttempts {
                retry_after_secs: (until - now).num_seconds().max(1) as u64,
            }),
            _ => Ok(()),
        }
    }

    /// Counts one failure against `key`; locks it when `max_failures` is reached within
    /// the window.
    pub(crate) async fn record_failure(&self, key: &str, max_failures: i32) -> Result<()> {
        let settings = &self.settings.throttle;
        let now = Utc::now();
        store::throttle::record_failure(
            &self.db,
            key,
            now,
            now - Duration::seconds(settings.window_secs),
            max_failures,
            now + Duration::seconds(settings.lockout_secs),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn clear_failures(&self, key: &str) -> Result<()> {
        Ok(store::throttle::clear(&self.db, key).await?)
    }
}
