//! Helpers for integration and end-to-end tests.
//!
//! PostgreSQL tests get a database of their own, created fresh and dropped afterwards,
//! on the server named by `MARQUEE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). `make test` makes sure it runs.
//!
//! [`stripe`] is a local server speaking Stripe's wire format, for the real async-stripe
//! client in billing's tests and the end-to-end tests.

pub mod stripe;

use sea_orm::{ConnectionTrait, Database};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("MARQUEE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// A uniquely named database that is dropped (connections and all) when this is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `marquee_test_<prefix>_<random>` on the test server.
    pub async fn create(prefix: &str) -> anyhow::Result<Self> {
        let admin = admin_url();
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
        let admin = admin_url();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a small one of our own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio_runtime() else { return };
            runtime.block_on(async move {
                if let Ok(connection) = Database::connect(&admin).await {
                    let _ = connection
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = connection.close().await;
                }
            });
        })
        .join();
    }
}

fn tokio_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
