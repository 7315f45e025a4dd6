//! One scenario on both databases: [`on_both_backends!`](crate::on_both_backends) declares
//! a SQLite and a PostgreSQL test for each `async fn(Backend)` scenario, and the scenario
//! gets its database from [`TestDb::create`].

use crate::TestDatabase;
use std::fmt;
use std::path::Path;

/// The database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A test's database and data directory, both gone when this is dropped.
///
/// The data directory is a fresh temp dir on either backend (services keep their SQLite
/// file and other files there). On PostgreSQL the database is a [`TestDatabase`] of its
/// own.
pub struct TestDb {
    backend: Backend,
    url: String,
    // Dropped in this order: the database, then the directory.
    database: Option<TestDatabase>,
    dir: tempfile::TempDir,
}

impl TestDb {
    /// A fresh database for `backend`: on SQLite the file `<prefix>.db` in a new temp dir,
    /// on PostgreSQL `marquee_test_<prefix>_<random>`. Panics when that fails (PostgreSQL
    /// not running, say), with the reason.
    pub async fn create(backend: Backend, prefix: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("marquee-{prefix}-"))
            .tempdir()
            .expect("creating a temp dir for the test's data");
        let (url, database) = match backend {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join(format!("{prefix}.db")).display()
                ),
                None,
            ),
            Backend::Postgres => {
                let database = TestDatabase::create(prefix).await.unwrap_or_else(|error| {
                    panic!("creating a PostgreSQL test database: {error:#}")
                });
                (database.url.clone(), Some(database))
            }
        };
        Self {
            backend,
            url,
            database,
            dir,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the test keeps its files (and, on SQLite, its database file).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL to connect to: `sqlite://<data dir>/<prefix>.db?mode=rwc` or the
    /// PostgreSQL database's.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PostgreSQL database's URL, `None` on SQLite: what goes into a service's
    /// `database_url` setting, as services find their SQLite file in their data dir.
    pub fn postgres_url(&self) -> Option<&str> {
        self.database.as_ref().map(|database| database.url.as_str())
    }
}

/// Declares one test on SQLite and one on PostgreSQL for each `async fn(Backend)`
/// scenario: `sqlite::<scenario>` and `postgres::<scenario>` in the calling module, so
/// invoke it once per module.
///
/// ```ignore
/// marquee_testkit::on_both_backends!(signs_up, logs_in);
/// // or with the runtime the scenarios need:
/// marquee_testkit::on_both_backends!(
///     #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
///     signs_up,
///     logs_in,
/// );
///
/// async fn signs_up(backend: marquee_testkit::Backend) {
///     let db = marquee_testkit::TestDb::create(backend, "auth").await;
///     // …
/// }
/// ```
#[macro_export]
macro_rules! on_both_backends {
    (#[$test:meta] $($scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[$test]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[$test]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Postgres).await
                }
            )+
        }
    };
    ($($scenario:ident),+ $(,)?) => {
        $crate::on_both_backends!(#[tokio::test] $($scenario),+);
    };
}
