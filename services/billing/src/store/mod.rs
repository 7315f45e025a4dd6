//! Persistence: sea-orm entities, migrations, and the queries each resource needs.
//! PostgreSQL when the URL says so, otherwise a SQLite file under the data directory.

pub mod entities;
pub mod migration;
pub mod quotas;
pub mod subscriptions;
pub mod webhooks;

use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

pub use marquee_db::{connect, is_unique_violation};

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}
