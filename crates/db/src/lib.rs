//! Database plumbing every service shares. Each service owns its database: PostgreSQL
//! when its URL says `postgres://`, otherwise a SQLite file in the data directory.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
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
pub fn database_url(
    configured: Option<&SecretString>,
    data_dir: &Path,
    file: &str,
) -> SecretString {
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
    open_with::<M>(url, data_dir, &PoolSettings::default()).await
}

/// [`open`] with the pool `pool` describes (the service's `db_pool`).
pub async fn open_with<M: MigratorTrait>(
    url: &SecretString,
    data_dir: &Path,
    pool: &PoolSettings,
) -> anyhow::Result<DatabaseConnection> {
    let url = url.expose_secret();
    pool.validate_for(url)?;
    if url.starts_with("sqlite") {
        std::fs::create_dir_all(data_dir)?;
    }
    let db = connect_with(url, pool).await?;
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

/// The connection pool of a service's database (`db_pool` in its settings, so
/// `MARQUEE_DB_POOL__MAX_CONNECTIONS`, `MARQUEE_DB_POOL__MIN_CONNECTIONS` and
/// `MARQUEE_DB_POOL__ACQUIRE_TIMEOUT_SECS`, or `MARQUEE_<SERVICE>_DB_POOL__…` for one
/// service). Size it so that replicas × `max_connections` stays under the server's
/// connection limit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct PoolSettings {
    /// Most connections one replica holds. Unset: 16 on PostgreSQL, 8 on SQLite.
    pub max_connections: Option<u32>,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a query waits for a free connection before it fails.
    pub acquire_timeout_secs: u64,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: None,
            min_connections: 1,
            acquire_timeout_secs: 10,
        }
    }
}

impl PoolSettings {
    /// The most connections on the backend `url` names.
    pub fn max_for(&self, url: &str) -> u32 {
        self.max_connections
            .unwrap_or(if url.starts_with("sqlite") { 8 } else { 16 })
    }

    /// Refuses a pool that cannot work on the backend `url` names, naming the variable.
    pub fn validate_for(&self, url: &str) -> anyhow::Result<()> {
        if let Some(max) = self.max_connections {
            anyhow::ensure!(
                max >= 1,
                "MARQUEE_DB_POOL__MAX_CONNECTIONS must be at least 1, got {max}"
            );
        }
        let max = self.max_for(url);
        anyhow::ensure!(
            self.min_connections <= max,
            "MARQUEE_DB_POOL__MIN_CONNECTIONS ({}) must not exceed \
             MARQUEE_DB_POOL__MAX_CONNECTIONS ({max})",
            self.min_connections
        );
        anyhow::ensure!(
            self.acquire_timeout_secs >= 1,
            "MARQUEE_DB_POOL__ACQUIRE_TIMEOUT_SECS must be at least 1"
        );
        Ok(())
    }
}

/// Connects to `url` (`postgres://…` or `sqlite://…`) with the default pool.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, &PoolSettings::default()).await
}

/// [`connect`] with the pool `pool` describes.
pub async fn connect_with(url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let sqlite = url.starts_with("sqlite");
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(pool.max_for(url))
        .min_connections(pool.min_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(pool.acquire_timeout_secs.max(1)))
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

/// Begins a transaction that writes. Every write transaction in the fleet starts here
/// (clippy's `disallowed-methods` keeps `TransactionTrait::begin` out).
///
/// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front, waiting up to the
/// busy timeout for another writer. A deferred transaction that reads first and writes
/// later fails at once with `SQLITE_BUSY_SNAPSHOT` (517, "database is locked") when
/// another connection committed in between — the busy timeout cannot help it, because
/// its snapshot is already stale. PostgreSQL: a plain `BEGIN`.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// True when the error is a unique-constraint violation (a duplicate), on either backend.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A state stored as a string column: the enum with sea-orm's `DeriveActiveEnum` (the
/// column holds exactly the given names, so no migration is needed when a column moves
/// from `String` to the enum), plus `as_str`, `parse`, `Display` and comparison with
/// `&str`. Every typed state column in the fleet is declared with it:
///
/// ```ignore
/// marquee_db::stored_enum! {
///     /// Where an asset stands.
///     pub enum AssetStatus {
///         Processing = "processing",
///         Ready = "ready",
///     }
/// }
/// ```
///
/// The calling module needs `use sea_orm::entity::prelude::*;` (as entity files have).
#[macro_export]
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:tt ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        $vis enum $name {
            $( $(#[$variant_meta])* #[sea_orm(string_value = $value)] $variant, )+
        }

        impl $name {
            /// The stored (and shown, and published) name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $value, )+
                }
            }

            /// The value stored as `name`, if it is one.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    mod stored {
        use sea_orm::entity::prelude::*;

        crate::stored_enum! {
            /// A state for the test.
            pub enum Phase {
                Waiting = "waiting",
                /// Documented variant.
                PastDue = "past_due",
            }
        }
    }

    /// The names are the stored values, both ways; anything else is refused.
    #[test]
    fn stored_enums_store_exactly_their_names() {
        use sea_orm::{ActiveEnum, Iterable};
        use stored::Phase;
        for phase in Phase::iter() {
            assert_eq!(phase.as_str(), phase.to_value());
            assert_eq!(Phase::try_from_value(&phase.to_value()).unwrap(), phase);
            assert_eq!(Phase::parse(phase.as_str()), Some(phase));
            assert_eq!(phase.to_string(), phase.as_str());
        }
        assert_eq!(Phase::PastDue, "past_due");
        assert_eq!(Phase::parse("paused"), None);
        assert!(Phase::try_from_value(&"paused".to_string()).is_err());
    }

    /// Many tasks read a counter and write it back in one transaction, on a pooled
    /// SQLite file: with deferred transactions some fail with "database is locked"
    /// (SQLITE_BUSY_SNAPSHOT); with `begin_write` every one succeeds and none is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_read_then_write_transactions_all_succeed_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&sqlite_url(dir.path(), "c.db")).await.unwrap();
        db.execute_unprepared("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO c VALUES (1, 0);")
            .await
            .unwrap();
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    let txn = begin_write(&db).await?;
                    let row = txn
                        .query_one_raw(sea_orm::Statement::from_string(
                            txn.get_database_backend(),
                            "SELECT n FROM c WHERE id = 1",
                        ))
                        .await?
                        .expect("row");
                    let n: i64 = row.try_get_by_index(0)?;
                    tokio::task::yield_now().await;
                    txn.execute_unprepared(&format!("UPDATE c SET n = {} WHERE id = 1", n + 1))
                        .await?;
                    txn.commit().await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().expect("no write transaction fails");
        }
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT n FROM c WHERE id = 1",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.try_get_by_index::<i64>(0).unwrap(),
            40,
            "no lost update"
        );
    }

    #[test]
    fn pool_defaults_are_todays_and_nonsense_is_refused() {
        let pool = PoolSettings::default();
        assert_eq!(pool.max_for("postgres://db/x"), 16);
        assert_eq!(pool.max_for("sqlite://x.db"), 8);
        assert_eq!(pool.min_connections, 1);
        assert_eq!(pool.acquire_timeout_secs, 10);
        pool.validate_for("postgres://db/x").unwrap();
        let sized = PoolSettings {
            max_connections: Some(4),
            min_connections: 2,
            acquire_timeout_secs: 3,
        };
        assert_eq!(sized.max_for("postgres://db/x"), 4);
        sized.validate_for("postgres://db/x").unwrap();
        let none = PoolSettings {
            max_connections: Some(0),
            ..PoolSettings::default()
        };
        let error = none.validate_for("sqlite://x.db").unwrap_err().to_string();
        assert!(
            error.contains("MARQUEE_DB_POOL__MAX_CONNECTIONS"),
            "{error}"
        );
        // 12 idle connections fit PostgreSQL's default of 16, not SQLite's 8.
        let many_idle = PoolSettings {
            min_connections: 12,
            ..PoolSettings::default()
        };
        many_idle.validate_for("postgres://db/x").unwrap();
        assert!(many_idle.validate_for("sqlite://x.db").is_err());
        let inverted = PoolSettings {
            max_connections: Some(2),
            min_connections: 3,
            ..PoolSettings::default()
        };
        let error = inverted
            .validate_for("postgres://db/x")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("MARQUEE_DB_POOL__MIN_CONNECTIONS"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_configured_pool_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let pool = PoolSettings {
            max_connections: Some(3),
            min_connections: 2,
            acquire_timeout_secs: 2,
        };
        let db = connect_with(&sqlite_url(dir.path(), "p.db"), &pool)
            .await
            .unwrap();
        let sqlx = db.get_sqlite_connection_pool();
        assert_eq!(sqlx.options().get_max_connections(), 3);
        assert_eq!(sqlx.options().get_min_connections(), 2);
        assert_eq!(sqlx.options().get_acquire_timeout(), Duration::from_secs(2));
    }

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
