//! Queries on `tagged_assets`.

use super::entities::tagged_asset::{self, Entity as TaggedAssets, Model, TaggingState};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// What `asset.processed` tells of an asset.
#[derive(Clone, Debug)]
pub struct Processed {
    pub asset_id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub title: String,
    pub description: String,
    pub creator_tags: Vec<String>,
    pub kind: String,
    pub content_type: String,
    pub text_excerpt: String,
    /// Published already (approved, or no review needed).
    pub ready: bool,
    pub has_thumbnail: bool,
    pub width: u32,
    pub height: u32,
    pub created_at: DateTime<Utc>,
}

pub async fn find(
    db: &impl ConnectionTrait,
    asset_id: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    TaggedAssets::find_by_id(asset_id.to_string()).one(db).await
}

/// Records (or refreshes) a processed asset, tagging pending. Visibility only ever grows
/// here: an approval handled before this event keeps the asset visible. A tombstone
/// stays one (`None`).
pub async fn upsert_processed(
    db: &impl ConnectionTrait,
    asset: Processed,
) -> Result<Option<Model>, sea_orm::DbErr> {
    let now = Utc::now();
    let creator_tags = serde_json::to_string(&asset.creator_tags).unwrap_or_else(|_| "[]".into());
    match find(db, &asset.asset_id).await? {
        Some(existing) if existing.state == TaggingState::Deleted => Ok(None),
        Some(existing) => {
            let visible = existing.visible || asset.ready;
            let mut row = existing.into_active_model();
            row.title = Set(asset.title);
            row.description = Set(asset.description);
            row.creator_tags = Set(creator_tags);
            row.kind = Set(asset.kind);
            row.content_type = Set(asset.content_type);
            row.text_excerpt = Set(asset.text_excerpt);
            row.visible = Set(visible);
            row.has_thumbnail = Set(asset.has_thumbnail);
            row.width = Set(clamp_i32(asset.width));
            row.height = Set(clamp_i32(asset.height));
            row.state = Set(TaggingState::Pending);
            row.failure_reason = Set(None);
            row.updated_at = Set(now);
            row.update(db).await.map(Some)
        }
        None => tagged_asset::ActiveModel {
            asset_id: Set(asset.asset_id),
            tenant_id: Set(asset.tenant_id),
            owner_id: Set(asset.owner_id),
            title: Set(asset.title),
            description: Set(asset.description),
            creator_tags: Set(creator_tags),
            kind: Set(asset.kind),
            content_type: Set(asset.content_type),
            text_excerpt: Set(asset.text_excerpt),
            visible: Set(asset.ready),
            has_thumbnail: Set(asset.has_thumbnail),
            width: Set(clamp_i32(asset.width)),
            height: Set(clamp_i32(asset.height)),
            state: Set(TaggingState::Pending),
            failure_reason: Set(None),
            palette: Set("[]".into()),
            orientation: Set(None),
            size_class: Set(None),
            embedding: Set(None),
            view_count: Set(0),
            created_at: Set(asset.created_at),
            tagged_at: Set(None),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .map(Some),
    }
}

fn clamp_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// What tagging produced for an asset.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub state: TaggingState,
    pub failure_reason: Option<String>,
    /// `None` keeps the stored embedding.
    pub embedding: Option<Vec<u8>>,
    pub palette: Vec<String>,
    pub orientation: Option<String>,
    pub size_class: Option<String>,
}

/// Stores how tagging went; `None` when the asset is unknown or deleted.
pub async fn save_outcome(
    db: &impl ConnectionTrait,
    asset_id: &str,
    outcome: Outcome,
) -> Result<Option<Model>, sea_orm::DbErr> {
    let Some(existing) = find(db, asset_id).await? else {
        return Ok(None);
    };
    if existing.state == TaggingState::Deleted {
        return Ok(None);
    }
    let now = Utc::now();
    let mut row = existing.into_active_model();
    row.state = Set(outcome.state);
    row.failure_reason = Set(outcome.failure_reason);
    if let Some(embedding) = outcome.embedding {
        row.embedding = Set(Some(embedding));
    }
    row.palette = Set(serde_json::to_string(&outcome.palette).unwrap_or_else(|_| "[]".into()));
    row.orientation = Set(outcome.orientation);
    row.size_class = Set(outcome.size_class);
    if outcome.state == TaggingState::Tagged {
        row.tagged_at = Set(Some(now));
    }
    row.updated_at = Set(now);
    row.update(db).await.map(Some)
}

/// Sets whether others may see an asset. An asset not seen yet is recorded without its
/// words, which come with `asset.processed`, so the decision isn't lost.
pub async fn set_visible(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
    asset_id: &str,
    visible: bool,
) -> Result<Option<Model>, sea_orm::DbErr> {
    let now = Utc::now();
    match find(db, asset_id).await? {
        Some(existing) if existing.state == TaggingState::Deleted => Ok(None),
        Some(existing) => {
            let mut row = existing.into_active_model();
            row.visible = Set(visible);
            row.updated_at = Set(now);
            row.update(db).await.map(Some)
        }
        None => tagged_asset::ActiveModel {
            asset_id: Set(asset_id.to_string()),
            tenant_id: Set(tenant_id.to_string()),
            owner_id: Set(owner_id.to_string()),
            title: Set(String::new()),
            description: Set(String::new()),
            creator_tags: Set("[]".into()),
            kind: Set(String::new()),
            content_type: Set(String::new()),
            text_excerpt: Set(String::new()),
            visible: Set(visible),
            has_thumbnail: Set(false),
            width: Set(0),
            height: Set(0),
            state: Set(TaggingState::Pending),
            failure_reason: Set(None),
            palette: Set("[]".into()),
            orientation: Set(None),
            size_class: Set(None),
            embedding: Set(None),
            view_count: Set(0),
            created_at: Set(now),
            tagged_at: Set(None),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .map(Some),
    }
}

/// Forgets an asset's words and embedding, leaving a tombstone so late events for it
/// are ignored.
pub async fn tombstone(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    owner_id: &str,
    asset_id: &str,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    match find(db, asset_id).await? {
        Some(existing) => {
            let mut row = existing.into_active_model();
            row.title = Set(String::new());
            row.description = Set(String::new());
            row.creator_tags = Set("[]".into());
            row.text_excerpt = Set(String::new());
            row.visible = Set(false);
            row.state = Set(TaggingState::Deleted);
            row.embedding = Set(None);
            row.palette = Set("[]".into());
            row.updated_at = Set(now);
            row.update(db).await.map(drop)
        }
        None => {
            set_visible(db, tenant_id, owner_id, asset_id, false).await?;
            TaggedAssets::update_many()
                .col_expr(
                    tagged_asset::Column::State,
                    Expr::value(TaggingState::Deleted.as_str()),
                )
                .filter(tagged_asset::Column::AssetId.eq(asset_id))
                .exec(db)
                .await
                .map(drop)
        }
    }
}

/// Counts one more view.
pub async fn count_view(db: &impl ConnectionTrait, asset_id: &str) -> Result<(), sea_orm::DbErr> {
    TaggedAssets::update_many()
        .col_expr(
            tagged_asset::Column::ViewCount,
            Expr::col(tagged_asset::Column::ViewCount).add(1),
        )
        .filter(tagged_asset::Column::AssetId.eq(asset_id))
        .exec(db)
        .await
        .map(drop)
}

/// Rows changed at or after `since` (all of them from `None`), oldest change first, a
/// page at a time: what an index loads and catches up from.
pub async fn changed_since(
    db: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
    after_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    let mut query = TaggedAssets::find();
    if let Some(since) = since {
        query = match after_id {
            // Keyset: (updated_at, asset_id) > (since, after_id).
            Some(after) => query.filter(
                tagged_asset::Column::UpdatedAt
                    .gt(since)
                    .or(tagged_asset::Column::UpdatedAt
                        .eq(since)
                        .and(tagged_asset::Column::AssetId.gt(after))),
            ),
            None => query.filter(tagged_asset::Column::UpdatedAt.gte(since)),
        };
    }
    query
        .order_by_asc(tagged_asset::Column::UpdatedAt)
        .order_by_asc(tagged_asset::Column::AssetId)
        .limit(limit)
        .all(db)
        .await
}
