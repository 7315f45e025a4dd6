//! Tagging settings: defaults → `config/tagging.toml` → `MARQUEE_*` → `MARQUEE_TAGGING_*`.
//!
//! Gemini is off unless `MARQUEE_GEMINI_API_KEY` is set; the local models
//! (`models_dir`, made by `make models`) are the default and the fallback.

use marquee_bus::BusSettings;
use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::Required;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct TaggingSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means `<data_dir>/tagging.db`.
    /// Env: `MARQUEE_TAGGING_DATABASE_URL`, else the shared `MARQUEE_DATABASE_URL`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub database_url: Option<SecretString>,
    /// The database's connection pool (`MARQUEE_DB_POOL__…`).
    pub db_pool: marquee_db::PoolSettings,
    pub data_dir: PathBuf,
    /// Where `make models` put ONNX Runtime and the models. Env: `MARQUEE_MODELS_DIR`.
    pub models_dir: PathBuf,
    /// The content service (image bytes for visual tags). Env: `MARQUEE_TAGGING_CONTENT_URL`.
    pub content_url: String,
    /// Threads each model uses for one inference run.
    pub inference_threads: usize,
    /// Sentences embedded in one run at most (callers waiting together share runs).
    pub max_batch: usize,
    /// Topic tags (zero-shot against the taxonomy) given to an asset at most, and the
    /// least confidence one needs.
    pub topic_tags: usize,
    pub topic_min_confidence: f32,
    /// Keyword tags extracted from an asset's text at most.
    pub keyword_tags: usize,
    /// Visual tags (image labels) at most, and the least probability one needs.
    pub image_tags: usize,
    pub image_min_probability: f32,
    /// Largest picture fetched for visual tags, in bytes (the thumbnail is asked for
    /// first), and the most pixels decoded.
    pub max_image_bytes: u64,
    pub max_image_pixels: u64,
    /// `auto` (pgvector when the database has it, else exact), `exact` or `pgvector`.
    pub vector_search: VectorSearch,
    /// Gemini (`MARQUEE_GEMINI_API_KEY`); unset = local models only.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub gemini_api_key: Option<SecretString>,
    /// Gemini REST base URL (tests point it at a local server), ending in `/`.
    pub gemini_base_url: String,
    pub gemini_model: String,
    pub gemini_timeout_secs: u64,
    /// The event bus (loaded from `MARQUEE_BUS_*`/`MARQUEE_AMQP_URL`).
    #[serde(skip)]
    pub bus: BusSettings,
    #[serde(flatten)]
    pub common: CommonSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorSearch {
    #[default]
    Auto,
    Exact,
    Pgvector,
}

impl Default for TaggingSettings {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50054".into(),
            database_url: None,
            db_pool: Default::default(),
            data_dir: PathBuf::from("./data"),
            models_dir: PathBuf::from("./models"),
            content_url: "http://127.0.0.1:50052".into(),
            inference_threads: 2,
            max_batch: 32,
            topic_tags: 3,
            topic_min_confidence: 0.2,
            keyword_tags: 5,
            image_tags: 3,
            image_min_probability: 0.1,
            max_image_bytes: 8 * 1024 * 1024,
            max_image_pixels: 40_000_000,
            vector_search: VectorSearch::Auto,
            gemini_api_key: None,
            gemini_base_url: "https://generativelanguage.googleapis.com/".into(),
            gemini_model: "gemini-2.5-flash".into(),
            gemini_timeout_secs: 30,
            bus: BusSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

impl TaggingSettings {
    /// Loads the layered settings; `MARQUEE_MODELS_DIR` and `MARQUEE_GEMINI_API_KEY` are
    /// the shared names `make models` and the campaign service use too.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`TaggingSettings::load`] from the environment `env`, checked (the pool, and under
    /// `MARQUEE_PROFILE=cluster` [`TaggingSettings::required_in_cluster`]).
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let mut settings: Self = marquee_platform::config::load_from("tagging", env.clone())?;
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
        use marquee_platform::ExposeSecret;
        settings
            .db_pool
            .validate_for(settings.database_url().expose_secret())?;
        settings
            .common
            .profile
            .require("tagging", &settings.required_in_cluster())?;
        Ok(settings)
    }

    /// What tagging will not run without in a cluster: its database, the broker (it
    /// consumes content's events) and its identity key.
    pub fn required_in_cluster(&self) -> Vec<Required> {
        vec![
            Required::database("tagging", self.database_url.as_ref()),
            Required::broker(self.bus.amqp_url.as_ref()),
            Required::identity_key("tagging", &self.common),
        ]
    }

    /// The database URL to use: the configured one, else `<data_dir>/tagging.db`.
    pub fn database_url(&self) -> SecretString {
        marquee_db::database_url(self.database_url.as_ref(), &self.data_dir, "tagging.db")
    }
}

impl marquee_platform::service::ServiceSettings for TaggingSettings {
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
            ("MARQUEE_TAGGING_TOPIC_TAGS".into(), "5".into()),
            ("MARQUEE_TAGGING_VECTOR_SEARCH".into(), "exact".into()),
        ]);
        let settings: TaggingSettings =
            marquee_platform::config::load_from("tagging", env).unwrap();
        assert_eq!(settings.topic_tags, 5);
        assert_eq!(settings.vector_search, VectorSearch::Exact);
        assert_eq!(settings.grpc_addr, "127.0.0.1:50054");
    }

    #[test]
    fn tagging_requires_its_database_broker_and_identity_in_a_cluster() {
        assert_eq!(
            testing::first_env(&TaggingSettings::default().required_in_cluster()),
            [
                "MARQUEE_TAGGING_DATABASE_URL",
                "MARQUEE_AMQP_URL",
                "MARQUEE_TAGGING_IDENTITY__SIGNING_KEY"
            ]
        );
        TaggingSettings::load_from(testing::env(&[])).unwrap();
        let error = TaggingSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_DATABASE_URL", "postgres://t:pw@db/tagging"),
            ("MARQUEE_IDENTITY__SIGNING_KEY", "c2VlZA=="),
        ]))
        .unwrap_err()
        .to_string();
        assert!(error.contains("MARQUEE_AMQP_URL"), "{error}");
        assert!(!error.contains("DATABASE_URL"), "{error}");
        let settings = TaggingSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_DATABASE_URL", "postgres://t:pw@db/tagging"),
            ("MARQUEE_IDENTITY__SIGNING_KEY", "c2VlZA=="),
            ("MARQUEE_AMQP_URL", "amqp://rabbit/%2f"),
            ("MARQUEE_MODELS_DIR", "/models"),
        ]))
        .unwrap();
        assert_eq!(settings.models_dir, PathBuf::from("/models"));
    }
}
