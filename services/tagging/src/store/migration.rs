//! Schema migrations (table `tagging_migrations`), plus the bus's outbox and inbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all: Vec<Box<dyn MigrationTrait>> = vec![Box::new(M0001Initial)];
        all.extend(marquee_bus::migration::migrations());
        all
    }

    fn migration_table_name() -> DynIden {
        "tagging_migrations".into_iden()
    }
}

#[derive(DeriveMigrationName)]
struct M0001Initial;

#[derive(DeriveIden)]
enum TaggedAssets {
    Table,
    AssetId,
    TenantId,
    OwnerId,
    Title,
    Description,
    CreatorTags,
    Kind,
    ContentType,
    TextExcerpt,
    Visible,
    HasThumbnail,
    Width,
    Height,
    State,
    FailureReason,
    Palette,
    Orientation,
    SizeClass,
    Embedding,
    ViewCount,
    CreatedAt,
    TaggedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssetTags {
    Table,
    AssetId,
    Name,
    Confidence,
    Source,
    Provider,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RemovedTags {
    Table,
    AssetId,
    Name,
    RemovedBy,
    RemovedAt,
}

#[derive(DeriveIden)]
enum TaxonomyLabels {
    Table,
    TenantId,
    Name,
    Description,
    Position,
}

#[derive(DeriveIden)]
enum Interactions {
    Table,
    Id,
    TenantId,
    UserId,
    Kind,
    AssetId,
    CreatorId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaggedAssets::Table)
                    .col(string(TaggedAssets::AssetId).primary_key())
                    .col(string(TaggedAssets::TenantId))
                    .col(string(TaggedAssets::OwnerId))
                    .col(text(TaggedAssets::Title))
                    .col(text(TaggedAssets::Description))
                    .col(text(TaggedAssets::CreatorTags))
                    .col(string(TaggedAssets::Kind))
                    .col(string(TaggedAssets::ContentType))
                    .col(text(TaggedAssets::TextExcerpt))
                    .col(boolean(TaggedAssets::Visible))
                    .col(boolean(TaggedAssets::HasThumbnail))
                    .col(integer(TaggedAssets::Width))
                    .col(integer(TaggedAssets::Height))
                    .col(string(TaggedAssets::State))
                    .col(text_null(TaggedAssets::FailureReason))
                    .col(text(TaggedAssets::Palette))
                    .col(string_null(TaggedAssets::Orientation))
                    .col(string_null(TaggedAssets::SizeClass))
                    .col(binary_null(TaggedAssets::Embedding))
                    .col(big_integer(TaggedAssets::ViewCount))
                    .col(timestamp_with_time_zone(TaggedAssets::CreatedAt))
                    .col(timestamp_with_time_zone_null(TaggedAssets::TaggedAt))
                    .col(timestamp_with_time_zone(TaggedAssets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tagged_assets_updated_idx")
                    .table(TaggedAssets::Table)
                    .col(TaggedAssets::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tagged_assets_tenant_idx")
                    .table(TaggedAssets::Table)
                    .col(TaggedAssets::TenantId)
                    .col(TaggedAssets::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AssetTags::Table)
                    .col(string(AssetTags::AssetId))
                    .col(string(AssetTags::Name))
                    .col(double(AssetTags::Confidence))
                    .col(string(AssetTags::Source))
                    .col(string(AssetTags::Provider))
                    .col(timestamp_with_time_zone(AssetTags::CreatedAt))
                    .primary_key(Index::create().col(AssetTags::AssetId).col(AssetTags::Name))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RemovedTags::Table)
                    .col(string(RemovedTags::AssetId))
                    .col(string(RemovedTags::Name))
                    .col(string(RemovedTags::RemovedBy))
                    .col(timestamp_with_time_zone(RemovedTags::RemovedAt))
                    .primary_key(
                        Index::create()
                            .col(RemovedTags::AssetId)
                            .col(RemovedTags::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaxonomyLabels::Table)
                    .col(string(TaxonomyLabels::TenantId))
                    .col(string(TaxonomyLabels::Name))
                    .col(text(TaxonomyLabels::Description))
                    .col(integer(TaxonomyLabels::Position))
                    .primary_key(
                        Index::create()
                            .col(TaxonomyLabels::TenantId)
                            .col(TaxonomyLabels::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Interactions::Table)
                    .col(string(Interactions::Id).primary_key())
                    .col(string(Interactions::TenantId))
                    .col(string(Interactions::UserId))
                    .col(string(Interactions::Kind))
                    .col(string_null(Interactions::AssetId))
                    .col(string_null(Interactions::CreatorId))
                    .col(timestamp_with_time_zone(Interactions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("interactions_user_idx")
                    .table(Interactions::Table)
                    .col(Interactions::TenantId)
                    .col(Interactions::UserId)
                    .col(Interactions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
