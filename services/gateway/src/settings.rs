//! The gateway's typed settings: struct defaults → optional `config/gateway.toml` (or
//! `MARQUEE_CONFIG_FILE`) → shared `MARQUEE_*` env → `MARQUEE_GATEWAY_*` env.
//!
//! Nested keys use `__`: `MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE=5`,
//! `MARQUEE_GATEWAY_CORS__ALLOWED_ORIGINS=https://a.example,https://b.example`.

use crate::rate_limit::Budget;
use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::Required;
use serde::Deserialize;
use std::path::PathBuf;

/// Everything the gateway needs to run. Shared keys (`redis_url`, `jwt_issuer`,
/// `jwt_audience`) are usually set once for the fleet as `MARQUEE_REDIS_URL`,
/// `MARQUEE_JWT_ISSUER`, `MARQUEE_JWT_AUDIENCE`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct GatewaySettings {
    /// Where the binary listens (`MARQUEE_GATEWAY_ADDR`). `serve` itself takes a bound
    /// listener, so this is only read by `main` and the fleet.
    pub addr: String,
    /// The auth service's gRPC endpoint (`MARQUEE_GATEWAY_AUTH_URL`).
    pub auth_url: String,
    /// The content service's gRPC endpoint (`MARQUEE_GATEWAY_CONTENT_URL`).
    pub content_url: String,
    /// The billing service's gRPC endpoint (`MARQUEE_GATEWAY_BILLING_URL`).
    pub billing_url: String,
    /// The tagging service's gRPC endpoint (`MARQUEE_GATEWAY_TAGGING_URL`): tags,
    /// search, similar assets, recommendations, taxonomies.
    pub tagging_url: String,
    /// The campaign service's gRPC endpoint (`MARQUEE_GATEWAY_CAMPAIGN_URL`): the campaign
    /// studio (campaigns, posts, jobs, schedules, templates, connectors).
    pub campaign_url: String,
    /// Largest accepted Stripe webhook body, in bytes (`POST /api/v1/webhooks/stripe`).
    pub webhook_body_limit: usize,
    /// Largest accepted upload (`POST /api/v1/assets`), in bytes; separate from the
    /// JSON limit. Uploads stream through, so this costs no memory.
    pub upload_limit_bytes: u64,
    /// An upload whose client sends nothing for this long is abandoned (400
    /// `upload_stalled`); uploads are bounded by idle time, never by total time.
    pub upload_idle_timeout_secs: u64,
    /// Redis for shared rate-limit buckets (`MARQUEE_REDIS_URL`); in memory when unset.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub redis_url: Option<SecretString>,
    /// The CA certificate(s), PEM, that a `rediss://` server's certificate must chain to
    /// when it is not publicly trusted (Memorystore's server CA). Unset: the Mozilla
    /// roots. Env: `MARQUEE_REDIS_CA_FILE`.
    pub redis_ca_file: Option<PathBuf>,
    /// Expected `iss` of access tokens (`MARQUEE_JWT_ISSUER`).
    pub jwt_issuer: String,
    /// Expected `aud` of access tokens (`MARQUEE_JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// Largest accepted JSON (and form) body, in bytes; larger bodies are 413.
    pub json_body_limit: usize,
    /// HTTP worker threads.
    pub workers: usize,
    /// One log line per request (method, route, status, latency, request id).
    pub access_log: bool,
    /// Proxies in front of the gateway (CIDRs such as `10.0.0.0/8`, or single
    /// addresses; env `MARQUEE_GATEWAY_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16`). Only a
    /// request whose TCP peer is in one of them has its forwarding header read, and the
    /// client is the right-most hop that is not a trusted proxy (see
    /// `request_id::Forwarding`). Empty (the default): the client is always the peer.
    pub trusted_proxies: Vec<String>,
    /// The header the trusted proxies write: `x-forwarded-for` (the default; ingress-nginx)
    /// or `forwarded` (RFC 7239). Only that one is read, with its scheme
    /// (`X-Forwarded-Proto`, or `proto=`): a proxy passes the other header on from the
    /// client untouched.
    pub forwarded_header: ForwardedHeader,
    /// Take the request's scheme from a trusted proxy (`X-Forwarded-Proto` or `proto=`,
    /// see `forwarded_header`): `https` adds `Strict-Transport-Security` to the response.
    /// Believed only from a peer in `trusted_proxies`; off ignores it from them too.
    pub trust_forwarded_proto: bool,
    pub cors: CorsSettings,
    pub rate_limit: RateLimitSettings,
    /// How long the tenant flags read by `GET /api/v1/tenant/flags` are cached.
    pub flags_cache_ttl_secs: u64,
    /// How often the JWKS is re-fetched from auth (also re-fetched on an unknown `kid`).
    pub jwks_refresh_secs: u64,
    /// Verified access tokens kept in memory so a signature is checked once per token.
    pub token_cache_capacity: u64,
    /// How often revoked sessions are polled from auth: the longest a revoked access
    /// token keeps working on this replica.
    pub revocation_poll_secs: u64,
    /// Cookies of the web studio's sessions.
    pub browser: BrowserSettings,
    /// The web studio's build (`index.html` and `assets/`), served at `/`. Absent: the
    /// gateway serves the API only.
    pub studio_dir: PathBuf,
    #[serde(flatten)]
    pub common: CommonSettings,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            auth_url: "http://127.0.0.1:50051".into(),
            content_url: "http://127.0.0.1:50052".into(),
            billing_url: "http://127.0.0.1:50053".into(),
            tagging_url: "http://127.0.0.1:50054".into(),
            campaign_url: "http://127.0.0.1:50055".into(),
            webhook_body_limit: 256 * 1024,
            upload_limit_bytes: 1024 * 1024 * 1024,
            upload_idle_timeout_secs: 30,
            redis_url: None,
            redis_ca_file: None,
            jwt_issuer: "marquee-auth".into(),
            jwt_audience: "marquee-api".into(),
            json_body_limit: 1024 * 1024,
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            access_log: true,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            trust_forwarded_proto: true,
            cors: CorsSettings::default(),
            rate_limit: RateLimitSettings::default(),
            flags_cache_ttl_secs: 30,
            jwks_refresh_secs: 60,
            token_cache_capacity: 100_000,
            revocation_poll_secs: 2,
            browser: BrowserSettings::default(),
            studio_dir: PathBuf::from("services/studio/dist"),
            common: CommonSettings::default(),
        }
    }
}

impl GatewaySettings {
    /// Loads the layered settings for the `gateway` service and validates them.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`GatewaySettings::load`] from the environment `env`, checked
    /// ([`Self::validate`], and under `MARQUEE_PROFILE=cluster`
    /// [`Self::required_in_cluster`]).
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let settings: Self = marquee_platform::config::load_from("gateway", env)?;
        settings.validate()?;
        settings
            .common
            .profile
            .require("gateway", &settings.required_in_cluster())?;
        Ok(settings)
    }

    /// What the gateway will not run without in a cluster: its identity key (every
    /// service refuses calls signed by an ephemeral one). Redis is not required: see
    /// [`Self::cluster_warnings`].
    pub fn required_in_cluster(&self) -> Vec<Required> {
        vec![Required::identity_key("gateway", &self.common)]
    }

    /// What start-up logs as a warning under `MARQUEE_PROFILE=cluster`: no Redis (each
    /// replica then counts rate limits on its own, so the fleet allows replicas × the
    /// budget), or Redis without TLS (`redis://`: fine over a sidecar or a private
    /// network, otherwise the password and keys cross the network in clear text).
    pub fn cluster_warnings(&self) -> Vec<String> {
        use marquee_platform::ExposeSecret;
        if !self.common.profile.is_cluster() || !self.rate_limit.enabled {
            return Vec::new();
        }
        match self
            .redis_url
            .as_ref()
            .map(|url| url.expose_secret().trim())
        {
            None | Some("") => vec![
                "MARQUEE_REDIS_URL is unset: rate limits are counted per replica, so the \
                 fleet allows as many times the budget as there are gateway replicas"
                    .to_string(),
            ],
            Some(url) if !url.starts_with("rediss://") => vec![
                "MARQUEE_REDIS_URL is not rediss://: the Redis password and rate-limit keys \
                 travel unencrypted (fine only over a sidecar or a private network)"
                    .to_string(),
            ],
            Some(_) => Vec::new(),
        }
    }

    /// Rejects settings the gateway cannot run with, naming the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.json_body_limit > 0, "json_body_limit must be positive");
        anyhow::ensure!(self.workers > 0, "workers must be positive");
        anyhow::ensure!(
            self.jwks_refresh_secs > 0,
            "jwks_refresh_secs must be positive"
        );
        anyhow::ensure!(
            self.revocation_poll_secs > 0,
            "revocation_poll_secs must be positive"
        );
        for (name, url) in [
            ("auth_url", &self.auth_url),
            ("content_url", &self.content_url),
            ("billing_url", &self.billing_url),
            ("tagging_url", &self.tagging_url),
            ("campaign_url", &self.campaign_url),
        ] {
            // in-process://: a service of this process, as the embedded fleet wires them.
            anyhow::ensure!(
                url.starts_with("http://")
                    || url.starts_with("https://")
                    || marquee_platform::in_process::is_in_process_url(url),
                "{name} must be an http://, https:// or in-process:// URL, got {url:?}"
            );
        }
        anyhow::ensure!(
            self.upload_limit_bytes > 0,
            "upload_limit_bytes must be positive"
        );
        crate::request_id::parse_trusted_proxies(&self.trusted_proxies)?;
        for origin in &self.cors.allowed_origins {
            anyhow::ensure!(
                origin == "*" || is_origin(origin),
                "cors.allowed_origins: {origin:?} is not an origin like https://app.example.com"
            );
        }
        Ok(())
    }
}

/// Which forwarding header the trusted proxies write (see `forwarded_header`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum ForwardedHeader {
    #[default]
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    #[serde(rename = "forwarded")]
    Forwarded,
}

fn is_origin(origin: &str) -> bool {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(host) => {
            !host.is_empty()
                && !host.contains('/')
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        }
        None => false,
    }
}

/// Browser-session cookies (see `browser`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct BrowserSettings {
    /// `Secure` on every cookie. Browsers accept secure cookies from `http://localhost`
    /// and `http://127.0.0.1`; turn it off only to try the studio over plain HTTP on
    /// another host.
    pub cookie_secure: bool,
    /// Lifetime of the refresh and CSRF cookies; keep it at auth's
    /// `refresh_token_ttl_secs` (a longer cookie only carries a dead token).
    pub refresh_max_age_secs: i64,
}

impl Default for BrowserSettings {
    fn default() -> Self {
        Self {
            cookie_secure: true,
            refresh_max_age_secs: 30 * 24 * 3600,
        }
    }
}

/// Cross-origin access for browser clients. No origins (the default) means same-origin
/// only: no CORS headers are sent at all.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct CorsSettings {
    /// Exact origins (`https://app.example.com`), or `*` for any origin.
    pub allowed_origins: Vec<String>,
    /// How long browsers may cache a preflight answer.
    pub max_age_secs: usize,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            max_age_secs: 3600,
        }
    }
}

/// Token-bucket budgets. Each bucket refills at `*_per_minute / 60` tokens a second and
/// holds at most `*_burst` tokens (`0` = one minute's budget). A `*_per_minute` of `0`
/// turns that limit off.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Anonymous routes (register, login, refresh, logout, token), per client IP.
    pub anonymous_per_minute: u64,
    pub anonymous_burst: u64,
    /// Signed-in users, per user.
    pub user_per_minute: u64,
    pub user_burst: u64,
    /// Partner clients, per client, by the client's rate tier.
    pub client_basic_per_minute: u64,
    pub client_basic_burst: u64,
    pub client_standard_per_minute: u64,
    pub client_standard_burst: u64,
    pub client_premium_per_minute: u64,
    pub client_premium_burst: u64,
    /// Prefix of the Redis keys (`<prefix>:<class>:<id>`).
    pub redis_key_prefix: String,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            anonymous_per_minute: 60,
            anonymous_burst: 20,
            user_per_minute: 1200,
            user_burst: 200,
            client_basic_per_minute: 60,
            client_basic_burst: 0,
            client_standard_per_minute: 600,
            client_standard_burst: 0,
            client_premium_per_minute: 6000,
            client_premium_burst: 0,
            redis_key_prefix: "marquee:ratelimit".into(),
        }
    }
}

impl RateLimitSettings {
    pub fn anonymous(&self) -> Option<Budget> {
        Budget::new(self.anonymous_per_minute, self.anonymous_burst)
    }

    pub fn user(&self) -> Option<Budget> {
        Budget::new(self.user_per_minute, self.user_burst)
    }

    pub fn client(&self, tier: crate::token::RateTier) -> Option<Budget> {
        use crate::token::RateTier;
        match tier {
            RateTier::Basic => Budget::new(self.client_basic_per_minute, self.client_basic_burst),
            RateTier::Standard => {
                Budget::new(self.client_standard_per_minute, self.client_standard_burst)
            }
            RateTier::Premium => {
                Budget::new(self.client_premium_per_minute, self.client_premium_burst)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::ExposeSecret;
    use marquee_platform::profile::testing;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> GatewaySettings {
        let mut env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(
            "MARQUEE_CONFIG_FILE".into(),
            "/nonexistent/gateway.toml".into(),
        );
        marquee_platform::config::load_from("gateway", env).expect("settings load")
    }

    #[test]
    fn defaults_match_the_contract() {
        let settings = load(&[]);
        assert_eq!(settings.addr, "127.0.0.1:8080");
        assert_eq!(settings.auth_url, "http://127.0.0.1:50051");
        assert_eq!(settings.content_url, "http://127.0.0.1:50052");
        assert_eq!(settings.billing_url, "http://127.0.0.1:50053");
        assert_eq!(settings.tagging_url, "http://127.0.0.1:50054");
        assert_eq!(settings.campaign_url, "http://127.0.0.1:50055");
        assert_eq!(settings.upload_limit_bytes, 1024 * 1024 * 1024);
        assert_eq!(settings.jwt_issuer, "marquee-auth");
        assert_eq!(settings.jwt_audience, "marquee-api");
        assert_eq!(settings.json_body_limit, 1024 * 1024);
        assert!(settings.access_log);
        assert!(settings.trusted_proxies.is_empty());
        assert_eq!(settings.forwarded_header, ForwardedHeader::XForwardedFor);
        assert!(settings.trust_forwarded_proto);
        assert!(settings.cors.allowed_origins.is_empty());
        assert_eq!(settings.flags_cache_ttl_secs, 30);
        assert_eq!(settings.jwks_refresh_secs, 60);
        assert!(settings.redis_url.is_none());
        assert!(settings.workers >= 1);
        settings.validate().unwrap();
    }

    #[test]
    fn env_overrides_apply() {
        let settings = load(&[
            ("MARQUEE_GATEWAY_ADDR", "0.0.0.0:9000"),
            ("MARQUEE_GATEWAY_AUTH_URL", "http://auth:50051"),
            ("MARQUEE_GATEWAY_TAGGING_URL", "http://tagging:50054"),
            ("MARQUEE_GATEWAY_CAMPAIGN_URL", "http://campaign:50055"),
            ("MARQUEE_REDIS_URL", "redis://:hunter2@redis:6379"),
            ("MARQUEE_JWT_ISSUER", "iss-x"),
            ("MARQUEE_JWT_AUDIENCE", "aud-x"),
            ("MARQUEE_GATEWAY_WORKERS", "3"),
            ("MARQUEE_GATEWAY_ACCESS_LOG", "false"),
            ("MARQUEE_GATEWAY_TRUST_FORWARDED_PROTO", "false"),
            (
                "MARQUEE_GATEWAY_TRUSTED_PROXIES",
                "10.0.0.0/8,2001:db8::/32, 192.168.1.7",
            ),
            ("MARQUEE_GATEWAY_FORWARDED_HEADER", "forwarded"),
            ("MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE", "5"),
            (
                "MARQUEE_GATEWAY_CORS__ALLOWED_ORIGINS",
                "https://a.example,https://b.example",
            ),
            ("MARQUEE_GATEWAY_ADMIN_ADDR", "127.0.0.1:9100"),
        ]);
        assert_eq!(settings.addr, "0.0.0.0:9000");
        assert_eq!(settings.auth_url, "http://auth:50051");
        assert_eq!(settings.tagging_url, "http://tagging:50054");
        assert_eq!(settings.campaign_url, "http://campaign:50055");
        assert_eq!(settings.jwt_issuer, "iss-x");
        assert_eq!(settings.jwt_audience, "aud-x");
        assert_eq!(settings.workers, 3);
        assert!(!settings.access_log);
        assert!(!settings.trust_forwarded_proto);
        assert_eq!(
            settings.trusted_proxies,
            ["10.0.0.0/8", "2001:db8::/32", " 192.168.1.7"]
        );
        assert_eq!(settings.forwarded_header, ForwardedHeader::Forwarded);
        assert_eq!(settings.rate_limit.anonymous_per_minute, 5);
        assert_eq!(settings.rate_limit.user_per_minute, 1200);
        assert_eq!(
            settings.cors.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(settings.common.admin_addr, "127.0.0.1:9100");
        let redis = settings.redis_url.as_ref().unwrap();
        assert_eq!(redis.expose_secret(), "redis://:hunter2@redis:6379");
        assert!(!format!("{settings:?}").contains("hunter2"));
        settings.validate().unwrap();
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let mut settings = GatewaySettings::default();
        settings.cors.allowed_origins = vec!["not an origin".into()];
        assert!(settings.validate().is_err());
        let settings = GatewaySettings {
            auth_url: "auth:50051".into(),
            ..Default::default()
        };
        assert!(settings.validate().is_err());
        let settings = GatewaySettings {
            tagging_url: "tagging:50054".into(),
            ..Default::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("tagging_url"), "{error}");
        let settings = GatewaySettings {
            campaign_url: "campaign:50055".into(),
            ..Default::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("campaign_url"), "{error}");
        // A bad proxy network refuses to start, naming it.
        let settings = GatewaySettings {
            trusted_proxies: vec!["10.0.0.0/8".into(), "10.0.0.0/40".into()],
            ..Default::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(
            error.contains("trusted_proxies") && error.contains("10.0.0.0/40"),
            "{error}"
        );
    }

    #[test]
    fn burst_defaults_to_a_minute_and_zero_disables() {
        let limits = RateLimitSettings {
            anonymous_per_minute: 3,
            anonymous_burst: 0,
            user_per_minute: 0,
            ..Default::default()
        };
        let anonymous = limits.anonymous().unwrap();
        assert_eq!(anonymous.capacity, 3);
        assert!(limits.user().is_none());
    }

    #[test]
    fn the_gateway_requires_its_identity_and_warns_about_redis_in_a_cluster() {
        assert_eq!(
            testing::first_env(&GatewaySettings::default().required_in_cluster()),
            ["MARQUEE_GATEWAY_IDENTITY__SIGNING_KEY"]
        );
        let dev = GatewaySettings::load_from(testing::env(&[])).unwrap();
        assert!(dev.cluster_warnings().is_empty());
        let error = GatewaySettings::load_from(testing::env(&[("MARQUEE_PROFILE", "cluster")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("MARQUEE_IDENTITY__SIGNING_KEY"), "{error}");
        let cluster = |redis: Option<&str>| {
            let mut pairs = vec![
                ("MARQUEE_PROFILE", "cluster"),
                ("MARQUEE_GATEWAY_IDENTITY__SIGNING_KEY", "c2VlZA=="),
            ];
            pairs.extend(redis.map(|url| ("MARQUEE_REDIS_URL", url)));
            GatewaySettings::load_from(testing::env(&pairs)).unwrap()
        };
        let warnings = cluster(None).cluster_warnings();
        assert!(warnings[0].contains("per replica"), "{warnings:?}");
        let warnings = cluster(Some("redis://:pw@10.0.0.3:6379")).cluster_warnings();
        assert!(warnings[0].contains("not rediss://"), "{warnings:?}");
        assert!(!warnings[0].contains("pw@"), "{warnings:?}");
        assert!(
            cluster(Some("rediss://:pw@10.0.0.3:6378"))
                .cluster_warnings()
                .is_empty()
        );
    }
}
