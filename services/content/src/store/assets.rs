//! Queries on `assets`. Every function takes the tenant: nothing crosses tenants.

use super::entities::asset::{self, AssetStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

pub async fn insert(db: &impl ConnectionTrait, model: asset::Model) -> Result<asset::Model, DbErr> {
    model.into_active_model().reset_all().insert(db).await
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<Option<asset::Model>, DbErr> {
    by_id(tenant_id, id).one(db).await
}

fn by_id(tenant_id: &str, id: &str) -> sea_orm::Select<asset::Entity> {
    asset::Entity::find_by_id(id.to_string()).filter(asset::Column::TenantId.eq(tenant_id))
}

/// The asset, locked until the transaction `db` ends: for a read-modify-write of the row
/// (every writer saves the whole row, so two that read the same version would lose one
/// change). PostgreSQL: `SELECT … FOR UPDATE`; SQLite ignores the clause — its write
/// transaction (`marquee_db::begin_write`) already holds the database.
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<Option<asset::Model>, DbErr> {
    by_id(tenant_id, id).lock_exclusive().one(db).await
}

/// Any tenant's asset: only for signed downloads, whose signature names the id.
pub async fn find_any(db: &impl ConnectionTrait, id: &str) -> Result<Option<asset::Model>, DbErr> {
    asset::Entity::find_by_id(id.to_string()).one(db).await
}

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
    sha256: &str,
) -> Result<Option<asset::Model>, DbErr> {
    asset::Entity::find()
        .filter(asset::Column::TenantId.eq(tenant_id))
        .filter(asset::Column::OwnerId.eq(owner_id))
        .filter(asset::Column::Sha256.eq(sha256))
        .one(db)
        .await
}

/// The size of the owner's largest asset, if they have any.
pub async fn largest_size(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
) -> Result<Option<i64>, DbErr> {
    Ok(asset::Entity::find()
        .filter(asset::Column::TenantId.eq(tenant_id))
        .filter(asset::Column::OwnerId.eq(owner_id))
        .order_by_desc(asset::Column::SizeBytes)
        .one(db)
        .await?
        .map(|largest| largest.size_bytes))
}

/// Saves every column of `model` (found by id). Read it with [`find_for_update`] in the
/// same write transaction, or a concurrent writer's change is overwritten.
pub async fn save(db: &impl ConnectionTrait, model: asset::Model) -> Result<asset::Model, DbErr> {
    model.into_active_model().reset_all().update(db).await
}

pub async fn delete(db: &impl ConnectionTrait, tenant_id: &str, id: &str) -> Result<u64, DbErr> {
    Ok(asset::Entity::delete_many()
        .filter(asset::Column::TenantId.eq(tenant_id))
        .filter(asset::Column::Id.eq(id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Who may see what in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Everything in the tenant (moderators).
    All,
    /// `ready` assets, plus every asset of this user (their own).
    ReadyOrOwnedBy(String),
}

#[derive(Debug, Clone)]
pub struct AssetFilter {
    pub tenant_id: String,
    pub visibility: Visibility,
    pub owner_id: Option<String>,
    pub status: Option<AssetStatus>,
    pub kind: Option<String>,
    /// Assets strictly older than this id (ids are UUIDv7).
    pub before_id: Option<String>,
    pub limit: u64,
}

/// Newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: AssetFilter,
) -> Result<Vec<asset::Model>, DbErr> {
    let mut query = asset::Entity::find().filter(asset::Column::TenantId.eq(filter.tenant_id));
    if let Visibility::ReadyOrOwnedBy(user) = filter.visibility {
        query = query.filter(
            Condition::any()
                .add(asset::Column::Status.eq(AssetStatus::Ready))
                .add(asset::Column::OwnerId.eq(user)),
        );
    }
    if let Some(owner_id) = filter.owner_id {
        query = query.filter(asset::Column::OwnerId.eq(owner_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(asset::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(asset::Column::Kind.eq(kind));
    }
    if let Some(before_id) = filter.before_id {
        query = query.filter(asset::Column::Id.lt(before_id));
    }
    query
        .order_by_desc(asset::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await
}

/// The moderation queue: processed assets waiting for a decision, oldest first.
pub async fn review_queue(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    after_id: Option<String>,
    limit: u64,
) -> Result<Vec<asset::Model>, DbErr> {
    let mut query = asset::Entity::find()
        .filter(asset::Column::TenantId.eq(tenant_id))
        .filter(asset::Column::Status.eq(AssetStatus::PendingReview));
    if let Some(after_id) = after_id {
        query = query.filter(asset::Column::Id.gt(after_id));
    }
    query
        .order_by_asc(asset::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
