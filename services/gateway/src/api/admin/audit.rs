//! The audit log.

use crate::AppState;
use crate::api::time;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use marquee_platform::Error;
use marquee_proto::auth::v1 as pb;
use marquee_proto::convert;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `login`, `access_denied`, `client_created`; empty: any.
    #[param(max_length = 64, pattern = "^[a-z_]{0,64}$")]
    pub action: Option<String>,
    /// User or client id; empty: any.
    #[param(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub actor_id: Option<String>,
    /// `success`, `failure` or `denied`; empty: any.
    #[param(pattern = "^(success|failure|denied)?$")]
    pub outcome: Option<String>,
    /// Entries at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size: auth's default for 0, larger values are read as its maximum.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295.0)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?$"
    )]
    pub cursor: Option<String>,
}

/// The filters as auth takes them (`400 invalid_filter`, `invalid_id`, `invalid_cursor`).
fn check_filters(query: &AuditQuery) -> Result<(), Error> {
    let invalid = |message: &str| Err(Error::invalid("invalid_filter", message.to_string()));
    if let Some(action) = query.action.as_deref()
        && (action.len() > 64 || !action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    {
        return invalid("`action` is an action name: at most 64 of a-z and _");
    }
    if let Some(outcome) = query.outcome.as_deref()
        && !matches!(outcome, "" | "success" | "failure" | "denied")
    {
        return invalid("`outcome` is one of success, failure, denied");
    }
    validate::optional_id("actor_id", query.actor_id.as_deref())?;
    validate::cursor(query.cursor.as_deref())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryBody {
    pub id: String,
    pub tenant_id: String,
    /// User or client id; empty when unknown (e.g. a failed login).
    pub actor_id: String,
    #[schema(example = "access_denied")]
    pub action: String,
    #[schema(example = "denied")]
    pub outcome: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
    pub occurred_at: DateTime<Utc>,
}

impl From<pb::AuditEntry> for AuditEntryBody {
    fn from(entry: pb::AuditEntry) -> Self {
        Self {
            id: entry.id,
            tenant_id: entry.tenant_id,
            actor_id: entry.actor_id,
            action: entry.action,
            outcome: entry.outcome,
            ip: entry.ip,
            user_agent: entry.user_agent,
            detail: entry.detail,
            occurred_at: time(entry.occurred_at),
        }
    }
}

crate::api::page!(
    /// A page of audit entries, newest first.
    AuditPageBody of AuditEntryBody
);

/// The audit log
///
/// Newest first, filtered, paged with an opaque cursor.
#[utoipa::path(
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, description = "A page of entries", body = AuditPageBody)),
)]
#[get("/api/v1/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    check_filters(&query)?;
    let page = state
        .auth
        .grpc()
        .list_audit(for_caller(
            caller.principal(),
            pb::ListAuditRequest {
                action: query.action.unwrap_or_default(),
                actor_id: query.actor_id.unwrap_or_default(),
                outcome: query.outcome.unwrap_or_default(),
                since: query.since.map(convert::timestamp),
                until: query.until.map(convert::timestamp),
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AuditPageBody::new(page.entries, page.next_cursor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_query_parses_times() {
        let query: AuditQuery =
            serde_urlencoded::from_str("action=login&since=2026-11-01T00:00:00Z&limit=10").unwrap();
        assert_eq!(query.limit, Some(10));
        assert!(query.since.is_some());
        assert!(serde_urlencoded::from_str::<AuditQuery>("since=yesterday").is_err());
        assert!(serde_urlencoded::from_str::<AuditQuery>("limit=-1").is_err());
    }
}
