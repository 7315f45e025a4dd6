use super::entities::audit_entry;
use crate::domain::audit::AuditEntry;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

impl From<audit_entry::Model> for AuditEntry {
    fn from(model: audit_entry::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            actor_id: model.actor_id,
            action: model.action,
            outcome: model.outcome,
            ip: model.ip,
            user_agent: model.user_agent,
            detail: model.detail,
            occurred_at: model.occurred_at,
        }
    }
}

impl From<AuditEntry> for audit_entry::Model {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            tenant_id: entry.tenant_id,
            actor_id: entry.actor_id,
            action: entry.action,
            outcome: entry.outcome,
            ip: entry.ip,
            user_agent: entry.user_agent,
            detail: entry.detail,
            occurred_at: entry.occurred_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, entry: AuditEntry) -> Result<(), DbErr> {
    audit_entry::Model::from(entry)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(|_| ())
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub tenant_id: String,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Entries strictly older than this id (ids are UUIDv7, so time-ordered).
    pub before_id: Option<String>,
    pub limit: u64,
}

/// Newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: AuditFilter,
) -> Result<Vec<AuditEntry>, DbErr> {
    let mut query =
        audit_entry::Entity::find().filter(audit_entry::Column::TenantId.eq(filter.tenant_id));
    if let Some(action) = filter.action {
        query = query.filter(audit_entry::Column::Action.eq(action));
    }
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(audit_entry::Column::ActorId.eq(actor_id));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(audit_entry::Column::Outcome.eq(outcome));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_entry::Column::OccurredAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_entry::Column::OccurredAt.lt(until));
    }
    if let Some(before_id) = filter.before_id {
        query = query.filter(audit_entry::Column::Id.lt(before_id));
    }
    let rows = query
        .order_by_desc(audit_entry::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
