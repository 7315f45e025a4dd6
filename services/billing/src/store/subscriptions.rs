//! Subscription rows: one per tenant.

use super::entities::subscription::{self, SubscriptionStatus};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: &str,
) -> Result<Option<subscription::Model>, DbErr> {
    subscription::Entity::find_by_id(tenant.to_string())
        .one(db)
        .await
}

pub async fn by_customer(
    db: &impl ConnectionTrait,
    customer: &str,
) -> Result<Option<subscription::Model>, DbErr> {
    subscription::Entity::find()
        .filter(subscription::Column::StripeCustomerId.eq(customer))
        .one(db)
        .await
}

/// Rows `past_due` since before `cutoff` (their grace period ran out).
pub async fn past_due_since_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> Result<Vec<subscription::Model>, DbErr> {
    subscription::Entity::find()
        .filter(subscription::Column::Status.eq(SubscriptionStatus::PastDue))
        .filter(subscription::Column::PastDueSince.lt(cutoff))
        .all(db)
        .await
}

/// Inserts or replaces the tenant's row. A row carrying a Stripe state replaces only a
/// row whose state was fetched no later (`stripe_synced_at`); false when it was older
/// and nothing was written.
pub async fn save(db: &impl ConnectionTrait, model: subscription::Model) -> Result<bool, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use subscription::Column as C;
    let synced = model.stripe_synced_at;
    let mut on_conflict = sea_orm::sea_query::OnConflict::column(C::TenantId);
    on_conflict.update_columns([
        C::UserId,
        C::Plan,
        C::Status,
        C::Provider,
        C::StripeCustomerId,
        C::StripeSubscriptionId,
        C::CurrentPeriodEnd,
        C::CancelAtPeriodEnd,
        C::PastDueSince,
        C::StripeSyncedAt,
        C::UpdatedAt,
    ]);
    if let Some(synced) = synced {
        let column = Expr::col((subscription::Entity, C::StripeSyncedAt));
        on_conflict.action_and_where(column.clone().is_null().or(column.lte(synced)));
    }
    let written = subscription::Entity::insert(subscription::ActiveModel::from(model))
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await?;
    Ok(written > 0)
}
