//! Building the events content publishes, and writing them to the outbox.

use super::SERVICE;
use crate::error::Result;
use crate::store::entities::asset::Model as Asset;
use crate::store::entities::comment::Model as Comment;
use marquee_bus::outbox;
use marquee_proto::events::types;
use marquee_proto::events::v1 as ev;
use sea_orm::ConnectionTrait;

async fn enqueue(
    txn: &impl ConnectionTrait,
    event_type: &str,
    tenant_id: &str,
    full_name: &str,
    payload: &impl prost::Message,
) -> Result<()> {
    outbox::enqueue_event(txn, SERVICE, event_type, tenant_id, full_name, payload).await?;
    Ok(())
}

pub async fn asset_uploaded(txn: &impl ConnectionTrait, asset: &Asset) -> Result<()> {
    let payload = ev::AssetUploaded {
        asset_id: asset.id.clone(),
        owner_id: asset.owner_id.clone(),
        content_type: asset.content_type.clone(),
        kind: asset.kind.clone(),
        size_bytes: u64::try_from(asset.size_bytes).unwrap_or(0),
        sha256: asset.sha256.clone(),
        title: asset.title.clone(),
        description: asset.description.clone(),
        tags: asset.tag_list(),
    };
    enqueue(
        txn,
        types::ASSET_UPLOADED,
        &asset.tenant_id,
        "marquee.events.v1.AssetUploaded",
        &payload,
    )
    .await
}

pub async fn asset_processed(txn: &impl ConnectionTrait, asset: &Asset, ok: bool) -> Result<()> {
    let payload = ev::AssetProcessed {
        asset_id: asset.id.clone(),
        owner_id: asset.owner_id.clone(),
        ok,
        reason: asset.status_reason.clone(),
        width: asset.width.and_then(|w| u32::try_from(w).ok()).unwrap_or(0),
        height: asset
            .height
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(0),
        has_thumbnail: asset.thumbnail_key.is_some(),
        status: asset.status.as_str().to_string(),
        title: asset.title.clone(),
        description: asset.description.clone(),
        tags: asset.tag_list(),
        kind: asset.kind.clone(),
        content_type: asset.content_type.clone(),
        text_excerpt: asset.text_excerpt.clone().unwrap_or_default(),
        created_at: Some(marquee_proto::convert::timestamp(asset.created_at)),
    };
    enqueue(
        txn,
        types::ASSET_PROCESSED,
        &asset.tenant_id,
        "marquee.events.v1.AssetProcessed",
        &payload,
    )
    .await
}

/// `asset.approved` or `asset.rejected`; `moderator_id` empty for automatic approval.
pub async fn asset_moderated(
    txn: &impl ConnectionTrait,
    asset: &Asset,
    moderator_id: &str,
    approved: bool,
    reason: &str,
) -> Result<()> {
    let payload = ev::AssetModerated {
        asset_id: asset.id.clone(),
        owner_id: asset.owner_id.clone(),
        moderator_id: moderator_id.to_string(),
        approved,
        reason: reason.to_string(),
    };
    let event_type = if approved {
        types::ASSET_APPROVED
    } else {
        types::ASSET_REJECTED
    };
    enqueue(
        txn,
        event_type,
        &asset.tenant_id,
        "marquee.events.v1.AssetModerated",
        &payload,
    )
    .await
}

/// The billing holds of an upload, for the quota worker to commit (see
/// `domain::upload`).
pub async fn asset_holds(
    txn: &impl ConnectionTrait,
    asset: &Asset,
    reservation_ids: Vec<String>,
) -> Result<()> {
    let payload = ev::AssetHolds {
        asset_id: asset.id.clone(),
        owner_id: asset.owner_id.clone(),
        reservation_ids,
    };
    enqueue(
        txn,
        types::ASSET_HOLDS,
        &asset.tenant_id,
        "marquee.events.v1.AssetHolds",
        &payload,
    )
    .await
}

pub async fn asset_deleted(txn: &impl ConnectionTrait, asset: &Asset) -> Result<()> {
    let payload = ev::AssetDeleted {
        asset_id: asset.id.clone(),
        owner_id: asset.owner_id.clone(),
        size_bytes: u64::try_from(asset.size_bytes).unwrap_or(0),
    };
    enqueue(
        txn,
        types::ASSET_DELETED,
        &asset.tenant_id,
        "marquee.events.v1.AssetDeleted",
        &payload,
    )
    .await
}

pub async fn creator_followed(
    txn: &impl ConnectionTrait,
    tenant_id: &str,
    follower_id: &str,
    creator_id: &str,
) -> Result<()> {
    let payload = ev::CreatorFollowed {
        follower_id: follower_id.to_string(),
        creator_id: creator_id.to_string(),
    };
    enqueue(
        txn,
        types::CREATOR_FOLLOWED,
        tenant_id,
        "marquee.events.v1.CreatorFollowed",
        &payload,
    )
    .await
}

pub async fn comment_created(
    txn: &impl ConnectionTrait,
    comment: &Comment,
    asset_owner_id: &str,
) -> Result<()> {
    let payload = ev::CommentCreated {
        comment_id: comment.id.clone(),
        asset_id: comment.asset_id.clone(),
        asset_owner_id: asset_owner_id.to_string(),
        author_id: comment.author_id.clone(),
    };
    enqueue(
        txn,
        types::COMMENT_CREATED,
        &comment.tenant_id,
        "marquee.events.v1.CommentCreated",
        &payload,
    )
    .await
}
