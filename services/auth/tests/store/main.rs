//! The auth domain and store against real databases: every scenario runs on SQLite and
//! on PostgreSQL (a fresh database per test).

mod clients;
mod sessions;
mod tenants;
mod throttle;

use marquee_auth::domain::RequestContext;
use marquee_auth::domain::users::Registration;
use marquee_auth::{Auth, AuthSettings, open_database};
use marquee_platform::SecretString;
use marquee_testkit::TestDatabase;

/// Keeps the database alive for the test's duration.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

pub fn settings() -> AuthSettings {
    let mut settings = AuthSettings::default();
    settings.throttle.account_max_failures = 3;
    settings.throttle.ip_max_failures = 100;
    settings
}

pub async fn start(backend: &str, mut settings: AuthSettings) -> (Auth, Backend) {
    let guard = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            settings.data_dir = dir.path().to_path_buf();
            Backend::Sqlite(dir)
        }
        _ => {
            let database = TestDatabase::create("auth").await.unwrap();
            settings.database_url = Some(SecretString::from(database.url.clone()));
            Backend::Postgres(database)
        }
    };
    let db = open_database(&settings).await.unwrap();
    (Auth::start(db, settings).await.unwrap(), guard)
}

pub fn ctx() -> RequestContext {
    RequestContext {
        ip: "203.0.113.7".into(),
        user_agent: "store-test".into(),
    }
}

pub fn registration(email: &str) -> Registration {
    Registration {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: "Ada".into(),
        tenant_id: None,
    }
}

/// Declares one test per backend for an `async fn(&str)` scenario.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $scenario() { super::$scenario("sqlite").await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $scenario() { super::$scenario("postgres").await })*
        }
    };
}
