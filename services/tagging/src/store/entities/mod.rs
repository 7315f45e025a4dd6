//! sea-orm entities: one file per table.

pub mod asset_tag;
pub mod interaction;
pub mod removed_tag;
pub mod tagged_asset;
pub mod taxonomy_label;
