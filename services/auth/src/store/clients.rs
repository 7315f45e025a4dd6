use super::entities::oauth_client;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    model: oauth_client::Model,
) -> Result<oauth_client::Model, DbErr> {
    model.into_active_model().reset_all().insert(db).await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<oauth_client::Model>, DbErr> {
    oauth_client::Entity::find_by_id(id.to_string())
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant_ids: &[String],
) -> Result<Vec<oauth_client::Model>, DbErr> {
    oauth_client::Entity::find()
        .filter(oauth_client::Column::TenantId.is_in(tenant_ids.iter().cloned()))
        .order_by_desc(oauth_client::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    client: oauth_client::Model,
    now: DateTime<Utc>,
) -> Result<oauth_client::Model, DbErr> {
    let mut active = client.into_active_model();
    active.revoked_at = Set(Some(now));
    active.update(db).await
}
