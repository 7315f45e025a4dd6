//! Failed-login counters: per key (`account:…`, `ip:…`) in `login_throttle`, per
//! (account, source) in `login_sources`. Increments are one SQL update each, so parallel
//! attempts all count.

use super::entities::{login_source, login_throttle};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// The latest `locked_until` among `keys`, if any.
pub async fn locked_until(
    db: &impl ConnectionTrait,
    keys: &[&str],
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(keys.iter().map(|k| k.to_string())))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|row| row.locked_until).max())
}

/// Counts one failure for `key` in the window starting after `window_start`; when the
/// count reaches `max_failures`, locks the key until `lock_until` and starts afresh.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
    max_failures: i32,
    lock_until: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(0),
        window_started_at: Set(now),
        locked_until: Set(None),
    })
    .on_conflict_do_nothing_on([login_throttle::Column::Key])
    .exec(db)
    .await?;
    // A window that has passed starts again.
    login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Failures, Expr::value(0))
        .col_expr(login_throttle::Column::WindowStartedAt, Expr::value(now))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::WindowStartedAt.lt(window_start))
        .exec(db)
        .await?;
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::col(login_throttle::Column::Failures).add(1),
        )
        .filter(login_throttle::Column::Key.eq(key))
        .exec(db)
        .await?;
    login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::LockedUntil, Expr::value(lock_until))
        .col_expr(login_throttle::Column::Failures, Expr::value(0))
        .col_expr(login_throttle::Column::WindowStartedAt, Expr::value(now))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Failures.gte(max_failures))
        .exec(db)
        .await?;
    Ok(())
}

/// The row of `source` for `account`, if it has one.
pub async fn find_source(
    db: &impl ConnectionTrait,
    account: &str,
    source: &str,
) -> Result<Option<login_source::Model>, DbErr> {
    login_source::Entity::find_by_id((account.to_string(), source.to_string()))
        .one(db)
        .await
}

fn source_row(account: &str, source: &str) -> Condition {
    Condition::all()
        .add(login_source::Column::AccountKey.eq(account))
        .add(login_source::Column::Source.eq(source))
}

/// Makes sure the row exists (all zero), so the updates below have one to change.
async fn ensure_source(
    db: &impl ConnectionTrait,
    account: &str,
    source: &str,
) -> Result<(), DbErr> {
    login_source::Entity::insert(login_source::ActiveModel {
        account_key: Set(account.to_string()),
        source: Set(source.to_string()),
        failures: Set(0),
        last_failure_at: Set(None),
        locked_until: Set(None),
        last_success_at: Set(None),
    })
    .on_conflict_do_nothing_on([
        login_source::Column::AccountKey,
        login_source::Column::Source,
    ])
    .exec(db)
    .await
    .map(|_| ())
}

/// Counts one failure of `source` against `account` and returns the count. A count whose
/// last failure and wait both ended before `forget_before` starts again.
pub async fn record_source_failure(
    db: &impl ConnectionTrait,
    account: &str,
    source: &str,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<i32, DbErr> {
    ensure_source(db, account, source).await?;
    login_source::Entity::update_many()
        .col_expr(login_source::Column::Failures, Expr::value(0))
        .filter(source_row(account, source))
        .filter(
            Condition::any()
                .add(login_source::Column::LastFailureAt.is_null())
                .add(login_source::Column::LastFailureAt.lt(forget_before)),
        )
        .filter(
            Condition::any()
                .add(login_source::Column::LockedUntil.is_null())
                .add(login_source::Column::LockedUntil.lt(forget_before)),
        )
        .exec(db)
        .await?;
    login_source::Entity::update_many()
        .col_expr(
            login_source::Column::Failures,
            Expr::col(login_source::Column::Failures).add(1),
        )
        .col_expr(login_source::Column::LastFailureAt, Expr::value(now))
        .filter(source_row(account, source))
        .exec(db)
        .await?;
    Ok(find_source(db, account, source)
        .await?
        .map_or(1, |row| row.failures))
}

/// The source's next attempt at `account` waits until `until` (never shortened).
pub async fn delay_source(
    db: &impl ConnectionTrait,
    account: &str,
    source: &str,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_source::Entity::update_many()
        .col_expr(login_source::Column::LockedUntil, Expr::value(until))
        .filter(source_row(account, source))
        .filter(
            Condition::any()
                .add(login_source::Column::LockedUntil.is_null())
                .add(login_source::Column::LockedUntil.lt(until)),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// Takes the source's next attempt at `account`: sets its wait to `until` unless a wait
/// is still running at `now`. False when another attempt took it first.
pub async fn claim_source_attempt(
    db: &impl ConnectionTrait,
    account: &str,
    source: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = login_source::Entity::update_many()
        .col_expr(login_source::Column::LockedUntil, Expr::value(until))
        .filter(source_row(account, source))
        .filter(
            Condition::any()
                .add(login_source::Column::LockedUntil.is_null())
                .add(login_source::Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// `source` signed into `account`: its count and wait are cleared and it is remembered.
pub async fn record_source_success(
    db: &impl ConnectionTrait,
    account: &str,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    ensure_source(db, account, source).await?;
    login_source::Entity::update_many()
        .col_expr(login_source::Column::Failures, Expr::value(0))
        .col_expr(
            login_source::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(login_source::Column::LastSuccessAt, Expr::value(now))
        .filter(source_row(account, source))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes rows that hold nothing any more: no failure or wait since `forget_before`
/// and no success since `known_since`.
pub async fn prune_sources(
    db: &impl ConnectionTrait,
    forget_before: DateTime<Utc>,
    known_since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let before = |column: login_source::Column, at: DateTime<Utc>| {
        Condition::any().add(column.is_null()).add(column.lt(at))
    };
    login_source::Entity::delete_many()
        .filter(before(login_source::Column::LastFailureAt, forget_before))
        .filter(before(login_source::Column::LockedUntil, forget_before))
        .filter(before(login_source::Column::LastSuccessAt, known_since))
        .exec(db)
        .await
        .map(|result| result.rows_affected)
}
