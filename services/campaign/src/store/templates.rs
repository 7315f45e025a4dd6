//! Queries on `templates`.

use super::entities::template::{self, Entity as Templates, Model as Template};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

pub async fn insert(db: &impl ConnectionTrait, row: Template) -> Result<(), DbErr> {
    Templates::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(drop)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Template>, DbErr> {
    Templates::find_by_id(id.to_string()).one(db).await
}

/// The owner's templates and the tenant's catalogue, newest first, after `cursor`.
pub async fn visible_to(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Vec<Template>, DbErr> {
    let mut query = Templates::find()
        .filter(template::Column::TenantId.eq(tenant_id))
        .filter(
            Condition::any()
                .add(template::Column::OwnerId.eq(owner_id))
                .add(template::Column::Visibility.eq("tenant")),
        );
    if let Some(cursor) = cursor {
        query = query.filter(template::Column::Id.lt(cursor));
    }
    query
        .order_by_desc(template::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Templates::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map(drop)
}
