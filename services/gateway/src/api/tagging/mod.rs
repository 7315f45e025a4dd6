//! Tagging (tagging service): an asset's tags, semantic search, similar assets,
//! recommendations and the tenant's taxonomy. Scopes `assets:read` / `assets:write`;
//! replacing the taxonomy needs the `admin` role. Who may edit an asset's tags (its
//! owner, as `creator`, or a moderator) is the service's decision (403 / 404).
//!
//! Input is checked here with the service's own bounds and codes, so a refusal is the
//! same problem whichever line catches it: [`rules`].

mod search;
mod tags;
mod taxonomy;

pub use search::{LimitQuery, SearchQuery, recommendations, search_assets, similar};
pub use tags::{AssetTagsBody, NewTagBody, SetTagsBody, TagBody, get_tags, set_tags};
pub use taxonomy::{
    NewTaxonomyLabelBody, SetTaxonomyBody, TaxonomyBody, TaxonomyLabelBody, get_taxonomy,
    set_taxonomy,
};

use marquee_proto::tagging::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

/// The bounds of tagging's input, as the tagging service enforces them (its
/// `domain::tags`, `domain::search`, `domain::taxonomy`), with the same codes.
pub mod rules {
    use marquee_platform::input::Text;

    /// One tag's name (stored trimmed, lower-cased, inner white space collapsed).
    pub const TAG_NAME: Text = Text::line("name", 50, "invalid_tag").not_blank("invalid_tag");
    /// Most tags on one asset (`too_many_tags`).
    pub const MAX_TAGS: usize = 50;
    /// The values a tag's `source` may take (`invalid_tag_source`).
    pub const TAG_SOURCES: [&str; 3] = ["ai", "creator", "moderator"];

    /// A search's text (`q`).
    pub const QUERY: Text = Text::line("q", 500, "invalid_query");
    /// One tag of a search filter (pieces of `tags`, empty ones skipped).
    pub const FILTER_TAG: Text = Text::line("tags", 50, "invalid_tags");
    /// Most pieces in a search's `tags` (empty ones count), `invalid_tags`.
    pub const MAX_FILTER_TAGS: usize = 10;
    /// Page sizes (`invalid_limit`); absent means [`DEFAULT_LIMIT`].
    pub const MIN_LIMIT: u32 = 1;
    pub const MAX_LIMIT: u32 = 100;
    pub const DEFAULT_LIMIT: u32 = 20;
    /// A search cursor: tagging's `next_cursor`, base64url (`invalid_cursor`).
    pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]{0,128}$";
    pub const MAX_CURSOR_CHARS: usize = 128;

    /// A taxonomy label's name (a tag name, `invalid_label`).
    pub const LABEL_NAME: Text = Text::line("name", 50, "invalid_label").not_blank("invalid_label");
    /// What a label means: the text assets are matched against.
    pub const LABEL_DESCRIPTION: Text =
        Text::line("description", 300, "invalid_label").not_blank("invalid_label");
    /// Most labels in a taxonomy (`too_many_labels`).
    pub const MAX_LABELS: usize = 1000;
}

/// One asset found by a search, a similarity or a recommendation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitBody {
    #[schema(example = "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f")]
    pub asset_id: String,
    /// Relevance, higher first; comparable within one answer only.
    #[schema(example = 0.83)]
    pub score: f32,
    #[schema(example = "Sunset over the harbour")]
    pub title: String,
    /// `image`, `video`, `audio` or `document`.
    #[schema(example = "image")]
    pub kind: String,
    /// The asset's tag names, strongest first.
    #[schema(example = json!(["sunset", "harbour", "landscape photography"]))]
    pub tags: Vec<String>,
    /// Where its thumbnail downloads (`null` when it has none).
    #[schema(
        required = true,
        example = "/api/v1/assets/0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f/content?variant=thumbnail"
    )]
    pub thumbnail_url: Option<String>,
}

impl From<pb::SearchHit> for SearchHitBody {
    fn from(hit: pb::SearchHit) -> Self {
        Self {
            thumbnail_url: hit.has_thumbnail.then(|| thumbnail_url(&hit.asset_id)),
            asset_id: hit.asset_id,
            score: hit.score,
            title: hit.title,
            kind: hit.kind,
            tags: hit.tags,
        }
    }
}

/// The download of an asset's thumbnail (`GET /api/v1/assets/{id}/content`).
pub fn thumbnail_url(asset_id: &str) -> String {
    format!("/api/v1/assets/{asset_id}/content?variant=thumbnail")
}

super::page!(
    /// A page of assets found, best first.
    SearchPageBody of SearchHitBody
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_link_their_thumbnail_only_when_there_is_one() {
        let hit = |has_thumbnail| pb::SearchHit {
            asset_id: "a-1".into(),
            score: 0.5,
            title: "Sunset".into(),
            kind: "image".into(),
            tags: vec!["sunset".into()],
            has_thumbnail,
        };
        let with = serde_json::to_value(SearchHitBody::from(hit(true))).unwrap();
        assert_eq!(
            with["thumbnail_url"],
            "/api/v1/assets/a-1/content?variant=thumbnail"
        );
        assert_eq!(with["score"], 0.5);
        assert_eq!(with["tags"], serde_json::json!(["sunset"]));
        let without = serde_json::to_value(SearchHitBody::from(hit(false))).unwrap();
        assert!(without["thumbnail_url"].is_null());
        assert!(without.as_object().unwrap().contains_key("thumbnail_url"));
    }
}
