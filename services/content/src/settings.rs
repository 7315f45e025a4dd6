//! Content service settings: defaults → `config/content.toml` → `MARQUEE_*` →
//! `MARQUEE_CONTENT_*`.

use marquee_bus::BusSettings;
use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::Required;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ContentSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means `<data_dir>/content.db`.
    /// Env: `MARQUEE_CONTENT_DATABASE_URL`, else the shared `MARQUEE_DATABASE_URL`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub database_url: Option<SecretString>,
    /// The database's connection pool (`MARQUEE_DB_POOL__…`).
    pub db_pool: marquee_db::PoolSettings,
    pub data_dir: PathBuf,
    /// `s3://bucket/prefix` for S3 or any S3-compatible store (credentials, region and
    /// endpoint from the usual `AWS_*` environment), `file:///path`, or unset for the
    /// local file system under `<data_dir>/objects`. Env: `MARQUEE_OBJECT_STORE_URL`.
    pub object_store_url: Option<String>,
    /// Extra object_store options for S3 (`aws_endpoint`, `aws_allow_http`,
    /// `aws_access_key_id`, …); they override the `AWS_*` environment.
    pub object_store_options: std::collections::BTreeMap<String, String>,
    /// The auth service (tenant flags). Env: `MARQUEE_CONTENT_AUTH_URL`.
    pub auth_url: String,
    /// The billing service (storage and asset quotas). Env: `MARQUEE_CONTENT_BILLING_URL`.
    pub billing_url: String,
    /// Largest accepted upload, in bytes; larger ones are refused with 413.
    pub max_upload_bytes: u64,
    /// An upload that sends no bytes for this long fails (and frees what it held): an
    /// upload is bounded by idle time, not total time, so a slow phone still gets through.
    pub upload_idle_timeout_secs: u64,
    /// Words that flag an asset (title, description, tags) for a moderator, matched
    /// case-insensitively as whole words. Env: `MARQUEE_CONTENT_BLOCKED_TERMS=a,b`.
    pub blocked_terms: Vec<String>,
    /// Longest side of a thumbnail, in pixels.
    pub thumbnail_size: u32,
    /// Images with more pixels than this are not decoded (failed: too large). The
    /// decoder may allocate this × 4 bytes (8-bit RGBA) plus 16 MiB, no more.
    pub max_image_pixels: u64,
    /// Images with a longer side than this are not decoded (failed: too large).
    pub max_image_side: u32,
    /// Longest side of an image's published copy: larger pictures are scaled down.
    pub max_display_side: u32,
    /// Images and PDFs decoded at once by this process (at least 1); other processing
    /// waits for a turn.
    pub max_concurrent_decodes: usize,
    /// PDFs larger than this are not read: processed without page count or text.
    pub max_pdf_bytes: u64,
    /// Decompressed bytes a PDF may expand to: any one stream while it loads (more
    /// fails it), all page content together while its text is read (more ends the
    /// excerpt there).
    pub max_pdf_expanded_bytes: u64,
    /// Pages of a PDF whose text is read for the excerpt.
    pub max_pdf_text_pages: u32,
    /// Objects (numbers, names, strings, arrays, dictionaries) a PDF may hold to be
    /// read: its loader keeps each in about 120 bytes, whatever the file's size. A PDF
    /// with more is processed without page count or text.
    pub max_pdf_objects: u64,
    /// How long tenant flags read from auth are cached.
    pub flags_cache_ttl_secs: u64,
    /// Comments a user may post per `comment_window_secs` (0 = unlimited). Counted in
    /// the database, so every replica agrees.
    pub comments_per_window: u32,
    pub comment_window_secs: u64,
    /// New follows a user may make per `follow_window_secs` (0 = unlimited).
    pub follows_per_window: u32,
    pub follow_window_secs: u64,
    /// Links (`http://`, `https://`, `www.`) allowed in one comment.
    pub comment_max_links: u32,
    /// Longest comment, in characters.
    pub comment_max_chars: usize,
    /// The same author posting the same normalised body again within this many
    /// seconds is refused as a duplicate (0 = off).
    pub duplicate_comment_window_secs: u64,
    /// Distinct reports that hide a comment pending review.
    pub report_hide_threshold: u32,
    /// HMAC key of signed download URLs. Env: `MARQUEE_CONTENT_SIGNING_KEY`. Unset: a
    /// random key per start, so signed URLs die with a restart and differ between
    /// replicas — set it in any deployment with more than one process.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub signing_key: Option<SecretString>,
    /// The event bus (loaded from `MARQUEE_BUS_*`/`MARQUEE_AMQP_URL`, not from this
    /// service's keys).
    #[serde(skip)]
    pub bus: BusSettings,
    #[serde(flatten)]
    pub common: CommonSettings,
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50052".into(),
            database_url: None,
            db_pool: Default::default(),
            data_dir: PathBuf::from("./data"),
            object_store_url: None,
            object_store_options: Default::default(),
            auth_url: "http://127.0.0.1:50051".into(),
            billing_url: "http://127.0.0.1:50053".into(),
            max_upload_bytes: 1024 * 1024 * 1024,
            upload_idle_timeout_secs: 30,
            blocked_terms: Vec::new(),
            thumbnail_size: 320,
            max_image_pixels: 40_000_000,
            max_image_side: 20_000,
            max_display_side: 4096,
            max_concurrent_decodes: 1,
            max_pdf_bytes: 32 * 1024 * 1024,
            max_pdf_expanded_bytes: 64 * 1024 * 1024,
            max_pdf_text_pages: 50,
            max_pdf_objects: 1_000_000,
            flags_cache_ttl_secs: 30,
            comments_per_window: 10,
            comment_window_secs: 60,
            follows_per_window: 30,
            follow_window_secs: 60,
            comment_max_links: 2,
            comment_max_chars: 2000,
            duplicate_comment_window_secs: 3600,
            report_hide_threshold: 3,
            signing_key: None,
            bus: BusSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

impl ContentSettings {
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`ContentSettings::load`] from the environment `env`: the layered settings and the
    /// bus's, checked (the pool, and under `MARQUEE_PROFILE=cluster`
    /// [`ContentSettings::required_in_cluster`]).
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let mut settings: Self = marquee_platform::config::load_from("content", env.clone())?;
        settings.bus = BusSettings::load_from(env)?;
        use marquee_platform::ExposeSecret;
        settings
            .db_pool
            .validate_for(settings.database_url().expose_secret())?;
        settings
            .common
            .profile
            .require("content", &settings.required_in_cluster())?;
        Ok(settings)
    }

    /// What content will not run without in a cluster: its database, the broker, the
    /// object store, the key of signed URLs (shared by every replica) and its identity
    /// key.
    pub fn required_in_cluster(&self) -> Vec<Required> {
        vec![
            Required::database("content", self.database_url.as_ref()),
            Required::broker(self.bus.amqp_url.as_ref()),
            Required::new(
                "object store (s3://bucket/prefix)",
                marquee_platform::profile::env_names("content", "object_store_url"),
                "files in the container under the data directory",
                self.object_store_url
                    .as_deref()
                    .is_some_and(|url| !url.trim().is_empty()),
            ),
            Required::new(
                "signing key of download URLs",
                marquee_platform::profile::env_names("content", "signing_key"),
                "a random key per process, so signed URLs fail on every other replica",
                marquee_platform::profile::is_set(self.signing_key.as_ref()),
            ),
            Required::identity_key("content", &self.common),
        ]
    }

    /// The database URL to use: the configured one, else `<data_dir>/content.db`.
    pub fn database_url(&self) -> SecretString {
        marquee_db::database_url(self.database_url.as_ref(), &self.data_dir, "content.db")
    }
}

impl marquee_platform::service::ServiceSettings for ContentSettings {
    fn load() -> anyhow::Result<Self> {
        Self::load()
    }

    fn common(&self) -> &marquee_platform::config::CommonSettings {
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
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    #[test]
    fn env_overrides_apply() {
        let env = HashMap::from([
            (
                "MARQUEE_CONFIG_FILE".to_string(),
                "/nonexistent.toml".to_string(),
            ),
            (
                "MARQUEE_OBJECT_STORE_URL".to_string(),
                "s3://b/p".to_string(),
            ),
            (
                "MARQUEE_CONTENT_BLOCKED_TERMS".to_string(),
                "spam,scam".to_string(),
            ),
            (
                "MARQUEE_CONTENT_MAX_UPLOAD_BYTES".to_string(),
                "10".to_string(),
            ),
            (
                "MARQUEE_CONTENT_BILLING_URL".to_string(),
                "http://billing:50053".to_string(),
            ),
        ]);
        let settings: ContentSettings =
            marquee_platform::config::load_from("content", env).unwrap();
        assert_eq!(settings.object_store_url.as_deref(), Some("s3://b/p"));
        assert_eq!(settings.blocked_terms, vec!["spam", "scam"]);
        assert_eq!(settings.max_upload_bytes, 10);
        assert_eq!(settings.billing_url, "http://billing:50053");
        assert_eq!(
            ContentSettings::default().billing_url,
            "http://127.0.0.1:50053"
        );
        assert_eq!(settings.grpc_addr, "127.0.0.1:50052");
        assert!(
            settings
                .database_url()
                .expose_secret()
                .ends_with("content.db?mode=rwc")
        );
    }

    #[test]
    fn content_requires_its_stores_broker_and_keys_in_a_cluster() {
        assert_eq!(
            testing::first_env(&ContentSettings::default().required_in_cluster()),
            [
                "MARQUEE_CONTENT_DATABASE_URL",
                "MARQUEE_AMQP_URL",
                "MARQUEE_CONTENT_OBJECT_STORE_URL",
                "MARQUEE_CONTENT_SIGNING_KEY",
                "MARQUEE_CONTENT_IDENTITY__SIGNING_KEY"
            ]
        );
        ContentSettings::load_from(testing::env(&[])).unwrap();
        let error = ContentSettings::load_from(testing::env(&[("MARQUEE_PROFILE", "cluster")]))
            .unwrap_err()
            .to_string();
        for var in [
            "MARQUEE_CONTENT_DATABASE_URL",
            "MARQUEE_AMQP_URL",
            "MARQUEE_OBJECT_STORE_URL",
            "MARQUEE_CONTENT_SIGNING_KEY",
            "MARQUEE_IDENTITY__SIGNING_KEY",
        ] {
            assert!(error.contains(var), "{var}: {error}");
        }
        ContentSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_CONTENT_DATABASE_URL", "postgres://c:pw@db/content"),
            ("MARQUEE_AMQP_URL", "amqps://u:pw@rabbit/%2f"),
            ("MARQUEE_OBJECT_STORE_URL", "s3://marquee-assets"),
            ("MARQUEE_CONTENT_SIGNING_KEY", "k"),
            ("MARQUEE_IDENTITY__SIGNING_KEY", "c2VlZA=="),
        ]))
        .unwrap();
    }
}
