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

/// Reads the text fields before the file into `metadata` and returns the `file` field
/// (its name checked, its bytes not read yet).
async fn fields_before_file(
    multipart: &mut Multipart,
    metadata: &mut pb::UploadMetadata,
    tag_count: &mut usize,
) -> Result<Field, Error> {
    loop {
        let Some(field) = multipart.try_next().await.map_err(multipart_error)? else {
            return Err(Error::invalid("file_missing", "the form has no file field"));
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if let Some(filename) = field.content_disposition().and_then(|d| d.get_filename()) {
                validate::text(&fields::FILENAME, filename)?;
                metadata.filename = filename.to_string();
            }
            return Ok(field);
        }
        read_metadata_field(&name, field, metadata, tag_count).await?;
    }
}

/// The form handling of [`upload`] without the content service, for the property tests
/// and the fuzz target (`fuzz/`): a body of `chunks` with `content_type` is read as the
/// upload reads it (text fields before and after the file merged) into the metadata and
/// the file's size, or the error the upload would answer.
#[doc(hidden)]
pub async fn read_form(
    content_type: &str,
    chunks: Vec<Vec<u8>>,
) -> Result<(pb::UploadMetadata, u64), Error> {
    let mut headers = header::HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let body = futures::stream::iter(
        chunks
            .into_iter()
            .map(|chunk| Ok::<_, actix_web::error::PayloadError>(web::Bytes::from(chunk))),
    );
    let mut multipart = Multipart::new(&headers, body);
    let mut metadata = pb::UploadMetadata::default();
    let mut tag_count = 0;
    let mut file = fields_before_file(&mut multipart, &mut metadata, &mut tag_count).await?;
    let mut size = 0u64;
    while let Some(chunk) = file.try_next().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
    }
    drop(file);
    while let Some(field) = multipart.try_next().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            return Err(Error::invalid(
                "invalid_multipart",
                "only one file per upload",
            ));
        }
        read_metadata_field(&name, field, &mut metadata, &mut tag_count).await?;
    }
    Ok((metadata, size))
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

    let mut file = fields_before_file(&mut multipart, &mut metadata, &mut tag_count).await?;

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

    mod props {
        use super::*;
        use proptest::prelude::*;

        const BOUNDARY: &str = "XyZ-boundary-7f3";

        fn content_type() -> String {
            format!("multipart/form-data; boundary={BOUNDARY}")
        }

        /// One part of a form: its name, an optional file name, and its bytes.
        #[derive(Debug, Clone)]
        struct Part {
            name: String,
            filename: Option<String>,
            value: Vec<u8>,
        }

        fn body(parts: &[Part]) -> Vec<u8> {
            let mut out = Vec::new();
            for part in parts {
                out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
                let filename = part
                    .filename
                    .as_ref()
                    .map(|name| format!("; filename=\"{name}\""))
                    .unwrap_or_default();
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"{filename}\r\n\r\n",
                        part.name
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(&part.value);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
            out
        }

        /// `body` cut into chunks at the given points (multipart boundaries split
        /// across chunks included).
        fn chunked(body: Vec<u8>, cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
            let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(body.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for point in points {
                chunks.push(body[from..point].to_vec());
                from = point;
            }
            chunks.push(body[from..].to_vec());
            chunks
        }

        fn part() -> impl Strategy<Value = Part> {
            let text = "[a-zA-Z0-9 ,é\\t\\n]{0,80}".prop_map(String::into_bytes);
            prop_oneof![
                4 => (
                    prop::sample::select(vec!["title", "description", "tags", "other", ""]),
                    text,
                )
                    .prop_map(|(name, value)| Part { name: name.into(), filename: None, value }),
                1 => (
                    "[a-zA-Z0-9 ,._]{0,20}",
                    proptest::collection::vec(any::<u8>(), 0..300),
                )
                    .prop_map(|(filename, value)| Part {
                        name: "file".into(),
                        filename: Some(filename),
                        value,
                    }),
            ]
        }

        fn read(
            content_type: &str,
            chunks: Vec<Vec<u8>>,
        ) -> Result<(pb::UploadMetadata, u64), Error> {
            futures::executor::block_on(read_form(content_type, chunks))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_on_arbitrary_bodies(
                body in proptest::collection::vec(any::<u8>(), 0..600),
                cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
                content_type in prop_oneof![
                    Just(content_type()),
                    "multipart/form-data; boundary=[-a-z0-9\"]{0,20}",
                    ".{0,40}",
                ],
            ) {
                let _ = read(&content_type, chunked(body, &cuts));
            }

            /// Forms from the grammar: accepted exactly when they hold one file and only
            /// known fields with at most 20 tags in all; then the tags are trimmed and
            /// non-empty and the file's size is its length, however the body is chunked.
            #[test]
            fn forms_are_read_as_documented(
                parts in proptest::collection::vec(part(), 0..6),
                cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            ) {
                let files: Vec<&Part> = parts.iter().filter(|p| p.name == "file").collect();
                let tags: usize = parts
                    .iter()
                    .filter(|p| p.name == "tags")
                    .map(|p| p.value.split(|b| *b == b',').count())
                    .sum();
                let unknown = parts
                    .iter()
                    .any(|p| !["file", "title", "description", "tags"].contains(&p.name.as_str()));
                let one_line = |p: &&Part| !p.value.contains(&b'\t') && !p.value.contains(&b'\n');
                let clean = parts.iter().filter(|p| p.name == "title").all(|p| one_line(&p))
                    && parts.iter().filter(|p| p.name == "tags").all(|p| {
                        one_line(&p)
                            && String::from_utf8_lossy(&p.value)
                                .split(',')
                                .all(|tag| tag.chars().count() <= fields::TAG.max_chars)
                    });
                let acceptable = files.len() == 1 && !unknown && tags <= fields::MAX_TAGS && clean;
                match read(&content_type(), chunked(body(&parts), &cuts)) {
                    Ok((metadata, size)) => {
                        prop_assert!(acceptable, "{:?} accepted", parts);
                        prop_assert_eq!(size, files[0].value.len() as u64);
                        prop_assert!(metadata.tags.len() <= fields::MAX_TAGS);
                        for tag in &metadata.tags {
                            prop_assert!(!tag.is_empty() && tag.trim() == tag, "{:?}", tag);
                        }
                    }
                    Err(error) => {
                        prop_assert!(!acceptable, "{:?} refused: {}", parts, error.code);
                        // (A form with no part at all is a malformed body to actix-multipart.)
                        if !parts.is_empty() && files.is_empty() && !unknown && tags <= fields::MAX_TAGS && clean {
                            prop_assert_eq!(&*error.code, "file_missing");
                        }
                    }
                }
            }
        }

        #[test]
        fn a_short_boundary_and_a_short_line_are_refused_not_a_panic() {
            // Found by `make fuzz` (`upload_form`): actix-multipart 0.7 sliced
            // `line[2..len - 2]` of a preamble line starting `--` at least as long as the
            // boundary (`--\n` with `boundary=a`): a panic any client could trigger.
            let crash = [
                245, 245, 254, 45, 45, 45, 136, 10, 45, 45, 245, 10, 10, 246, 130, 245, 10, 38, 1,
                1, 10, 125, 10, 10, 0, 0, 0, 10, 10, 1, 44, 10, 10, 10, 10, 10, 10, 1, 10, 45, 45,
                1, 10, 10, 10, 136, 10, 45, 45, 10, 1, 10, 246, 245, 74, 10, 10, 130, 10, 10, 0,
                10, 1, 1, 1, 10,
            ];
            let content_type = "multipart/form-data; boundary=XyZ";
            let (head, body) = crash.split_first().unwrap();
            let at = usize::from(*head).min(body.len());
            let chunks = vec![body[..at].to_vec(), body[at..].to_vec()];
            assert!(read(content_type, chunks).is_err());
            for line in ["--\n", "--\r\n--a--\r\n"] {
                let answer = read("multipart/form-data; boundary=a", vec![line.into()]);
                assert!(answer.is_err(), "{line:?}");
            }
        }

        #[test]
        fn a_text_field_over_the_limit_is_refused() {
            let parts = [
                Part {
                    name: "description".into(),
                    filename: None,
                    value: vec![b'a'; TEXT_FIELD_LIMIT + 1],
                },
                Part {
                    name: "file".into(),
                    filename: Some("a.txt".into()),
                    value: b"x".to_vec(),
                },
            ];
            let error = read(&content_type(), vec![body(&parts)]).unwrap_err();
            assert_eq!(error.code, "field_too_large");
        }
    }
}
