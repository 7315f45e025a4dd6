//! Queries on `jobs`: queueing, claiming with a lease, progress, cancel marks, the end.

use super::entities::job::{self, Entity as Jobs, Model as Job};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::time::Duration;

pub async fn insert(db: &impl ConnectionTrait, row: Job) -> Result<(), DbErr> {
    Jobs::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(drop)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Job>, DbErr> {
    Jobs::find_by_id(id.to_string()).one(db).await
}

pub async fn find_by_key(
    db: &impl ConnectionTrait,
    owner_id: &str,
    key: &str,
) -> Result<Option<Job>, DbErr> {
    Jobs::find()
        .filter(job::Column::OwnerId.eq(owner_id))
        .filter(job::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// Whether an analysis or post generation of the campaign is queued or running.
pub async fn has_active_text_job(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<bool, DbErr> {
    Ok(Jobs::find()
        .filter(job::Column::CampaignId.eq(campaign_id))
        .filter(job::Column::Kind.is_in(["analysis", "posts"]))
        .filter(job::Column::State.is_in(["queued", "running"]))
        .one(db)
        .await?
        .is_some())
}

fn lease_end(lease: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30))
}

fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any().add(job::Column::State.eq("queued")).add(
        // Its runner died: the lease ran out.
        Condition::all()
            .add(job::Column::State.eq("running"))
            .add(job::Column::LeaseUntil.lt(now)),
    )
}

/// Claims the oldest claimable job for `lease`; `None` when there is none (or another
/// replica won every race).
pub async fn claim_next(db: &impl ConnectionTrait, lease: Duration) -> Result<Option<Job>, DbErr> {
    for _ in 0..3 {
        let now = Utc::now();
        let Some(candidate) = Jobs::find()
            .filter(claimable(now))
            .filter(job::Column::CancelRequested.eq(false))
            .order_by_asc(job::Column::CreatedAt)
            .limit(1)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let claimed = Jobs::update_many()
            .col_expr(job::Column::State, Expr::value("running"))
            .col_expr(job::Column::LeaseUntil, Expr::value(lease_end(lease)))
            .col_expr(job::Column::Message, Expr::value("started"))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(candidate.id.as_str()))
            .filter(claimable(now))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            return find(db, &candidate.id).await;
        }
    }
    Ok(None)
}

/// Renews a running job's lease; true when it was asked to stop.
pub async fn renew(db: &impl ConnectionTrait, id: &str, lease: Duration) -> Result<bool, DbErr> {
    Jobs::update_many()
        .col_expr(job::Column::LeaseUntil, Expr::value(lease_end(lease)))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.eq("running"))
        .exec(db)
        .await?;
    Ok(find(db, id)
        .await?
        .is_none_or(|job| job.cancel_requested || job.state != "running"))
}

pub async fn set_progress(
    db: &impl ConnectionTrait,
    id: &str,
    progress: u32,
    message: &str,
) -> Result<(), DbErr> {
    Jobs::update_many()
        .col_expr(job::Column::Progress, Expr::value(progress as i32))
        .col_expr(job::Column::Message, Expr::value(message))
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.eq("running"))
        .exec(db)
        .await
        .map(drop)
}

/// Asks a job to stop: a queued job is cancelled at once; a running one is marked and
/// its runner stops it.
pub async fn request_cancel(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    let now = Utc::now();
    Jobs::update_many()
        .col_expr(job::Column::State, Expr::value("cancelled"))
        .col_expr(job::Column::CancelRequested, Expr::value(true))
        .col_expr(job::Column::Message, Expr::value("cancelled"))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.eq("queued"))
        .exec(db)
        .await?;
    Jobs::update_many()
        .col_expr(job::Column::CancelRequested, Expr::value(true))
        .col_expr(job::Column::Message, Expr::value("cancelling"))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.eq("running"))
        .exec(db)
        .await
        .map(drop)
}

/// Asks every unfinished job of a campaign to stop (the campaign is going).
pub async fn request_cancel_for_campaign(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<(), DbErr> {
    Jobs::update_many()
        .col_expr(job::Column::CancelRequested, Expr::value(true))
        .filter(job::Column::CampaignId.eq(campaign_id))
        .filter(job::Column::State.is_in(["queued", "running"]))
        .exec(db)
        .await
        .map(drop)
}

/// Records a job's end (only a running job ends; a cancel that won the race stays).
pub async fn finish(
    db: &impl ConnectionTrait,
    id: &str,
    state: &str,
    message: &str,
    error: &str,
    asset_id: Option<String>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut update = Jobs::update_many()
        .col_expr(job::Column::State, Expr::value(state))
        .col_expr(job::Column::Message, Expr::value(message))
        .col_expr(job::Column::Error, Expr::value(error))
        .col_expr(job::Column::AssetId, Expr::value(asset_id))
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now));
    if state == "succeeded" {
        update = update.col_expr(job::Column::Progress, Expr::value(100));
    }
    update
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.eq("running"))
        .exec(db)
        .await
        .map(drop)
}
