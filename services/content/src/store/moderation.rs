//! Queries on `moderation_decisions`.

use super::entities::moderation_decision;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    model: moderation_decision::Model,
) -> Result<(), DbErr> {
    model
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(|_| ())
}

/// Every decision on an asset, oldest first.
pub async fn for_asset(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    asset_id: &str,
) -> Result<Vec<moderation_decision::Model>, DbErr> {
    moderation_decision::Entity::find()
        .filter(moderation_decision::Column::TenantId.eq(tenant_id))
        .filter(moderation_decision::Column::AssetId.eq(asset_id))
        .order_by_asc(moderation_decision::Column::Id)
        .all(db)
        .await
}
