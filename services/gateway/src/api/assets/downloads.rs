//! Downloads with HTTP Range, and the response shared with signed downloads.

use crate::AppState;
use crate::clients::stream_for_caller;
use crate::policy::Authenticated;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use futures::StreamExt;
use marquee_platform::{Error, Problem};
use marquee_proto::content::v1 as pb;
use serde::Deserialize;
use utoipa::IntoParams;

/// Which bytes to download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// `published` (default: images without metadata once processed), `thumbnail`
    /// (JPEG) or `original` (owner and moderators).
    #[param(value_type = Option<super::VariantName>, inline)]
    pub variant: Option<String>,
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
        (status = 200, description = "The file, with the type sniffed at upload (the thumbnail is JPEG)", content(("image/*"), ("video/*"), ("audio/*"), ("application/pdf"), ("text/plain"))),
        (status = 206, description = "The requested range", content(("image/*"), ("video/*"), ("audio/*"), ("application/pdf"), ("text/plain"))),
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
        // A server stream: no overall deadline, it lasts as long as the bytes keep coming.
        .get_asset_content(stream_for_caller(
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

pub(super) fn parse_variant(value: Option<&str>) -> Result<pb::ContentVariant, Error> {
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

pub(super) fn request_range(request: &HttpRequest) -> Option<pb::ByteRange> {
    parse_range(
        request
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Turns the content service's download stream into the HTTP response.
pub(super) async fn respond(
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

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Numbers as a client may write them: small, any `u64`, past `u64::MAX`, signed,
        /// or not numbers at all.
        fn number() -> impl Strategy<Value = String> {
            prop_oneof![
                (0u64..1000).prop_map(|n| n.to_string()),
                any::<u64>().prop_map(|n| n.to_string()),
                "[0-9]{20,30}",
                "[+-][0-9]{1,5}",
                Just(String::new()),
                "[ a-zA-Z0-9.]{0,5}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_on_arbitrary_headers(value in ".{0,64}") {
                let _ = parse_range(Some(&value));
            }

            #[test]
            fn never_panics_on_near_valid_headers(
                unit in prop::sample::select(vec!["bytes=", "BYTES=", "bytes =", "", "items="]),
                ranges in proptest::collection::vec(
                    (number(), prop::sample::select(vec!["-", " - ", "--", ""]), number()),
                    0..3,
                ),
                separator in prop::sample::select(vec![",", ", ", " ,"]),
                padding in prop::sample::select(vec!["", " ", "\t"]),
            ) {
                let spec: Vec<String> = ranges
                    .iter()
                    .map(|(start, dash, end)| format!("{start}{dash}{end}"))
                    .collect();
                let value = format!("{padding}{unit}{}{padding}", spec.join(separator));
                if let Some(range) = parse_range(Some(&value)) {
                    // A single range: exactly a start (with an end no smaller) or a suffix.
                    prop_assert!(ranges.len() == 1);
                    match (range.start, range.end, range.suffix) {
                        (Some(start), end, None) => prop_assert!(end.is_none_or(|end| end >= start)),
                        (None, None, Some(_)) => {}
                        other => prop_assert!(false, "{:?} from {:?}", other, value),
                    }
                }
            }

            /// A well-formed range parses to exactly the bytes asked for; an inverted one
            /// is ignored.
            #[test]
            fn a_parsed_range_is_what_was_asked(start in any::<u64>(), end in any::<u64>()) {
                let range = parse_range(Some(&format!("bytes={start}-{end}")));
                if end < start {
                    prop_assert!(range.is_none());
                } else {
                    let range = range.unwrap();
                    prop_assert_eq!((range.start, range.end, range.suffix), (Some(start), Some(end), None));
                }
                let open = parse_range(Some(&format!("bytes={start}-"))).unwrap();
                prop_assert_eq!((open.start, open.end, open.suffix), (Some(start), None, None));
                let suffix = parse_range(Some(&format!("bytes=-{end}"))).unwrap();
                prop_assert_eq!((suffix.start, suffix.end, suffix.suffix), (None, None, Some(end)));
            }
        }
    }
}
