//! Building the events the campaign service publishes, and writing them to the outbox.

use super::SERVICE;
use crate::domain::posts::Post;
use crate::error::Result;
use marquee_bus::outbox;
use marquee_proto::events::types;
use marquee_proto::events::v1 as ev;
use sea_orm::ConnectionTrait;

/// `post.published`: a scheduled post went out to its connectors.
pub async fn post_published(txn: &impl ConnectionTrait, post: &Post) -> Result<()> {
    let payload = ev::PostPublished {
        post_id: post.id.clone(),
        campaign_id: post.campaign_id.clone(),
        owner_id: post.owner_id.clone(),
        platform: post.platform.as_str().to_string(),
        asset_id: post.asset_id.clone().unwrap_or_default(),
    };
    outbox::enqueue_event(
        txn,
        SERVICE,
        types::POST_PUBLISHED,
        &post.tenant_id,
        "marquee.events.v1.PostPublished",
        &payload,
    )
    .await?;
    Ok(())
}
