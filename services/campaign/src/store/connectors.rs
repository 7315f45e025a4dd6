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

/// Every connector (start-up re-sealing of secrets).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Connector>, DbErr> {
    Connectors::find()
        .order_by_asc(connector::Column::Id)
        .all(db)
        .await
}

/// Replaces a connector's sealed secret if it is still `old`; whether it did.
pub async fn replace_secret(
    db: &impl ConnectionTrait,
    id: &str,
    old: &str,
    new: String,
) -> Result<bool, DbErr> {
    let result = Connectors::update_many()
        .col_expr(
            connector::Column::SecretSealed,
            sea_orm::sea_query::Expr::value(new),
        )
        .filter(connector::Column::Id.eq(id))
        .filter(connector::Column::SecretSealed.eq(old))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
