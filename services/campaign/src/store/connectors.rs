//! Queries on `connectors`.

use super::entities::connector::{self, Entity as Connectors, Model as Connector};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

pub async fn insert(db: &impl ConnectionTrait, row: Connector) -> Result<(), DbErr> {
    Connectors::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(drop)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Connector>, DbErr> {
    Connectors::find_by_id(id.to_string()).one(db).await
}

pub async fn of_owner(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
) -> Result<Vec<Connector>, DbErr> {
    Connectors::find()
        .filter(connector::Column::TenantId.eq(tenant_id))
        .filter(connector::Column::OwnerId.eq(owner_id))
        .order_by_asc(connector::Column::Id)
        .all(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Connectors::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map(drop)
}
