//! Schema migrations, applied at start-up and by `marquee-content migrate`; the bus's
//! outbox and inbox tables come with them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all: Vec<Box<dyn MigrationTrait>> = vec![Box::new(M0001Assets)];
        all.extend(marquee_bus::migration::migrations());
        all.push(Box::new(super::migration_community::M0002Community));
        all.push(Box::new(super::migration_media::M0003MediaMetadata));
        all
    }

    fn migration_table_name() -> DynIden {
        "content_migrations".into_iden()
    }
}

#[derive(DeriveMigrationName)]
struct M0001Assets;

#[async_trait::async_trait]
impl MigrationTrait for M0001Assets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Assets::Table)
                    .col(string(Assets::Id).primary_key())
                    .col(string(Assets::TenantId))
                    .col(string(Assets::OwnerId))
                    .col(string(Assets::Title))
                    .col(text(Assets::Description))
                    .col(text(Assets::Tags))
                    .col(string(Assets::Filename))
                    .col(string(Assets::ContentType))
                    .col(string(Assets::Kind))
                    .col(big_integer(Assets::SizeBytes))
                    .col(string(Assets::Sha256))
                    .col(string(Assets::OriginalKey))
                    .col(string_null(Assets::DisplayKey))
                    .col(string_null(Assets::ThumbnailKey))
                    .col(integer_null(Assets::Width))
                    .col(integer_null(Assets::Height))
                    .col(string(Assets::Status))
                    .col(text(Assets::StatusReason))
                    .col(string(Assets::Moderation))
                    .col(text(Assets::Flags))
                    .col(timestamp_with_time_zone(Assets::CreatedAt))
                    .col(timestamp_with_time_zone(Assets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Per-owner deduplication by content hash.
        manager
            .create_index(
                Index::create()
                    .name("assets_owner_sha256_key")
                    .table(Assets::Table)
                    .col(Assets::TenantId)
                    .col(Assets::OwnerId)
                    .col(Assets::Sha256)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assets_tenant_id_idx")
                    .table(Assets::Table)
                    .col(Assets::TenantId)
                    .col(Assets::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assets_tenant_status_idx")
                    .table(Assets::Table)
                    .col(Assets::TenantId)
                    .col(Assets::Status)
                    .col(Assets::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModerationDecisions::Table)
                    .col(string(ModerationDecisions::Id).primary_key())
                    .col(string(ModerationDecisions::TenantId))
                    .col(string(ModerationDecisions::AssetId))
                    .col(string(ModerationDecisions::ModeratorId))
                    .col(string(ModerationDecisions::Decision))
                    .col(text(ModerationDecisions::Reason))
                    .col(timestamp_with_time_zone(ModerationDecisions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("moderation_decisions_asset_idx")
                    .table(ModerationDecisions::Table)
                    .col(ModerationDecisions::TenantId)
                    .col(ModerationDecisions::AssetId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ModerationDecisions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Assets::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    Id,
    TenantId,
    OwnerId,
    Title,
    Description,
    Tags,
    Filename,
    ContentType,
    Kind,
    SizeBytes,
    Sha256,
    OriginalKey,
    DisplayKey,
    ThumbnailKey,
    Width,
    Height,
    Status,
    StatusReason,
    Moderation,
    Flags,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ModerationDecisions {
    Table,
    Id,
    TenantId,
    AssetId,
    ModeratorId,
    Decision,
    Reason,
    CreatedAt,
}
