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

/// Events with this many failed attempts stay in the inbox for an operator.
pub const MAX_ATTEMPTS: i32 = 10;

/// Stripe webhook events, by `type` ([`type_label`]) and `outcome`: on receipt `stored`,
/// `duplicate` (a redelivery), `rejected` (bad signature or not a Stripe event: stored
/// nothing, answered 400) or `error` (storing failed, answered 5xx: Stripe retries); on
/// processing `processed` or `failed` (retried up to [`MAX_ATTEMPTS`]).
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

    /// Handles stored, unprocessed events; returns how many succeeded.
    pub async fn process_webhooks(&self) -> Result<usize> {
        let pending = store::webhooks::pending(self.db(), MAX_ATTEMPTS, 100).await?;
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
                    tracing::warn!(event_id = %event.id, event_type = %event.event_type, %error, "webhook processing failed; will retry");
                    store::webhooks::finish(self.db(), &event.id, Err(error.to_string())).await?;
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

    /// Sends metered usage not yet accepted by Stripe; returns how many were sent.
    pub async fn report_meter_events(&self) -> Result<usize> {
        let Some(stripe) = self.inner.stripe.as_ref() else {
            return Ok(0);
        };
        let mut sent = 0;
        for record in store::quotas::unreported(self.db(), 100).await? {
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
                    tracing::warn!(identifier = %record.identifier, %error, "meter event failed; will retry");
                    store::quotas::mark_reported(self.db(), &record.id, Err(error.to_string()))
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
}
