//! Queries on `deliveries`, the delivery log.

use super::entities::delivery::{self, Entity as Deliveries, Model as Delivery};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Most log rows answered for a campaign.
const MAX_LISTED: u64 = 500;

pub async fn insert(db: &impl ConnectionTrait, row: Delivery) -> Result<(), DbErr> {
    Deliveries::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(drop)
}

/// A campaign's delivery log, newest first.
pub async fn of_campaign(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<Vec<Delivery>, DbErr> {
    Deliveries::find()
        .filter(delivery::Column::CampaignId.eq(campaign_id))
        .order_by_desc(delivery::Column::At)
        .limit(MAX_LISTED)
        .all(db)
        .await
}

/// The connectors a post was delivered to already.
pub async fn delivered_connectors(
    db: &impl ConnectionTrait,
    post_id: &str,
) -> Result<Vec<String>, DbErr> {
    Ok(Deliveries::find()
        .filter(delivery::Column::PostId.eq(post_id))
        .filter(delivery::Column::Status.eq("delivered"))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.connector_id)
        .collect())
}
