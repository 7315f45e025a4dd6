//! Bus settings: defaults → `config/bus.toml` → `MARQUEE_*` → `MARQUEE_BUS_*`.
//!
//! `MARQUEE_AMQP_URL=amqp://…` selects RabbitMQ; without it every service in the process
//! shares the in-process bus. Nested keys use `__`, e.g. `MARQUEE_BUS_RETRY__MAX_ATTEMPTS`,
//! `MARQUEE_BUS_OUTBOX__BATCH_SIZE`.

use crate::error::BusError;
use marquee_platform::SecretString;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct BusSettings {
    /// `amqp://user:pass@host:5672/%2f` (or `amqps://…`). Unset: in-process bus.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub amqp_url: Option<SecretString>,
    /// The durable topic exchange every event is published to.
    pub exchange: String,
    /// Unacknowledged deliveries the broker hands one consumer connection at a time.
    pub prefetch: u16,
    /// Deliveries one consumer handles at once (1 keeps a queue's order).
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// How long a publisher waits for the broker's confirm.
    pub confirm_timeout_ms: u64,
    /// How long one connection attempt may take.
    pub connect_timeout_ms: u64,
    /// Backoff between reconnection attempts, doubling up to `reconnect_max_ms`.
    pub reconnect_initial_ms: u64,
    pub reconnect_max_ms: u64,
    /// How often consumers report `marquee_bus_queue_depth`.
    pub depth_interval_ms: u64,
    pub outbox: OutboxSettings,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            amqp_url: None,
            exchange: "marquee.events".into(),
            prefetch: 32,
            concurrency: 1,
            retry: RetryPolicy::default(),
            confirm_timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 10_000,
            depth_interval_ms: 15_000,
            outbox: OutboxSettings::default(),
        }
    }
}

impl BusSettings {
    pub fn load() -> Result<Self, config::ConfigError> {
        marquee_platform::config::load("bus")
    }

    /// [`BusSettings::load`] from the environment `env` (tests; a service loading all its
    /// settings from one map).
    pub fn load_from(
        env: std::collections::HashMap<String, String>,
    ) -> Result<Self, config::ConfigError> {
        marquee_platform::config::load_from("bus", env)
    }

    /// Checks what start-up can check: names usable in AMQP, a sane retry policy, an
    /// `amqp://` or `amqps://` URL.
    pub fn validate(&self) -> Result<(), BusError> {
        crate::names::validate_exchange(&self.exchange)?;
        if self.prefetch == 0 || self.concurrency == 0 {
            return Err(BusError::Config(
                "prefetch and concurrency must be at least 1".into(),
            ));
        }
        self.retry.validate()?;
        if let Some(url) = &self.amqp_url {
            let url = url.expose_secret();
            if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
                return Err(BusError::Config(
                    "MARQUEE_AMQP_URL must start with amqp:// or amqps://".into(),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn confirm_timeout(&self) -> Duration {
        Duration::from_millis(self.confirm_timeout_ms.max(1))
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }

    pub(crate) fn reconnect_backoff(&self) -> Backoff {
        Backoff::new(
            Duration::from_millis(self.reconnect_initial_ms.max(1)),
            Duration::from_millis(self.reconnect_max_ms.max(self.reconnect_initial_ms).max(1)),
        )
    }

    pub(crate) fn depth_interval(&self) -> Duration {
        Duration::from_millis(self.depth_interval_ms.max(100))
    }
}

/// Retries with exponential backoff, then the dead-letter queue.
///
/// Attempt `n` (1-based) that fails transiently is retried after
/// `min(initial_delay_ms × multiplier^(n-1), max_delay_ms)`; attempt `max_attempts` that
/// fails parks the message in the consumer's dead-letter queue.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(default)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_delay_ms: u64,
    pub multiplier: u32,
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay_ms: 1_000,
            multiplier: 4,
            max_delay_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    pub fn validate(&self) -> Result<(), BusError> {
        if self.max_attempts == 0 || self.max_attempts > 50 {
            return Err(BusError::Config(
                "retry.max_attempts must be between 1 and 50".into(),
            ));
        }
        if self.initial_delay_ms == 0 || self.multiplier == 0 {
            return Err(BusError::Config(
                "retry.initial_delay_ms and retry.multiplier must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The delay before attempt `failed_attempt + 1`, in milliseconds.
    pub fn delay_ms(&self, failed_attempt: u32) -> u64 {
        let exponent = failed_attempt.saturating_sub(1);
        let factor = u64::from(self.multiplier).saturating_pow(exponent);
        self.initial_delay_ms
            .saturating_mul(factor)
            .min(self.max_delay_ms.max(self.initial_delay_ms))
    }

    /// Every distinct delay the policy uses, shortest first: one delay queue each.
    pub fn delays_ms(&self) -> Vec<u64> {
        let mut delays: Vec<u64> = (1..self.max_attempts).map(|n| self.delay_ms(n)).collect();
        delays.dedup();
        delays
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct OutboxSettings {
    /// How often the relay looks for new rows when idle (it also wakes on
    /// [`crate::outbox::OutboxRelay::waker`]).
    pub poll_interval_ms: u64,
    /// Rows published per round (in id order, confirms awaited together).
    pub batch_size: u64,
    /// Published rows, and the inbox entries of events this service's consumers
    /// handled, are deleted after this long.
    pub retention_hours: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            poll_interval_ms: 200,
            batch_size: 200,
            retention_hours: 72,
        }
    }
}

/// Exponential backoff for reconnecting and relaying.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            current: initial,
        }
    }

    /// The next delay; each call doubles it up to the maximum.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.current;
        self.current = (self.current * 2).min(self.max);
        delay
    }

    pub(crate) fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_and_cap() {
        let policy = RetryPolicy {
            max_attempts: 6,
            initial_delay_ms: 100,
            multiplier: 3,
            max_delay_ms: 1_000,
        };
        assert_eq!(policy.delay_ms(1), 100);
        assert_eq!(policy.delay_ms(2), 300);
        assert_eq!(policy.delay_ms(3), 900);
        assert_eq!(policy.delay_ms(4), 1_000);
        assert_eq!(policy.delays_ms(), vec![100, 300, 900, 1_000]);
        assert_eq!(policy.delay_ms(u32::MAX), 1_000, "no overflow");
    }

    #[test]
    fn one_attempt_needs_no_delay_queue() {
        let policy = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert!(policy.delays_ms().is_empty());
    }

    #[test]
    fn url_must_be_amqp_and_never_prints() {
        let mut settings = BusSettings {
            amqp_url: Some(SecretString::from("http://guest:hunter2@x")),
            ..BusSettings::default()
        };
        assert!(settings.validate().is_err());
        settings.amqp_url = Some(SecretString::from("amqp://guest:hunter2@x:5672/%2f"));
        settings.validate().unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn loads_from_env() {
        let env = std::collections::HashMap::from([
            (
                "MARQUEE_CONFIG_FILE".to_string(),
                "/nonexistent".to_string(),
            ),
            ("MARQUEE_AMQP_URL".to_string(), "amqp://h/%2f".to_string()),
            (
                "MARQUEE_BUS_RETRY__MAX_ATTEMPTS".to_string(),
                "7".to_string(),
            ),
        ]);
        let settings: BusSettings = marquee_platform::config::load_from("bus", env).unwrap();
        assert_eq!(settings.amqp_url.unwrap().expose_secret(), "amqp://h/%2f");
        assert_eq!(settings.retry.max_attempts, 7);
        assert_eq!(settings.exchange, "marquee.events");
    }
}
