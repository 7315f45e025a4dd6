//! Billing against real databases: every scenario runs on SQLite and on PostgreSQL (a
//! fresh database per test). The Stripe scenarios drive the real async-stripe client
//! against a local server speaking Stripe's wire format (`marquee_testkit::stripe`).

mod quotas;
mod stripe_flows;

use marquee_billing::{Billing, BillingSettings, open_database};
use marquee_platform::SecretString;
use marquee_testkit::{Backend, TestDb};

/// Billing on a fresh database of `backend`; the guard keeps the database alive.
pub async fn start(backend: Backend, mut settings: BillingSettings) -> (Billing, TestDb) {
    marquee_platform::install_crypto_provider();
    let guard = TestDb::create(backend, "billing").await;
    settings.data_dir = guard.data_dir().to_path_buf();
    settings.database_url = guard.postgres_url().map(SecretString::from);
    let db = open_database(&settings).await.unwrap();
    (Billing::new(db, settings).unwrap(), guard)
}
