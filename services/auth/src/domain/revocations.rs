//! Sessions that really end. An access token is a signed statement valid until it
//! expires (15 min for users, 1 h for partners), and the gateway caches what it verified;
//! ending a session must therefore also reach the gateway. Every event that ends
//! sessions records a revocation here — one session (the token's `sid`: its refresh
//! family) or every token of a subject issued before now — and every gateway replica
//! polls them (`ListRevocations`) and refuses covered tokens within seconds.
//!
//! Why polling rather than the bus: each replica needs *every* revocation (a fan-out, not
//! the work queues the bus has), and one that was away must catch up; a cursor on the
//! creation time with an overlap does both, on the embedded default too.

use super::audit::{AuditEvent, action, outcome};
use super::users::User;
use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::store;
use chrono::{DateTime, Duration, Utc};
use marquee_platform::input;

/// What a revocation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// Every access token carrying this `sid` (a refresh-token family).
    Session(String),
    /// Every access token of this user or partner client issued before `not_before`.
    Subject(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    pub id: String,
    pub revoked: Revoked,
    pub not_before: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// No token it covers outlives this.
    pub expires_at: DateTime<Utc>,
}

/// A page of [`Auth::revocations_since`], and the cursor for the next poll.
pub struct RevocationPage {
    pub revocations: Vec<Revocation>,
    pub as_of: DateTime<Utc>,
}

/// How far a poll looks back before its cursor: a revocation written in a transaction
/// that committed after a poll began has a creation time before that poll's cursor.
const POLL_OVERLAP_SECS: i64 = 30;
/// Most revocations in one answer (a first poll after a mass revocation pages on).
const PAGE: u64 = 5_000;

impl Auth {
    /// Longest an access token lives: no revocation needs to outlive it.
    fn longest_token_lifetime(&self) -> Duration {
        Duration::seconds(
            self.settings
                .access_token_ttl_secs
                .max(self.settings.client_token_ttl_secs),
        )
    }

    /// Records that session `session_id`'s access tokens are revoked (in `db`: pass the
    /// transaction that ends the session).
    pub(crate) async fn revoke_session(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        session_id: &str,
    ) -> Result<()> {
        self.record(db, Revoked::Session(session_id.to_string()))
            .await
    }

    /// Records that every access token of `subject` issued until now is revoked.
    pub(crate) async fn revoke_subject(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        subject: &str,
    ) -> Result<()> {
        self.record(db, Revoked::Subject(subject.to_string())).await
    }

    async fn record(&self, db: &impl sea_orm::ConnectionTrait, revoked: Revoked) -> Result<()> {
        let now = Utc::now();
        store::revocations::insert(
            db,
            Revocation {
                id: uuid::Uuid::now_v7().to_string(),
                revoked,
                not_before: now,
                created_at: now,
                expires_at: now + self.longest_token_lifetime(),
            },
        )
        .await?;
        Ok(())
    }

    /// The revocations in force created after `since` (minus an overlap), for the
    /// gateway's poll; expired ones are deleted on the way.
    pub async fn revocations_since(&self, since: Option<DateTime<Utc>>) -> Result<RevocationPage> {
        let now = Utc::now();
        store::revocations::delete_expired(&self.db, now).await?;
        let from = since.map(|since| since - Duration::seconds(POLL_OVERLAP_SECS));
        let revocations = store::revocations::in_force(&self.db, from, now, PAGE).await?;
        // A full page: the next poll goes on from the last one returned.
        let as_of = match revocations.last() {
            Some(last) if revocations.len() as u64 == PAGE => {
                last.created_at + Duration::seconds(POLL_OVERLAP_SECS)
            }
            _ => now,
        };
        Ok(RevocationPage { revocations, as_of })
    }
}

impl Auth {
    /// Disables (or enables again) a user of the admin's tenant. Disabling ends every
    /// session at once; a disabled user cannot sign in or refresh.
    pub async fn set_user_disabled(
        &self,
        admin_id: &str,
        tenant_id: &str,
        user_id: &str,
        disabled: bool,
        context: &RequestContext,
    ) -> Result<User> {
        input::id("user_id", user_id)?;
        if disabled && user_id == admin_id {
            return Err(AuthError::invalid(
                "cannot_disable_self",
                "an admin cannot disable their own account",
            ));
        }
        let txn = store::begin(&self.db).await?;
        let when = disabled.then(Utc::now);
        let user = store::users::set_disabled(&txn, tenant_id, user_id, when)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        if disabled {
            self.revoke_all_for_user(&txn, tenant_id, user_id).await?;
        }
        txn.commit().await?;
        self.users.forget(tenant_id, user_id).await;
        self.audit(AuditEvent {
            tenant_id,
            actor_id: admin_id,
            action: if disabled {
                action::USER_DISABLED
            } else {
                action::USER_ENABLED
            },
            outcome: outcome::SUCCESS,
            context,
            detail: format!("user={user_id}"),
        })
        .await;
        Ok(user)
    }

    /// Ends every session of a user of the admin's tenant (a lost laptop, a leaked
    /// token): refresh tokens and access tokens alike. Returns how many live refresh
    /// tokens were revoked.
    pub async fn revoke_user_sessions(
        &self,
        admin_id: &str,
        tenant_id: &str,
        user_id: &str,
        context: &RequestContext,
    ) -> Result<u64> {
        input::id("user_id", user_id)?;
        if store::users::find(&self.db, tenant_id, user_id)
            .await?
            .is_none()
        {
            return Err(AuthError::NotFound("user"));
        }
        let txn = store::begin(&self.db).await?;
        let revoked = self.revoke_all_for_user(&txn, tenant_id, user_id).await?;
        txn.commit().await?;
        self.audit(AuditEvent {
            tenant_id,
            actor_id: admin_id,
            action: action::SESSIONS_REVOKED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("user={user_id} refresh_tokens={revoked}"),
        })
        .await;
        Ok(revoked)
    }
}
