//! Tagging settings: defaults → `config/tagging.toml` → `MARQUEE_*` → `MARQUEE_TAGGING_*`.
//!
//! Gemini is off unless `MARQUEE_GEMINI_API_KEY` is set; the local models
//! (`models_dir`, made by `make models`) are the default and the fallback.

use marquee_bus::BusSettings;
use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TaggingSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means `<data_dir>/tagging.db`.
    /// Env: `MARQUEE_TAGGING_DATABASE_URL`, else the shared `MARQUEE_DATABASE_URL`.
    pub database_url: Option<SecretString>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
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
        let mut settings: Self = marquee_platform::config::load("tagging")?;
        settings.bus = BusSettings::load()?;
        if let Ok(dir) = std::env::var("MARQUEE_MODELS_DIR")
            && !dir.is_empty()
        {
            settings.models_dir = PathBuf::from(dir);
        }
        if let Ok(key) = std::env::var("MARQUEE_GEMINI_API_KEY")
            && !key.is_empty()
        {
            settings.gemini_api_key = Some(SecretString::from(key));
        }
        Ok(settings)
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
}
