//! Assets (content service): upload (multipart, streamed through to gRPC without
//! holding the file), read, list, edit, delete, download with HTTP Range, and retry of
//! failed processing. Scopes `assets:read` / `assets:write`.

mod crud;
mod downloads;
mod signed_urls;
mod uploads;

pub use crud::{delete_asset, get_asset, list_assets, retry_processing, update_asset};
pub use downloads::{ContentQuery, download, parse_range};
pub use signed_urls::{
    SignedContentQuery, SignedUrlBody, SignedUrlRequest, create_signed_url, download_signed,
};
pub use uploads::{UploadForm, UploadedBody, upload};

use super::time;
use chrono::{DateTime, Utc};
use marquee_platform::Error;
use marquee_proto::content::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetBody {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The original file name, as the client sent it.
    pub filename: String,
    /// Sniffed from the bytes, not taken from the client.
    #[schema(example = "image/png")]
    pub content_type: String,
    /// `image`, `video`, `audio` or `document`.
    #[schema(example = "image")]
    pub kind: String,
    pub size_bytes: u64,
    /// Hex SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// `processing`, `pending_review`, `ready`, `rejected` or `failed`.
    #[schema(example = "ready")]
    pub status: String,
    /// Why it failed or was rejected.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status_reason: String,
    /// Pixels, for processed images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Milliseconds, for processed MP4, QuickTime and M4A files.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 12_345)]
    pub duration_ms: Option<u64>,
    /// Pages, for processed PDFs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub page_count: Option<u32>,
    /// The first ~2,000 characters of the text of a processed PDF or text file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_excerpt: Option<String>,
    /// `GET /api/v1/assets/{id}/content?variant=thumbnail` serves it.
    pub has_thumbnail: bool,
    /// Automatic moderation flags, e.g. `blocked_term:scam`.
    pub flags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn status_name(status: pb::AssetStatus) -> &'static str {
    match status {
        pb::AssetStatus::Unspecified => "unknown",
        pb::AssetStatus::Processing => "processing",
        pb::AssetStatus::PendingReview => "pending_review",
        pb::AssetStatus::Ready => "ready",
        pb::AssetStatus::Rejected => "rejected",
        pb::AssetStatus::Failed => "failed",
    }
}

fn parse_status(value: &str) -> Result<pb::AssetStatus, Error> {
    Ok(match value {
        "processing" => pb::AssetStatus::Processing,
        "pending_review" => pb::AssetStatus::PendingReview,
        "ready" => pb::AssetStatus::Ready,
        "rejected" => pb::AssetStatus::Rejected,
        "failed" => pb::AssetStatus::Failed,
        _ => {
            return Err(Error::invalid(
                "invalid_status",
                "status is one of processing, pending_review, ready, rejected, failed",
            ));
        }
    })
}

impl From<pb::Asset> for AssetBody {
    fn from(asset: pb::Asset) -> Self {
        Self {
            status: status_name(asset.status()).to_string(),
            id: asset.id,
            tenant_id: asset.tenant_id,
            owner_id: asset.owner_id,
            title: asset.title,
            description: asset.description,
            tags: asset.tags,
            filename: asset.filename,
            content_type: asset.content_type,
            kind: asset.kind,
            size_bytes: asset.size_bytes,
            sha256: asset.sha256,
            status_reason: asset.status_reason,
            width: (asset.width > 0).then_some(asset.width),
            height: (asset.height > 0).then_some(asset.height),
            duration_ms: asset.duration_ms,
            page_count: asset.page_count,
            text_excerpt: asset.text_excerpt,
            has_thumbnail: asset.has_thumbnail,
            flags: asset.flags,
            created_at: time(asset.created_at),
            updated_at: time(asset.updated_at),
        }
    }
}

/// A page of assets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetPageBody {
    pub assets: Vec<AssetBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<pb::ListAssetsResponse> for AssetPageBody {
    fn from(page: pb::ListAssetsResponse) -> Self {
        Self {
            assets: page.assets.into_iter().map(Into::into).collect(),
            next_cursor: Some(page.next_cursor).filter(|c| !c.is_empty()),
        }
    }
}

/// Filters of the asset list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAssetsQuery {
    /// Only this creator's assets.
    pub owner: Option<String>,
    /// `processing`, `pending_review`, `ready`, `rejected` or `failed`.
    pub status: Option<String>,
    /// `image`, `video`, `audio` or `document`.
    pub kind: Option<String>,
    /// Page size (default 20, at most 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// New title and/or description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssetBody {
    pub title: Option<String>,
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for name in [
            "processing",
            "pending_review",
            "ready",
            "rejected",
            "failed",
        ] {
            assert_eq!(status_name(parse_status(name).unwrap()), name);
        }
        assert_eq!(parse_status("nope").unwrap_err().code, "invalid_status");
    }
}
