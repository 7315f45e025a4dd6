//! The multipart upload, streamed through to the content service.

use super::AssetBody;
use crate::AppState;
use crate::api::required;
use crate::clients::stream_for_caller;
use crate::policy::Authenticated;
use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use futures::{SinkExt, TryStreamExt};
use marquee_platform::{Error, ErrorKind, Problem};
use marquee_proto::content::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

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

const TEXT_FIELD_LIMIT: usize = 64 * 1024;
/// Upload chunks sent to the content service.
const CHUNK_BYTES: usize = 256 * 1024;
/// Bytes waiting in the buffer longer than this are sent on even if fewer than
/// [`CHUNK_BYTES`]: on a slow connection a full chunk could take longer than the content
/// service's idle timeout, and a trickling upload must not look idle.
const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

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
    // A client stream: no overall deadline, it lasts as long as the bytes keep coming.
    let request = stream_for_caller(caller.principal(), receiver);
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
    let mut last_sent = std::time::Instant::now();
    let idle = std::time::Duration::from_secs(state.settings.upload_idle_timeout_secs.max(1));
    let mut call = call;
    while delivered {
        let next = tokio::select! {
            next = tokio::time::timeout(idle, file.try_next()) => next,
            // The service ended the upload early (over quota, its own idle timeout…):
            // answer with its reason now, not when the client next sends something.
            finished = &mut call => {
                return Err(match finished {
                    Ok(Err(status)) => Error::from(status),
                    Ok(Ok(_)) => Error::internal("the upload finished before its end"),
                    Err(error) => Error::internal(format!("upload task: {error}")),
                });
            }
        };
        let chunk = match next {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break,
            Ok(Err(error)) => return abort(call, multipart_error(error)),
            Err(_) => {
                return abort(
                    call,
                    Error::invalid(
                        "upload_stalled",
                        format!(
                            "no bytes arrived for {} s; the upload was abandoned",
                            idle.as_secs()
                        ),
                    ),
                );
            }
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
        if buffer.len() >= CHUNK_BYTES || last_sent.elapsed() >= FLUSH_AFTER {
            last_sent = std::time::Instant::now();
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
            delivered = sender
                .send(pb::UploadAssetChunk {
                    part: Some(pb::upload_asset_chunk::Part::Metadata(trailing)),
                })
                .await
                .is_ok();
        }
    }
    // Only a complete request says so: a client that goes away mid-body drops this
    // handler before here, the stream ends without `End`, and content stores nothing.
    if delivered {
        let _ = sender
            .send(pb::UploadAssetChunk {
                part: Some(pb::upload_asset_chunk::Part::End(pb::UploadEnd {
                    size_bytes: size,
                })),
            })
            .await;
    }
    drop(sender);

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
