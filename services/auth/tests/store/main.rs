//! The auth domain and store against real databases: every scenario runs on SQLite and
//! on PostgreSQL (a fresh database per test).

mod accounts;
mod clients;
mod invitations;
mod keys;
mod oidc;
mod revocations;
mod sessions;
mod tenants;
mod throttle;

use marquee_auth::domain::RequestContext;
use marquee_auth::domain::users::Registration;
use marquee_auth::{Auth, AuthSettings, open_database};
use marquee_platform::SecretString;
use marquee_testkit::{Backend, TestDb};

pub fn settings() -> AuthSettings {
    let mut settings = AuthSettings::default();
    settings.throttle.source_free_failures = 3;
    // Long enough that a wait never runs out in the middle of a scenario.
    settings.throttle.source_first_delay_secs = 60;
    settings.throttle.ip_max_failures = 100;
    // Replicas sharing PostgreSQL need the key-encryption key configured.
    settings.kek.key = Some(SecretString::from(TEST_KEK));
    settings
}

/// The key-encryption key of the tests (32 bytes, base64).
pub const TEST_KEK: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Auth on a fresh database of `backend`; the guard keeps the database alive.
pub async fn start(backend: Backend, mut settings: AuthSettings) -> (Auth, TestDb) {
    let guard = TestDb::create(backend, "auth").await;
    settings.data_dir = guard.data_dir().to_path_buf();
    settings.database_url = guard.postgres_url().map(SecretString::from);
    let db = open_database(&settings).await.unwrap();
    (Auth::start(db, settings).await.unwrap(), guard)
}

pub fn ctx() -> RequestContext {
    ctx_from("203.0.113.7")
}

/// A request from `ip`.
pub fn ctx_from(ip: &str) -> RequestContext {
    RequestContext {
        ip: ip.into(),
        user_agent: "store-test".into(),
    }
}

pub fn registration(email: &str) -> Registration {
    Registration {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: "Ada".into(),
        tenant_id: None,
        invitation: None,
    }
}
