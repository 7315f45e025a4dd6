//! Billing's core: plans, subscriptions (local ledger or Stripe), quotas and
//! reservations, usage metering, and webhook processing. Transport-neutral: the gRPC
//! adapter and the background workers call these functions.

pub mod plans;
pub mod quotas;
pub mod signature;
pub mod subscriptions;
pub mod webhooks;

use crate::error::{BillingError, Result};
use crate::settings::BillingSettings;
use crate::stripe::StripeApi;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use marquee_bus::OutboxWaker;
use plans::Catalogue;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

pub use crate::store::entities::subscription::{Provider, SubscriptionStatus};

/// The billing service's state; cheap to clone.
#[derive(Clone)]
pub struct Billing {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    settings: BillingSettings,
    catalogue: Catalogue,
    stripe: Option<StripeApi>,
    outbox: OnceLock<OutboxWaker>,
    webhooks: Notify,
}

impl Billing {
    pub fn new(db: DatabaseConnection, settings: BillingSettings) -> Result<Self> {
        let catalogue = settings
            .plans
            .catalogue()
            .map_err(|e| BillingError::Internal(e.to_string()))?;
        let stripe = match &settings.stripe_secret_key {
            Some(key) if settings.stripe_enabled() => Some(StripeApi::new(
                key.expose_secret(),
                settings.stripe_api_base.as_deref(),
            )?),
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                settings,
                catalogue,
                stripe,
                outbox: OnceLock::new(),
                webhooks: Notify::new(),
            }),
        })
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    pub fn settings(&self) -> &BillingSettings {
        &self.inner.settings
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    pub fn provider(&self) -> Provider {
        if self.inner.stripe.is_some() {
            Provider::Stripe
        } else {
            Provider::Local
        }
    }

    fn stripe(&self) -> Result<&StripeApi> {
        self.inner.stripe.as_ref().ok_or(BillingError::Unavailable(
            "Stripe is not configured: the local provider has no hosted pages",
        ))
    }

    /// Lets the outbox relay publish right after a commit.
    pub fn set_outbox_waker(&self, waker: OutboxWaker) {
        let _ = self.inner.outbox.set(waker);
    }

    fn wake_outbox(&self) {
        if let Some(waker) = self.inner.outbox.get() {
            waker.wake();
        }
    }

    /// Resolves when a webhook was stored (the processor's wake-up).
    pub async fn webhook_arrived(&self) {
        self.inner.webhooks.notified().await;
    }
}

/// The usage period containing `now`: a calendar month, UTC, as `(key, start, end)`.
pub fn month(now: DateTime<Utc>) -> (String, DateTime<Utc>, DateTime<Utc>) {
    let start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let end = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    (format!("{:04}-{:02}", now.year(), now.month()), start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_the_year() {
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap();
        let (key, start, end) = month(now);
        assert_eq!(key, "2026-12");
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    }
}
