//! Queries on `posts`: the campaign's list, edits, the calendar and the publisher's
//! claims.

use super::entities::post::{self, Entity as Posts, Model as Post};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

pub async fn of_campaign(db: &impl ConnectionTrait, campaign_id: &str) -> Result<Vec<Post>, DbErr> {
    Posts::find()
        .filter(post::Column::CampaignId.eq(campaign_id))
        .order_by_asc(post::Column::Position)
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    campaign_id: &str,
    post_id: &str,
) -> Result<Option<Post>, DbErr> {
    Posts::find_by_id(post_id.to_string())
        .filter(post::Column::CampaignId.eq(campaign_id))
        .one(db)
        .await
}

/// New posts for a campaign; with `replace`, the drafts (unscheduled, unpublished) go
/// first — scheduled and published posts stay.
pub async fn replace_drafts(
    db: &DatabaseConnection,
    campaign_id: &str,
    replace: bool,
    rows: Vec<Post>,
) -> Result<(), DbErr> {
    let txn = marquee_db::begin_write(db).await?;
    if replace {
        Posts::delete_many()
            .filter(post::Column::CampaignId.eq(campaign_id))
            .filter(post::Column::Status.is_in(["draft", "failed"]))
            .exec(&txn)
            .await?;
    }
    if !rows.is_empty() {
        Posts::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await
}

/// Saves what an author or a generation changes; the calendar and publishing columns
/// are the scheduler's and stay as they are.
pub async fn save(db: &impl ConnectionTrait, row: Post) -> Result<(), DbErr> {
    post::ActiveModel {
        id: Set(row.id),
        kind: Set(row.kind),
        content: Set(row.content),
        hashtags: Set(row.hashtags),
        selected: Set(row.selected),
        provider: Set(row.provider),
        media_prompt: Set(row.media_prompt),
        asset_id: Set(row.asset_id),
        media_provider: Set(row.media_provider),
        engagement: Set(row.engagement),
        theme: Set(row.theme),
        ai_generated: Set(row.ai_generated),
        provenance: Set(row.provenance),
        repairs: Set(row.repairs),
        updated_at: Set(row.updated_at),
        ..Default::default()
    }
    .update(db)
    .await
    .map(drop)
}

pub async fn attach_media(
    db: &impl ConnectionTrait,
    post_id: &str,
    asset_id: &str,
    provider: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Posts::update_many()
        .col_expr(post::Column::AssetId, Expr::value(asset_id))
        .col_expr(post::Column::MediaProvider, Expr::value(provider))
        .col_expr(post::Column::UpdatedAt, Expr::value(now))
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(drop)
}

/// Puts posts on the calendar; published or publishing posts are left alone.
pub async fn schedule(
    db: &DatabaseConnection,
    campaign_id: &str,
    times: &[(String, DateTime<Utc>)],
) -> Result<(), DbErr> {
    let txn = marquee_db::begin_write(db).await?;
    for (post_id, at) in times {
        Posts::update_many()
            .col_expr(post::Column::ScheduledAt, Expr::value(*at))
            .col_expr(post::Column::Status, Expr::value("scheduled"))
            .col_expr(
                post::Column::FailureReason,
                Expr::value(Option::<String>::None),
            )
            .col_expr(post::Column::PublishAttempts, Expr::value(0))
            .col_expr(post::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(post::Column::Id.eq(post_id.as_str()))
            .filter(post::Column::CampaignId.eq(campaign_id))
            .filter(post::Column::Status.is_not_in(["publishing", "published"]))
            .exec(&txn)
            .await?;
    }
    txn.commit().await
}

/// Takes scheduled posts off the calendar (`post_ids` empty: all of the campaign's).
pub async fn unschedule(
    db: &impl ConnectionTrait,
    campaign_id: &str,
    post_ids: &[String],
) -> Result<(), DbErr> {
    let mut query = Posts::update_many()
        .col_expr(
            post::Column::ScheduledAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(post::Column::Status, Expr::value("draft"))
        .col_expr(post::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(post::Column::CampaignId.eq(campaign_id))
        .filter(post::Column::Status.eq("scheduled"));
    if !post_ids.is_empty() {
        query = query.filter(post::Column::Id.is_in(post_ids.iter().map(String::as_str)));
    }
    query.exec(db).await.map(drop)
}

fn due_condition(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(post::Column::Status.eq("scheduled"))
                .add(post::Column::ScheduledAt.lte(now)),
        )
        .add(
            // A replica died while publishing: its claim ran out.
            Condition::all()
                .add(post::Column::Status.eq("publishing"))
                .add(post::Column::ClaimedUntil.lt(now)),
        )
}

/// Posts due for publishing, earliest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Post>, DbErr> {
    Posts::find()
        .filter(due_condition(now))
        .order_by_asc(post::Column::ScheduledAt)
        .limit(limit)
        .all(db)
        .await
}

/// Claims a due post for publishing until `until`; false when another replica has it.
pub async fn claim(
    db: &impl ConnectionTrait,
    post_id: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Posts::update_many()
        .col_expr(post::Column::Status, Expr::value("publishing"))
        .col_expr(post::Column::ClaimedUntil, Expr::value(until))
        .filter(post::Column::Id.eq(post_id))
        .filter(due_condition(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn mark_published(
    db: &impl ConnectionTrait,
    post_id: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Posts::update_many()
        .col_expr(post::Column::Status, Expr::value("published"))
        .col_expr(post::Column::PublishedAt, Expr::value(at))
        .col_expr(
            post::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            post::Column::FailureReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(post::Column::UpdatedAt, Expr::value(at))
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(drop)
}

pub async fn retry_later(
    db: &impl ConnectionTrait,
    post_id: &str,
    attempts: i32,
    at: DateTime<Utc>,
    reason: &str,
) -> Result<(), DbErr> {
    Posts::update_many()
        .col_expr(post::Column::Status, Expr::value("scheduled"))
        .col_expr(post::Column::ScheduledAt, Expr::value(at))
        .col_expr(post::Column::PublishAttempts, Expr::value(attempts))
        .col_expr(
            post::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(post::Column::FailureReason, Expr::value(reason))
        .col_expr(post::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(drop)
}

pub async fn mark_failed(
    db: &impl ConnectionTrait,
    post_id: &str,
    attempts: i32,
    reason: &str,
) -> Result<(), DbErr> {
    Posts::update_many()
        .col_expr(post::Column::Status, Expr::value("failed"))
        .col_expr(post::Column::PublishAttempts, Expr::value(attempts))
        .col_expr(
            post::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(post::Column::FailureReason, Expr::value(reason))
        .col_expr(post::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(drop)
}
