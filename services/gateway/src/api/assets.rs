//! Assets (content service): upload (multipart, streamed through to gRPC without
//! holding the file), read, list, edit, delete, download with HTTP Range, and retry of
//! failed processing. Scopes `assets:read` / `assets:write`.

use super::{required, time};
use crate::AppState;
use crate::clients::{anonymous, for_caller};
use crate::policy::Authenticated;
use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt, TryStreamExt};
use marquee_platform::{Error, ErrorKind, Problem};
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

/// The answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedBody {
    pub asset: AssetBody,
    /// True when you had already uploaded these bytes: `asset` is that asset.
    pub deduplicated: bool,
}

/// The multipart form of an upload. Send `title`, `description` and `tags` before
/// `file` when you can (fields after it are accepted too).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file; its type is detected from its bytes.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Defaults to the file name.
    pub title: Option<String>,
    pub description: Option<String>,
    /// Comma-separated, or the field repeated.
    pub tags: Option<String>,
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

/// Which bytes to download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// `published` (default: images without metadata once processed), `thumbnail`
    /// (JPEG) or `original` (owner and moderators).
    pub variant: Option<String>,
}

const TEXT_FIELD_LIMIT: usize = 64 * 1024;
/// Upload chunks sent to the content service.
const CHUNK_BYTES: usize = 256 * 1024;

fn multipart_error(error: MultipartError) -> Error {
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => Error::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            "send the upload as multipart/form-data",
        ),
        other => Error::invalid(
            "invalid_multipart",
            format!("malformed multipart body: {other}"),
        ),
    }
}

async fn text_field(mut field: Field) -> Result<String, Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > TEXT_FIELD_LIMIT {
            return Err(Error::invalid(
                "field_too_large",
                format!("form fields other than file are limited to {TEXT_FIELD_LIMIT} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::invalid("invalid_multipart", "form fields must be UTF-8 text"))
}

fn split_tags(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Reads a text field into the metadata; the `file` field is not handled here.
async fn read_metadata_field(
    name: &str,
    field: Field,
    metadata: &mut pb::UploadMetadata,
) -> Result<(), Error> {
    let value = text_field(field).await?;
    match name {
        "title" => metadata.title = value,
        "description" => metadata.description = value,
        "tags" => metadata.tags.extend(split_tags(&value)),
        other => {
            return Err(Error::invalid(
                "invalid_multipart",
                format!("unknown form field {other:?}; expected file, title, description, tags"),
            ));
        }
    }
    Ok(())
}

/// Upload an asset
///
/// `multipart/form-data` with `file` and optional `title`, `description`, `tags`. The
/// file streams through to storage; its type is detected from its bytes. Uploading
/// the same bytes again answers your existing asset (`deduplicated`). The asset starts
/// as `processing`; poll it (or its status) until `ready` or `pending_review`.
#[utoipa::path(
    tag = "assets",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; processing has started", body = UploadedBody),
        (status = 200, description = "You had uploaded these bytes before", body = UploadedBody),
        (status = 413, description = "The file is larger than the limit (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart (`unsupported_media_type`) or a file type we do not accept (`unsupported_file_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "Over the plan's storage or asset limit (`quota_exceeded`, the detail names the limit)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Billing cannot be reached: nothing is stored (`unavailable`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/assets")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Authenticated,
    mut multipart: Multipart,
) -> Result<HttpResponse, Error> {
    let limit = state.settings.upload_limit_bytes;
    let mut metadata = pb::UploadMetadata::default();

    // Text fields before the file.
    let mut file = loop {
        let Some(field) = multipart.try_next().await.map_err(multipart_error)? else {
            return Err(Error::invalid("file_missing", "the form has no file field"));
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if let Some(filename) = field.content_disposition().and_then(|d| d.get_filename()) {
                metadata.filename = filename.to_string();
            }
            break field;
        }
        read_metadata_field(&name, field, &mut metadata).await?;
    };

    // Stream the file: the gRPC call runs on its own task and reads from a small
    // channel, so at most a few chunks are in memory whatever the file's size.
    let (mut sender, receiver) = futures::channel::mpsc::channel::<pb::UploadAssetChunk>(4);
    let mut client = state.content.grpc();
    let request = for_caller(caller.principal(), receiver);
    let call = tokio::spawn(async move { client.upload_asset(request).await });
    let abort = |call: tokio::task::JoinHandle<_>, error: Error| {
        // Dropping the call resets the stream: the service discards what it stored.
        call.abort();
        Err(error)
    };
    let first = pb::UploadAssetChunk {
        part: Some(pb::upload_asset_chunk::Part::Metadata(metadata)),
    };
    let mut delivered = sender.send(first).await.is_ok();
    let mut size: u64 = 0;
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    while delivered {
        let chunk = match file.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => return abort(call, multipart_error(error)),
        };
        size += chunk.len() as u64;
        if size > limit {
            return abort(
                call,
                Error::new(
                    ErrorKind::PayloadTooLarge,
                    "payload_too_large",
                    format!("the upload is larger than the limit of {limit} bytes"),
                ),
            );
        }
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= CHUNK_BYTES {
            let data = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES));
            delivered = sender
                .send(pb::UploadAssetChunk {
                    part: Some(pb::upload_asset_chunk::Part::Data(data)),
                })
                .await
                .is_ok();
        }
    }
    if delivered && !buffer.is_empty() {
        delivered = sender
            .send(pb::UploadAssetChunk {
                part: Some(pb::upload_asset_chunk::Part::Data(buffer)),
            })
            .await
            .is_ok();
    }
    drop(file);

    // Text fields after the file.
    if delivered {
        let mut trailing = pb::UploadMetadata::default();
        loop {
            let field = match multipart.try_next().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(error) => return abort(call, multipart_error(error)),
            };
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                return abort(
                    call,
                    Error::invalid("invalid_multipart", "only one file per upload"),
                );
            }
            if let Err(error) = read_metadata_field(&name, field, &mut trailing).await {
                return abort(call, error);
            }
        }
        if trailing != pb::UploadMetadata::default() {
            let _ = sender
                .send(pb::UploadAssetChunk {
                    part: Some(pb::upload_asset_chunk::Part::Metadata(trailing)),
                })
                .await;
        }
    }
    drop(sender); // end of the stream: the service finishes the upload

    let uploaded = call
        .await
        .map_err(|error| Error::internal(format!("upload task: {error}")))??
        .into_inner();
    let status = if uploaded.deduplicated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let asset = required(uploaded.asset, "asset")?;
    Ok(HttpResponse::build(status).json(UploadedBody {
        asset: asset.into(),
        deduplicated: uploaded.deduplicated,
    }))
}

/// An asset
///
/// Yours in any state; other people's once they are `ready` (processed and approved).
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses((status = 200, description = "The asset", body = AssetBody)),
)]
#[get("/api/v1/assets/{id}")]
pub async fn get_asset(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let asset = state
        .content
        .grpc()
        .get_asset(for_caller(
            caller.principal(),
            pb::GetAssetRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}

/// List assets
///
/// Newest first: every `ready` asset of your tenant plus all of yours (moderators see
/// everything), filtered, paged with `cursor`.
#[utoipa::path(
    tag = "assets",
    params(ListAssetsQuery),
    responses((status = 200, description = "A page of assets", body = AssetPageBody)),
)]
#[get("/api/v1/assets")]
pub async fn list_assets(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListAssetsQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        Some(status) => parse_status(status)?,
        None => pb::AssetStatus::Unspecified,
    };
    let page = state
        .content
        .grpc()
        .list_assets(for_caller(
            caller.principal(),
            pb::ListAssetsRequest {
                owner_id: query.owner.unwrap_or_default(),
                status: status.into(),
                kind: query.kind.unwrap_or_default(),
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetPageBody::from(page)))
}

/// Edit an asset
///
/// Title and/or description (owner only). Text with a blocked term sends the asset
/// back to review.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    request_body = UpdateAssetBody,
    responses((status = 200, description = "The edited asset", body = AssetBody)),
)]
#[patch("/api/v1/assets/{id}")]
pub async fn update_asset(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: web::Json<UpdateAssetBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let asset = state
        .content
        .grpc()
        .update_asset(for_caller(
            caller.principal(),
            pb::UpdateAssetRequest {
                id: id.into_inner(),
                title: body.title,
                description: body.description,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}

/// Delete an asset
///
/// The owner or a moderator; the stored files go with it.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/api/v1/assets/{id}")]
pub async fn delete_asset(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .content
        .grpc()
        .delete_asset(for_caller(
            caller.principal(),
            pb::DeleteAssetRequest {
                id: id.into_inner(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Process a failed asset again
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    responses(
        (status = 200, description = "Back in processing", body = AssetBody),
        (status = 409, description = "The asset has not failed (`not_failed`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/assets/{id}/retry")]
pub async fn retry_processing(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let asset = state
        .content
        .grpc()
        .retry_processing(for_caller(
            caller.principal(),
            pb::RetryProcessingRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetBody::from(asset)))
}

/// A single `Range: bytes=…` header as the content service takes it; anything else
/// (several ranges, other units, garbage) is ignored and the whole file is served.
pub fn parse_range(value: Option<&str>) -> Option<pb::ByteRange> {
    let spec = value?.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        let suffix: u64 = end.parse().ok()?;
        return Some(pb::ByteRange {
            suffix: Some(suffix),
            ..Default::default()
        });
    }
    let start: u64 = start.parse().ok()?;
    let end: Option<u64> = if end.is_empty() {
        None
    } else {
        Some(end.parse().ok()?)
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    Some(pb::ByteRange {
        start: Some(start),
        end,
        suffix: None,
    })
}

/// Download an asset's bytes
///
/// Supports a single HTTP `Range` (`206 Partial Content` with `Content-Range`); a
/// range starting past the end is `416` with `Content-Range: bytes */<size>`; several
/// ranges or a malformed one are ignored and the whole file is sent.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id"), ContentQuery),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 416, description = "The range starts past the end (`range_not_satisfiable`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/assets/{id}/content")]
pub async fn download(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    query: web::Query<ContentQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, Error> {
    let variant = parse_variant(query.variant.as_deref())?;
    let range = request_range(&request);
    let stream = state
        .content
        .grpc()
        .get_asset_content(for_caller(
            caller.principal(),
            pb::GetAssetContentRequest {
                id: id.into_inner(),
                variant: variant.into(),
                range,
                signed: None,
            },
        ))
        .await?
        .into_inner();
    respond(stream).await
}

fn parse_variant(value: Option<&str>) -> Result<pb::ContentVariant, Error> {
    Ok(match value {
        None | Some("published") => pb::ContentVariant::Unspecified,
        Some("thumbnail") => pb::ContentVariant::Thumbnail,
        Some("original") => pb::ContentVariant::Original,
        Some(_) => {
            return Err(Error::invalid(
                "invalid_variant",
                "variant is one of published, thumbnail, original",
            ));
        }
    })
}

fn request_range(request: &HttpRequest) -> Option<pb::ByteRange> {
    parse_range(
        request
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Turns the content service's download stream into the HTTP response.
async fn respond(
    mut stream: tonic::Streaming<pb::AssetContentChunk>,
) -> Result<HttpResponse, Error> {
    let header = match stream.message().await? {
        Some(pb::AssetContentChunk {
            part: Some(pb::asset_content_chunk::Part::Header(header)),
        }) => header,
        _ => {
            return Err(Error::internal(
                "content stream did not start with a header",
            ));
        }
    };
    let length = if header.total_size == 0 {
        0
    } else {
        header.end - header.start + 1
    };
    let mut response = if header.partial {
        let mut response = HttpResponse::PartialContent();
        response.insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                header.start, header.end, header.total_size
            ),
        ));
        response
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CONTENT_TYPE, header.content_type.clone()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header(("x-content-type-options", "nosniff"))
        .no_chunking(length);
    if !header.sha256.is_empty() {
        response.insert_header((header::ETAG, format!("\"{}\"", header.sha256)));
    }
    let filename: String = header
        .filename
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    if !filename.is_empty() {
        response.insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{filename}\""),
        ));
    }
    let body = stream.filter_map(|chunk| async move {
        match chunk {
            Ok(pb::AssetContentChunk {
                part: Some(pb::asset_content_chunk::Part::Data(data)),
            }) => Some(Ok(web::Bytes::from(data))),
            Ok(_) => None,
            Err(status) => Some(Err(Error::from_status(&status))),
        }
    });
    Ok(response.streaming(body))
}

/// What a signed URL should grant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignedUrlRequest {
    /// `published` (default), `thumbnail` or `original` (owner and moderators).
    pub variant: Option<String>,
    /// Seconds the URL stays valid: default 900, capped at 3600.
    pub expires_in: Option<u32>,
}

/// A short-lived download URL that needs no token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedUrlBody {
    /// Path and query, relative to the API's base URL (this gateway).
    #[schema(
        example = "/api/v1/assets/0190…/content/signed?variant=published&expires=1767225600&signature=9f…"
    )]
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Make a signed download URL
///
/// For an asset (and variant) you may download; whoever holds the URL can download
/// it without a token until `expires_at`.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id")),
    request_body = SignedUrlRequest,
    responses(
        (status = 200, description = "The URL", body = SignedUrlBody),
        (status = 400, description = "`invalid_variant`, `invalid_expires_in`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/assets/{id}/signed-url")]
pub async fn create_signed_url(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: web::Json<SignedUrlRequest>,
) -> Result<HttpResponse, Error> {
    let variant = parse_variant(body.variant.as_deref())?;
    let expires_in = match body.expires_in {
        None => 0,
        Some(0) => {
            return Err(Error::invalid(
                "invalid_expires_in",
                "expires_in is at least 1 second",
            ));
        }
        Some(seconds) => seconds,
    };
    let signed = state
        .content
        .grpc()
        .create_signed_url(for_caller(
            caller.principal(),
            pb::CreateSignedUrlRequest {
                id: id.into_inner(),
                variant: variant.into(),
                expires_in_secs: expires_in,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(SignedUrlBody {
        url: signed.path,
        expires_at: time(signed.expires_at),
    }))
}

/// The query of a signed download URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedContentQuery {
    pub variant: Option<String>,
    /// Unix seconds.
    pub expires: i64,
    /// Hex HMAC-SHA256.
    pub signature: String,
}

/// Download through a signed URL
///
/// No token: the content service checks the signature (over asset id, variant and
/// expiry) and the expiry. Range works as on `/content`.
#[utoipa::path(
    tag = "assets",
    params(("id" = String, Path, description = "Asset id"), SignedContentQuery),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 403, description = "`invalid_signature` or `url_expired`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/assets/{id}/content/signed")]
pub async fn download_signed(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<SignedContentQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, Error> {
    let variant = parse_variant(query.variant.as_deref())?;
    let stream = state
        .content
        .grpc()
        .get_asset_content(anonymous(pb::GetAssetContentRequest {
            id: id.into_inner(),
            variant: variant.into(),
            range: request_range(&request),
            signed: Some(pb::SignedAccess {
                expires: query.expires,
                signature: query.signature.clone(),
            }),
        }))
        .await?
        .into_inner();
    respond(stream).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_or_are_ignored() {
        let r = parse_range(Some("bytes=0-99")).unwrap();
        assert_eq!((r.start, r.end, r.suffix), (Some(0), Some(99), None));
        let r = parse_range(Some("bytes=100-")).unwrap();
        assert_eq!((r.start, r.end), (Some(100), None));
        let r = parse_range(Some("bytes=-5")).unwrap();
        assert_eq!(r.suffix, Some(5));
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
        ] {
            assert!(parse_range(Some(ignored)).is_none(), "{ignored}");
        }
        assert!(parse_range(None).is_none());
    }

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
