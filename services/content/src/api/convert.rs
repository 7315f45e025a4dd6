//! Domain ↔ protobuf conversions.

use crate::domain::assets::{ByteRange, ContentHeader, SignedUrl, Variant};
use crate::domain::community::{Creator, FollowEntry};
use crate::domain::upload::UploadMetadata;
use crate::domain::{Asset, AssetStatus, Comment};
use crate::error::ContentError;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::timestamp;
use tonic::Status;

pub fn status_to_proto(value: AssetStatus) -> pb::AssetStatus {
    match value {
        AssetStatus::Processing => pb::AssetStatus::Processing,
        AssetStatus::PendingReview => pb::AssetStatus::PendingReview,
        AssetStatus::Ready => pb::AssetStatus::Ready,
        AssetStatus::Rejected => pb::AssetStatus::Rejected,
        AssetStatus::Failed => pb::AssetStatus::Failed,
    }
}

/// `None` for unspecified (no filter).
pub fn status_from_proto(value: pb::AssetStatus) -> Option<AssetStatus> {
    match value {
        pb::AssetStatus::Unspecified => None,
        pb::AssetStatus::Processing => Some(AssetStatus::Processing),
        pb::AssetStatus::PendingReview => Some(AssetStatus::PendingReview),
        pb::AssetStatus::Ready => Some(AssetStatus::Ready),
        pb::AssetStatus::Rejected => Some(AssetStatus::Rejected),
        pb::AssetStatus::Failed => Some(AssetStatus::Failed),
    }
}

pub fn upload_metadata(m: pb::UploadMetadata) -> UploadMetadata {
    UploadMetadata {
        title: m.title,
        description: m.description,
        tags: m.tags,
        filename: m.filename,
    }
}

/// `None` when the request asks for the whole content.
pub fn byte_range(range: Option<pb::ByteRange>) -> Result<Option<ByteRange>, Status> {
    let Some(range) = range else { return Ok(None) };
    match (range.start, range.end, range.suffix) {
        (Some(start), end, None) => {
            if end.is_some_and(|end| end < start) {
                return Err(ContentError::invalid(
                    "invalid_range",
                    "the range ends before it starts",
                )
                .into());
            }
            Ok(Some(ByteRange::From { start, end }))
        }
        (None, None, Some(suffix)) => Ok(Some(ByteRange::Suffix(suffix))),
        _ => Err(ContentError::invalid("invalid_range", "the range is malformed").into()),
    }
}

/// Unspecified is the published copy.
pub fn variant(variant: pb::ContentVariant) -> Variant {
    match variant {
        pb::ContentVariant::Unspecified => Variant::Published,
        pb::ContentVariant::Thumbnail => Variant::Thumbnail,
        pb::ContentVariant::Original => Variant::Original,
    }
}

/// The first message of a content stream.
pub fn content_header(h: ContentHeader) -> pb::AssetContentChunk {
    pb::AssetContentChunk {
        part: Some(pb::asset_content_chunk::Part::Header(
            pb::AssetContentHeader {
                content_type: h.content_type,
                total_size: h.total_size,
                start: h.start,
                end: h.end,
                partial: h.partial,
                filename: h.filename,
                sha256: h.sha256,
            },
        )),
    }
}

pub fn signed_url(signed: SignedUrl) -> pb::SignedUrl {
    pb::SignedUrl {
        path: signed.path,
        expires_at: Some(prost_types::Timestamp {
            seconds: signed.expires_at,
            nanos: 0,
        }),
    }
}

pub fn asset(asset: Asset) -> pb::Asset {
    pb::Asset {
        tags: asset.tag_list(),
        flags: asset.flag_list(),
        status: status_to_proto(asset.status).into(),
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

pub fn creator(creator: Creator) -> pb::Creator {
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

pub fn follow_entry(entry: FollowEntry) -> pb::FollowEntry {
    pb::FollowEntry {
        user_id: entry.user_id,
        since: Some(timestamp(entry.since)),
    }
}

/// `show_reports`: moderators see the open report count.
pub fn comment(comment: Comment, show_reports: bool) -> pb::Comment {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_proto() {
        for status in [
            AssetStatus::Processing,
            AssetStatus::PendingReview,
            AssetStatus::Ready,
            AssetStatus::Rejected,
            AssetStatus::Failed,
        ] {
            assert_eq!(status_from_proto(status_to_proto(status)), Some(status));
        }
        assert_eq!(status_from_proto(pb::AssetStatus::Unspecified), None);
    }
}
