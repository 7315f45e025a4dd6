//! Billing settings: defaults → `config/billing.toml` → `MARQUEE_*` → `MARQUEE_BILLING_*`.
//!
//! Stripe is off unless `stripe_secret_key` is set (`MARQUEE_STRIPE_SECRET_KEY`); without
//! it the local provider applies plan changes at once and counts usage locally.

use crate::domain::plans::PlanSettings;
use marquee_platform::SecretString;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::Required;
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct BillingSettings {
    /// gRPC listener.
    pub grpc_addr: String,
    /// `postgres://…` or `sqlite://…`; unset means `billing.db` in `data_dir`.
    /// Env: `MARQUEE_BILLING_DATABASE_URL`, else the shared `MARQUEE_DATABASE_URL`.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub database_url: Option<SecretString>,
    /// The database's connection pool (`MARQUEE_DB_POOL__…`).
    pub db_pool: marquee_db::PoolSettings,
    pub data_dir: PathBuf,
    /// Stripe secret key (`MARQUEE_STRIPE_SECRET_KEY`); unset = local provider.
    #[serde(serialize_with = "marquee_platform::settings_keys::redact::option")]
    pub stripe_secret_key: Option<SecretString>,
    /// Webhook signing secrets (`MARQUEE_STRIPE_WEBHOOK_SECRET`, comma-separated): during
    /// a rotation both the old and the new secret verify.
    #[serde(
        deserialize_with = "secret_list",
        serialize_with = "marquee_platform::settings_keys::redact::list"
    )]
    pub stripe_webhook_secrets: Vec<SecretString>,
    /// Stripe API base URL (tests point it at a local fake), ending in `/`.
    pub stripe_api_base: Option<String>,
    /// Seconds a webhook timestamp may differ from now.
    pub webhook_tolerance_secs: i64,
    /// The first wait before a failed webhook (or meter event) is retried, doubled per
    /// further failure up to an hour (`domain::webhooks::retry_delay`); 0 retries on the
    /// next worker pass.
    pub webhook_retry_base_secs: u64,
    /// Where Checkout and the Portal send the customer back when the caller gives no URL.
    pub checkout_success_url: String,
    pub checkout_cancel_url: String,
    pub portal_return_url: String,
    /// Days a `past_due` subscription keeps its plan before entitlements fall to `free`.
    pub past_due_grace_days: i64,
    /// Reservation lifetime when the caller gives none, and the longest allowed.
    pub reservation_ttl_secs: u32,
    pub reservation_max_ttl_secs: u32,
    /// How often expired reservations are swept, due webhooks retried and usage metered.
    pub worker_interval_ms: u64,
    pub plans: PlanSettings,
    /// The event bus (loaded from `MARQUEE_BUS_*`/`MARQUEE_AMQP_URL`, not from this
    /// service's keys), for `subscription.changed`.
    #[serde(skip)]
    pub bus: marquee_bus::BusSettings,
    #[serde(flatten)]
    pub common: CommonSettings,
}

/// A list of secrets from TOML (a list) or env (one string, comma-separated).
fn secret_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let values = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(value) => value.split(',').map(str::to_string).collect(),
        OneOrMany::Many(values) => values,
    };
    Ok(values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
        .collect())
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50053".into(),
            database_url: None,
            db_pool: Default::default(),
            data_dir: PathBuf::from("./data"),
            stripe_secret_key: None,
            stripe_webhook_secrets: Vec::new(),
            stripe_api_base: None,
            webhook_tolerance_secs: 300,
            webhook_retry_base_secs: 30,
            checkout_success_url: "http://127.0.0.1:8080/billing/success".into(),
            checkout_cancel_url: "http://127.0.0.1:8080/billing/cancel".into(),
            portal_return_url: "http://127.0.0.1:8080/billing".into(),
            past_due_grace_days: 7,
            reservation_ttl_secs: 900,
            reservation_max_ttl_secs: 24 * 3600,
            worker_interval_ms: 1000,
            plans: PlanSettings::default(),
            bus: marquee_bus::BusSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

impl BillingSettings {
    /// Loads the layered settings. `MARQUEE_STRIPE_SECRET_KEY` and
    /// `MARQUEE_STRIPE_WEBHOOK_SECRET` are read as the shared names Stripe's docs use.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`BillingSettings::load`] from the environment `env`, checked ([`Self::validate`],
    /// and under `MARQUEE_PROFILE=cluster` [`BillingSettings::required_in_cluster`]).
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let mut settings: Self = marquee_platform::config::load_from("billing", env.clone())?;
        settings.bus = marquee_bus::BusSettings::load_from(env.clone())?;
        if let Some(key) = env.get("MARQUEE_STRIPE_SECRET_KEY")
            && !key.is_empty()
        {
            settings.stripe_secret_key = Some(SecretString::from(key.clone()));
        }
        if let Some(secrets) = env.get("MARQUEE_STRIPE_WEBHOOK_SECRET") {
            settings.stripe_webhook_secrets = secrets
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_string()))
                .collect();
        }
        settings.validate()?;
        settings
            .common
            .profile
            .require("billing", &settings.required_in_cluster())?;
        Ok(settings)
    }

    /// Variables read directly (the names Stripe's docs use), besides the layered keys.
    pub const DIRECT_ENV: [&str; 2] =
        ["MARQUEE_STRIPE_SECRET_KEY", "MARQUEE_STRIPE_WEBHOOK_SECRET"];

    /// What billing will not run without in a cluster: its database and the broker
    /// (`subscription.changed`). Billing calls no service, so its identity key is not
    /// needed.
    pub fn required_in_cluster(&self) -> Vec<Required> {
        vec![
            Required::database("billing", self.database_url.as_ref()),
            Required::broker(self.bus.amqp_url.as_ref()),
        ]
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.plans.catalogue()?;
        self.db_pool
            .validate_for(self.database_url().expose_secret())?;
        anyhow::ensure!(
            self.webhook_tolerance_secs > 0,
            "webhook_tolerance_secs must be positive"
        );
        anyhow::ensure!(
            self.reservation_ttl_secs > 0
                && self.reservation_ttl_secs <= self.reservation_max_ttl_secs,
            "reservation_ttl_secs must be positive and at most reservation_max_ttl_secs"
        );
        if let Some(base) = &self.stripe_api_base {
            anyhow::ensure!(
                base.starts_with("http://") || base.starts_with("https://"),
                "stripe_api_base must be an http(s) URL"
            );
        }
        Ok(())
    }

    /// Whether Stripe is configured (else the local provider).
    pub fn stripe_enabled(&self) -> bool {
        self.stripe_secret_key
            .as_ref()
            .is_some_and(|k| !k.expose_secret().is_empty())
    }

    /// The database URL to use: the configured one, else `<data_dir>/billing.db`.
    pub fn database_url(&self) -> SecretString {
        marquee_db::database_url(self.database_url.as_ref(), &self.data_dir, "billing.db")
    }
}

impl marquee_platform::service::ServiceSettings for BillingSettings {
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
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> BillingSettings {
        let mut env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(
            "MARQUEE_CONFIG_FILE".into(),
            "/nonexistent/billing.toml".into(),
        );
        marquee_platform::config::load_from("billing", env).expect("settings load")
    }

    #[test]
    fn defaults_are_local_and_valid() {
        let settings = load(&[]);
        assert_eq!(settings.grpc_addr, "127.0.0.1:50053");
        assert_eq!(settings.webhook_retry_base_secs, 30);
        assert!(!settings.stripe_enabled());
        assert!(settings.stripe_webhook_secrets.is_empty());
        assert!(
            settings
                .database_url()
                .expose_secret()
                .ends_with("billing.db?mode=rwc")
        );
        settings.validate().unwrap();
    }

    #[test]
    fn webhook_secrets_are_a_list_and_never_print() {
        let settings = load(&[
            (
                "MARQUEE_BILLING_STRIPE_WEBHOOK_SECRETS",
                "whsec_old, whsec_new",
            ),
            ("MARQUEE_BILLING_STRIPE_SECRET_KEY", "sk_test_hidden"),
            ("MARQUEE_BILLING_PLANS__PRO__STRIPE_PRICE_ID", "price_pro"),
        ]);
        assert_eq!(settings.stripe_webhook_secrets.len(), 2);
        assert_eq!(
            settings.stripe_webhook_secrets[1].expose_secret(),
            "whsec_new"
        );
        assert!(settings.stripe_enabled());
        assert_eq!(
            settings.plans.pro.stripe_price_id.as_deref(),
            Some("price_pro")
        );
        let debug = format!("{settings:?}");
        assert!(!debug.contains("whsec_") && !debug.contains("sk_test_hidden"));
    }

    #[test]
    fn billing_requires_its_database_broker_and_identity_in_a_cluster() {
        assert_eq!(
            testing::first_env(&BillingSettings::default().required_in_cluster()),
            ["MARQUEE_BILLING_DATABASE_URL", "MARQUEE_AMQP_URL"]
        );
        BillingSettings::load_from(testing::env(&[])).unwrap();
        let error = BillingSettings::load_from(testing::env(&[("MARQUEE_PROFILE", "cluster")]))
            .unwrap_err()
            .to_string();
        for var in ["MARQUEE_BILLING_DATABASE_URL", "MARQUEE_AMQP_URL"] {
            assert!(error.contains(var), "{var}: {error}");
        }
        let settings = BillingSettings::load_from(testing::env(&[
            ("MARQUEE_PROFILE", "cluster"),
            ("MARQUEE_BILLING_DATABASE_URL", "postgres://b:pw@db/billing"),
            ("MARQUEE_BUS_AMQP_URL", "amqp://rabbit/%2f"),
            ("MARQUEE_BILLING_IDENTITY__SIGNING_KEY", "c2VlZA=="),
            ("MARQUEE_STRIPE_WEBHOOK_SECRET", "whsec_a,whsec_b"),
        ]))
        .unwrap();
        assert_eq!(settings.stripe_webhook_secrets.len(), 2);
    }
}
