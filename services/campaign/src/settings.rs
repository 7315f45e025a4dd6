//! Campaign settings: defaults → `config/campaign.toml` → `MARQUEE_*` → `MARQUEE_CAMPAIGN_*`.
//!
//! The AI provider is chosen here: Gemini with `MARQUEE_GEMINI_API_KEY`, else the local
//! model from `models_dir` (made by `make models`), else — only when `allow_rules` — the
//! rules composer. Which one wrote each output is recorded on it as `provider`.

use marquee_bus::BusSettings;
use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::Required;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct CampaignSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means `<data_dir>/campaign.db`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub database_url: Option<SecretString>,
    /// The database's connection pool (`MARQUEE_DB_POOL__…`).
    pub db_pool: marquee_db::PoolSettings,
    pub data_dir: PathBuf,
    /// Where `make models` put the local generation model. Env: `MARQUEE_MODELS_DIR`.
    pub models_dir: PathBuf,
    /// The GGUF file of the local model, inside `models_dir`.
    pub local_model_file: String,
    /// Threads llama.cpp uses for one generation.
    pub local_model_threads: usize,
    /// `auto` (Gemini with a key, else local, else rules), `gemini`, `local` or `rules`.
    pub provider: ProviderChoice,
    /// The other services.
    pub content_url: String,
    pub billing_url: String,
    pub tagging_url: String,
    /// Gemini (`MARQUEE_GEMINI_API_KEY`); unset = local model.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub gemini_api_key: Option<SecretString>,
    /// Gemini REST base URL (tests point it at a local server), ending in `/`.
    pub gemini_base_url: String,
    pub gemini_text_model: String,
    pub gemini_image_model: String,
    pub gemini_video_model: String,
    pub gemini_timeout_secs: u64,
    /// Website fetching for the analysis: bytes, seconds, redirects, and whether private
    /// addresses may be fetched (never in production: that is SSRF).
    pub fetch_max_bytes: u64,
    pub fetch_timeout_secs: u64,
    pub fetch_max_redirects: u32,
    pub fetch_allow_private: bool,
    /// Exact `ip:port` addresses fetched although private (a test server), every other
    /// private address staying refused.
    pub fetch_allowed_addresses: Vec<String>,
    /// Jobs run at once by this replica (text generation queues behind one model anyway).
    pub job_workers: usize,
    /// How often the scheduler looks for due posts.
    pub scheduler_interval_ms: u64,
    /// The key-encryption key that seals connector credentials at rest
    /// (`MARQUEE_CAMPAIGN_KEK__…`: `PROVIDER` `local` or `gcp-kms`, `KEY` (32 bytes,
    /// base64), `KEY_FILE`, `PREVIOUS_KEYS`, `GCP_KMS_KEY_NAME`). Unset on the embedded
    /// default: the key file `<data_dir>/campaign-connector.key`, made once; with
    /// PostgreSQL it must be configured. See docs/security.md.
    pub kek: marquee_envelope::KekSettings,
    /// The connector key of earlier versions (32 bytes, base64), which sealed credentials
    /// directly: still opens what they wrote (re-sealed at start-up), and is the local
    /// KEK when `kek.key` is unset. Env: `MARQUEE_CAMPAIGN_CONNECTOR_KEY`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub connector_key: Option<SecretString>,
    /// Whether the webhook connector may post to private addresses (tests, dev).
    pub webhook_allow_private: bool,
    /// The event bus (loaded from `MARQUEE_BUS_*`/`MARQUEE_AMQP_URL`).
    #[serde(skip)]
    pub bus: BusSettings,
    #[serde(flatten)]
    pub common: CommonSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderChoice {
    #[default]
    Auto,
    Gemini,
    Local,
    Rules,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50055".into(),
            database_url: None,
            db_pool: Default::default(),
            data_dir: PathBuf::from("./data"),
            models_dir: PathBuf::from("./models"),
            local_model_file: "gemma-3-270m-q4_k_m.gguf".into(),
            local_model_threads: 2,
            provider: ProviderChoice::Auto,
            content_url: "http://127.0.0.1:50052".into(),
            billing_url: "http://127.0.0.1:50053".into(),
            tagging_url: "http://127.0.0.1:50054".into(),
            gemini_api_key: None,
            gemini_base_url: "https://generativelanguage.googleapis.com/".into(),
            gemini_text_model: "gemini-2.5-flash".into(),
            gemini_image_model: "gemini-2.5-flash-image".into(),
            gemini_video_model: "veo-3.0-generate-001".into(),
            gemini_timeout_secs: 60,
            fetch_max_bytes: 2 * 1024 * 1024,
            fetch_timeout_secs: 10,
            fetch_max_redirects: 3,
            fetch_allow_private: false,
            fetch_allowed_addresses: Vec::new(),
            job_workers: 2,
            scheduler_interval_ms: 1000,
            kek: marquee_envelope::KekSettings::default(),
            connector_key: None,
            webhook_allow_private: false,
            bus: BusSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

impl CampaignSettings {
    /// Loads the layered settings; `MARQUEE_MODELS_DIR` and `MARQUEE_GEMINI_API_KEY` are
    /// the names the tagging service and `make models` share.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`CampaignSettings::load`] from the environment `env`, checked (the pool, and
    /// under `MARQUEE_PROFILE=cluster` [`CampaignSettings::required_in_cluster`]).
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let mut settings: Self = marquee_platform::config::load_from("campaign", env.clone())?;
        settings.bus = BusSettings::load_from(env.clone())?;
        if let Some(dir) = env.get("MARQUEE_MODELS_DIR")
            && !dir.is_empty()
        {
            settings.models_dir = PathBuf::from(dir);
        }
        if let Some(key) = env.get("MARQUEE_GEMINI_API_KEY")
            && !key.is_empty()
        {
            settings.gemini_api_key = Some(SecretString::from(key.clone()));
        }
        use secrecy::ExposeSecret;
        settings
            .db_pool
            .validate_for(settings.database_url().expose_secret())?;
        settings
            .common
            .profile
            .require("campaign", &settings.required_in_cluster())?;
        Ok(settings)
    }

    /// What campaign will not run without in a cluster: its database, the broker, its
    /// identity key and the key-encryption key of connector credentials (shared by
    /// every replica).
    pub fn required_in_cluster(&self) -> Vec<Required> {
        let kek = &self.kek;
        vec![
            Required::database("campaign", self.database_url.as_ref()),
            Required::broker(self.bus.amqp_url.as_ref()),
            Required::identity_key("campaign", &self.common),
            Required::new(
                "key-encryption key of connector credentials (or __PROVIDER=gcp-kms with \
                 __GCP_KMS_KEY_NAME)",
                [
                    "MARQUEE_CAMPAIGN_KEK__KEY",
                    "MARQUEE_CAMPAIGN_KEK__KEY_FILE",
                    "MARQUEE_CAMPAIGN_KEK__GCP_KMS_KEY_NAME",
                    "MARQUEE_CAMPAIGN_CONNECTOR_KEY",
                ],
                "a key file made in the container's data directory",
                marquee_platform::profile::is_set(kek.key.as_ref())
                    || kek.key_file.is_some()
                    || (kek.provider == marquee_envelope::KekProvider::GcpKms
                        && kek
                            .gcp_kms_key_name
                            .as_deref()
                            .is_some_and(|name| !name.trim().is_empty()))
                    || marquee_platform::profile::is_set(self.connector_key.as_ref()),
            ),
        ]
    }

    /// The database URL to use: the configured one, else `<data_dir>/campaign.db`.
    pub fn database_url(&self) -> SecretString {
        marquee_db::database_url(self.database_url.as_ref(), &self.data_dir, "campaign.db")
    }

    /// Where the local key-encryption key comes from when none is configured: the key
    /// file earlier versions made (`<data_dir>/campaign-connector.key`) on the embedded
    /// default; replicas sharing PostgreSQL must be given the key.
    pub fn kek_source(&self) -> marquee_envelope::KeySource {
        use secrecy::ExposeSecret;
        marquee_envelope::KeySource {
            env_prefix: "MARQUEE_CAMPAIGN_KEK".into(),
            default_key_file: self.data_dir.join("campaign-connector.key"),
            embedded: !self.database_url().expose_secret().starts_with("postgres"),
        }
    }

    pub fn local_model_path(&self) -> PathBuf {
        self.models_dir.join(&self.local_model_file)
    }
}

impl marquee_platform::service::ServiceSettings for CampaignSettings {
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
    use marquee_platform::profile::testing;
    use std::collections::HashMap;

    #[test]
    fn env_overrides_apply() {
        let env = HashMap::from([
            ("MARQUEE_CONFIG_FILE".into(), "/nonexistent.toml".into()),
            ("MARQUEE_CAMPAIGN_PROVIDER".into(), "rules".into()),
            ("MARQUEE_CAMPAIGN_JOB_WORKERS".into(), "3".into()),
        ]);
        let settings: CampaignSettings =
            marquee_platform::config::load_from("campaign", env).unwrap();
        assert_eq!(settings.provider, ProviderChoice::Rules);
        assert_eq!(settings.job_workers, 3);
        assert_eq!(settings.grpc_addr, "127.0.0.1:50055");
    }

    #[test]
    fn campaign_requires_its_database_broker_and_keys_in_a_cluster() {
        assert_eq!(
            testing::first_env(&CampaignSettings::default().required_in_cluster()),
            [
                "MARQUEE_CAMPAIGN_DATABASE_URL",
                "MARQUEE_AMQP_URL",
                "MARQUEE_CAMPAIGN_IDENTITY__SIGNING_KEY",
                "MARQUEE_CAMPAIGN_KEK__KEY"
            ]
        );
        CampaignSettings::load_from(testing::env(&[])).unwrap();
        let error = CampaignSettings::load_from(testing::env(&[("MARQUEE_PROFILE", "cluster")]))
            .unwrap_err()
            .to_string();
        for var in [
            "MARQUEE_CAMPAIGN_DATABASE_URL",
            "MARQUEE_AMQP_URL",
            "MARQUEE_IDENTITY__SIGNING_KEY",
            "MARQUEE_CAMPAIGN_KEK__KEY",
        ] {
            assert!(error.contains(var), "{var}: {error}");
        }
        CampaignSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_DATABASE_URL", "postgres://c:pw@db/campaign"),
            ("MARQUEE_AMQP_URL", "amqp://rabbit/%2f"),
            ("MARQUEE_IDENTITY__SIGNING_KEY", "c2VlZA=="),
            ("MARQUEE_CAMPAIGN_KEK__PROVIDER", "gcp-kms"),
            (
                "MARQUEE_CAMPAIGN_KEK__GCP_KMS_KEY_NAME",
                "projects/p/locations/l/keyRings/r/cryptoKeys/campaign",
            ),
        ]))
        .unwrap();
    }
}
