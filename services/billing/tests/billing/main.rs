//! Billing against real databases: every scenario runs on SQLite and on PostgreSQL (a
//! fresh database per test). The Stripe scenarios drive the real async-stripe client
//! against a local server speaking Stripe's wire format (`marquee_testkit::stripe`).

mod quotas;
mod stripe_flows;

use marquee_billing::{Billing, BillingSettings, open_database};
use marquee_platform::SecretString;
use marquee_testkit::TestDatabase;

/// Keeps the database alive for the test's duration.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

pub async fn start(backend: &str, mut settings: BillingSettings) -> (Billing, Backend) {
    marquee_platform::install_crypto_provider();
    let guard = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            settings.data_dir = dir.path().to_path_buf();
            Backend::Sqlite(dir)
        }
        _ => {
            let database = TestDatabase::create("billing").await.unwrap();
            settings.database_url = Some(SecretString::from(database.url.clone()));
            Backend::Postgres(database)
        }
    };
    let db = open_database(&settings).await.unwrap();
    (Billing::new(db, settings).unwrap(), guard)
}

/// Declares one test per backend for an `async fn(&str)` scenario.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $scenario() { super::$scenario("sqlite").await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $scenario() { super::$scenario("postgres").await })*
        }
    };
}
