//! Queries on `asset_tags` and `removed_tags`.

use super::entities::asset_tag::{self, Entity as AssetTags, Model as AssetTag};
use super::entities::removed_tag::{self, Entity as RemovedTags};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::{HashMap, HashSet};

/// An asset's tags, strongest first.
pub async fn of(
    db: &impl ConnectionTrait,
    asset_id: &str,
) -> Result<Vec<AssetTag>, sea_orm::DbErr> {
    AssetTags::find()
        .filter(asset_tag::Column::AssetId.eq(asset_id))
        .order_by_desc(asset_tag::Column::Confidence)
        .order_by_asc(asset_tag::Column::Name)
        .all(db)
        .await
}

/// Tags of several assets, each list strongest first.
pub async fn of_many(
    db: &impl ConnectionTrait,
    asset_ids: &[String],
) -> Result<HashMap<String, Vec<AssetTag>>, sea_orm::DbErr> {
    let mut by_asset: HashMap<String, Vec<AssetTag>> = HashMap::new();
    // Bounded IN lists: SQLite allows 32k parameters, PostgreSQL 65k.
    for chunk in asset_ids.chunks(500) {
        let rows = AssetTags::find()
            .filter(asset_tag::Column::AssetId.is_in(chunk.iter().cloned()))
            .order_by_desc(asset_tag::Column::Confidence)
            .order_by_asc(asset_tag::Column::Name)
            .all(db)
            .await?;
        for row in rows {
            by_asset.entry(row.asset_id.clone()).or_default().push(row);
        }
    }
    Ok(by_asset)
}

/// Replaces an asset's tags with `tags` (their `asset_id` is this one's).
pub async fn replace(
    db: &impl ConnectionTrait,
    asset_id: &str,
    tags: Vec<AssetTag>,
) -> Result<(), sea_orm::DbErr> {
    AssetTags::delete_many()
        .filter(asset_tag::Column::AssetId.eq(asset_id))
        .exec(db)
        .await?;
    if tags.is_empty() {
        return Ok(());
    }
    AssetTags::insert_many(tags.into_iter().map(|tag| asset_tag::ActiveModel {
        asset_id: Set(asset_id.to_string()),
        name: Set(tag.name),
        confidence: Set(tag.confidence),
        source: Set(tag.source),
        provider: Set(tag.provider),
        created_at: Set(tag.created_at),
    }))
    .exec_without_returning(db)
    .await
    .map(drop)
}

/// The `ai` tag names people removed from an asset.
pub async fn removed(
    db: &impl ConnectionTrait,
    asset_id: &str,
) -> Result<HashSet<String>, sea_orm::DbErr> {
    Ok(RemovedTags::find()
        .filter(removed_tag::Column::AssetId.eq(asset_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.name)
        .collect())
}

/// Remembers `names` as removed from an asset by `by`.
pub async fn remember_removed(
    db: &impl ConnectionTrait,
    asset_id: &str,
    names: &[String],
    by: &str,
) -> Result<(), sea_orm::DbErr> {
    if names.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    RemovedTags::insert_many(names.iter().map(|name| removed_tag::ActiveModel {
        asset_id: Set(asset_id.to_string()),
        name: Set(name.clone()),
        removed_by: Set(by.to_string()),
        removed_at: Set(now),
    }))
    .on_conflict_do_nothing_on([removed_tag::Column::AssetId, removed_tag::Column::Name])
    .exec_without_returning(db)
    .await
    .map(drop)
}

/// Forgets every tag of an asset, removed ones too (the asset was deleted).
pub async fn delete_all(db: &impl ConnectionTrait, asset_id: &str) -> Result<(), sea_orm::DbErr> {
    AssetTags::delete_many()
        .filter(asset_tag::Column::AssetId.eq(asset_id))
        .exec(db)
        .await?;
    RemovedTags::delete_many()
        .filter(removed_tag::Column::AssetId.eq(asset_id))
        .exec(db)
        .await
        .map(drop)
}
