//! Stripe webhooks: verify, store once (the inbox, keyed by event id), answer at once;
//! a background processor then handles stored events by fetching the object's CURRENT
//! state from Stripe — Stripe does not order events, so their payloads are never
//! trusted for state, only for which object to look at.

use super::Billing;
use super::signature;
use crate::error::{BillingError, Result};
use crate::store;
use chrono::Utc;
use secrecy::ExposeSecret;

/// Events with this many failed attempts stay in the inbox for an operator. Attempts
/// are spaced by [`retry_delay`] (with the default 30 s base, the 10 attempts span about
/// 3 hours), so a Stripe outage shorter than that loses no automatic processing.
pub const MAX_ATTEMPTS: i32 = 10;

/// The longest wait between two attempts of one event or meter event.
pub const MAX_RETRY_DELAY: chrono::Duration = chrono::Duration::hours(1);

/// How long to wait after the `attempts`-th failed attempt before the next one:
/// `base × 2^(attempts − 1)`, at most [`MAX_RETRY_DELAY`] (`base` is
/// `webhook_retry_base_secs`, 30 s by default: 30 s, 1 min, 2 min, … 32 min, then 1 h).
/// A zero base retries at once (on the next pass).
pub fn retry_delay(base: chrono::Duration, attempts: i32) -> chrono::Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30);
    base.checked_mul(1 << doublings)
        .map_or(MAX_RETRY_DELAY, |delay| delay.min(MAX_RETRY_DELAY))
}

/// Stripe webhook events, by `type` ([`type_label`]) and `outcome`: on receipt `stored`,
/// `duplicate` (a redelivery), `rejected` (bad signature or not a Stripe event: stored
/// nothing, answered 400) or `error` (storing failed, answered 5xx: Stripe retries); on
/// processing `processed` or `failed` (retried with exponential backoff, [`retry_delay`],
/// up to [`MAX_ATTEMPTS`] attempts in all).
pub const EVENTS_METRIC: &str = "marquee_billing_webhook_events_total";

/// The event types billing acts on, which label their events by name.
pub const HANDLED_TYPES: [&str; 6] = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
];

/// The `type` label: a handled type by name, any other (well-formed) type `other`, and
/// `unknown` when the event cannot be read or trusted (bad signature, bad payload) — a
/// sender cannot grow the label's values.
pub fn type_label(event_type: Option<&str>) -> &'static str {
    match event_type {
        None => "unknown",
        Some(event_type) => HANDLED_TYPES
            .iter()
            .find(|known| **known == event_type)
            .copied()
            .unwrap_or("other"),
    }
}

fn count(event_type: Option<&str>, outcome: &'static str) {
    metrics::counter!(EVENTS_METRIC, "type" => type_label(event_type), "outcome" => outcome)
        .increment(1);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub event_id: String,
    /// False for a redelivery of an event already stored.
    pub accepted: bool,
}

#[derive(serde::Deserialize)]
struct EventHead {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: EventData,
}

#[derive(serde::Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(serde::Deserialize)]
struct EventObject {
    #[serde(default)]
    id: String,
}

impl Billing {
    /// Verifies and stores a webhook. A bad signature stores nothing.
    pub async fn receive_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
    ) -> Result<Received> {
        let secrets: Vec<&str> = self
            .settings()
            .stripe_webhook_secrets
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        signature::verify(
            signature_header,
            payload,
            &secrets,
            Utc::now().timestamp(),
            self.settings().webhook_tolerance_secs,
        )
        .map_err(|e| {
            count(None, "rejected");
            BillingError::BadSignature(e.reason())
        })?;
        let text = std::str::from_utf8(payload).map_err(|_| {
            count(None, "rejected");
            BillingError::invalid("invalid_payload", "the body is not UTF-8")
        })?;
        let head: EventHead = serde_json::from_str(text).map_err(|e| {
            count(None, "rejected");
            BillingError::invalid("invalid_payload", format!("not a Stripe event: {e}"))
        })?;
        let event_type = Some(head.event_type.as_str());
        let accepted = store::webhooks::insert(
            self.db(),
            &head.id,
            &head.event_type,
            &head.data.object.id,
            text,
            Utc::now(),
        )
        .await
        .inspect_err(|_| count(event_type, "error"))?;
        count(event_type, if accepted { "stored" } else { "duplicate" });
        if accepted {
            self.inner.webhooks.notify_one();
        }
        Ok(Received {
            event_id: head.id,
            accepted,
        })
    }

    /// The base of [`retry_delay`] (`webhook_retry_base_secs`).
    fn retry_base(&self) -> chrono::Duration {
        let secs = i64::try_from(self.settings().webhook_retry_base_secs).unwrap_or(i64::MAX);
        chrono::Duration::try_seconds(secs).unwrap_or(MAX_RETRY_DELAY)
    }

    /// Handles stored, unprocessed events that are due (never attempted, or their
    /// backoff has passed); returns how many succeeded. A failure is retried after
    /// [`retry_delay`].
    pub async fn process_webhooks(&self) -> Result<usize> {
        let pending = store::webhooks::pending(self.db(), MAX_ATTEMPTS, Utc::now(), 100).await?;
        let mut done = 0;
        for event in pending {
            let outcome = self.handle_event(&event.event_type, &event.object_id).await;
            count(
                Some(&event.event_type),
                if outcome.is_ok() {
                    "processed"
                } else {
                    "failed"
                },
            );
            match outcome {
                Ok(()) => {
                    store::webhooks::finish(self.db(), &event.id, Ok(Utc::now())).await?;
                    done += 1;
                }
                Err(error) => {
                    let attempts = event.attempts.saturating_add(1);
                    let delay = retry_delay(self.retry_base(), attempts);
                    let next_attempt_at = Utc::now() + delay;
                    if attempts < MAX_ATTEMPTS {
                        tracing::warn!(event_id = %event.id, event_type = %event.event_type, attempts, %next_attempt_at, %error, "webhook processing failed; will retry");
                    } else {
                        tracing::error!(event_id = %event.id, event_type = %event.event_type, attempts, %error, "webhook processing failed; no attempts left, left for an operator");
                    }
                    store::webhooks::finish(
                        self.db(),
                        &event.id,
                        Err((error.to_string(), next_attempt_at)),
                    )
                    .await?;
                }
            }
        }
        Ok(done)
    }

    async fn handle_event(&self, event_type: &str, object_id: &str) -> Result<()> {
        let stripe = self.stripe()?;
        let subscription_id = match event_type {
            "checkout.session.completed" => {
                let session = stripe.retrieve_checkout_session(object_id).await?;
                session.subscription
            }
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted" => Some(object_id.to_string()),
            "invoice.paid" | "invoice.payment_failed" => {
                let invoice = stripe.retrieve_invoice(object_id).await?;
                invoice.subscription().map(str::to_string)
            }
            other => {
                tracing::debug!(event_type = other, "stored; no handler for this type");
                None
            }
        };
        if let Some(id) = subscription_id {
            let fetched_at = Utc::now();
            let current = stripe.retrieve_subscription(&id).await?;
            self.apply_stripe_subscription(&current, fetched_at).await?;
        }
        Ok(())
    }

    /// Sends metered usage not yet accepted by Stripe and due (a failed send waits
    /// [`retry_delay`]); returns how many were sent.
    pub async fn report_meter_events(&self) -> Result<usize> {
        let Some(stripe) = self.inner.stripe.as_ref() else {
            return Ok(0);
        };
        let mut sent = 0;
        for record in store::quotas::unreported(self.db(), Utc::now(), 100).await? {
            let Some(event) = record.meter_event.as_deref() else {
                continue;
            };
            let customer = store::subscriptions::get(self.db(), &record.tenant_id)
                .await?
                .and_then(|row| row.stripe_customer_id);
            let Some(customer) = customer else {
                // No customer yet: nothing to bill; mark it so it is not retried forever.
                store::quotas::mark_reported(self.db(), &record.id, Ok(Utc::now())).await?;
                continue;
            };
            let result = stripe
                .create_meter_event(
                    event,
                    &customer,
                    record.quantity,
                    &record.identifier,
                    record.created_at.timestamp(),
                )
                .await;
            match result {
                Ok(()) => {
                    store::quotas::mark_reported(self.db(), &record.id, Ok(Utc::now())).await?;
                    sent += 1;
                }
                Err(error) => {
                    let attempts = record.attempts.saturating_add(1);
                    let next_attempt_at = Utc::now() + retry_delay(self.retry_base(), attempts);
                    tracing::warn!(identifier = %record.identifier, attempts, %next_attempt_at, %error, "meter event failed; will retry");
                    store::quotas::mark_reported(
                        self.db(),
                        &record.id,
                        Err((error.to_string(), next_attempt_at)),
                    )
                    .await?;
                }
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `type` label names the handled types only: a sender cannot add values.
    #[test]
    fn the_type_label_is_bounded() {
        for known in HANDLED_TYPES {
            assert_eq!(type_label(Some(known)), known);
        }
        assert_eq!(type_label(Some("customer.created")), "other");
        assert_eq!(type_label(Some("invoice.paid\u{0}x")), "other");
        assert_eq!(type_label(None), "unknown");
    }

    /// 30 s, doubling per failure, capped at an hour; the 10 attempts span about 3 h.
    #[test]
    fn retry_delays_double_from_the_base_up_to_an_hour() {
        let base = chrono::Duration::seconds(30);
        let secs: Vec<i64> = (1..=12)
            .map(|attempts| retry_delay(base, attempts).num_seconds())
            .collect();
        assert_eq!(
            secs,
            [
                30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600
            ]
        );
        // Before the last attempt: the 9 waits after failures 1..=9.
        let span: i64 = (1..MAX_ATTEMPTS)
            .map(|attempts| retry_delay(base, attempts).num_seconds())
            .sum();
        assert_eq!(span, 11_010);
        // Out-of-range inputs neither panic nor overflow.
        assert_eq!(retry_delay(base, 0), base);
        assert_eq!(retry_delay(base, -3), base);
        assert_eq!(retry_delay(base, i32::MAX), MAX_RETRY_DELAY);
        assert_eq!(
            retry_delay(chrono::Duration::days(365 * 1000), 40),
            MAX_RETRY_DELAY
        );
        assert_eq!(
            retry_delay(chrono::Duration::zero(), 5),
            chrono::Duration::zero()
        );
    }
}
