//! Building the events tagging publishes, and writing them to the outbox.

use super::SERVICE;
use crate::error::Result;
use crate::store::entities::tagged_asset::Model as TaggedAsset;
use marquee_bus::outbox;
use marquee_proto::events::types;
use marquee_proto::events::v1 as ev;
use sea_orm::ConnectionTrait;

/// `asset.tagged`: the tags now on an asset, strongest first (or why tagging failed).
pub async fn asset_tagged(
    txn: &impl ConnectionTrait,
    asset: &TaggedAsset,
    ok: bool,
    reason: &str,
    tags: Vec<ev::TaggedName>,
) -> Result<()> {
    let payload = ev::AssetTagged {
        asset_id: asset.asset_id.clone(),
        owner_id: asset.owner_id.clone(),
        ok,
        reason: reason.to_string(),
        tags,
    };
    outbox::enqueue_event(
        txn,
        SERVICE,
        types::ASSET_TAGGED,
        &asset.tenant_id,
        "marquee.events.v1.AssetTagged",
        &payload,
    )
    .await?;
    Ok(())
}
