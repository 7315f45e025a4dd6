//! Schema migrations (table `billing_migrations`), plus the bus's outbox and inbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all: Vec<Box<dyn MigrationTrait>> =
            vec![Box::new(M0001Initial), Box::new(M0002RetryBackoff)];
        all.extend(marquee_bus::migration::migrations());
        all
    }

    fn migration_table_name() -> DynIden {
        "billing_migrations".into_iden()
    }
}

#[derive(DeriveMigrationName)]
struct M0001Initial;

/// `next_attempt_at` on the webhook inbox and the usage ledger: a failed attempt is
/// retried only from then on (exponential backoff, `domain::webhooks::retry_delay`).
struct M0002RetryBackoff;

/// Named by hand: `DeriveMigrationName` names a migration after its file, so a second
/// migration in this file would collide with `M0001Initial` (recorded as `migration`).
impl MigrationName for M0002RetryBackoff {
    fn name(&self) -> &str {
        "m0002_retry_backoff"
    }
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    TenantId,
    UserId,
    Plan,
    Status,
    Provider,
    StripeCustomerId,
    StripeSubscriptionId,
    CurrentPeriodEnd,
    CancelAtPeriodEnd,
    PastDueSince,
    StripeSyncedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UsageCounters {
    Table,
    TenantId,
    LimitName,
    Period,
    Used,
    Reserved,
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    Id,
    TenantId,
    LimitName,
    Period,
    Amount,
    State,
    IdempotencyKey,
    CreatedAt,
    ExpiresAt,
    SettledAt,
}

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    Id,
    TenantId,
    LimitName,
    Quantity,
    Identifier,
    MeterEvent,
    CreatedAt,
    ReportedAt,
    Attempts,
    LastError,
    NextAttemptAt,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    Id,
    EventType,
    ObjectId,
    Payload,
    ReceivedAt,
    ProcessedAt,
    Attempts,
    LastError,
    NextAttemptAt,
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(string(Subscriptions::TenantId).primary_key())
                    .col(string(Subscriptions::UserId))
                    .col(string(Subscriptions::Plan))
                    .col(string(Subscriptions::Status))
                    .col(string(Subscriptions::Provider))
                    .col(string_null(Subscriptions::StripeCustomerId))
                    .col(string_null(Subscriptions::StripeSubscriptionId))
                    .col(timestamp_with_time_zone_null(
                        Subscriptions::CurrentPeriodEnd,
                    ))
                    .col(boolean(Subscriptions::CancelAtPeriodEnd))
                    .col(timestamp_with_time_zone_null(Subscriptions::PastDueSince))
                    .col(timestamp_with_time_zone_null(Subscriptions::StripeSyncedAt))
                    .col(timestamp_with_time_zone(Subscriptions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subscriptions_customer_idx")
                    .table(Subscriptions::Table)
                    .col(Subscriptions::StripeCustomerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageCounters::Table)
                    .col(string(UsageCounters::TenantId))
                    .col(string(UsageCounters::LimitName))
                    .col(string(UsageCounters::Period))
                    .col(big_integer(UsageCounters::Used))
                    .col(big_integer(UsageCounters::Reserved))
                    .primary_key(
                        Index::create()
                            .col(UsageCounters::TenantId)
                            .col(UsageCounters::LimitName)
                            .col(UsageCounters::Period),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reservations::Table)
                    .col(string(Reservations::Id).primary_key())
                    .col(string(Reservations::TenantId))
                    .col(string(Reservations::LimitName))
                    .col(string(Reservations::Period))
                    .col(big_integer(Reservations::Amount))
                    .col(string(Reservations::State))
                    .col(string_null(Reservations::IdempotencyKey))
                    .col(timestamp_with_time_zone(Reservations::CreatedAt))
                    .col(timestamp_with_time_zone(Reservations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Reservations::SettledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reservations_tenant_key_key")
                    .table(Reservations::Table)
                    .col(Reservations::TenantId)
                    .col(Reservations::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reservations_state_expiry_idx")
                    .table(Reservations::Table)
                    .col(Reservations::State)
                    .col(Reservations::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageRecords::Table)
                    .col(string(UsageRecords::Id).primary_key())
                    .col(string(UsageRecords::TenantId))
                    .col(string(UsageRecords::LimitName))
                    .col(big_integer(UsageRecords::Quantity))
                    .col(string_uniq(UsageRecords::Identifier))
                    .col(string_null(UsageRecords::MeterEvent))
                    .col(timestamp_with_time_zone(UsageRecords::CreatedAt))
                    .col(timestamp_with_time_zone_null(UsageRecords::ReportedAt))
                    .col(integer(UsageRecords::Attempts))
                    .col(text_null(UsageRecords::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .col(string(StripeEvents::Id).primary_key())
                    .col(string(StripeEvents::EventType))
                    .col(string(StripeEvents::ObjectId))
                    .col(text(StripeEvents::Payload))
                    .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                    .col(timestamp_with_time_zone_null(StripeEvents::ProcessedAt))
                    .col(integer(StripeEvents::Attempts))
                    .col(text_null(StripeEvents::LastError))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002RetryBackoff {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(StripeEvents::Table)
                    .add_column(timestamp_with_time_zone_null(StripeEvents::NextAttemptAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UsageRecords::Table)
                    .add_column(timestamp_with_time_zone_null(UsageRecords::NextAttemptAt))
                    .to_owned(),
            )
            .await
    }
}
