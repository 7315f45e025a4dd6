//! Token-bucket rate limiting. Two stores with the same semantics: Redis (one atomic Lua
//! script per check, keys expire once the bucket would be full again) so replicas share
//! a budget, and process memory when no Redis is configured. A failing Redis never
//! blocks traffic: the check fails open and logs a (throttled) warning.

use dashmap::DashMap;
use marquee_platform::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One bucket's shape: it holds at most `capacity` tokens and refills at
/// `per_minute / 60` tokens a second. Each request takes one token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub capacity: u64,
    pub per_minute: u64,
}

impl Budget {
    /// `None` when `per_minute` is 0 (no limit). A `burst` of 0 means one minute's budget.
    pub fn new(per_minute: u64, burst: u64) -> Option<Self> {
        (per_minute > 0).then_some(Self {
            capacity: if burst == 0 { per_minute } else { burst },
            per_minute,
        })
    }

    fn per_second(self) -> f64 {
        self.per_minute as f64 / 60.0
    }

    /// Whole seconds (at least 1) until `missing` tokens have refilled.
    fn seconds_for(self, missing: f64) -> u64 {
        if missing <= 0.0 {
            return 0;
        }
        ((missing / self.per_second()).ceil() as u64).max(1)
    }
}

/// The outcome of one check, with what the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The bucket's capacity (`RateLimit-Limit`).
    pub limit: u64,
    /// Whole tokens left after this request (`RateLimit-Remaining`).
    pub remaining: u64,
    /// Seconds until the bucket is full again (`RateLimit-Reset`).
    pub reset_secs: u64,
    /// Seconds until the next token when refused (`Retry-After`), else 0.
    pub retry_after_secs: u64,
}

/// The configured store.
pub enum RateLimiter {
    Memory(MemoryLimiter),
    Redis(RedisLimiter),
}

impl RateLimiter {
    /// In Redis when `redis_url` is set, else in memory. A `rediss://` URL is TLS,
    /// checked against `ca_file` when given, else the Mozilla roots.
    pub fn from_settings(
        redis_url: Option<&SecretString>,
        ca_file: Option<&std::path::Path>,
        key_prefix: &str,
    ) -> anyhow::Result<Self> {
        Ok(match redis_url {
            Some(url) => Self::Redis(RedisLimiter::connect(
                redis_client(url.expose_secret(), ca_file)?,
                key_prefix,
            )?),
            None => Self::Memory(MemoryLimiter::default()),
        })
    }

    /// Takes one token from the bucket `key` (e.g. `user:<id>`). `None` when the store
    /// could not answer: the request goes through (fail open).
    pub async fn check(&self, key: &str, budget: Budget) -> Option<Decision> {
        match self {
            Self::Memory(memory) => Some(memory.check(key, budget)),
            Self::Redis(redis) => match redis.check(key, budget).await {
                Ok(decision) => Some(decision),
                Err(error) => {
                    redis.warn_throttled(&error);
                    None
                }
            },
        }
    }

    /// Drops idle in-memory buckets; nothing to do for Redis (its keys expire).
    pub fn sweep(&self) {
        if let Self::Memory(memory) = self {
            memory.sweep(Instant::now());
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    budget: Budget,
}

impl Bucket {
    fn refill(&mut self, now: Instant, budget: Budget) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * budget.per_second()).min(budget.capacity as f64);
        self.updated = now;
        self.budget = budget;
    }

    fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * self.budget.per_second() >= self.budget.capacity as f64
    }
}

/// Buckets in this process, for a single replica or development.
#[derive(Default)]
pub struct MemoryLimiter {
    buckets: DashMap<String, Bucket>,
}

impl MemoryLimiter {
    pub fn check(&self, key: &str, budget: Budget) -> Decision {
        self.check_at(key, budget, Instant::now())
    }

    fn check_at(&self, key: &str, budget: Budget, now: Instant) -> Decision {
        let full = || Bucket {
            tokens: budget.capacity as f64,
            updated: now,
            budget,
        };
        match self.buckets.get_mut(key) {
            Some(mut bucket) => take(&mut bucket, budget, now),
            None => take(
                &mut self.buckets.entry(key.to_owned()).or_insert_with(full),
                budget,
                now,
            ),
        }
    }

    /// Removes buckets that have refilled completely: they are indistinguishable from
    /// new ones, so memory stays bounded by the number of recently active callers.
    pub fn sweep(&self, now: Instant) {
        self.buckets.retain(|_, bucket| !bucket.is_full_at(now));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.len()
    }
}

fn take(bucket: &mut Bucket, budget: Budget, now: Instant) -> Decision {
    bucket.refill(now, budget);
    let allowed = bucket.tokens >= 1.0;
    if allowed {
        bucket.tokens -= 1.0;
    }
    Decision {
        allowed,
        limit: budget.capacity,
        remaining: bucket.tokens.floor() as u64,
        reset_secs: budget.seconds_for(budget.capacity as f64 - bucket.tokens),
        retry_after_secs: if allowed {
            0
        } else {
            budget.seconds_for(1.0 - bucket.tokens)
        },
    }
}

/// The bucket lives in a Redis hash `{tokens, ts}`; the script refills it by the
/// server's clock (so replicas with skewed clocks agree), takes a token if there is one,
/// and lets the key expire when the bucket would be full again.
const TOKEN_BUCKET_LUA: &str = r#"
local capacity = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * per_second)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
local to_full_ms = math.ceil((capacity - tokens) / per_second * 1000)
local retry_ms = 0
if allowed == 0 then
  retry_ms = math.ceil((1 - tokens) / per_second * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.max(1000, to_full_ms + 1000))
return {allowed, math.floor(tokens), to_full_ms, retry_ms}
"#;

/// The Redis client of `url`: `redis://` in clear, `rediss://` over TLS (rustls, on the
/// process's ring provider) whose server certificate must chain to the PEM certificates
/// in `ca_file`, or without one to the Mozilla roots.
pub fn redis_client(url: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<redis::Client> {
    let invalid =
        |error: redis::RedisError| anyhow::anyhow!("redis_url is not a valid Redis URL: {error}");
    match ca_file {
        None => redis::Client::open(url).map_err(invalid),
        Some(path) => {
            anyhow::ensure!(
                url.starts_with("rediss://"),
                "redis_ca_file is set but redis_url is not rediss://"
            );
            let root_cert = std::fs::read(path)
                .map_err(|error| anyhow::anyhow!("redis_ca_file {}: {error}", path.display()))?;
            redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                },
            )
            .map_err(invalid)
        }
    }
}

/// Buckets in Redis, shared by every gateway replica.
pub struct RedisLimiter {
    connection: redis::aio::ConnectionManager,
    script: redis::Script,
    prefix: String,
    last_warning_secs: AtomicU64,
}

impl RedisLimiter {
    /// Connects lazily (start-up does not wait for Redis); operations time out quickly
    /// so a slow Redis costs little before failing open.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        Self::connect(redis_client(url, None)?, prefix)
    }

    fn connect(client: redis::Client, prefix: &str) -> anyhow::Result<Self> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let connection = redis::aio::ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            connection,
            script: redis::Script::new(TOKEN_BUCKET_LUA),
            prefix: prefix.to_string(),
            last_warning_secs: AtomicU64::new(0),
        })
    }

    pub async fn check(&self, key: &str, budget: Budget) -> redis::RedisResult<Decision> {
        let mut connection = self.connection.clone();
        let (allowed, remaining, to_full_ms, retry_ms): (i64, i64, i64, i64) = self
            .script
            .key(format!("{}:{key}", self.prefix))
            .arg(budget.capacity)
            .arg(budget.per_second())
            .invoke_async(&mut connection)
            .await?;
        let seconds = |ms: i64| (ms.max(0) as u64).div_ceil(1000);
        Ok(Decision {
            allowed: allowed == 1,
            limit: budget.capacity,
            remaining: remaining.max(0) as u64,
            reset_secs: seconds(to_full_ms),
            retry_after_secs: if allowed == 1 {
                0
            } else {
                seconds(retry_ms).max(1)
            },
        })
    }

    /// At most one warning every ten seconds, so an outage does not flood the log.
    fn warn_throttled(&self, error: &redis::RedisError) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_warning_secs.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .last_warning_secs
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(%error, "rate limiter: Redis unavailable, letting requests through");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_minute: u64, burst: u64) -> Budget {
        Budget::new(per_minute, burst).unwrap()
    }

    #[test]
    fn memory_bucket_allows_burst_then_refuses_then_refills() {
        let limiter = MemoryLimiter::default();
        let budget = budget(60, 3); // one token a second, three at most
        let start = Instant::now();
        for expected_remaining in [2, 1, 0] {
            let decision = limiter.check_at("ip:1", budget, start);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            assert_eq!(decision.limit, 3);
        }
        let refused = limiter.check_at("ip:1", budget, start);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after_secs, 1);
        assert_eq!(refused.reset_secs, 3);

        // Other keys have their own bucket.
        assert!(limiter.check_at("ip:2", budget, start).allowed);

        let later = start + Duration::from_millis(1500);
        let decision = limiter.check_at("ip:1", budget, later);
        assert!(decision.allowed, "a token refilled after a second");
        assert!(!limiter.check_at("ip:1", budget, later).allowed);
    }

    #[test]
    fn memory_sweep_forgets_full_buckets_only() {
        let limiter = MemoryLimiter::default();
        let budget = budget(60, 2);
        let start = Instant::now();
        limiter.check_at("a", budget, start);
        limiter.check_at("b", budget, start + Duration::from_secs(5));
        limiter.sweep(start + Duration::from_secs(5));
        assert_eq!(limiter.len(), 1, "a refilled, b is still spending");
        limiter.sweep(start + Duration::from_secs(60));
        assert_eq!(limiter.len(), 0);
    }

    #[test]
    fn zero_per_minute_means_unlimited() {
        assert!(Budget::new(0, 10).is_none());
        assert_eq!(budget(120, 0).capacity, 120);
    }

    fn unique_prefix() -> String {
        format!("marquee-test:{}", uuid::Uuid::now_v7())
    }

    #[tokio::test]
    async fn redis_bucket_has_the_same_semantics() {
        let limiter = RedisLimiter::new("redis://127.0.0.1:6379", &unique_prefix()).unwrap();
        let budget = budget(60, 3);
        for expected_remaining in [2, 1, 0] {
            let decision = limiter
                .check("ip:1", budget)
                .await
                .expect("redis is running");
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            assert_eq!(decision.limit, 3);
        }
        let refused = limiter.check("ip:1", budget).await.unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        assert!(refused.reset_secs >= 2 && refused.reset_secs <= 3);
        assert!(limiter.check("ip:2", budget).await.unwrap().allowed);

        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(limiter.check("ip:1", budget).await.unwrap().allowed);
    }

    #[tokio::test]
    async fn redis_keys_expire_once_full() {
        let prefix = unique_prefix();
        let limiter = RedisLimiter::new("redis://127.0.0.1:6379", &prefix).unwrap();
        limiter.check("user:1", budget(6000, 5)).await.unwrap();
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("{prefix}:user:1"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 2000, "ttl {ttl}ms");
    }

    #[tokio::test]
    async fn redis_outage_fails_open() {
        // Nothing listens on port 1.
        let limiter = RateLimiter::Redis(RedisLimiter::new("redis://127.0.0.1:1", "x").unwrap());
        assert_eq!(limiter.check("ip:1", budget(1, 1)).await, None);
    }

    /// Managed Redis (Memorystore, DigitalOcean's Valkey) takes TLS: `rediss://` is a TLS
    /// connection (the build has a TLS backend), `redis://` is not.
    #[test]
    fn rediss_urls_are_tls_connections() {
        use redis::ConnectionAddr;
        let client = redis_client("rediss://:s3cret@redis.example.com:6380/0", None).unwrap();
        let addr = client.get_connection_info().addr();
        assert!(
            matches!(addr, ConnectionAddr::TcpTls { host, port: 6380, insecure: false, .. } if host == "redis.example.com"),
            "{addr:?}"
        );
        assert!(addr.is_supported(), "a TLS backend is compiled in");
        let plain = redis_client("redis://127.0.0.1:6379", None).unwrap();
        assert!(matches!(
            plain.get_connection_info().addr(),
            ConnectionAddr::Tcp(_, 6379)
        ));

        // A private CA: read from its file, and only for rediss://.
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["memorystore".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(&ca, cert.pem()).unwrap();
        let client = redis_client("rediss://10.0.0.3:6378", Some(&ca)).unwrap();
        assert!(matches!(
            client.get_connection_info().addr(),
            ConnectionAddr::TcpTls {
                tls_params: Some(_),
                ..
            }
        ));
        let error = redis_client("redis://10.0.0.3:6379", Some(&ca))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("rediss://"), "{error}");
        let missing = redis_client("rediss://10.0.0.3:6378", Some(&dir.path().join("none")))
            .err()
            .unwrap()
            .to_string();
        assert!(missing.contains("redis_ca_file"), "{missing}");
    }
}
