//! Semantic search, similar assets and recommendations: one answer shape, a page of
//! [`SearchHitBody`](super::SearchHitBody).

use super::{SearchPageBody, rules};
use crate::AppState;
use crate::api::assets::{AssetKindName, check_kind};
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate;
use actix_web::{HttpResponse, get, web};
use marquee_platform::{Error, Problem};
use marquee_proto::tagging::v1 as pb;
use serde::Deserialize;
use utoipa::IntoParams;

/// What to search for. Every parameter is optional: no `q` lists the newest assets
/// that match the filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchQuery {
    /// Free text, matched by meaning (and by words in titles and tags): at most 500
    /// characters, one line.
    #[param(
        example = "sunset over the sea",
        max_length = 500,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub q: Option<String>,
    /// Only assets carrying every one of these tags: comma-separated (the parameter may
    /// also be repeated), at most 10 in all (empty ones are skipped but count), each at
    /// most 50 characters, one line; matched trimmed and lower-cased.
    #[param(
        example = "sunset,harbour",
        max_length = 509,
        pattern = r"^[^,\u0000-\u001f\u007f-\u009f]{0,50}(,[^,\u0000-\u001f\u007f-\u009f]{0,50}){0,9}$"
    )]
    pub tags: Option<String>,
    #[param(value_type = Option<AssetKindName>, inline)]
    pub kind: Option<String>,
    /// Page size: 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub cursor: Option<String>,
}

/// How many answers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// A page size: absent is the service's default (sent as 0), else 1 to 100
/// (`invalid_limit`).
pub fn parse_limit(value: Option<&str>) -> Result<u32, Error> {
    match value {
        None => Ok(0),
        Some(value) => value
            .parse::<u32>()
            .ok()
            .filter(|limit| (rules::MIN_LIMIT..=rules::MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                Error::invalid(
                    "invalid_limit",
                    format!(
                        "`limit` is an integer from {} to {}",
                        rules::MIN_LIMIT,
                        rules::MAX_LIMIT
                    ),
                )
            }),
    }
}

/// A search cursor: tagging's `next_cursor`; empty counts as absent (`invalid_cursor`).
pub fn check_cursor(value: &str) -> Result<(), Error> {
    let ok = value.len() <= rules::MAX_CURSOR_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_cursor",
            "`cursor` must be the `next_cursor` of a previous page",
        ))
    }
}

/// Reads a search's query string (`pairs` as decoded) into the request to tagging:
/// `tags` may repeat, every other parameter may appear once; unknown ones are ignored
/// (as on every other route).
pub fn parse_search(pairs: Vec<(String, String)>) -> Result<pb::SearchRequest, Error> {
    let mut q = None;
    let mut kind = None;
    let mut limit = None;
    let mut cursor = None;
    let mut tags = Vec::new();
    let mut pieces = 0;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "q" => &mut q,
            "kind" => &mut kind,
            "limit" => &mut limit,
            "cursor" => &mut cursor,
            "tags" => {
                pieces += value.split(',').count();
                if pieces > rules::MAX_FILTER_TAGS {
                    return Err(Error::invalid(
                        "invalid_tags",
                        format!("filter by at most {} tags", rules::MAX_FILTER_TAGS),
                    ));
                }
                for tag in value.split(',') {
                    validate::text(&rules::FILTER_TAG, tag)?;
                    let tag = tag.trim();
                    if !tag.is_empty() {
                        tags.push(tag.to_string());
                    }
                }
                continue;
            }
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(Error::invalid(
                "invalid_request",
                format!("invalid query string: `{name}` given more than once"),
            ));
        }
    }
    let query = q.unwrap_or_default();
    validate::text(&rules::QUERY, &query)?;
    check_kind(kind.as_deref())?;
    let limit = parse_limit(limit.as_deref())?;
    let cursor = cursor.unwrap_or_default();
    check_cursor(&cursor)?;
    Ok(pb::SearchRequest {
        query,
        tags,
        kind: kind.unwrap_or_default(),
        limit,
        cursor,
    })
}

/// Search assets
///
/// Assets you can see, ranked by meaning (and by the query's words in titles and
/// tags), filtered by tags and kind, paged with `cursor` (up to 500 results in all).
#[utoipa::path(
    tag = "tagging",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of assets, best first", body = SearchPageBody),
        (status = 400, description = "`invalid_query`, `invalid_tags`, `invalid_kind`, `invalid_limit`, `invalid_cursor`, or a parameter given twice (`invalid_request`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/search")]
pub async fn search_assets(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Error> {
    let request = parse_search(query.into_inner())?;
    let page = state
        .tagging
        .grpc()
        .search(for_caller(caller.principal(), request))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(SearchPageBody::new(page.hits, page.next_cursor)))
}

/// Similar assets
///
/// Assets you can see closest in meaning to this one (itself left out), best first;
/// not paged (`next_cursor` is `null`). Empty until the asset has been tagged.
#[utoipa::path(
    tag = "tagging",
    params(("id" = String, Path, description = "Asset id"), LimitQuery),
    responses(
        (status = 200, description = "The closest assets, best first", body = SearchPageBody),
        (status = 400, description = "`invalid_limit`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/assets/{id}/similar")]
pub async fn similar(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    query: web::Query<LimitQuery>,
) -> Result<HttpResponse, Error> {
    let limit = parse_limit(query.limit.as_deref())?;
    let page = state
        .tagging
        .grpc()
        .similar_assets(for_caller(
            caller.principal(),
            pb::SimilarAssetsRequest {
                asset_id: id.into_inner(),
                limit,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(SearchPageBody::all(page.hits)))
}

/// Recommendations
///
/// Assets for you, from the creators you follow and the assets you commented on and
/// viewed (your own and those you engaged with left out); popular and recent ones
/// while you have no history. Not paged (`next_cursor` is `null`).
#[utoipa::path(
    tag = "tagging",
    params(LimitQuery),
    responses(
        (status = 200, description = "Recommended assets, best first", body = SearchPageBody),
        (status = 400, description = "`invalid_limit`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/recommendations")]
pub async fn recommendations(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<LimitQuery>,
) -> Result<HttpResponse, Error> {
    let limit = parse_limit(query.limit.as_deref())?;
    let page = state
        .tagging
        .grpc()
        .recommendations(for_caller(
            caller.principal(),
            pb::RecommendationsRequest { limit },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(SearchPageBody::all(page.hits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap()
    }

    fn code(query: &str) -> String {
        let error = parse_search(pairs(query)).unwrap_err();
        assert_eq!(error.status().as_u16(), 400, "{query}");
        assert!(error.message.len() < 200, "never echoes: {}", error.message);
        error.code.into_owned()
    }

    #[test]
    fn a_search_reads_every_parameter() {
        let request = parse_search(pairs(
            "q=sunset+sea&tags=Sunset,%20harbour%20,,&tags=boats&kind=image&limit=5&cursor=bzoyMA",
        ))
        .unwrap();
        assert_eq!(request.query, "sunset sea");
        assert_eq!(request.tags, ["Sunset", "harbour", "boats"]);
        assert_eq!(request.kind, "image");
        assert_eq!(request.limit, 5);
        assert_eq!(request.cursor, "bzoyMA");

        let empty = parse_search(pairs("")).unwrap();
        assert_eq!(empty, pb::SearchRequest::default(), "limit 0 = the default");
        let blank = parse_search(pairs("q=&tags=&cursor=&unknown=1")).unwrap();
        assert_eq!(blank, pb::SearchRequest::default());
        for limit in ["1", "100"] {
            assert!(parse_search(pairs(&format!("limit={limit}"))).is_ok());
        }
        for kind in ["image", "video", "audio", "document"] {
            assert!(parse_search(pairs(&format!("kind={kind}"))).is_ok());
        }
        let longest = "𝔸".repeat(500);
        assert!(parse_search(vec![("q".into(), longest)]).is_ok());
        let ten = ["t"; 10].join(",");
        assert!(parse_search(pairs(&format!("tags={ten}"))).is_ok());
    }

    #[test]
    fn bad_searches_are_refused_with_stable_codes() {
        assert_eq!(code("kind=photo"), "invalid_kind");
        assert_eq!(code("kind="), "invalid_kind");
        assert_eq!(code("kind=IMAGE"), "invalid_kind");
        for limit in ["0", "101", "-1", "ten", "", "1.5", "4294967296"] {
            assert_eq!(code(&format!("limit={limit}")), "invalid_limit", "{limit}");
        }
        assert_eq!(code(&format!("q={}", "a".repeat(501))), "invalid_query");
        let too_long = "𝔸".repeat(501);
        assert!(parse_search(vec![("q".into(), too_long)]).is_err());
        assert_eq!(code("q=a%00b"), "invalid_query");
        assert_eq!(code("q=a%0Ab"), "invalid_query");
        let eleven = ["t"; 11].join(",");
        assert_eq!(code(&format!("tags={eleven}")), "invalid_tags");
        assert_eq!(
            code("tags=a,,,,,&tags=b,,,,,"),
            "invalid_tags",
            "empty ones count"
        );
        assert_eq!(code(&format!("tags={}", "x".repeat(51))), "invalid_tags");
        assert_eq!(code("tags=a%00"), "invalid_tags");
        assert_eq!(code("cursor=not%20a%20cursor"), "invalid_cursor");
        assert_eq!(
            code(&format!("cursor={}", "a".repeat(129))),
            "invalid_cursor"
        );
        assert_eq!(code("q=a&q=b"), "invalid_request");
        assert_eq!(code("limit=1&limit=2"), "invalid_request");
    }

    #[test]
    fn limits_are_one_to_a_hundred() {
        assert_eq!(parse_limit(None).unwrap(), 0);
        assert_eq!(parse_limit(Some("1")).unwrap(), 1);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-5", "x", ""] {
            assert_eq!(parse_limit(Some(bad)).unwrap_err().code, "invalid_limit");
        }
    }

    /// The parameters' documented rules are the ones enforced.
    #[test]
    fn the_document_states_the_search_rules() {
        let document = serde_json::to_value(crate::openapi::document()).unwrap();
        let parameters = |path: &str| {
            document["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .clone()
        };
        let param = |path: &str, name: &str| {
            parameters(path)
                .into_iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} {name}"))["schema"]
                .clone()
        };
        let search = "/api/v1/search";
        assert_eq!(param(search, "q")["maxLength"], rules::QUERY.max_chars);
        assert_eq!(param(search, "q")["pattern"], rules::QUERY.pattern());
        let tag = rules::FILTER_TAG
            .pattern()
            .trim_start_matches("^[^")
            .trim_end_matches("]*$");
        assert_eq!(
            param(search, "tags")["pattern"],
            format!(
                "^[^,{tag}]{{0,{max}}}(,[^,{tag}]{{0,{max}}}){{0,{more}}}$",
                max = rules::FILTER_TAG.max_chars,
                more = rules::MAX_FILTER_TAGS - 1
            )
        );
        assert_eq!(
            param(search, "tags")["maxLength"],
            rules::MAX_FILTER_TAGS * (rules::FILTER_TAG.max_chars + 1) - 1
        );
        assert_eq!(
            param(search, "kind")["enum"],
            serde_json::json!(["image", "video", "audio", "document"])
        );
        assert_eq!(param(search, "cursor")["pattern"], rules::CURSOR_PATTERN);
        assert_eq!(
            param(search, "cursor")["maxLength"],
            rules::MAX_CURSOR_CHARS
        );
        for path in [
            search,
            "/api/v1/assets/{id}/similar",
            "/api/v1/recommendations",
        ] {
            let limit = param(path, "limit");
            assert_eq!(limit["minimum"], rules::MIN_LIMIT, "{path}");
            assert_eq!(limit["maximum"], rules::MAX_LIMIT, "{path}");
        }
    }
}
