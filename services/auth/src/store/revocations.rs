//! Access-token revocations, polled by the gateway by creation time.

use super::entities::revocation;
use crate::domain::revocations::{Revocation, Revoked};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

const SESSION: &str = "session";
const SUBJECT: &str = "subject";

impl From<revocation::Model> for Revocation {
    fn from(model: revocation::Model) -> Self {
        Self {
            id: model.id,
            revoked: if model.kind == SESSION {
                Revoked::Session(model.value)
            } else {
                Revoked::Subject(model.value)
            },
            not_before: model.not_before,
            created_at: model.created_at,
            expires_at: model.expires_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, revocation: Revocation) -> Result<(), DbErr> {
    let (kind, value) = match revocation.revoked {
        Revoked::Session(id) => (SESSION, id),
        Revoked::Subject(id) => (SUBJECT, id),
    };
    revocation::ActiveModel {
        id: Set(revocation.id),
        kind: Set(kind.to_string()),
        value: Set(value),
        not_before: Set(revocation.not_before),
        created_at: Set(revocation.created_at),
        expires_at: Set(revocation.expires_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Revocations still in force created after `since` (all of them without), oldest
/// first, at most `limit`.
pub async fn in_force(
    db: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Revocation>, DbErr> {
    let mut query = revocation::Entity::find().filter(revocation::Column::ExpiresAt.gt(now));
    if let Some(since) = since {
        query = query.filter(revocation::Column::CreatedAt.gt(since));
    }
    Ok(query
        .order_by_asc(revocation::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Revocation::from)
        .collect())
}

/// Deletes revocations no token can outlive any more.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(revocation::Entity::delete_many()
        .filter(revocation::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
