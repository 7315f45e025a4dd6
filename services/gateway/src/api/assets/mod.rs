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
#[doc(hidden)]
pub use uploads::read_form;
pub use uploads::{DuplicateAssetProblem, UploadForm, upload};

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

super::page!(
    /// A page of assets.
    AssetPageBody of AssetBody
);

impl From<pb::ListAssetsResponse> for AssetPageBody {
    fn from(page: pb::ListAssetsResponse) -> Self {
        Self::new(page.assets, page.next_cursor)
    }
}

/// Filters of the asset list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAssetsQuery {
    /// Only this creator's assets (a user id).
    #[param(max_length = 128, pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub owner: Option<String>,
    #[param(value_type = Option<AssetStatusName>, inline)]
    pub status: Option<String>,
    #[param(value_type = Option<AssetKindName>, inline)]
    pub kind: Option<String>,
    /// Page size: default 20 (also for 0); larger values are read as 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295.0)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?$"
    )]
    pub cursor: Option<String>,
}

/// An asset's status.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum AssetStatusName {
    Processing,
    PendingReview,
    Ready,
    Rejected,
    Failed,
}

/// An asset's kind.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum AssetKindName {
    Image,
    Video,
    Audio,
    Document,
}

/// Which bytes of an asset: `published` (images without metadata once processed),
/// `thumbnail` (JPEG) or `original` (owner and moderators).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum VariantName {
    Published,
    Thumbnail,
    Original,
}

/// Checks a `kind` filter (`invalid_kind`).
pub(crate) fn check_kind(kind: Option<&str>) -> Result<(), Error> {
    match kind {
        None | Some("image" | "video" | "audio" | "document") => Ok(()),
        Some(_) => Err(Error::invalid(
            "invalid_kind",
            "kind is one of image, video, audio, document",
        )),
    }
}

/// New title and/or description; absent or `null` fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssetBody {
    /// 1 to 200 characters, one line, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub title: Option<String>,
    /// At most 5000 characters; tab and newline are the only control characters.
    #[schema(
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
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
