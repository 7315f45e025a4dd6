//! Sign-in throttling, keyed by the account and by the source of the attempts (the
//! client IP as the gateway determined it; an IPv6 address by its /64). Counters live in
//! the database so every replica sees the same counts.
//!
//! - Per (account, source): after `source_free_failures` failures, each further attempt
//!   from that source waits `source_first_delay_secs`, doubling with every failure up to
//!   `lockout_secs`. This is what slows down guessing, and it touches no other source: the
//!   owner signs in from elsewhere while an attacker hammers the account.
//! - Per source, across accounts: `ip_max_failures` within the window locks the source
//!   out (one address spraying many accounts).
//! - Per account, across sources: `account_max_failures` within the window (a
//!   distributed attack) holds back sources that have not signed into the account lately.
//!
//! A source that signed into the account within `known_source_secs` is never held back
//! by others' failures (the last two checks), only by its own. A success clears the
//! source's own count.

use super::Auth;
use crate::error::{AuthError, Result};
use crate::store;
use chrono::{DateTime, Duration, Utc};
use std::net::{IpAddr, Ipv6Addr};

pub fn account_key(tenant_id: &str, email: &str) -> String {
    format!("account:{tenant_id}:{email}")
}

pub fn ip_key(source: &Source) -> String {
    format!("ip:{}", source.0)
}

/// Where sign-in attempts come from, as throttled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(String);

/// Longest source kept from a caller that sent something other than an address.
const MAX_SOURCE_CHARS: usize = 64;

impl Source {
    /// The source of `ip`: an IPv4 address as is; an IPv6 address by its /64, which one
    /// subscriber holds whole and could otherwise rotate through for fresh budgets.
    pub fn of(ip: &str) -> Self {
        match ip.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(IpAddr::V4(ip)) => Self(ip.to_string()),
            Ok(IpAddr::V6(ip)) => {
                let network = u128::from(ip) & (u128::MAX << 64);
                Self(format!("{}/64", Ipv6Addr::from(network)))
            }
            Err(_) => Self(ip.chars().take(MAX_SOURCE_CHARS).collect()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn too_many(until: DateTime<Utc>, now: DateTime<Utc>) -> AuthError {
    // Rounded up: a client that waits exactly Retry-After must not be refused again.
    let millis = (until - now).num_milliseconds().max(0);
    AuthError::TooManyAttempts {
        retry_after_secs: (millis as u64).div_ceil(1000).max(1),
    }
}

impl Auth {
    /// Fails with `TooManyAttempts` if any key is locked.
    pub(crate) async fn check_throttle(&self, keys: &[&str]) -> Result<()> {
        let now = Utc::now();
        match store::throttle::locked_until(&self.db, keys).await? {
            Some(until) if until > now => Err(too_many(until, now)),
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

    /// The wait after the `failures`th failure of one source against one account.
    fn source_delay(&self, failures: i32) -> Duration {
        let settings = &self.settings.throttle;
        let doublings = failures
            .saturating_sub(settings.source_free_failures)
            .clamp(0, 30);
        let secs = settings
            .source_first_delay_secs
            .max(1)
            .saturating_mul(1 << doublings)
            .min(settings.lockout_secs.max(1));
        Duration::seconds(secs)
    }

    /// Whether `source` may try a password (or finish a sign-in) for `account` now;
    /// `TooManyAttempts` with the wait if not.
    pub(crate) async fn admit_sign_in(&self, account: &str, source: &Source) -> Result<()> {
        let settings = &self.settings.throttle;
        let now = Utc::now();
        let forget_before = now - Duration::seconds(settings.window_secs);
        let row = store::throttle::find_source(&self.db, account, source.as_str()).await?;
        let known = row
            .as_ref()
            .and_then(|row| row.last_success_at)
            .is_some_and(|at| at > now - Duration::seconds(settings.known_source_secs));
        // Its own wait applies to every source, the owner's too.
        if let Some(until) = row.as_ref().and_then(|row| row.locked_until)
            && until > now
        {
            return Err(too_many(until, now));
        }
        // Others' failures hold back only a source that has not signed in here lately.
        if !known {
            self.check_throttle(&[account, &ip_key(source)]).await?;
        }
        // Past the free failures this attempt takes the source's next slot up front (the
        // wait it would earn by failing), so parallel attempts cannot share one gap.
        let failures = row
            .filter(|row| {
                row.last_failure_at.is_some_and(|at| at >= forget_before)
                    || row.locked_until.is_some_and(|at| at >= forget_before)
            })
            .map_or(0, |row| row.failures);
        if failures >= settings.source_free_failures {
            let until = now + self.source_delay(failures + 1);
            let claimed = store::throttle::claim_source_attempt(
                &self.db,
                account,
                source.as_str(),
                now,
                until,
            )
            .await?;
            if !claimed {
                return Err(too_many(now + Duration::seconds(1), now));
            }
        }
        Ok(())
    }

    /// A failed sign-in of `source` for `account`: counts against the pair (and sets its
    /// wait past the free failures), the source and the account.
    pub(crate) async fn record_sign_in_failure(
        &self,
        account: &str,
        source: &Source,
    ) -> Result<()> {
        let settings = &self.settings.throttle;
        let now = Utc::now();
        let failures = store::throttle::record_source_failure(
            &self.db,
            account,
            source.as_str(),
            now,
            now - Duration::seconds(settings.window_secs),
        )
        .await?;
        if failures >= settings.source_free_failures {
            let until = now + self.source_delay(failures);
            store::throttle::delay_source(&self.db, account, source.as_str(), until).await?;
        }
        self.record_failure(account, settings.account_max_failures)
            .await?;
        self.record_failure(&ip_key(source), settings.ip_max_failures)
            .await
    }

    /// `source` signed into `account`: its own count is cleared and it becomes a known
    /// source of the account. Others' counts stay: the owner signing in must not reset
    /// an attacker's budget.
    pub(crate) async fn record_sign_in_success(
        &self,
        account: &str,
        source: &Source,
    ) -> Result<()> {
        let settings = &self.settings.throttle;
        let now = Utc::now();
        store::throttle::record_source_success(&self.db, account, source.as_str(), now).await?;
        // Spent rows are cleared here rather than by a background job.
        if let Err(error) = store::throttle::prune_sources(
            &self.db,
            now - Duration::seconds(settings.window_secs),
            now - Duration::seconds(settings.known_source_secs),
        )
        .await
        {
            tracing::warn!(%error, "pruning sign-in throttle rows failed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_addresses_and_ipv6_networks() {
        assert_eq!(Source::of("203.0.113.7").as_str(), "203.0.113.7");
        assert_eq!(Source::of("::ffff:203.0.113.7").as_str(), "203.0.113.7");
        assert_eq!(
            Source::of("2001:db8:1:2:aaaa::1").as_str(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            Source::of("2001:db8:1:2:bbbb::9"),
            Source::of("2001:db8:1:2::1")
        );
        assert_ne!(Source::of("2001:db8:1:3::1"), Source::of("2001:db8:1:2::1"));
        assert_eq!(Source::of("unknown").as_str(), "unknown");
        assert_eq!(
            Source::of(&"x".repeat(500)).as_str().len(),
            MAX_SOURCE_CHARS
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        let now = Utc::now();
        let wait = |millis| match too_many(now + Duration::milliseconds(millis), now) {
            AuthError::TooManyAttempts { retry_after_secs } => retry_after_secs,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(0), 1);
        assert_eq!(wait(1), 1);
        assert_eq!(wait(1000), 1);
        assert_eq!(wait(1001), 2);
        assert_eq!(wait(3999), 4);
    }
}
