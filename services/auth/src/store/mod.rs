//! Persistence: sea-orm entities, migrations, and the queries each resource needs.
//! PostgreSQL when the URL says so, otherwise a SQLite file under the data directory.
//! Queries take and return the domain's types; each resource's file converts its rows.

pub mod accounts;
pub mod audit;
pub mod clients;
pub mod entities;
pub mod invitations;
pub mod keys;
pub mod migration;
pub mod oidc;
pub mod revocations;
pub mod sessions;
pub mod tenants;
pub mod throttle;
pub mod users;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use sea_orm_migration::MigratorTrait;

pub use marquee_db::{connect, is_unique_violation};

/// The database handle the domain holds and hands back to the queries here.
pub type Db = DatabaseConnection;

/// A transaction from [`begin`]: the queries here take it as they take a [`Db`]; it ends
/// with `commit` or `rollback` (dropped, it rolls back).
pub type Transaction = DatabaseTransaction;

pub async fn begin(db: &Db) -> Result<Transaction, DbErr> {
    marquee_db::begin_write(db).await
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}
