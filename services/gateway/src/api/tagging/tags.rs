//! An asset's tags: read them, replace them.

use super::rules;
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject};
use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::convert;
use marquee_proto::tagging::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A tag on an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagBody {
    /// Trimmed, lower case.
    #[schema(example = "sunset")]
    pub name: String,
    /// 0 to 1; 1 for tags a person set or kept.
    #[schema(example = 0.91, minimum = 0, maximum = 1)]
    pub confidence: f32,
    /// `ai`, `creator` or `moderator`.
    #[schema(example = "ai")]
    pub source: String,
    /// What produced an `ai` tag (`minilm-zero-shot`, `minilm-keywords`,
    /// `efficientnet-lite0`, `palette`, `gemini`); empty for people's tags.
    #[schema(example = "minilm-zero-shot")]
    pub provider: String,
}

impl From<pb::Tag> for TagBody {
    fn from(tag: pb::Tag) -> Self {
        Self {
            name: tag.name,
            confidence: tag.confidence,
            source: tag.source,
            provider: tag.provider,
        }
    }
}

/// An asset's tags and what tagging found in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetTagsBody {
    #[schema(example = "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f")]
    pub asset_id: String,
    /// Strongest first.
    pub tags: Vec<TagBody>,
    /// `pending` (not tagged yet), `tagged`, `failed`, or `untagged` (AI tagging is
    /// off; people's tags still work).
    #[schema(example = "tagged")]
    pub state: String,
    /// Why AI tagging failed or is off; `null` otherwise.
    #[schema(required = true, example = json!(null))]
    pub failure_reason: Option<String>,
    /// Images: dominant colours, strongest first, as `#rrggbb`; empty otherwise.
    #[schema(example = json!(["#1d3557", "#f4a261", "#e9c46a"]))]
    pub palette: Vec<String>,
    /// Images: `landscape`, `portrait` or `square`; `null` otherwise.
    #[schema(required = true, example = "landscape")]
    pub orientation: Option<String>,
    /// Images: `small`, `medium` or `large`; `null` otherwise.
    #[schema(required = true, example = "large")]
    pub size_class: Option<String>,
    /// When AI tagging last finished; `null` until it has.
    #[schema(required = true)]
    pub tagged_at: Option<DateTime<Utc>>,
}

impl From<pb::AssetTags> for AssetTagsBody {
    fn from(tags: pb::AssetTags) -> Self {
        let present = |value: String| Some(value).filter(|v| !v.is_empty());
        Self {
            asset_id: tags.asset_id,
            tags: tags.tags.into_iter().map(Into::into).collect(),
            state: tags.state,
            failure_reason: present(tags.failure_reason),
            palette: tags.palette,
            orientation: present(tags.orientation),
            size_class: present(tags.size_class),
            tagged_at: convert::time(tags.tagged_at),
        }
    }
}

/// One tag of an edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTagBody {
    /// 1 to 50 characters, one line, not blank; stored trimmed and lower-cased, inner
    /// white space collapsed (a repeated name counts once).
    #[schema(
        example = "sunset",
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// 0 to 1. Ignored: a tag a person sets or keeps has confidence 1, and an `ai` tag
    /// kept keeps the AI's.
    #[schema(example = 1, minimum = 0, maximum = 1)]
    pub confidence: Option<f64>,
    /// `ai` keeps an AI tag already on the asset as the AI's (any other name is
    /// refused); `creator` or `moderator` makes it yours — the service records it as
    /// `creator` when you own the asset and `moderator` otherwise.
    #[schema(value_type = TagSourceName, example = "creator")]
    pub source: String,
}

/// Who put a tag on an asset.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum TagSourceName {
    Ai,
    Creator,
    Moderator,
}

/// The complete new list of an asset's tags.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTagsBody {
    /// At most 50. `ai` tags left out are remembered as removed and never come back
    /// when the asset is tagged again.
    #[schema(
        max_items = 50,
        example = json!([{"name": "sunset", "source": "ai"}, {"name": "harbour", "source": "creator"}])
    )]
    pub tags: Vec<NewTagBody>,
}

/// Checks an edit with the tagging service's bounds and codes, naming the offending
/// tag by its index (never echoing it).
pub fn check_tags(tags: &[NewTagBody]) -> Result<(), Error> {
    if tags.len() > rules::MAX_TAGS {
        return Err(Error::invalid(
            "too_many_tags",
            format!("an asset carries at most {} tags", rules::MAX_TAGS),
        ));
    }
    for (index, tag) in tags.iter().enumerate() {
        validate::text(&rules::TAG_NAME, &tag.name).map_err(|error| {
            Error::invalid("invalid_tag", format!("tags[{index}]: {}", error.message))
        })?;
        if let Some(confidence) = tag.confidence
            && !(0.0..=1.0).contains(&confidence)
        {
            return Err(Error::invalid(
                "invalid_tag",
                format!("tags[{index}]: `confidence` is 0 to 1"),
            ));
        }
        if !rules::TAG_SOURCES.contains(&tag.source.as_str()) {
            return Err(Error::invalid(
                "invalid_tag_source",
                format!("tags[{index}]: `source` is one of ai, creator, moderator"),
            ));
        }
    }
    Ok(())
}

/// An asset's tags
///
/// On an asset you can see (404 otherwise), with its tagging state and, for images,
/// the palette, orientation and size class.
#[utoipa::path(
    tag = "tagging",
    params(("id" = String, Path, description = "Asset id")),
    responses((status = 200, description = "The asset's tags", body = AssetTagsBody)),
)]
#[get("/api/v1/assets/{id}/tags")]
pub async fn get_tags(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let tags = state
        .tagging
        .grpc()
        .get_tags(for_caller(
            caller.principal(),
            pb::GetTagsRequest {
                asset_id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetTagsBody::from(tags)))
}

/// Replace an asset's tags
///
/// The asset's owner (tags recorded as `creator`) or a moderator (as `moderator`). The
/// list is complete: tags left out are removed, and a removed `ai` tag never comes
/// back on re-tagging. Answers the asset's tags as `GET` does.
#[utoipa::path(
    tag = "tagging",
    params(("id" = String, Path, description = "Asset id")),
    request_body = SetTagsBody,
    responses(
        (status = 200, description = "The asset's new tags", body = AssetTagsBody),
        (status = 400, description = "`too_many_tags`, `invalid_tag` (name or confidence), `invalid_tag_source` (not one of the sources, or `ai` for a name that is not an AI tag on the asset), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the owner nor a moderator (`forbidden`), or the token lacks `assets:write`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/api/v1/assets/{id}/tags")]
pub async fn set_tags(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<SetTagsBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    check_tags(&body.tags)?;
    let tags = state
        .tagging
        .grpc()
        .set_tags(for_caller(
            caller.principal(),
            pb::SetTagsRequest {
                asset_id: id.into_inner(),
                tags: body
                    .tags
                    .into_iter()
                    .map(|tag| pb::Tag {
                        name: tag.name,
                        // People's tags are confirmed (1); the service sets it.
                        confidence: tag.confidence.unwrap_or(1.0) as f32,
                        source: tag.source,
                        provider: String::new(),
                    })
                    .collect(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssetTagsBody::from(tags)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, source: &str) -> NewTagBody {
        NewTagBody {
            name: name.into(),
            confidence: None,
            source: source.into(),
        }
    }

    #[test]
    fn edits_are_checked_with_the_services_codes() {
        let longest = "𝔸".repeat(50);
        let ok = [
            tag("sunset", "ai"),
            tag("Harbour Lights", "creator"),
            tag(&longest, "moderator"),
            NewTagBody {
                confidence: Some(0.0),
                ..tag("edge", "creator")
            },
            NewTagBody {
                confidence: Some(1.0),
                ..tag("\u{202e}odd \u{200d} 😀", "creator")
            },
        ];
        assert!(check_tags(&ok).is_ok());
        assert!(check_tags(&[]).is_ok(), "an empty list clears the tags");

        let too_many: Vec<NewTagBody> = (0..=rules::MAX_TAGS)
            .map(|i| tag(&format!("t{i}"), "creator"))
            .collect();
        assert_eq!(check_tags(&too_many).unwrap_err().code, "too_many_tags");
        let fifty: Vec<NewTagBody> = (0..rules::MAX_TAGS)
            .map(|i| tag(&format!("t{i}"), "creator"))
            .collect();
        assert!(check_tags(&fifty).is_ok());

        let long = "x".repeat(100_000);
        for (bad, code) in [
            (tag("", "creator"), "invalid_tag"),
            (tag("   ", "creator"), "invalid_tag"),
            (tag(&"𝔸".repeat(51), "creator"), "invalid_tag"),
            (tag(&long, "creator"), "invalid_tag"),
            (tag("a\0b", "creator"), "invalid_tag"),
            (tag("a\nb", "creator"), "invalid_tag"),
            (
                NewTagBody {
                    confidence: Some(1.5),
                    ..tag("ok", "creator")
                },
                "invalid_tag",
            ),
            (
                NewTagBody {
                    confidence: Some(-0.1),
                    ..tag("ok", "creator")
                },
                "invalid_tag",
            ),
            (
                NewTagBody {
                    confidence: Some(f64::NAN),
                    ..tag("ok", "creator")
                },
                "invalid_tag",
            ),
            (tag("ok", "owner"), "invalid_tag_source"),
            (tag("ok", "AI"), "invalid_tag_source"),
            (tag("ok", ""), "invalid_tag_source"),
            (tag("ok", &long), "invalid_tag_source"),
        ] {
            let error = check_tags(&[tag("fine", "creator"), bad]).unwrap_err();
            assert_eq!(error.code, code, "{}", error.message);
            assert_eq!(error.status().as_u16(), 400);
            assert!(error.message.starts_with("tags[1]: "), "{}", error.message);
            assert!(error.message.len() < 200, "never echoes: {}", error.message);
        }
    }

    #[test]
    fn bodies_refuse_unknown_fields() {
        let body: SetTagsBody =
            serde_json::from_str(r#"{"tags": [{"name": "a", "source": "ai", "confidence": 0.5}]}"#)
                .unwrap();
        assert_eq!(body.tags[0].confidence, Some(0.5));
        let body: SetTagsBody =
            serde_json::from_str(r#"{"tags": [{"name": "a", "source": "creator"}]}"#).unwrap();
        assert_eq!(body.tags[0].confidence, None);
        for bad in [
            r#"{"tags": [{"name": "a", "source": "ai", "provider": "x"}]}"#,
            r#"{"tags": [], "extra": 1}"#,
            r#"{"tags": [{"name": "a"}]}"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<SetTagsBody>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_use_null_for_what_is_not_known() {
        let json = serde_json::to_value(AssetTagsBody::from(pb::AssetTags {
            asset_id: "a-1".into(),
            tags: vec![pb::Tag {
                name: "sunset".into(),
                confidence: 0.75,
                source: "ai".into(),
                provider: "minilm-zero-shot".into(),
            }],
            state: "pending".into(),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(json["tags"][0]["confidence"], 0.75);
        assert_eq!(json["tags"][0]["provider"], "minilm-zero-shot");
        for key in ["failure_reason", "orientation", "size_class", "tagged_at"] {
            assert!(json[key].is_null(), "{key}");
            assert!(json.as_object().unwrap().contains_key(key), "{key} present");
        }
        assert_eq!(json["palette"], serde_json::json!([]));

        let json = serde_json::to_value(AssetTagsBody::from(pb::AssetTags {
            asset_id: "a-1".into(),
            state: "failed".into(),
            failure_reason: "unreadable image".into(),
            palette: vec!["#112233".into()],
            orientation: "square".into(),
            size_class: "small".into(),
            tagged_at: Some(marquee_proto::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(json["failure_reason"], "unreadable image");
        assert_eq!(json["orientation"], "square");
        assert_eq!(json["size_class"], "small");
        assert!(json["tagged_at"].as_str().unwrap().starts_with("2026-"));
    }
}
