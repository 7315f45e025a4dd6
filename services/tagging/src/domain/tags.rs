//! Tags and the rules for editing them: names are normalised, people's tags have
//! confidence 1, an `ai` tag a person removes is remembered and never comes back.

use crate::error::{Result, TaggingError};
use crate::store::entities::asset_tag::Model as AssetTag;
use marquee_proto::events::v1::TaggedName;
use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};
use std::collections::HashSet;

/// Most tags one asset carries.
pub const MAX_TAGS: usize = 50;
/// Longest tag name, in characters.
pub const MAX_TAG_CHARS: usize = 50;

marquee_db::stored_enum! {
    /// Who put a tag on an asset.
    pub enum TagSource {
        Ai = "ai",
        Creator = "creator",
        Moderator = "moderator",
    }
}

/// What produced an `ai` tag (recorded on every tag).
pub mod provider {
    pub const TOPICS: &str = "minilm-zero-shot";
    pub const KEYWORDS: &str = "minilm-keywords";
    pub const IMAGE: &str = "efficientnet-lite0";
    pub const PALETTE: &str = "palette";
    pub const GEMINI: &str = "gemini";
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub name: String,
    pub confidence: f32,
    pub source: TagSource,
    /// Empty for people.
    pub provider: String,
}

impl Tag {
    pub fn ai(name: impl Into<String>, confidence: f32, provider: &str) -> Self {
        Self {
            name: name.into(),
            confidence: confidence.clamp(0.0, 1.0),
            source: TagSource::Ai,
            provider: provider.to_string(),
        }
    }
}

/// A tag name as stored: trimmed, lower case, inner whitespace collapsed. `None` if
/// nothing is left or it is too long or holds control characters.
pub fn normalise_name(name: &str) -> Option<String> {
    let name = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!name.is_empty()
        && name.chars().count() <= MAX_TAG_CHARS
        && !name.chars().any(char::is_control))
    .then_some(name)
}

/// Puts `tags` in the order shown (strongest first, then by name) with one tag per name
/// (the strongest; a person's over the AI's), at most [`MAX_TAGS`].
pub fn ranked(tags: Vec<Tag>) -> Vec<Tag> {
    let mut tags = tags;
    tags.sort_by(|a, b| {
        (b.source != TagSource::Ai)
            .cmp(&(a.source != TagSource::Ai))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.name.cmp(&b.name))
    });
    let mut seen = HashSet::new();
    tags.retain(|tag| seen.insert(tag.name.clone()));
    tags.truncate(MAX_TAGS);
    tags.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(a.name.cmp(&b.name))
    });
    tags
}

/// Fresh AI tags merged with what people decided: people's tags stay, removed names
/// stay removed.
pub fn merge_ai(ai: Vec<Tag>, existing: &[Tag], removed: &HashSet<String>) -> Vec<Tag> {
    let people = existing
        .iter()
        .filter(|t| t.source != TagSource::Ai)
        .cloned();
    let fresh = ai.into_iter().filter(|t| !removed.contains(&t.name));
    ranked(people.chain(fresh).collect())
}

/// A caller's edit: the full list they want.
#[derive(Clone, Debug)]
pub struct RequestedTag {
    pub name: String,
    pub source: String,
}

/// The outcome of an edit: the tags to store and the `ai` names newly removed.
#[derive(Debug, PartialEq)]
pub struct Edit {
    pub tags: Vec<Tag>,
    pub removed_ai: Vec<String>,
}

/// Applies an edit by a person acting as `as_source` (creator or moderator): a
/// requested tag that is an existing `ai` tag and still says `ai` is kept as the AI's;
/// any other requested tag becomes the person's (confirmed, confidence 1); existing tags
/// left out are dropped, and dropped `ai` tags are remembered as removed.
pub fn apply_edit(
    existing: &[Tag],
    requested: Vec<RequestedTag>,
    as_source: TagSource,
) -> Result<Edit> {
    if requested.len() > MAX_TAGS {
        return Err(TaggingError::invalid(
            "too_many_tags",
            format!("an asset carries at most {MAX_TAGS} tags"),
        ));
    }
    let mut tags = Vec::with_capacity(requested.len());
    let mut names = HashSet::new();
    for request in requested {
        let name = normalise_name(&request.name).ok_or_else(|| {
            TaggingError::invalid(
                "invalid_tag",
                format!("tag names are 1 to {MAX_TAG_CHARS} printable characters"),
            )
        })?;
        let source = TagSource::parse(request.source.trim()).ok_or_else(|| {
            TaggingError::invalid(
                "invalid_tag_source",
                "a tag's source is ai, creator or moderator",
            )
        })?;
        if !names.insert(name.clone()) {
            continue;
        }
        let existing_ai = existing
            .iter()
            .find(|t| t.name == name && t.source == TagSource::Ai);
        match (source, existing_ai) {
            (TagSource::Ai, Some(ai)) => tags.push(ai.clone()),
            (TagSource::Ai, None) => {
                return Err(TaggingError::invalid(
                    "invalid_tag_source",
                    format!("\"{name}\" is not an AI tag on this asset: add it as {as_source}"),
                ));
            }
            _ => tags.push(Tag {
                name,
                confidence: 1.0,
                source: as_source,
                provider: String::new(),
            }),
        }
    }
    let removed_ai = existing
        .iter()
        .filter(|t| t.source == TagSource::Ai && !names.contains(&t.name))
        .map(|t| t.name.clone())
        .collect();
    Ok(Edit {
        tags: ranked(tags),
        removed_ai,
    })
}

/// The stored form of an asset's tags.
pub fn to_rows(asset_id: &str, tags: &[Tag]) -> Vec<AssetTag> {
    let now = chrono::Utc::now();
    tags.iter()
        .map(|tag| AssetTag {
            asset_id: asset_id.to_string(),
            name: tag.name.clone(),
            confidence: f64::from(tag.confidence),
            source: tag.source.as_str().to_string(),
            provider: tag.provider.clone(),
            created_at: now,
        })
        .collect()
}

/// Tags as stored, back (an unknown source reads as `ai`: never grants a person's say).
pub fn from_rows(rows: Vec<AssetTag>) -> Vec<Tag> {
    rows.into_iter()
        .map(|row| Tag {
            name: row.name,
            confidence: row.confidence as f32,
            source: TagSource::parse(&row.source).unwrap_or(TagSource::Ai),
            provider: row.provider,
        })
        .collect()
}

/// Tags as `asset.tagged` carries them.
pub fn published(tags: &[Tag]) -> Vec<TaggedName> {
    tags.iter()
        .map(|tag| TaggedName {
            name: tag.name.clone(),
            confidence: tag.confidence,
            source: tag.source.as_str().to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> Tag {
        Tag {
            name: name.into(),
            confidence: 1.0,
            source: TagSource::Creator,
            provider: String::new(),
        }
    }

    fn request(name: &str, source: &str) -> RequestedTag {
        RequestedTag {
            name: name.into(),
            source: source.into(),
        }
    }

    #[test]
    fn names_are_normalised_and_bounded() {
        assert_eq!(
            normalise_name("  Food   Photography "),
            Some("food photography".into())
        );
        assert_eq!(normalise_name("   "), None);
        assert_eq!(normalise_name(&"x".repeat(51)), None);
        assert_eq!(normalise_name("a\u{0}b"), None);
    }

    #[test]
    fn an_edit_confirms_keeps_removes_and_adds() {
        let existing = vec![
            Tag::ai("cat", 0.9, provider::IMAGE),
            Tag::ai("dog", 0.4, provider::IMAGE),
            Tag::ai("pets", 0.7, provider::TOPICS),
            person("kitten"),
        ];
        let edit = apply_edit(
            &existing,
            vec![
                request("cat", "ai"),
                request("Pets", "creator"),
                request("cute", "creator"),
            ],
            TagSource::Creator,
        )
        .unwrap();
        let names: Vec<_> = edit
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t.source))
            .collect();
        assert_eq!(
            names,
            [
                ("cute", TagSource::Creator),
                ("pets", TagSource::Creator),
                ("cat", TagSource::Ai)
            ]
        );
        assert_eq!(edit.removed_ai, ["dog"]);
    }

    #[test]
    fn an_edit_cannot_invent_ai_tags_or_exceed_the_limit() {
        let err = apply_edit(&[], vec![request("cat", "ai")], TagSource::Creator).unwrap_err();
        assert!(err.to_string().contains("not an AI tag"));
        let many = (0..=MAX_TAGS)
            .map(|i| request(&format!("t{i}"), "creator"))
            .collect();
        assert!(apply_edit(&[], many, TagSource::Creator).is_err());
        assert!(apply_edit(&[], vec![request("x", "robot")], TagSource::Creator).is_err());
    }

    #[test]
    fn re_tagging_keeps_people_and_respects_removals() {
        let existing = vec![person("kitten"), Tag::ai("dog", 0.4, provider::IMAGE)];
        let removed = HashSet::from(["dog".to_string()]);
        let merged = merge_ai(
            vec![
                Tag::ai("dog", 0.8, provider::IMAGE),
                Tag::ai("cat", 0.6, provider::IMAGE),
            ],
            &existing,
            &removed,
        );
        let names: Vec<_> = merged.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["kitten", "cat"]);
    }

    #[test]
    fn one_tag_per_name_with_people_first() {
        let tags = ranked(vec![Tag::ai("cat", 0.99, provider::IMAGE), person("cat")]);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].source, TagSource::Creator);
    }
}
