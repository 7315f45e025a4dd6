//! The Stripe webhook inbox.

use super::entities::webhook_event;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// Stores an event; false when its id was stored before (a redelivery or replay).
pub async fn insert(
    db: &impl ConnectionTrait,
    id: &str,
    event_type: &str,
    object_id: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(id.to_string()),
        event_type: Set(event_type.to_string()),
        object_id: Set(object_id.to_string()),
        payload: Set(payload.to_string()),
        received_at: Set(now),
        processed_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(None),
    })
    .on_conflict_do_nothing_on([webhook_event::Column::Id])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(rows) if rows > 0))
}

pub async fn get(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<webhook_event::Model>, DbErr> {
    webhook_event::Entity::find_by_id(id.to_string())
        .one(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    webhook_event::Entity::find().count(db).await
}

/// Unprocessed events with fewer than `max_attempts` failures that are due at `now`
/// (never attempted, or their backoff after the last failure has passed), in arrival
/// order.
pub async fn pending(
    db: &impl ConnectionTrait,
    max_attempts: i32,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<webhook_event::Model>, DbErr> {
    webhook_event::Entity::find()
        .filter(webhook_event::Column::ProcessedAt.is_null())
        .filter(webhook_event::Column::Attempts.lt(max_attempts))
        .filter(
            Condition::any()
                .add(webhook_event::Column::NextAttemptAt.is_null())
                .add(webhook_event::Column::NextAttemptAt.lte(now)),
        )
        .order_by_asc(webhook_event::Column::ReceivedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Records an attempt: `Ok(processed_at)`, or `Err((error, next_attempt_at))` — the
/// event is not [`pending`] again before `next_attempt_at`.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: &str,
    outcome: Result<DateTime<Utc>, (String, DateTime<Utc>)>,
) -> Result<(), DbErr> {
    let mut update = webhook_event::Entity::update_many()
        .col_expr(
            webhook_event::Column::Attempts,
            Expr::col(webhook_event::Column::Attempts).add(1),
        )
        .filter(webhook_event::Column::Id.eq(id));
    update = match outcome {
        Ok(at) => update
            .col_expr(webhook_event::Column::ProcessedAt, Expr::value(at))
            .col_expr(
                webhook_event::Column::NextAttemptAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
        Err((error, next_attempt_at)) => update
            .col_expr(webhook_event::Column::LastError, Expr::value(error))
            .col_expr(
                webhook_event::Column::NextAttemptAt,
                Expr::value(next_attempt_at),
            ),
    };
    update.exec(db).await?;
    Ok(())
}
