//! Queries on `taxonomy_labels`.

use super::entities::taxonomy_label::{self, Entity as TaxonomyLabels, Model as TaxonomyLabel};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// A tenant's own labels, in their order; empty when it uses the default.
pub async fn labels(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<TaxonomyLabel>, sea_orm::DbErr> {
    TaxonomyLabels::find()
        .filter(taxonomy_label::Column::TenantId.eq(tenant_id))
        .order_by_asc(taxonomy_label::Column::Position)
        .all(db)
        .await
}

/// Replaces a tenant's labels, `(name, description)` in order (none: back to the default).
pub async fn replace(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    labels: Vec<(String, String)>,
) -> Result<(), sea_orm::DbErr> {
    TaxonomyLabels::delete_many()
        .filter(taxonomy_label::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    if labels.is_empty() {
        return Ok(());
    }
    TaxonomyLabels::insert_many(labels.into_iter().enumerate().map(
        |(position, (name, description))| taxonomy_label::ActiveModel {
            tenant_id: Set(tenant_id.to_string()),
            name: Set(name),
            description: Set(description),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        },
    ))
    .exec_without_returning(db)
    .await
    .map(drop)
}
