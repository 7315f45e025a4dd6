//! Auth service settings: defaults → `config/auth.toml` → `MARQUEE_*` → `MARQUEE_AUTH_*`.

use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::Required;
use marquee_platform::service::ServiceSettings;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct AuthSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means a SQLite file in `data_dir`.
    /// Env: `MARQUEE_AUTH_DATABASE_URL`, else the shared `MARQUEE_DATABASE_URL`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub database_url: Option<SecretString>,
    /// The database's connection pool (`MARQUEE_DB_POOL__…`).
    pub db_pool: marquee_db::PoolSettings,
    pub data_dir: PathBuf,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub client_token_ttl_secs: i64,
    pub password_min_length: usize,
    /// How long an invitation to join a tenant can be accepted (7 days).
    /// Env: `MARQUEE_AUTH_INVITATION_TTL_SECS`.
    pub invitation_ttl_secs: i64,
    pub throttle: ThrottleSettings,
    /// Creates this admin in the default tenant at start-up when absent.
    pub bootstrap_admin_email: Option<String>,
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub bootstrap_admin_password: Option<SecretString>,
    /// How often each replica reloads signing keys (another replica or the CLI may have
    /// rotated them).
    pub key_reload_secs: u64,
    /// Sign-in with Google (OpenID Connect): configured only when the client id is set.
    /// Env: `MARQUEE_OIDC_GOOGLE_CLIENT_ID`.
    pub oidc_google_client_id: Option<String>,
    /// Env: `MARQUEE_OIDC_GOOGLE_CLIENT_SECRET`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
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
    /// The key-encryption key that seals signing keys at rest (`MARQUEE_AUTH_KEK__…`:
    /// `PROVIDER` `local` or `gcp-kms`, `KEY` (32 bytes, base64), `KEY_FILE`,
    /// `PREVIOUS_KEYS`, `GCP_KMS_KEY_NAME`). Unset on the embedded default: a key file
    /// made once in the data directory (`auth-kek.key`); with PostgreSQL it must be
    /// configured. See docs/security.md.
    pub kek: marquee_envelope::KekSettings,
    /// Where people reach the web studio; links in mail point there
    /// (`{public_url}/verify-email?token=…`). Env: `MARQUEE_AUTH_PUBLIC_URL`.
    pub public_url: String,
    /// How a verification link stays valid.
    pub email_verification_ttl_secs: i64,
    /// How long a password-reset link stays valid.
    pub password_reset_ttl_secs: i64,
    /// Outgoing mail (`MARQUEE_AUTH_MAIL__…`).
    pub mail: MailSettings,
    #[serde(flatten)]
    pub common: CommonSettings,
}

/// Outgoing mail: SMTP when `smtp_url` is set, else each message is written as an `.eml`
/// file to `mailbox_dir` (the embedded default: `<data_dir>/mailbox`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587` (STARTTLS required), `smtps://…:465` (TLS from the
    /// start), or `smtp://host:25?tls=none` for a relay on a trusted network. Env:
    /// `MARQUEE_AUTH_MAIL__SMTP_URL`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub smtp_url: Option<SecretString>,
    /// The `From:` of every message.
    pub from: String,
    /// How long one message may take to hand over (connect, greet, send), in seconds;
    /// mail is sent off the request path, so this bounds a task, not a request.
    pub timeout_secs: u64,
    /// Where messages go without SMTP; unset means `<data_dir>/mailbox`.
    pub mailbox_dir: Option<PathBuf>,
    /// One verification or reset mail per account per this many seconds; further
    /// requests are refused (resend) or silently dropped (forgot password).
    pub resend_secs: i64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Marquee <no-reply@marquee.localhost>".into(),
            timeout_secs: 10,
            mailbox_dir: None,
            resend_secs: 60,
        }
    }
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

/// The gateway's default address: the studio `make run` serves.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

pub const DEFAULT_GOOGLE_ISSUER: &str = "https://accounts.google.com";
pub const DEFAULT_GOOGLE_REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:8080/api/v1/auth/google/callback",
    "http://localhost:8080/api/v1/auth/google/callback",
];

/// Sign-in throttling (see `domain::throttle`). A source is the client IP the gateway
/// determined (an IPv6 address counts by its /64).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
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
            db_pool: Default::default(),
            data_dir: PathBuf::from("./data"),
            jwt_issuer: "marquee-auth".into(),
            jwt_audience: "marquee-api".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            client_token_ttl_secs: 3600,
            password_min_length: 10,
            invitation_ttl_secs: 7 * 24 * 3600,
            throttle: ThrottleSettings::default(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            key_reload_secs: 30,
            oidc_google_client_id: None,
            oidc_google_client_secret: None,
            oidc_google_issuer: DEFAULT_GOOGLE_ISSUER.into(),
            oidc_google_redirect_uris: DEFAULT_GOOGLE_REDIRECT_URIS.map(String::from).to_vec(),
            oidc_jwks_min_refetch_secs: 10,
            kek: marquee_envelope::KekSettings::default(),
            public_url: DEFAULT_PUBLIC_URL.into(),
            email_verification_ttl_secs: 24 * 3600,
            password_reset_ttl_secs: 3600,
            mail: MailSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

impl AuthSettings {
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`AuthSettings::load`] from the environment `env`: the layered settings, checked
    /// (the pool, and under `MARQUEE_PROFILE=cluster` [`AuthSettings::required_in_cluster`]).
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let settings: Self = marquee_platform::config::load_from("auth", env)?;
        use marquee_platform::ExposeSecret;
        settings
            .db_pool
            .validate_for(settings.database_url().expose_secret())?;
        settings
            .common
            .profile
            .require("auth", &settings.required_in_cluster())?;
        Ok(settings)
    }

    /// What auth will not run without in a cluster: its database and the
    /// key-encryption key that seals the JWT signing keys (which every replica must
    /// share: without it each would make its own key file). Auth calls no service, so
    /// its identity key is not needed.
    pub fn required_in_cluster(&self) -> Vec<Required> {
        let kek = &self.kek;
        vec![
            Required::database("auth", self.database_url.as_ref()),
            Required::new(
                "key-encryption key of the JWT signing keys (or __PROVIDER=gcp-kms with \
                 __GCP_KMS_KEY_NAME)",
                [
                    "MARQUEE_AUTH_KEK__KEY",
                    "MARQUEE_AUTH_KEK__KEY_FILE",
                    "MARQUEE_AUTH_KEK__GCP_KMS_KEY_NAME",
                ],
                "a key file made in the container's data directory",
                marquee_platform::profile::is_set(kek.key.as_ref())
                    || kek.key_file.is_some()
                    || (kek.provider == marquee_envelope::KekProvider::GcpKms
                        && kek
                            .gcp_kms_key_name
                            .as_deref()
                            .is_some_and(|name| !name.trim().is_empty())),
            ),
        ]
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

    /// Where mail goes without SMTP: `mail.mailbox_dir`, else `<data_dir>/mailbox`.
    pub fn mailbox_dir(&self) -> PathBuf {
        self.mail
            .mailbox_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mailbox"))
    }

    /// `public_url` without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.public_url.trim().trim_end_matches('/')
    }

    /// Where the local key-encryption key comes from when none is configured: the
    /// embedded default (SQLite) makes `<data_dir>/auth-kek.key` once; replicas sharing
    /// PostgreSQL must be given the key.
    pub fn kek_source(&self) -> marquee_envelope::KeySource {
        use marquee_platform::ExposeSecret;
        marquee_envelope::KeySource {
            env_prefix: "MARQUEE_AUTH_KEK".into(),
            default_key_file: self.data_dir.join("auth-kek.key"),
            embedded: !self.database_url().expose_secret().starts_with("postgres"),
        }
    }

    /// The database URL to use: the configured one, else `<data_dir>/auth.db`.
    pub fn database_url(&self) -> SecretString {
        marquee_db::database_url(self.database_url.as_ref(), &self.data_dir, "auth.db")
    }
}

impl ServiceSettings for AuthSettings {
    fn load() -> anyhow::Result<Self> {
        Self::load()
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
    use marquee_platform::profile::testing;
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

    #[test]
    fn mail_goes_to_the_data_dirs_mailbox_unless_smtp_is_configured() {
        let settings = load(&[("MARQUEE_AUTH_DATA_DIR", "/srv/marquee")]);
        assert!(settings.mail.smtp_url.is_none());
        assert_eq!(
            settings.mailbox_dir(),
            PathBuf::from("/srv/marquee/mailbox")
        );
        assert_eq!(settings.public_url(), "http://127.0.0.1:8080");
        assert_eq!(settings.password_reset_ttl_secs, 3600);
        assert_eq!(settings.email_verification_ttl_secs, 24 * 3600);

        let settings = load(&[
            (
                "MARQUEE_AUTH_MAIL__SMTP_URL",
                "smtps://mailer:s3cret-pw@smtp.example.com:465",
            ),
            ("MARQUEE_AUTH_MAIL__FROM", "Studio <studio@example.com>"),
            ("MARQUEE_AUTH_MAIL__TIMEOUT_SECS", "3"),
            ("MARQUEE_AUTH_PUBLIC_URL", "https://studio.example.com/"),
        ]);
        let url = settings.mail.smtp_url.as_ref().expect("smtp");
        assert!(url.expose_secret().starts_with("smtps://mailer:"));
        assert_eq!(settings.mail.from, "Studio <studio@example.com>");
        assert_eq!(settings.mail.timeout_secs, 3);
        assert_eq!(settings.public_url(), "https://studio.example.com");
        assert!(!format!("{settings:?}").contains("s3cret-pw"));
    }

    #[test]
    fn the_key_encryption_key_comes_from_the_environment_and_does_not_print() {
        let settings = load(&[]);
        assert_eq!(settings.kek.provider, marquee_envelope::KekProvider::Local);
        assert!(settings.kek.key.is_none());
        assert!(settings.kek_source().embedded);
        let settings = load(&[
            ("MARQUEE_AUTH_KEK__PROVIDER", "gcp-kms"),
            (
                "MARQUEE_AUTH_KEK__GCP_KMS_KEY_NAME",
                "projects/p/locations/europe-west1/keyRings/marquee/cryptoKeys/auth",
            ),
            (
                "MARQUEE_AUTH_KEK__KEY",
                "c2VjcmV0LWtleS1ieXRlcy10aGlydHktdHdvLWxvbmc=",
            ),
            ("MARQUEE_AUTH_DATABASE_URL", "postgres://db/auth"),
        ]);
        assert_eq!(settings.kek.provider, marquee_envelope::KekProvider::GcpKms);
        assert_eq!(
            settings.kek.gcp_kms_key_name.as_deref(),
            Some("projects/p/locations/europe-west1/keyRings/marquee/cryptoKeys/auth")
        );
        assert!(!settings.kek_source().embedded);
        assert!(!format!("{settings:?}").contains("c2VjcmV0LWtleS"));
    }

    #[test]
    fn auth_requires_its_database_identity_and_key_encryption_key_in_a_cluster() {
        assert_eq!(
            testing::first_env(&AuthSettings::default().required_in_cluster()),
            ["MARQUEE_AUTH_DATABASE_URL", "MARQUEE_AUTH_KEK__KEY"]
        );
        // dev: the embedded stand-ins.
        AuthSettings::load_from(testing::env(&[])).unwrap();
        // cluster without a database URL: refused, naming it.
        let error = AuthSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_IDENTITY__SIGNING_KEY", "c2VlZA=="),
            ("MARQUEE_AUTH_KEK__PROVIDER", "gcp-kms"),
            (
                "MARQUEE_AUTH_KEK__GCP_KMS_KEY_NAME",
                "projects/p/locations/l/keyRings/r/cryptoKeys/auth",
            ),
        ]))
        .unwrap_err()
        .to_string();
        assert!(error.contains("MARQUEE_PROFILE=cluster"), "{error}");
        assert!(
            error.contains("MARQUEE_AUTH_DATABASE_URL (or MARQUEE_DATABASE_URL)"),
            "{error}"
        );
        assert!(!error.contains("KEK"), "{error}");
        let error = AuthSettings::load_from(testing::env(&[("MARQUEE_PROFILE", "cluster")]))
            .unwrap_err()
            .to_string();
        for var in ["MARQUEE_AUTH_DATABASE_URL", "MARQUEE_AUTH_KEK__KEY"] {
            assert!(error.contains(var), "{var}: {error}");
        }
        let settings = AuthSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_DATABASE_URL", "postgres://auth:pw@db/auth"),
            ("MARQUEE_IDENTITY__SIGNING_KEY", "c2VlZA=="),
            ("MARQUEE_AUTH_KEK__KEY", "a2V5"),
            ("MARQUEE_DB_POOL__MAX_CONNECTIONS", "4"),
        ]))
        .unwrap();
        assert_eq!(settings.db_pool.max_connections, Some(4));
        let error = AuthSettings::load_from(testing::env(&[
            ("MARQUEE_DB_POOL__MAX_CONNECTIONS", "2"),
            ("MARQUEE_DB_POOL__MIN_CONNECTIONS", "3"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("MARQUEE_DB_POOL__MIN_CONNECTIONS"),
            "{error}"
        );
    }
}
