use super::entities::tenant;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    model: tenant::Model,
) -> Result<tenant::Model, DbErr> {
    model.into_active_model().reset_all().insert(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find_by_id(id.to_string()).one(db).await
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .order_by_asc(tenant::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn set_flags(
    db: &impl ConnectionTrait,
    tenant: tenant::Model,
    flags: serde_json::Value,
) -> Result<tenant::Model, DbErr> {
    let mut active = tenant.into_active_model();
    active.flags = Set(flags);
    active.update(db).await
}
