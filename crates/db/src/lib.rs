//! Database plumbing every service shares. Each service owns its database: PostgreSQL
//! when its URL says `postgres://`, otherwise a SQLite file in the data directory.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::time::Duration;

/// The SQLite URL of `file` under `data_dir`, created on first connect.
pub fn sqlite_url(data_dir: &Path, file: &str) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join(file).display())
}

/// The database a service uses: the configured URL when there is one, else its SQLite
/// `file` under `data_dir`.
pub fn database_url(configured: Option<&SecretString>, data_dir: &Path, file: &str) -> SecretString {
    match configured {
        Some(url) if !url.expose_secret().is_empty() => url.clone(),
        _ => SecretString::from(sqlite_url(data_dir, file)),
    }
}

/// Connects to `url` — creating `data_dir` first when it is a SQLite file — and applies
/// the migrator's pending migrations. Every service opens its database this way.
pub async fn open<M: MigratorTrait>(
    url: &SecretString,
    data_dir: &Path,
) -> anyhow::Result<DatabaseConnection> {
    let url = url.expose_secret();
    if url.starts_with("sqlite") {
        std::fs::create_dir_all(data_dir)?;
    }
    let db = connect(url).await?;
    M::up(&db, None).await?;
    Ok(db)
}

/// The readiness probe of a service's database (for `Service::watch`).
pub fn probe(
    db: DatabaseConnection,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + 'static
{
    move || {
        let db = db.clone();
        Box::pin(async move { db.ping().await.map_err(|error| error.to_string()) })
    }
}

/// Connects to `url` (`postgres://…` or `sqlite://…`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let sqlite = url.starts_with("sqlite");
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(if sqlite { 8 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if sqlite {
        // On every pooled connection: WAL lets readers proceed while one writer commits;
        // the busy timeout makes concurrent writers wait instead of failing with
        // "database is locked".
        options.map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    }
    let db = Database::connect(options).await?;
    Ok(db)
}

/// True when the error is a unique-constraint violation (a duplicate), on either backend.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    #[tokio::test]
    async fn sqlite_file_is_created_in_wal_mode_and_duplicates_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&sqlite_url(dir.path(), "t.db")).await.unwrap();
        assert!(dir.path().join("t.db").exists());
        let mode = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mode.try_get_by_index::<String>(0).unwrap(), "wal");
        let timeout = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "PRAGMA busy_timeout",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(timeout.try_get_by_index::<i64>(0).unwrap(), 5000);
        db.execute_unprepared("CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');")
            .await
            .unwrap();
        let duplicate = db
            .execute_unprepared("INSERT INTO t VALUES ('a')")
            .await
            .unwrap_err();
        assert!(is_unique_violation(&duplicate));
    }
}
