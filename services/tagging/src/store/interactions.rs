//! Queries on `interactions`: views, comments and follows, for recommendations.

use super::entities::interaction::{self, Entity as Interactions, InteractionKind, Model};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// Records what a user did.
pub async fn record(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    kind: InteractionKind,
    asset_id: Option<&str>,
    creator_id: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    Interactions::insert(interaction::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        tenant_id: Set(tenant_id.to_string()),
        user_id: Set(user_id.to_string()),
        kind: Set(kind),
        asset_id: Set(asset_id.map(str::to_string)),
        creator_id: Set(creator_id.map(str::to_string)),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .map(drop)
}

/// Whether the user viewed the asset at or after `since` (views are counted once per
/// user and hour).
pub async fn viewed_since(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    asset_id: &str,
    since: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    Ok(Interactions::find()
        .filter(interaction::Column::TenantId.eq(tenant_id))
        .filter(interaction::Column::UserId.eq(user_id))
        .filter(interaction::Column::Kind.eq(InteractionKind::View))
        .filter(interaction::Column::AssetId.eq(asset_id))
        .filter(interaction::Column::CreatedAt.gte(since))
        .count(db)
        .await?
        > 0)
}

/// A user's most recent interactions, newest first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    Interactions::find()
        .filter(interaction::Column::TenantId.eq(tenant_id))
        .filter(interaction::Column::UserId.eq(user_id))
        .order_by_desc(interaction::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Forgets interactions with a deleted asset.
pub async fn forget_asset(db: &impl ConnectionTrait, asset_id: &str) -> Result<(), sea_orm::DbErr> {
    Interactions::delete_many()
        .filter(interaction::Column::AssetId.eq(asset_id))
        .exec(db)
        .await
        .map(drop)
}
