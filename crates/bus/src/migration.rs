//! The bus's tables, as migrations each service adds to its own migrator (so they land
//! in the service's database and its migration table):
//!
//! ```ignore
//! fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!     let mut migrations: Vec<Box<dyn MigrationTrait>> = vec![Box::new(M0001Initial)];
//!     migrations.extend(marquee_bus::migration::migrations());
//!     migrations
//! }
//! ```
//!
//! Names are fixed (`m_bus_0001_outbox`, `m_bus_0002_inbox`), so they may sit anywhere in
//! a service's list; add new ones at the end.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Both tables: `outbox` (producers) and `inbox` (consumers).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(CreateOutbox), Box::new(CreateInbox)]
}

/// `outbox`: events written in the same transaction as the change that caused them.
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m_bus_0001_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(string(Outbox::Id).primary_key())
                    .col(string(Outbox::EventType))
                    .col(string(Outbox::TenantId))
                    .col(blob(Outbox::Envelope))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::PublishedAt))
                    .col(integer(Outbox::Attempts))
                    .col(text_null(Outbox::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_published_at_id_idx")
                    .table(Outbox::Table)
                    .col(Outbox::PublishedAt)
                    .col(Outbox::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

/// `inbox`: which events each consumer has already applied.
pub struct CreateInbox;

impl MigrationName for CreateInbox {
    fn name(&self) -> &str {
        "m_bus_0002_inbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inbox::Table)
                    .if_not_exists()
                    .col(string(Inbox::Consumer))
                    .col(string(Inbox::EventId))
                    .col(string(Inbox::EventType))
                    .col(timestamp_with_time_zone(Inbox::ProcessedAt))
                    .primary_key(Index::create().col(Inbox::Consumer).col(Inbox::EventId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_processed_at_idx")
                    .table(Inbox::Table)
                    .col(Inbox::ProcessedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Inbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    EventType,
    TenantId,
    Envelope,
    CreatedAt,
    PublishedAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden)]
enum Inbox {
    Table,
    Consumer,
    EventId,
    EventType,
    ProcessedAt,
}
