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
    /// Sign-in with Google (OpenID Connect): configured only when the client id is set.
    /// Env: `MARQUEE_OIDC_GOOGLE_CLIENT_ID`.
    pub oidc_google_client_id: Option<String>,
    /// Env: `MARQUEE_OIDC_GOOGLE_CLIENT_SECRET`.
    pub oidc_google_client_secret: Option<SecretString>,
    /// Discovery is read from `<issuer>/.well-known/openid-configuration`; https, except
    /// loopback http (tests). Env: `MARQUEE_OIDC_GOOGLE_ISSUER`.
    pub oidc_google_issuer: String,
    /// Where Google may send the browser back (the gateway's callback), exactly as given
    /// to `BeginExternalSignIn`. Env: `MARQUEE_OIDC_GOOGLE_REDIRECT_URIS`, comma-separated.
    pub oidc_google_redirect_uris: Vec<String>,
    /// An ID token signed by a key the cached JWKS lacks refetches the JWKS (the
    /// provider may have rotated), at most once per this many seconds.
    pub oidc_jwks_min_refetch_secs: u64,
    #[serde(flatten)]
    pub common: CommonSettings,
}

/// An OpenID Connect provider as configured (see [`AuthSettings::google`]).
#[derive(Debug, Clone)]
pub struct OidcProviderSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Without a trailing slash.
    pub issuer: String,
    pub redirect_uris: Vec<String>,
    pub jwks_min_refetch_secs: u64,
}

pub const DEFAULT_GOOGLE_ISSUER: &str = "https://accounts.google.com";
pub const DEFAULT_GOOGLE_REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:8080/api/v1/auth/google/callback",
    "http://localhost:8080/api/v1/auth/google/callback",
];

/// Sign-in throttling (see `domain::throttle`). A source is the client IP the gateway
/// determined (an IPv6 address counts by its /64).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ThrottleSettings {
    /// Failed sign-ins to one account from one source before each further attempt from
    /// that source must wait.
    pub source_free_failures: i32,
    /// The first such wait; it doubles with every further failure, up to `lockout_secs`.
    pub source_first_delay_secs: i64,
    /// Failed sign-ins to one account from all sources within `window_secs` (a
    /// distributed attack) before sources that have not signed into it within
    /// `known_source_secs` are locked out for `lockout_secs`.
    pub account_max_failures: i32,
    /// Failed sign-ins from one source within `window_secs`, whatever the accounts,
    /// before it is locked out for `lockout_secs` (except from accounts it signed into).
    pub ip_max_failures: i32,
    /// The counting window; a source's count against an account is forgotten once this
    /// long has passed since its last failure and wait.
    pub window_secs: i64,
    pub lockout_secs: i64,
    /// How long a source that signed into an account is exempt from the account-wide
    /// and per-source locks for that account.
    pub known_source_secs: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            source_free_failures: 3,
            source_first_delay_secs: 1,
            account_max_failures: 100,
            ip_max_failures: 30,
            window_secs: 900,
            lockout_secs: 900,
            known_source_secs: 30 * 24 * 3600,
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
            oidc_google_client_id: None,
            oidc_google_client_secret: None,
            oidc_google_issuer: DEFAULT_GOOGLE_ISSUER.into(),
            oidc_google_redirect_uris: DEFAULT_GOOGLE_REDIRECT_URIS.map(String::from).to_vec(),
            oidc_jwks_min_refetch_secs: 10,
            common: CommonSettings::default(),
        }
    }
}

impl AuthSettings {
    pub fn load() -> Result<Self, config::ConfigError> {
        marquee_platform::config::load("auth")
    }

    /// Google's settings when a client id is set (blank counts as unset). Redirect URIs
    /// are trimmed and empty entries (a trailing comma) dropped.
    pub fn google(&self) -> Option<OidcProviderSettings> {
        let client_id = self.oidc_google_client_id.as_deref()?.trim();
        if client_id.is_empty() {
            return None;
        }
        Some(OidcProviderSettings {
            client_id: client_id.to_string(),
            client_secret: self
                .oidc_google_client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from("")),
            issuer: self
                .oidc_google_issuer
                .trim()
                .trim_end_matches('/')
                .to_string(),
            redirect_uris: self
                .oidc_google_redirect_uris
                .iter()
                .map(|uri| uri.trim().to_string())
                .filter(|uri| !uri.is_empty())
                .collect(),
            jwks_min_refetch_secs: self.oidc_jwks_min_refetch_secs,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::ExposeSecret;
    use std::collections::HashMap;

    fn load(env: &[(&str, &str)]) -> AuthSettings {
        let mut env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(
            "MARQUEE_CONFIG_FILE".into(),
            "/nonexistent/auth.toml".into(),
        );
        marquee_platform::config::load_from("auth", env).expect("settings load")
    }

    #[test]
    fn google_is_configured_only_with_a_client_id() {
        let settings = load(&[]);
        assert!(settings.google().is_none());
        assert_eq!(settings.oidc_google_issuer, "https://accounts.google.com");
        assert_eq!(
            settings.oidc_google_redirect_uris,
            DEFAULT_GOOGLE_REDIRECT_URIS
        );
        assert!(
            load(&[("MARQUEE_OIDC_GOOGLE_CLIENT_ID", "  ")])
                .google()
                .is_none()
        );
    }

    #[test]
    fn google_settings_come_from_the_environment_and_the_secret_does_not_print() {
        let settings = load(&[
            (
                "MARQUEE_OIDC_GOOGLE_CLIENT_ID",
                "123-abc.apps.googleusercontent.com",
            ),
            ("MARQUEE_OIDC_GOOGLE_CLIENT_SECRET", "GOCSPX-hunter2"),
            ("MARQUEE_OIDC_GOOGLE_ISSUER", "http://127.0.0.1:9999"),
            (
                "MARQUEE_OIDC_GOOGLE_REDIRECT_URIS",
                "https://app.example/api/v1/auth/google/callback, http://localhost:8080/cb,",
            ),
        ]);
        let google = settings.google().expect("configured");
        assert_eq!(google.client_id, "123-abc.apps.googleusercontent.com");
        assert_eq!(google.client_secret.expose_secret(), "GOCSPX-hunter2");
        assert_eq!(google.issuer, "http://127.0.0.1:9999");
        assert_eq!(
            google.redirect_uris,
            [
                "https://app.example/api/v1/auth/google/callback",
                "http://localhost:8080/cb"
            ]
        );
        assert!(!format!("{settings:?}").contains("hunter2"));
        assert!(!format!("{google:?}").contains("hunter2"));
    }
}
