//! Semantic search and similar assets: the query's embedding against every asset the
//! caller may see, plus a small bonus for the query's own words in an asset's title or
//! tags (so an exact name still wins a close call). Without the text model, search falls
//! back to those word matches alone.

use super::index::{Filter, IndexedAsset, Scored};
use super::{Tagging, tags};
use crate::error::{Result, TaggingError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use marquee_platform::Principal;

/// Results one query ranks at most (pages walk through these).
pub const MAX_RESULTS: usize = 500;
pub const MAX_LIMIT: u32 = 100;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_QUERY_CHARS: usize = 500;
pub const MAX_FILTER_TAGS: usize = 10;
pub const KINDS: &[&str] = &["image", "video", "audio", "document"];
/// Weight of word matches beside the cosine.
const WORD_BONUS: f32 = 0.1;
/// Extra for a query word that is a whole tag.
const TAG_BONUS: f32 = 0.05;

/// A search as asked.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub text: String,
    pub tags: Vec<String>,
    pub kind: String,
    pub limit: u32,
    pub cursor: String,
}

/// One page of hits.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub hits: Vec<Scored>,
    pub next_cursor: Option<String>,
}

/// Checks a page size: 0 means the default.
pub fn page_size(limit: u32) -> Result<usize> {
    match limit {
        0 => Ok(DEFAULT_LIMIT as usize),
        l if l <= MAX_LIMIT => Ok(l as usize),
        _ => Err(TaggingError::invalid(
            "invalid_limit",
            format!("limit is 1 to {MAX_LIMIT}"),
        )),
    }
}

/// The cursor of the page starting at `offset`.
pub fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// Where a cursor's page starts; an empty cursor is the first page.
pub fn decode_cursor(cursor: &str) -> Result<usize> {
    if cursor.is_empty() {
        return Ok(0);
    }
    let invalid = || TaggingError::invalid("invalid_cursor", "the cursor is not one this API gave");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let offset: usize = text
        .strip_prefix("o:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(invalid)?;
    if offset >= MAX_RESULTS {
        return Err(invalid());
    }
    Ok(offset)
}

/// The query's words worth matching: lower case, two characters or more.
pub fn query_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}

/// How much of the query an asset's title and tags say in so many words (0…1 scaled by
/// [`WORD_BONUS`], plus [`TAG_BONUS`] when a word or the whole query is a tag).
pub fn word_bonus(words: &[String], whole: &str, asset: &IndexedAsset) -> f32 {
    if words.is_empty() {
        return 0.0;
    }
    let title = asset.title.to_lowercase();
    let found = words
        .iter()
        .filter(|w| title.contains(w.as_str()) || asset.tags.iter().any(|t| t.contains(w.as_str())))
        .count();
    let is_tag = asset
        .tags
        .iter()
        .any(|t| t == whole || words.iter().any(|w| w == t));
    WORD_BONUS * found as f32 / words.len() as f32 + if is_tag { TAG_BONUS } else { 0.0 }
}

/// A page out of ranked hits.
pub fn paginate(mut ranked: Vec<Scored>, offset: usize, limit: usize) -> Page {
    let more = ranked.len() > offset + limit;
    let hits: Vec<Scored> = ranked
        .drain(offset.min(ranked.len())..)
        .take(limit)
        .collect();
    Page {
        next_cursor: (more && offset + limit < MAX_RESULTS).then(|| encode_cursor(offset + limit)),
        hits,
    }
}

/// Minutes since 2020 — a recency rank that fits an f32 exactly for centuries.
pub fn recency(asset: &IndexedAsset) -> f32 {
    ((asset.created_at.timestamp() - 1_577_836_800) / 60) as f32
}

/// The hybrid ranking: nearest hits by embedding, each with its word bonus, best first.
pub fn rerank(mut hits: Vec<Scored>, text: &str) -> Vec<Scored> {
    let words = query_words(text);
    let whole = text.trim().to_lowercase();
    for hit in &mut hits {
        hit.score += word_bonus(&words, &whole, &hit.asset);
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits
}

impl Tagging {
    /// Assets the caller may see, ranked for the query.
    pub async fn search(&self, caller: &Principal, query: SearchQuery) -> Result<Page> {
        let limit = page_size(query.limit)?;
        let offset = decode_cursor(&query.cursor)?;
        let text = query.text.trim().to_string();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(TaggingError::invalid(
                "invalid_query",
                format!("a query is at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let filter = self.filter(caller, &query)?;
        if text.is_empty() {
            let ranked = self.index.top_by(&filter, MAX_RESULTS, recency);
            return Ok(paginate(ranked, offset, limit));
        }
        let mut ranked = match &self.tagger {
            Some(tagger) => {
                let vector = tagger
                    .text
                    .embed(vec![text.clone()])
                    .await?
                    .pop()
                    .unwrap_or_default();
                rerank(
                    self.vectors.nearest(&vector, &filter, MAX_RESULTS).await?,
                    &text,
                )
            }
            None => {
                let words = query_words(&text);
                let whole = text.to_lowercase();
                self.index
                    .top_by(&filter, MAX_RESULTS, |asset| {
                        word_bonus(&words, &whole, asset)
                    })
                    .into_iter()
                    .filter(|hit| hit.score > 0.0)
                    .collect()
            }
        };
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(paginate(ranked, offset, limit))
    }

    /// Assets closest in meaning to one the caller may see.
    pub async fn similar(&self, caller: &Principal, asset_id: &str, limit: u32) -> Result<Page> {
        let limit = page_size(limit)?;
        let asset = self.visible_asset(caller, asset_id).await?;
        let Some((_, Some(vector))) = self.index.get(&asset.tenant_id, asset_id) else {
            // Not tagged yet (or AI off): nothing to compare with.
            return Ok(Page::default());
        };
        let mut filter = Filter {
            tenant_id: caller.tenant_id.clone(),
            viewer: caller.subject.clone(),
            ..Filter::default()
        };
        filter.exclude.insert(asset_id.to_string());
        let hits = self.vectors.nearest(&vector, &filter, limit).await?;
        Ok(Page {
            hits,
            next_cursor: None,
        })
    }

    fn filter(&self, caller: &Principal, query: &SearchQuery) -> Result<Filter> {
        let kind = query.kind.trim();
        if !kind.is_empty() && !KINDS.contains(&kind) {
            return Err(TaggingError::invalid(
                "invalid_kind",
                format!("kind is one of {}", KINDS.join(", ")),
            ));
        }
        if query.tags.len() > MAX_FILTER_TAGS {
            return Err(TaggingError::invalid(
                "invalid_tags",
                format!("filter by at most {MAX_FILTER_TAGS} tags"),
            ));
        }
        let tags = query
            .tags
            .iter()
            .map(|t| {
                tags::normalise_name(t).ok_or_else(|| {
                    TaggingError::invalid("invalid_tags", "a tag filter is 1 to 50 characters")
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Filter {
            tenant_id: caller.tenant_id.clone(),
            viewer: caller.subject.clone(),
            kind: (!kind.is_empty()).then(|| kind.to_string()),
            tags,
            ..Filter::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn asset(title: &str, tags: &[&str]) -> IndexedAsset {
        IndexedAsset {
            asset_id: "a".into(),
            tenant_id: "t".into(),
            owner_id: "o".into(),
            visible: true,
            kind: "image".into(),
            title: title.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            has_thumbnail: false,
            created_at: Utc::now(),
            view_count: 0,
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        assert_eq!(decode_cursor(&encode_cursor(40)).unwrap(), 40);
        assert_eq!(decode_cursor("").unwrap(), 0);
        assert!(decode_cursor("bm9wZQ").is_err());
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&encode_cursor(MAX_RESULTS)).is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(page_size(0).unwrap(), 20);
        assert_eq!(page_size(100).unwrap(), 100);
        assert!(page_size(101).is_err());
    }

    #[test]
    fn words_in_title_and_tags_earn_a_bonus() {
        let words = query_words("Red sneakers!");
        assert_eq!(words, ["red", "sneakers"]);
        let both = word_bonus(
            &words,
            "red sneakers",
            &asset("Red sneakers on a bench", &[]),
        );
        let one = word_bonus(&words, "red sneakers", &asset("A red door", &[]));
        let tag = word_bonus(&words, "red sneakers", &asset("Shoes", &["sneakers"]));
        assert!(both > one && one > 0.0);
        assert!(tag > one, "a whole tag counts extra");
        assert_eq!(word_bonus(&words, "red sneakers", &asset("Cake", &[])), 0.0);
    }
}
