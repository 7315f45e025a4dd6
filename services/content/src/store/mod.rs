//! Persistence: sea-orm entities, migrations, and the queries each resource needs.
//! PostgreSQL when the URL says so, otherwise a SQLite file under the data directory.

pub mod assets;
pub mod community;
pub mod entities;

pub mod migration;
mod migration_community;
mod migration_media;
pub mod moderation;

use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

pub use marquee_db::{connect, is_unique_violation};

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}
