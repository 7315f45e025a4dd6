//! Auth service settings: defaults → `config/auth.toml` → `MARQUEE_*` → `MARQUEE_AUTH_*`.

use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::service::ServiceSettings;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means a SQLite file in `data_dir`.
    /// Env: `MARQUEE_AUTH_DATABASE_URL`, else the shared `MARQUEE_DATABASE_URL`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub client_token_ttl_secs: i64,
    pub password_min_length: usize,
    pub throttle: ThrottleSettings,
    /// Creates this admin in the default tenant at start-up when absent.
    pub bootstrap_admin_email: Option<String>,
    pub bootstrap_admin_password: Option<SecretString>,
    /// How often each replica reloads signing keys (another replica or the CLI may have
    /// rotated them).
    pub key_reload_secs: u64,
    #[serde(flatten)]
    pub common: CommonSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ThrottleSettings {
    /// Failed logins per account within `window_secs` before it is locked.
    pub account_max_failures: i32,
    /// Failed logins per client IP within `window_secs` before it is locked.
    pub ip_max_failures: i32,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            account_max_failures: 5,
            ip_max_failures: 30,
            window_secs: 900,
            lockout_secs: 900,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50051".into(),
            database_url: None,
            data_dir: PathBuf::from("./data"),
            jwt_issuer: "marquee-auth".into(),
            jwt_audience: "marquee-api".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            client_token_ttl_secs: 3600,
            password_min_length: 10,
            throttle: ThrottleSettings::default(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            key_reload_secs: 30,
            common: CommonSettings::default(),
        }
    }
}

impl AuthSettings {
    pub fn load() -> Result<Self, config::ConfigError> {
        marquee_platform::config::load("auth")
    }

    /// The database URL to use: the configured one, else `<data_dir>/auth.db`.
    pub fn database_url(&self) -> SecretString {
        marquee_db::database_url(self.database_url.as_ref(), &self.data_dir, "auth.db")
    }
}

impl ServiceSettings for AuthSettings {
    fn load() -> anyhow::Result<Self> {
        Ok(Self::load()?)
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }

    fn grpc_addr(&self) -> &str {
        &self.grpc_addr
    }
}
