//! Domain ↔ protobuf conversions.

use crate::domain::assets::AssetTags;
use crate::domain::search::Page;
use crate::domain::tags::Tag;
use crate::domain::taxonomy::{Label, Taxonomy};
use marquee_proto::convert::timestamp;
use marquee_proto::tagging::v1 as pb;

pub fn tag(tag: &Tag) -> pb::Tag {
    pb::Tag {
        name: tag.name.clone(),
        confidence: tag.confidence,
        source: tag.source.as_str().to_string(),
        provider: tag.provider.clone(),
    }
}

pub fn asset_tags(found: AssetTags, models_off: Option<&str>) -> pb::AssetTags {
    let asset = found.asset;
    let failure_reason = asset
        .failure_reason
        .clone()
        .or_else(|| models_off.map(str::to_string))
        .filter(|_| asset.state.as_str() != "tagged" && asset.state.as_str() != "pending")
        .unwrap_or_default();
    pb::AssetTags {
        asset_id: asset.asset_id,
        tags: found.tags.iter().map(tag).collect(),
        state: asset.state.as_str().to_string(),
        failure_reason,
        palette: serde_json::from_str(&asset.palette).unwrap_or_default(),
        orientation: asset.orientation.unwrap_or_default(),
        size_class: asset.size_class.unwrap_or_default(),
        tagged_at: asset.tagged_at.map(timestamp),
    }
}

pub fn page(page: Page) -> pb::SearchResponse {
    pb::SearchResponse {
        hits: page
            .hits
            .into_iter()
            .map(|hit| pb::SearchHit {
                asset_id: hit.asset.asset_id.clone(),
                score: hit.score,
                title: hit.asset.title.clone(),
                kind: hit.asset.kind.clone(),
                tags: hit.asset.tags.clone(),
                has_thumbnail: hit.asset.has_thumbnail,
            })
            .collect(),
        next_cursor: page.next_cursor.unwrap_or_default(),
    }
}

pub fn taxonomy(taxonomy: Taxonomy) -> pb::Taxonomy {
    pb::Taxonomy {
        labels: taxonomy
            .labels
            .into_iter()
            .map(|l| pb::TaxonomyLabel {
                name: l.name,
                description: l.description,
            })
            .collect(),
        is_default: taxonomy.is_default,
    }
}

pub fn label(label: pb::TaxonomyLabel) -> Label {
    Label {
        name: label.name,
        description: label.description,
    }
}
