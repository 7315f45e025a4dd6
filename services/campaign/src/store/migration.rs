//! Schema migrations (table `campaign_migrations`), plus the bus's outbox and inbox.

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
        "campaign_migrations".into_iden()
    }
}

#[derive(DeriveMigrationName)]
struct M0001Initial;

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    TenantId,
    OwnerId,
    Name,
    Brief,
    Analysis,
    Themes,
    Hashtags,
    Guidance,
    Chat,
    Status,
    TemplateId,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    CampaignId,
    TenantId,
    OwnerId,
    Position,
    Platform,
    Kind,
    Content,
    Hashtags,
    Selected,
    Provider,
    MediaPrompt,
    AssetId,
    MediaProvider,
    ScheduledAt,
    Status,
    Engagement,
    Theme,
    AiGenerated,
    Provenance,
    Repairs,
    FailureReason,
    PublishedAt,
    ClaimedUntil,
    PublishAttempts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    TenantId,
    OwnerId,
    CampaignId,
    PostId,
    Kind,
    State,
    Progress,
    Message,
    Error,
    AssetId,
    Provider,
    Params,
    IdempotencyKey,
    CancelRequested,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    TenantId,
    OwnerId,
    Name,
    Description,
    Visibility,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Connectors {
    Table,
    Id,
    TenantId,
    OwnerId,
    Kind,
    Name,
    Platforms,
    Endpoint,
    Account,
    SecretSealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    TenantId,
    CampaignId,
    PostId,
    ConnectorId,
    ConnectorKind,
    Status,
    Attempts,
    StatusCode,
    RemoteId,
    RemoteUrl,
    Error,
    At,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(string(Campaigns::Id).primary_key())
                    .col(string(Campaigns::TenantId))
                    .col(string(Campaigns::OwnerId))
                    .col(string(Campaigns::Name))
                    .col(json(Campaigns::Brief))
                    .col(json_null(Campaigns::Analysis))
                    .col(json(Campaigns::Themes))
                    .col(json(Campaigns::Hashtags))
                    .col(text(Campaigns::Guidance))
                    .col(json(Campaigns::Chat))
                    .col(string(Campaigns::Status))
                    .col(string_null(Campaigns::TemplateId))
                    .col(string_null(Campaigns::IdempotencyKey))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "campaigns_owner_idx",
            Campaigns::Table,
            vec![Campaigns::OwnerId.into_iden(), Campaigns::Id.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "campaigns_idempotency_idx",
            Campaigns::Table,
            vec![
                Campaigns::OwnerId.into_iden(),
                Campaigns::IdempotencyKey.into_iden(),
            ],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(string(Posts::Id).primary_key())
                    .col(string(Posts::CampaignId))
                    .col(string(Posts::TenantId))
                    .col(string(Posts::OwnerId))
                    .col(integer(Posts::Position))
                    .col(string(Posts::Platform))
                    .col(string(Posts::Kind))
                    .col(text(Posts::Content))
                    .col(json(Posts::Hashtags))
                    .col(boolean(Posts::Selected))
                    .col(string(Posts::Provider))
                    .col(text(Posts::MediaPrompt))
                    .col(string_null(Posts::AssetId))
                    .col(string_null(Posts::MediaProvider))
                    .col(timestamp_with_time_zone_null(Posts::ScheduledAt))
                    .col(string(Posts::Status))
                    .col(json(Posts::Engagement))
                    .col(string(Posts::Theme))
                    .col(boolean(Posts::AiGenerated))
                    .col(json(Posts::Provenance))
                    .col(json(Posts::Repairs))
                    .col(text_null(Posts::FailureReason))
                    .col(timestamp_with_time_zone_null(Posts::PublishedAt))
                    .col(timestamp_with_time_zone_null(Posts::ClaimedUntil))
                    .col(integer(Posts::PublishAttempts))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "posts_campaign_idx",
            Posts::Table,
            vec![Posts::CampaignId.into_iden(), Posts::Position.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "posts_due_idx",
            Posts::Table,
            vec![Posts::Status.into_iden(), Posts::ScheduledAt.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(string(Jobs::Id).primary_key())
                    .col(string(Jobs::TenantId))
                    .col(string(Jobs::OwnerId))
                    .col(string(Jobs::CampaignId))
                    .col(string_null(Jobs::PostId))
                    .col(string(Jobs::Kind))
                    .col(string(Jobs::State))
                    .col(integer(Jobs::Progress))
                    .col(text(Jobs::Message))
                    .col(text(Jobs::Error))
                    .col(string_null(Jobs::AssetId))
                    .col(string(Jobs::Provider))
                    .col(json(Jobs::Params))
                    .col(string_null(Jobs::IdempotencyKey))
                    .col(boolean(Jobs::CancelRequested))
                    .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "jobs_state_idx",
            Jobs::Table,
            vec![Jobs::State.into_iden(), Jobs::CreatedAt.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "jobs_idempotency_idx",
            Jobs::Table,
            vec![Jobs::OwnerId.into_iden(), Jobs::IdempotencyKey.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Templates::Table)
                    .col(string(Templates::Id).primary_key())
                    .col(string(Templates::TenantId))
                    .col(string(Templates::OwnerId))
                    .col(string(Templates::Name))
                    .col(text(Templates::Description))
                    .col(string(Templates::Visibility))
                    .col(json(Templates::Body))
                    .col(timestamp_with_time_zone(Templates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "templates_tenant_idx",
            Templates::Table,
            vec![Templates::TenantId.into_iden(), Templates::Id.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Connectors::Table)
                    .col(string(Connectors::Id).primary_key())
                    .col(string(Connectors::TenantId))
                    .col(string(Connectors::OwnerId))
                    .col(string(Connectors::Kind))
                    .col(string(Connectors::Name))
                    .col(json(Connectors::Platforms))
                    .col(text(Connectors::Endpoint))
                    .col(string(Connectors::Account))
                    .col(text(Connectors::SecretSealed))
                    .col(timestamp_with_time_zone(Connectors::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "connectors_owner_idx",
            Connectors::Table,
            vec![Connectors::OwnerId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(string(Deliveries::Id).primary_key())
                    .col(string(Deliveries::TenantId))
                    .col(string(Deliveries::CampaignId))
                    .col(string(Deliveries::PostId))
                    .col(string(Deliveries::ConnectorId))
                    .col(string(Deliveries::ConnectorKind))
                    .col(string(Deliveries::Status))
                    .col(integer(Deliveries::Attempts))
                    .col(integer(Deliveries::StatusCode))
                    .col(text(Deliveries::RemoteId))
                    .col(text(Deliveries::RemoteUrl))
                    .col(text(Deliveries::Error))
                    .col(timestamp_with_time_zone(Deliveries::At))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "deliveries_campaign_idx",
            Deliveries::Table,
            vec![
                Deliveries::CampaignId.into_iden(),
                Deliveries::At.into_iden(),
            ],
            false,
        )
        .await?;
        Ok(())
    }
}
