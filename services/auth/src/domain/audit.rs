//! The audit log: who did what, when, from where, with what outcome.

use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::store;
use crate::store::audit::AuditFilter;
use chrono::{DateTime, Utc};

/// Actions recorded in the audit log (stable strings; admins filter by them).
pub mod action {
    pub const REGISTER: &str = "register";
    pub const LOGIN: &str = "login";
    /// An external provider's account was linked to an existing user (same verified
    /// email).
    pub const EXTERNAL_IDENTITY_LINKED: &str = "external_identity_linked";
    pub const REFRESH: &str = "refresh";
    pub const REFRESH_REUSE_DETECTED: &str = "refresh_reuse_detected";
    pub const LOGOUT: &str = "logout";
    /// E-mail verification and password reset (`domain::accounts`).
    pub const VERIFICATION_SENT: &str = "verification_sent";
    pub const EMAIL_VERIFIED: &str = "email_verified";
    pub const PASSWORD_RESET_REQUESTED: &str = "password_reset_requested";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const ACCESS_DENIED: &str = "access_denied";
    pub const KEY_ROTATED: &str = "key_rotated";
    pub const CLIENT_CREATED: &str = "client_created";
    pub const CLIENT_REVOKED: &str = "client_revoked";
    /// A partner client was given a new secret (the old one stopped working).
    pub const CLIENT_SECRET_ROTATED: &str = "client_secret_rotated";
    pub const CLIENT_TOKEN_ISSUED: &str = "client_token_issued";
    pub const TENANT_CREATED: &str = "tenant_created";
    pub const FLAGS_UPDATED: &str = "flags_updated";
    /// An invitation to join a tenant was created, revoked, or accepted (by registering).
    pub const INVITATION_CREATED: &str = "invitation_created";
    pub const INVITATION_REVOKED: &str = "invitation_revoked";
    pub const INVITATION_ACCEPTED: &str = "invitation_accepted";
    /// An admin disabled or enabled a user, or revoked all of a user's sessions.
    pub const USER_DISABLED: &str = "user_disabled";
    pub const USER_ENABLED: &str = "user_enabled";
    pub const SESSIONS_REVOKED: &str = "sessions_revoked";
}

pub mod outcome {
    pub const SUCCESS: &str = "success";
    pub const FAILURE: &str = "failure";
    pub const DENIED: &str = "denied";
}

pub const OUTCOMES: &[&str] = &[outcome::SUCCESS, outcome::FAILURE, outcome::DENIED];

/// A recorded entry of the append-only audit log. `id` is a UUIDv7, so ordering by id
/// is ordering by time.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub tenant_id: String,
    pub actor_id: String,
    pub action: String,
    pub outcome: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
    pub occurred_at: DateTime<Utc>,
}

/// One thing to record.
pub struct AuditEvent<'a> {
    pub tenant_id: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub context: &'a RequestContext,
    pub detail: String,
}

pub struct AuditQuery {
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    pub cursor: Option<String>,
}

const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

impl Auth {
    /// Appends to the audit log. A failure to write is logged, never hidden from
    /// operators, but does not undo the operation it describes.
    pub async fn audit(&self, event: AuditEvent<'_>) {
        let entry = AuditEntry {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: event.tenant_id.to_string(),
            actor_id: event.actor_id.to_string(),
            action: event.action.to_string(),
            outcome: event.outcome.to_string(),
            ip: truncate(&event.context.ip, 64),
            user_agent: truncate(&event.context.user_agent, 256),
            detail: truncate(&event.detail, 1024),
            occurred_at: Utc::now(),
        };
        tracing::info!(
            audit.action = %entry.action,
            audit.outcome = %entry.outcome,
            audit.actor = %entry.actor_id,
            audit.tenant = %entry.tenant_id,
            "audit"
        );
        if let Err(error) = store::audit::insert(&self.db, entry).await {
            tracing::error!(%error, "writing audit entry failed");
        }
    }

    /// Lists a tenant's audit entries, newest first, a page at a time.
    pub async fn list_audit(
        &self,
        tenant_id: &str,
        query: AuditQuery,
    ) -> Result<(Vec<AuditEntry>, Option<String>)> {
        if let Some(outcome) = &query.outcome
            && !OUTCOMES.contains(&outcome.as_str())
        {
            return Err(AuthError::invalid(
                "invalid_filter",
                format!("outcome must be one of {}", OUTCOMES.join(", ")),
            ));
        }
        if let Some(action) = &query.action
            && (action.len() > 64 || !action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        {
            return Err(AuthError::invalid(
                "invalid_filter",
                "`action` is an action name: at most 64 of a-z and _",
            ));
        }
        if let Some(actor_id) = &query.actor_id {
            marquee_platform::input::id("actor_id", actor_id)?;
        }
        if let Some(cursor) = &query.cursor
            && !marquee_platform::input::is_uuid(cursor)
        {
            return Err(AuthError::invalid("invalid_cursor", "cursor is not valid"));
        }
        let limit = match query.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let entries = store::audit::list(
            &self.db,
            AuditFilter {
                tenant_id: tenant_id.to_string(),
                action: query.action.filter(|a| !a.is_empty()),
                actor_id: query.actor_id.filter(|a| !a.is_empty()),
                outcome: query.outcome,
                since: query.since,
                until: query.until,
                before_id: query.cursor,
                limit: u64::from(limit),
            },
        )
        .await?;
        let next_cursor = (entries.len() == limit as usize)
            .then(|| entries.last().map(|e| e.id.clone()))
            .flatten();
        Ok((entries, next_cursor))
    }
}

fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}
