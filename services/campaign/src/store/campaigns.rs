//! Queries on `campaigns` (and, for whole-campaign writes, its posts).

use super::entities::campaign::{self, Entity as Campaigns, Model as Campaign};
use super::entities::{delivery, job, post};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Campaign>, DbErr> {
    Campaigns::find_by_id(id.to_string()).one(db).await
}

pub async fn find_by_key(
    db: &impl ConnectionTrait,
    owner_id: &str,
    key: &str,
) -> Result<Option<Campaign>, DbErr> {
    Campaigns::find()
        .filter(campaign::Column::OwnerId.eq(owner_id))
        .filter(campaign::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

pub async fn insert(db: &impl ConnectionTrait, row: Campaign) -> Result<(), DbErr> {
    Campaigns::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(drop)
}

/// A campaign and its posts, together (duplicates).
pub async fn insert_with_posts(
    db: &DatabaseConnection,
    row: Campaign,
    posts: Vec<post::Model>,
) -> Result<(), DbErr> {
    let txn = marquee_db::begin_write(db).await?;
    insert(&txn, row).await?;
    if !posts.is_empty() {
        post::Entity::insert_many(posts.into_iter().map(IntoActiveModel::into_active_model))
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await
}

/// Saves every column of `row` except the idempotency key (found by id).
pub async fn save(db: &impl ConnectionTrait, row: Campaign) -> Result<(), DbErr> {
    let mut model = row.into_active_model().reset_all();
    model.idempotency_key = sea_orm::ActiveValue::NotSet;
    model.update(db).await.map(drop)
}

pub async fn set_status(db: &impl ConnectionTrait, id: &str, status: &str) -> Result<(), DbErr> {
    Campaigns::update_many()
        .col_expr(
            campaign::Column::Status,
            sea_orm::sea_query::Expr::value(status),
        )
        .col_expr(
            campaign::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(campaign::Column::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

/// An owner's campaigns, newest first, after `cursor` (an id; ids are UUIDv7).
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Vec<Campaign>, DbErr> {
    let mut query = Campaigns::find()
        .filter(campaign::Column::TenantId.eq(tenant_id))
        .filter(campaign::Column::OwnerId.eq(owner_id));
    if let Some(cursor) = cursor {
        query = query.filter(campaign::Column::Id.lt(cursor));
    }
    query
        .order_by_desc(campaign::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes a campaign with its posts, delivery log and jobs.
pub async fn delete(db: &DatabaseConnection, id: &str) -> Result<(), DbErr> {
    let txn = marquee_db::begin_write(db).await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::CampaignId.eq(id))
        .exec(&txn)
        .await?;
    post::Entity::delete_many()
        .filter(post::Column::CampaignId.eq(id))
        .exec(&txn)
        .await?;
    job::Entity::delete_many()
        .filter(job::Column::CampaignId.eq(id))
        .filter(job::Column::State.is_in(["succeeded", "failed", "cancelled", "queued"]))
        .exec(&txn)
        .await?;
    Campaigns::delete_by_id(id.to_string()).exec(&txn).await?;
    txn.commit().await
}
