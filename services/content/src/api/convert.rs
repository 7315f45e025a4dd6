//! Domain ↔ protobuf conversions.

use crate::domain::{Asset, flags_of, status, tags_of};
use marquee_proto::content::v1 as pb;

pub fn timestamp(time: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn status_to_proto(value: &str) -> pb::AssetStatus {
    match value {
        status::PROCESSING => pb::AssetStatus::Processing,
        status::PENDING_REVIEW => pb::AssetStatus::PendingReview,
        status::READY => pb::AssetStatus::Ready,
        status::REJECTED => pb::AssetStatus::Rejected,
        status::FAILED => pb::AssetStatus::Failed,
        _ => pb::AssetStatus::Unspecified,
    }
}

pub fn status_from_proto(value: pb::AssetStatus) -> Option<&'static str> {
    match value {
        pb::AssetStatus::Unspecified => None,
        pb::AssetStatus::Processing => Some(status::PROCESSING),
        pb::AssetStatus::PendingReview => Some(status::PENDING_REVIEW),
        pb::AssetStatus::Ready => Some(status::READY),
        pb::AssetStatus::Rejected => Some(status::REJECTED),
        pb::AssetStatus::Failed => Some(status::FAILED),
    }
}

pub fn asset(asset: Asset) -> pb::Asset {
    pb::Asset {
        tags: tags_of(&asset),
        flags: flags_of(&asset),
        status: status_to_proto(&asset.status).into(),
        id: asset.id,
        tenant_id: asset.tenant_id,
        owner_id: asset.owner_id,
        title: asset.title,
        description: asset.description,
        content_type: asset.content_type,
        size_bytes: u64::try_from(asset.size_bytes).unwrap_or(0),
        sha256: asset.sha256,
        status_reason: asset.status_reason,
        created_at: Some(timestamp(asset.created_at)),
        kind: asset.kind,
        filename: asset.filename,
        width: asset.width.and_then(|w| u32::try_from(w).ok()).unwrap_or(0),
        height: asset
            .height
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(0),
        has_thumbnail: asset.thumbnail_key.is_some(),
        updated_at: Some(timestamp(asset.updated_at)),
        duration_ms: asset.duration_ms.and_then(|ms| u64::try_from(ms).ok()),
        page_count: asset.page_count.and_then(|n| u32::try_from(n).ok()),
        text_excerpt: asset.text_excerpt,
    }
}

pub fn creator(creator: crate::domain::community::Creator) -> pb::Creator {
    pb::Creator {
        id: creator.id,
        tenant_id: creator.tenant_id,
        display_name: creator.display_name,
        bio: creator.bio,
        avatar_asset_id: creator.avatar_asset_id.unwrap_or_default(),
        followers: creator.followers,
        following: creator.following,
        followed_by_me: creator.followed_by_me,
        updated_at: creator.updated_at.map(timestamp),
    }
}

pub fn follow_entry(entry: crate::domain::community::FollowEntry) -> pb::FollowEntry {
    pb::FollowEntry {
        user_id: entry.user_id,
        since: Some(timestamp(entry.since)),
    }
}

/// `show_reports`: moderators see the open report count.
pub fn comment(comment: crate::domain::Comment, show_reports: bool) -> pb::Comment {
    pb::Comment {
        id: comment.id,
        asset_id: comment.asset_id,
        author_id: comment.author_id,
        body: comment.body,
        created_at: Some(timestamp(comment.created_at)),
        status: comment.status,
        reports: if show_reports {
            u32::try_from(comment.report_count).unwrap_or(0)
        } else {
            0
        },
    }
}
