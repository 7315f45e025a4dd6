use super::entities::tenant;
use crate::domain::tenants::{Flags, Tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};
use serde_json::Value;

/// Flags are stored as a JSON object; anything else reads as no flags.
impl From<tenant::Model> for Tenant {
    fn from(model: tenant::Model) -> Self {
        Self {
            flags: match model.flags {
                Value::Object(flags) => flags,
                _ => Flags::new(),
            },
            id: model.id,
            name: model.name,
            slug: model.slug,
            sandbox: model.sandbox,
            created_at: model.created_at,
        }
    }
}

impl From<Tenant> for tenant::Model {
    fn from(tenant: Tenant) -> Self {
        Self {
            flags: Value::Object(tenant.flags),
            id: tenant.id,
            name: tenant.name,
            slug: tenant.slug,
            sandbox: tenant.sandbox,
            created_at: tenant.created_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, tenant: Tenant) -> Result<Tenant, DbErr> {
    tenant::Model::from(tenant)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(Tenant::from)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Tenant>, DbErr> {
    let row = tenant::Entity::find_by_id(id.to_string()).one(db).await?;
    Ok(row.map(Tenant::from))
}

pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<Tenant>, DbErr> {
    let row = tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await?;
    Ok(row.map(Tenant::from))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Tenant>, DbErr> {
    let rows = tenant::Entity::find()
        .order_by_asc(tenant::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}

/// Replaces the flags; only that column is written.
pub async fn set_flags(
    db: &impl ConnectionTrait,
    tenant: Tenant,
    flags: Flags,
) -> Result<Tenant, DbErr> {
    let mut active = tenant::Model::from(tenant).into_active_model();
    active.flags = Set(Value::Object(flags));
    active.update(db).await.map(Tenant::from)
}
