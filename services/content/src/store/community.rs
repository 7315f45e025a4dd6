//! Queries on profiles, follows, comments, comment reports and the rate-limit log.
//! Every function takes the tenant: nothing crosses tenants.

use super::entities::{asset, comment, comment_report, creator_profile, follow, rate_event};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn profile(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<creator_profile::Model>, DbErr> {
    creator_profile::Entity::find_by_id((tenant_id.to_string(), user_id.to_string()))
        .one(db)
        .await
}

/// Inserts or replaces the profile.
pub async fn save_profile(
    db: &impl ConnectionTrait,
    model: creator_profile::Model,
    exists: bool,
) -> Result<creator_profile::Model, DbErr> {
    let active = model.into_active_model().reset_all();
    if exists {
        active.update(db).await
    } else {
        active.insert(db).await
    }
}

/// Whether the user has at least one asset in the tenant.
pub async fn has_assets(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
) -> Result<bool, DbErr> {
    Ok(asset::Entity::find()
        .filter(asset::Column::TenantId.eq(tenant_id))
        .filter(asset::Column::OwnerId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

pub async fn find_follow(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    follower_id: &str,
    creator_id: &str,
) -> Result<Option<follow::Model>, DbErr> {
    follow::Entity::find()
        .filter(follow::Column::TenantId.eq(tenant_id))
        .filter(follow::Column::FollowerId.eq(follower_id))
        .filter(follow::Column::CreatorId.eq(creator_id))
        .one(db)
        .await
}

pub async fn insert_follow(db: &impl ConnectionTrait, model: follow::Model) -> Result<(), DbErr> {
    model
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(|_| ())
}

pub async fn delete_follow(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    follower_id: &str,
    creator_id: &str,
) -> Result<u64, DbErr> {
    Ok(follow::Entity::delete_many()
        .filter(follow::Column::TenantId.eq(tenant_id))
        .filter(follow::Column::FollowerId.eq(follower_id))
        .filter(follow::Column::CreatorId.eq(creator_id))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn count_followers(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    creator_id: &str,
) -> Result<u64, DbErr> {
    follow::Entity::find()
        .filter(follow::Column::TenantId.eq(tenant_id))
        .filter(follow::Column::CreatorId.eq(creator_id))
        .count(db)
        .await
}

pub async fn count_following(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    follower_id: &str,
) -> Result<u64, DbErr> {
    follow::Entity::find()
        .filter(follow::Column::TenantId.eq(tenant_id))
        .filter(follow::Column::FollowerId.eq(follower_id))
        .count(db)
        .await
}

/// Who follows `user_id` (`followers = true`) or whom `user_id` follows; newest first,
/// strictly older than `before_id`.
pub async fn list_follows(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    followers: bool,
    before_id: Option<String>,
    limit: u64,
) -> Result<Vec<follow::Model>, DbErr> {
    let column = if followers {
        follow::Column::CreatorId
    } else {
        follow::Column::FollowerId
    };
    let mut query = follow::Entity::find()
        .filter(follow::Column::TenantId.eq(tenant_id))
        .filter(column.eq(user_id));
    if let Some(before_id) = before_id {
        query = query.filter(follow::Column::Id.lt(before_id));
    }
    query
        .order_by_desc(follow::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    model: comment::Model,
) -> Result<comment::Model, DbErr> {
    model.into_active_model().reset_all().insert(db).await
}

pub async fn save_comment(
    db: &impl ConnectionTrait,
    model: comment::Model,
) -> Result<comment::Model, DbErr> {
    model.into_active_model().reset_all().update(db).await
}

pub async fn find_comment(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<Option<comment::Model>, DbErr> {
    comment::Entity::find_by_id(id.to_string())
        .filter(comment::Column::TenantId.eq(tenant_id))
        .one(db)
        .await
}

/// Deletes a comment and its reports.
pub async fn delete_comment(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<(), DbErr> {
    delete_reports(db, tenant_id, id).await?;
    comment::Entity::delete_many()
        .filter(comment::Column::TenantId.eq(tenant_id))
        .filter(comment::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Comments of an asset with one of `statuses`, newest first.
pub async fn list_comments(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    asset_id: &str,
    statuses: &[&str],
    before_id: Option<String>,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    let mut query = comment::Entity::find()
        .filter(comment::Column::TenantId.eq(tenant_id))
        .filter(comment::Column::AssetId.eq(asset_id))
        .filter(comment::Column::Status.is_in(statuses.iter().copied()));
    if let Some(before_id) = before_id {
        query = query.filter(comment::Column::Id.lt(before_id));
    }
    query
        .order_by_desc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Comments with open reports (hidden or not yet), oldest first, after `after_id`.
pub async fn reported_comments(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    after_id: Option<String>,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    let mut query = comment::Entity::find()
        .filter(comment::Column::TenantId.eq(tenant_id))
        .filter(comment::Column::ReportCount.gt(0))
        .filter(comment::Column::Status.ne("removed"));
    if let Some(after_id) = after_id {
        query = query.filter(comment::Column::Id.gt(after_id));
    }
    query
        .order_by_asc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Whether the author wrote a comment with this normalised body since `since`.
pub async fn recent_duplicate(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    author_id: &str,
    body_hash: &str,
    since: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(comment::Entity::find()
        .filter(comment::Column::TenantId.eq(tenant_id))
        .filter(comment::Column::AuthorId.eq(author_id))
        .filter(comment::Column::BodyHash.eq(body_hash))
        .filter(comment::Column::CreatedAt.gt(since))
        .count(db)
        .await?
        > 0)
}

pub async fn insert_report(
    db: &impl ConnectionTrait,
    model: comment_report::Model,
) -> Result<(), DbErr> {
    model
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(|_| ())
}

pub async fn count_reports(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    comment_id: &str,
) -> Result<u64, DbErr> {
    comment_report::Entity::find()
        .filter(comment_report::Column::TenantId.eq(tenant_id))
        .filter(comment_report::Column::CommentId.eq(comment_id))
        .count(db)
        .await
}

pub async fn delete_reports(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    comment_id: &str,
) -> Result<(), DbErr> {
    comment_report::Entity::delete_many()
        .filter(comment_report::Column::TenantId.eq(tenant_id))
        .filter(comment_report::Column::CommentId.eq(comment_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's `action`s since `since`, oldest first (their times).
pub async fn rate_events_since(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    action: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    Ok(rate_event::Entity::find()
        .filter(rate_event::Column::TenantId.eq(tenant_id))
        .filter(rate_event::Column::UserId.eq(user_id))
        .filter(rate_event::Column::Action.eq(action))
        .filter(rate_event::Column::CreatedAt.gt(since))
        .order_by_asc(rate_event::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.created_at)
        .collect())
}

/// Records an action and prunes this user's rows of that action older than `prune_before`.
pub async fn record_rate_event(
    db: &impl ConnectionTrait,
    model: rate_event::Model,
    prune_before: DateTime<Utc>,
) -> Result<(), DbErr> {
    rate_event::Entity::delete_many()
        .filter(rate_event::Column::TenantId.eq(model.tenant_id.clone()))
        .filter(rate_event::Column::UserId.eq(model.user_id.clone()))
        .filter(rate_event::Column::Action.eq(model.action.clone()))
        .filter(rate_event::Column::CreatedAt.lt(prune_before))
        .exec(db)
        .await?;
    model
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(|_| ())
}
