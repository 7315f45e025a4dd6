//! Queries on `taxonomy_labels`.

use super::entities::taxonomy_label::{self, Entity as TaxonomyLabels};
use crate::domain::taxonomy::Label;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// A tenant's own labels, in their order; empty when it uses the default.
pub async fn labels(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<Label>, sea_orm::DbErr> {
    Ok(TaxonomyLabels::find()
        .filter(taxonomy_label::Column::TenantId.eq(tenant_id))
        .order_by_asc(taxonomy_label::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Label {
            name: row.name,
            description: row.description,
        })
        .collect())
}

/// Replaces a tenant's labels (none: back to the default).
pub async fn replace(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    labels: &[Label],
) -> Result<(), sea_orm::DbErr> {
    TaxonomyLabels::delete_many()
        .filter(taxonomy_label::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    if labels.is_empty() {
        return Ok(());
    }
    TaxonomyLabels::insert_many(labels.iter().enumerate().map(|(position, label)| {
        taxonomy_label::ActiveModel {
            tenant_id: Set(tenant_id.to_string()),
            name: Set(label.name.clone()),
            description: Set(label.description.clone()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        }
    }))
    .exec_without_returning(db)
    .await
    .map(drop)
}
