//! Helpers for integration and end-to-end tests.
//!
//! - [`on_both_backends!`] with [`Backend`] and [`TestDb`]: one scenario, one test on
//!   SQLite (a temp dir) and one on PostgreSQL (a fresh database of its own).
//! - [`TestDatabase`]: a uniquely named PostgreSQL database, dropped afterwards, on the
//!   server named by `MARQUEE_TEST_POSTGRES_URL` (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`). `make test` makes sure it runs.
//! - [`amqp`]: the test broker's URL, unique exchange names, deleting a test's exchange
//!   and queues, and the lock that keeps the broker-restart test away from every other
//!   test using the broker.
//! - [`wait_until`] / [`wait_for`]: wait for a condition instead of sleeping.
//! - [`stripe`]: a local server speaking Stripe's wire format, for the real async-stripe
//!   client in billing's tests and the end-to-end tests.
//! - [`gemini`]: a local server speaking the Gemini REST API's wire format
//!   (generateContent with text or image answers, Veo's long-running video operations and
//!   downloads), for the tagging and campaign clients.
//! - [`social`]: local servers speaking Bluesky's XRPC, Mastodon's REST API and a webhook
//!   receiver, for the campaign service's publishing connectors.
//! - [`oidc`]: a local OpenID Connect provider (discovery, JWKS, authorize, token) for
//!   sign-in with Google, with knobs that spoil the next ID token.
//! - [`smtp`]: a local SMTP server (EHLO, AUTH, MAIL, RCPT, DATA) that keeps what it
//!   receives, for auth's mail and the end-to-end account flows.
//! - [`gcp_kms`]: a local server speaking Cloud KMS's encrypt/decrypt and the metadata
//!   server's token endpoint, for envelope encryption's `gcp-kms` provider.
//! - [`otlp`]: an OTLP/gRPC trace receiver keeping the spans it is sent, for the
//!   one-trace-per-request contract test.

pub mod amqp;
mod backends;
mod fake_server;
pub mod gcp_kms;
pub mod gemini;
pub mod oidc;
pub mod otlp;
pub mod props;
pub mod smtp;
pub mod social;
pub mod stripe;
mod wait;

pub use backends::{Backend, TestDb};
pub use wait::{wait_for, wait_until};

use sea_orm::{ConnectionTrait, Database};

/// The PostgreSQL server tests use when `MARQUEE_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The PostgreSQL server (its admin database) tests create their databases on:
/// `MARQUEE_TEST_POSTGRES_URL`, or [`DEFAULT_POSTGRES_URL`].
pub fn postgres_url() -> String {
    std::env::var("MARQUEE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// A uniquely named database that is dropped (connections and all) when this is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `marquee_test_<prefix>_<random>` on the test server.
    pub async fn create(prefix: &str) -> anyhow::Result<Self> {
        let admin = postgres_url();
        let name = format!("marquee_test_{prefix}_{}", uuid::Uuid::new_v4().simple());
        let connection = Database::connect(&admin).await.map_err(|error| {
            anyhow::anyhow!("PostgreSQL is not reachable at {admin}: {error} (make test starts it)")
        })?;
        connection
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        connection.close().await?;
        let base = admin
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&admin);
        Ok(Self {
            url: format!("{base}/{name}"),
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = postgres_url();
        let name = self.name.clone();
        block_on_own_runtime(async move {
            if let Ok(connection) = Database::connect(&admin).await {
                let _ = connection
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
                let _ = connection.close().await;
            }
        });
    }
}

/// Runs `work` to completion on a small runtime of its own, on a thread of its own: for
/// clean-up in `Drop`, which runs outside any runtime guarantee (maybe inside one).
pub(crate) fn block_on_own_runtime(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(work);
    })
    .join();
}
