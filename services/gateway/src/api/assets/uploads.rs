//! The multipart upload, streamed through to the content service.

use super::AssetBody;
use crate::AppState;
use crate::api::{created, required};
use crate::clients::stream_for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, fields};
use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, post, web};
use futures::{SinkExt, TryStreamExt};
use marquee_platform::{Error, ErrorKind, Problem};
use marquee_proto::content::v1 as pb;
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use utoipa::ToSchema;

/// The problem a duplicate upload answers (`409 duplicate_asset`): the standard
/// members plus the id of the asset you already have (`Location` names it too).
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateAssetProblem {
    #[serde(flatten)]
    pub problem: Problem,
    /// Your existing asset with the same bytes.
    pub asset_id: String,
}

/// The multipart form of an upload. Send `title`, `description` and `tags` before
/// `file` when you can (fields after it are accepted too). No other fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file; its type is detected from its bytes. Its name (from the part's
    /// `Content-Disposition`) is at most 255 characters, one line.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// At most 200 characters, one line; defaults to the file name when empty.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub title: Option<String>,
    /// At most 5000 characters; tab and newline are the only control characters.
    #[schema(
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub description: Option<String>,
    /// Comma-separated (or the field repeated): at most 20 tags (empty ones are
    /// skipped but count), each at most 50 characters, one line; stored trimmed and
    /// lower-cased, without repeats.
    #[schema(
        max_length = 1019,
        pattern = r"^[^,\u0000-\u001f\u007f-\u009f]{0,50}(,[^,\u0000-\u001f\u007f-\u009f]{0,50}){0,19}$"
    )]
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
    tag_count: &mut usize,
) -> Result<(), Error> {
    let value = text_field(field).await?;
    match name {
        "title" => {
            validate::text(&fields::TITLE, &value)?;
            metadata.title = value;
        }
        "description" => {
            validate::text(&fields::DESCRIPTION, &value)?;
            metadata.description = value;
        }
        "tags" => {
            *tag_count += value.split(',').count();
            if *tag_count > fields::MAX_TAGS {
                return Err(Error::invalid(
                    "invalid_tags",
                    format!("`tags` holds at most {} tags", fields::MAX_TAGS),
                ));
            }
            for tag in value.split(',') {
                validate::text(&fields::TAG, tag)?;
            }
            metadata.tags.extend(split_tags(&value));
        }
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
/// file streams through to storage; its type is detected from its bytes. The answer is
/// the new asset, as `GET /api/v1/assets/{id}` returns it, with `Location` naming it.
/// It starts as `processing`; poll it until `ready` or `pending_review`.
///
/// Uploading bytes you have already uploaded stores nothing and applies nothing of
/// this upload (title, description, tags): it answers `409 duplicate_asset` with the
/// existing asset's id (`asset_id`) and `Location`. Edit that asset to change its text.
#[utoipa::path(
    tag = "assets",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; processing has started", body = AssetBody,
            headers(("Location" = String, description = "The new asset: `/api/v1/assets/{id}`"))),
        (status = 409, description = "You had uploaded these bytes before (`duplicate_asset`); nothing was stored", body = DuplicateAssetProblem, content_type = "application/problem+json",
            headers(("Location" = String, description = "Your existing asset: `/api/v1/assets/{asset_id}`"))),
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
    // Tags across every `tags` field, before and after the file.
    let mut tag_count = 0;

    // Text fields before the file.
    let mut file = loop {
        let Some(field) = multipart.try_next().await.map_err(multipart_error)? else {
            return Err(Error::invalid("file_missing", "the form has no file field"));
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if let Some(filename) = field.content_disposition().and_then(|d| d.get_filename()) {
                validate::text(&fields::FILENAME, filename)?;
                metadata.filename = filename.to_string();
            }
            break field;
        }
        read_metadata_field(&name, field, &mut metadata, &mut tag_count).await?;
    };

    // Stream the file: the gRPC call runs on its own task and reads from a small
    // channel, so at most a few chunks are in memory whatever the file's size.
    let (mut sender, receiver) = futures::channel::mpsc::channel::<pb::UploadAssetChunk>(4);
    let mut client = state.content.grpc();
    // A client stream: no overall deadline, it lasts as long as the bytes keep coming.
    let request = stream_for_caller(caller.principal(), receiver);
    // In the request's span: the client interceptor sends its trace context, so
    // content's work joins the caller's trace.
    let call = tokio::spawn(async move { client.upload_asset(request).await }.in_current_span());
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
            if let Err(error) =
                read_metadata_field(&name, field, &mut trailing, &mut tag_count).await
            {
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
    let asset = required(uploaded.asset, "asset")?;
    let location = format!("/api/v1/assets/{}", asset.id);
    if uploaded.deduplicated {
        return duplicate(&asset.id, &location);
    }
    Ok(created(location, AssetBody::from(asset)))
}

/// `409 duplicate_asset` naming the owner's existing asset (body `asset_id`, and
/// `Location`): content stored nothing and applied none of this upload's fields.
fn duplicate(asset_id: &str, location: &str) -> Result<HttpResponse, Error> {
    let mut answer = Error::new(
        ErrorKind::Conflict,
        "duplicate_asset",
        format!(
            "you have already uploaded these bytes as asset {asset_id}; nothing was stored \
             and this upload's title, description and tags were not applied (edit that asset instead)"
        ),
    )
    .with_extension("asset_id", asset_id)
    .error_response();
    let location = HeaderValue::from_str(location).map_err(Error::internal)?;
    answer.headers_mut().insert(header::LOCATION, location);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_duplicate_is_a_conflict_naming_the_existing_asset() {
        let answer = duplicate("a-1", "/api/v1/assets/a-1").unwrap();
        assert_eq!(answer.status().as_u16(), 409);
        assert_eq!(
            answer.headers().get(header::LOCATION).unwrap(),
            "/api/v1/assets/a-1"
        );
        assert_eq!(
            answer.headers().get(header::CONTENT_TYPE).unwrap(),
            marquee_platform::error::PROBLEM_CONTENT_TYPE
        );
        let body = actix_web::body::to_bytes(answer.into_body()).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "duplicate_asset");
        assert_eq!(json["asset_id"], "a-1");
        // The body is what the documented schema says: a problem plus `asset_id`.
        let mut problem: Problem = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(problem.extensions.remove("asset_id"), Some("a-1".into()));
        assert!(problem.extensions.is_empty(), "{:?}", problem.extensions);
        let documented = serde_json::to_value(DuplicateAssetProblem {
            problem,
            asset_id: "a-1".into(),
        })
        .unwrap();
        assert_eq!(documented, json);
    }
}
