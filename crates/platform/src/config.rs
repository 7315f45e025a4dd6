//! Layered, typed configuration: struct defaults → optional TOML file → `MARQUEE_*`
//! environment → `MARQUEE_<SERVICE>_*` environment (most specific wins).
//!
//! Shared keys such as `MARQUEE_DATABASE_URL` or `MARQUEE_DATA_DIR` apply to every service;
//! `MARQUEE_AUTH_DATABASE_URL` overrides them for auth only. Nested keys use `__`
//! (`MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE`).

use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::path::PathBuf;

/// Loads settings for `service` (e.g. `"auth"`). The file comes from `MARQUEE_CONFIG_FILE`
/// when set, else `config/<service>.toml` if it exists.
pub fn load<T: DeserializeOwned>(service: &str) -> Result<T, config::ConfigError> {
    load_from(service, std::env::vars().collect())
}

/// [`load`] with an explicit environment, so tests need not touch the process's.
pub fn load_from<T: DeserializeOwned>(
    service: &str,
    env: HashMap<String, String>,
) -> Result<T, config::ConfigError> {
    let file = env
        .get("MARQUEE_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("config/{service}.toml")));
    let service_prefix = format!("MARQUEE_{}", service.to_uppercase().replace('-', "_"));
    config::Config::builder()
        .add_source(config::File::from(file).required(false))
        .add_source(env_source("MARQUEE", &env))
        .add_source(env_source(&service_prefix, &env))
        .build()?
        .try_deserialize()
}

fn env_source(prefix: &str, env: &HashMap<String, String>) -> config::Environment {
    config::Environment::with_prefix(prefix)
        .source(Some(env.clone()))
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("cors.allowed_origins")
        .with_list_parse_key("blocked_terms")
        .with_list_parse_key("oidc_google_redirect_uris")
        .with_list_parse_key("trusted_proxies")
        .with_list_parse_key("fleet_ports")
}

/// Settings every service has: where its admin HTTP endpoint (health, metrics) listens
/// and how it logs.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct CommonSettings {
    /// `dev` (the default: embedded stand-ins for what is not configured) or `cluster`
    /// (a missing database, broker, object store or signing key is a start-up error).
    /// Env: `MARQUEE_PROFILE`. See [`crate::profile`].
    pub profile: crate::profile::Profile,
    /// Admin HTTP listener: `/healthz`, `/readyz`, `/metrics`. Port 0 (the embedded
    /// default) means no admin listener.
    pub admin_addr: String,
    pub log: crate::telemetry::LogSettings,
    /// How long a unary gRPC call may take on the server (client streams such as
    /// uploads are exempt: they are bounded by idle time instead).
    pub grpc_deadline_secs: u64,
    /// The service's signing key and the services it accepts calls from.
    pub identity: crate::service_identity::IdentitySettings,
    /// Mutual TLS on gRPC (`MARQUEE_TLS__ENABLED`, `__CERT_FILE`, `__KEY_FILE`,
    /// `__CA_FILE`); off by default.
    pub tls: crate::tls::TlsSettings,
    /// How often a gRPC client whose URL names a host (a headless Service) resolves it
    /// again to balance over the addresses it has now. Env:
    /// `MARQUEE_GRPC_RESOLVE_INTERVAL_SECS`. See [`crate::balance`].
    pub grpc_resolve_interval_secs: u64,
}

impl Default for CommonSettings {
    fn default() -> Self {
        Self {
            profile: Default::default(),
            admin_addr: "127.0.0.1:0".into(),
            log: Default::default(),
            grpc_deadline_secs: crate::grpc::SERVER_DEADLINE.as_secs(),
            identity: Default::default(),
            tls: Default::default(),
            grpc_resolve_interval_secs: crate::balance::DEFAULT_RESOLVE_INTERVAL.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[derive(Debug, serde::Deserialize, Default)]
    #[serde(default)]
    struct Sample {
        database_url: Option<secrecy::SecretString>,
        data_dir: String,
        port: u16,
    }

    #[test]
    fn layers_apply_in_order_and_secrets_do_not_print() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sample.toml");
        std::fs::write(&file, "data_dir = \"from-file\"\nport = 1\n").unwrap();
        let env = HashMap::from([
            (
                "MARQUEE_CONFIG_FILE".to_string(),
                file.display().to_string(),
            ),
            ("MARQUEE_PORT".to_string(), "2".to_string()),
            ("MARQUEE_SAMPLE_PORT".to_string(), "3".to_string()),
            (
                "MARQUEE_DATABASE_URL".to_string(),
                "postgres://u:hunter2@db/x".to_string(),
            ),
        ]);
        let loaded: Sample = load_from("sample", env).unwrap();
        assert_eq!(loaded.data_dir, "from-file");
        assert_eq!(
            loaded.port, 3,
            "service-specific env wins over shared env and file"
        );
        let url = loaded.database_url.as_ref().unwrap();
        assert_eq!(url.expose_secret(), "postgres://u:hunter2@db/x");
        assert!(!format!("{loaded:?}").contains("hunter2"));
    }

    #[test]
    fn missing_file_means_defaults() {
        let env = HashMap::from([(
            "MARQUEE_CONFIG_FILE".to_string(),
            "/nonexistent/x.toml".to_string(),
        )]);
        let loaded: Sample = load_from("sample", env).unwrap();
        assert_eq!(loaded.port, 0);
        assert!(loaded.database_url.is_none());
    }
}
