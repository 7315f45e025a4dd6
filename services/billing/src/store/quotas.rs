//! Usage counters, reservations and the usage ledger. Every change of a counter is one
//! SQL UPDATE, and a hold only succeeds when `used + reserved + amount <= limit` in the
//! same statement, so parallel reservations can never pass a limit (PostgreSQL re-checks
//! the condition on the locked row; SQLite serialises writers).

use super::entities::{reservation, usage_counter, usage_record};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

fn counter_filter(
    query: sea_orm::UpdateMany<usage_counter::Entity>,
    tenant: &str,
    limit: &str,
    period: &str,
) -> sea_orm::UpdateMany<usage_counter::Entity> {
    query
        .filter(usage_counter::Column::TenantId.eq(tenant))
        .filter(usage_counter::Column::LimitName.eq(limit))
        .filter(usage_counter::Column::Period.eq(period))
}

pub async fn ensure_counter(
    db: &impl ConnectionTrait,
    tenant: &str,
    limit: &str,
    period: &str,
) -> Result<(), DbErr> {
    usage_counter::Entity::insert(usage_counter::ActiveModel {
        tenant_id: Set(tenant.to_string()),
        limit_name: Set(limit.to_string()),
        period: Set(period.to_string()),
        used: Set(0),
        reserved: Set(0),
    })
    .on_conflict_do_nothing_on([
        usage_counter::Column::TenantId,
        usage_counter::Column::LimitName,
        usage_counter::Column::Period,
    ])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn counter(
    db: &impl ConnectionTrait,
    tenant: &str,
    limit: &str,
    period: &str,
) -> Result<Option<usage_counter::Model>, DbErr> {
    usage_counter::Entity::find_by_id((tenant.to_string(), limit.to_string(), period.to_string()))
        .one(db)
        .await
}

/// Adds `amount` to `reserved` if it still fits under `max`; false when it does not.
pub async fn try_hold(
    db: &impl ConnectionTrait,
    tenant: &str,
    limit: &str,
    period: &str,
    amount: i64,
    max: i64,
) -> Result<bool, DbErr> {
    let result = counter_filter(usage_counter::Entity::update_many(), tenant, limit, period)
        .col_expr(
            usage_counter::Column::Reserved,
            Expr::col(usage_counter::Column::Reserved).add(amount),
        )
        .filter(
            Expr::col(usage_counter::Column::Used)
                .add(Expr::col(usage_counter::Column::Reserved))
                .add(amount)
                .lte(max),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Moves a hold: `reserved -= held`, `used += used`.
pub async fn settle_hold(
    db: &impl ConnectionTrait,
    tenant: &str,
    limit: &str,
    period: &str,
    held: i64,
    used: i64,
) -> Result<(), DbErr> {
    counter_filter(usage_counter::Entity::update_many(), tenant, limit, period)
        .col_expr(
            usage_counter::Column::Reserved,
            Expr::col(usage_counter::Column::Reserved).sub(held),
        )
        .col_expr(
            usage_counter::Column::Used,
            Expr::col(usage_counter::Column::Used).add(used),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Adds usage that already happened (no limit check); negative gives capacity back,
/// never below zero.
pub async fn add_used(
    db: &impl ConnectionTrait,
    tenant: &str,
    limit: &str,
    period: &str,
    delta: i64,
) -> Result<(), DbErr> {
    ensure_counter(db, tenant, limit, period).await?;
    if delta >= 0 {
        settle_hold(db, tenant, limit, period, 0, delta).await
    } else {
        let freed = -delta;
        let result = counter_filter(usage_counter::Entity::update_many(), tenant, limit, period)
            .col_expr(
                usage_counter::Column::Used,
                Expr::col(usage_counter::Column::Used).sub(freed),
            )
            .filter(usage_counter::Column::Used.gte(freed))
            .exec(db)
            .await?;
        if result.rows_affected == 0 {
            counter_filter(usage_counter::Entity::update_many(), tenant, limit, period)
                .col_expr(usage_counter::Column::Used, Expr::value(0i64))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}

pub async fn insert_reservation(
    db: &impl ConnectionTrait,
    model: reservation::Model,
) -> Result<(), DbErr> {
    reservation::Entity::insert(reservation::ActiveModel::from(model))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn reservation(
    db: &impl ConnectionTrait,
    tenant: &str,
    id: &str,
) -> Result<Option<reservation::Model>, DbErr> {
    reservation::Entity::find_by_id(id.to_string())
        .filter(reservation::Column::TenantId.eq(tenant))
        .one(db)
        .await
}

pub async fn reservation_by_key(
    db: &impl ConnectionTrait,
    tenant: &str,
    key: &str,
) -> Result<Option<reservation::Model>, DbErr> {
    reservation::Entity::find()
        .filter(reservation::Column::TenantId.eq(tenant))
        .filter(reservation::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// Moves a held reservation to `state`; false when it was no longer held (someone else
/// settled it first), so its counter is touched exactly once.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: &str,
    state: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .col_expr(reservation::Column::State, Expr::value(state))
        .col_expr(reservation::Column::SettledAt, Expr::value(now))
        .filter(reservation::Column::Id.eq(id))
        .filter(reservation::Column::State.eq("held"))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn expired_reservations(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<reservation::Model>, DbErr> {
    reservation::Entity::find()
        .filter(reservation::Column::State.eq("held"))
        .filter(reservation::Column::ExpiresAt.lt(now))
        .order_by_asc(reservation::Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await
}

/// Records a usage row; false when its identifier was recorded before.
pub async fn insert_record(
    db: &impl ConnectionTrait,
    model: usage_record::Model,
) -> Result<bool, DbErr> {
    let inserted = usage_record::Entity::insert(usage_record::ActiveModel::from(model))
        .on_conflict_do_nothing_on([usage_record::Column::Identifier])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(rows) if rows > 0))
}

/// Metered usage not yet accepted by Stripe and due at `now` (never sent, or its backoff
/// after the last failed send has passed), oldest first.
pub async fn unreported(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<usage_record::Model>, DbErr> {
    usage_record::Entity::find()
        .filter(usage_record::Column::MeterEvent.is_not_null())
        .filter(usage_record::Column::ReportedAt.is_null())
        .filter(
            Condition::any()
                .add(usage_record::Column::NextAttemptAt.is_null())
                .add(usage_record::Column::NextAttemptAt.lte(now)),
        )
        .order_by_asc(usage_record::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Records a send: `Ok(reported_at)`, or `Err((error, next_attempt_at))` — the record is
/// not [`unreported`] again before `next_attempt_at`.
pub async fn mark_reported(
    db: &impl ConnectionTrait,
    id: &str,
    outcome: Result<DateTime<Utc>, (String, DateTime<Utc>)>,
) -> Result<(), DbErr> {
    let mut update = usage_record::Entity::update_many()
        .col_expr(
            usage_record::Column::Attempts,
            Expr::col(usage_record::Column::Attempts).add(1),
        )
        .filter(usage_record::Column::Id.eq(id));
    update = match outcome {
        Ok(at) => update
            .col_expr(usage_record::Column::ReportedAt, Expr::value(at))
            .col_expr(
                usage_record::Column::NextAttemptAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
        Err((error, next_attempt_at)) => update
            .col_expr(usage_record::Column::LastError, Expr::value(error))
            .col_expr(
                usage_record::Column::NextAttemptAt,
                Expr::value(next_attempt_at),
            ),
    };
    update.exec(db).await?;
    Ok(())
}
