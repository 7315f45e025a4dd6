use super::entities::user;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

pub async fn insert(db: &impl ConnectionTrait, model: user::Model) -> Result<user::Model, DbErr> {
    let active = user::ActiveModel {
        id: Set(model.id),
        tenant_id: Set(model.tenant_id),
        email: Set(model.email),
        password_hash: Set(model.password_hash),
        display_name: Set(model.display_name),
        roles: Set(model.roles),
        created_at: Set(model.created_at),
    };
    active.insert(db).await
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant_id))
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id.to_string())
        .filter(user::Column::TenantId.eq(tenant_id))
        .one(db)
        .await
}
