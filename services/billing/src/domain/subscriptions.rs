//! Subscriptions: the tenant's plan from the local ledger or from Stripe's current
//! state, the effective plan (a `past_due` subscription keeps its plan for the grace
//! period, then entitlements fall to the free plan), checkout, portal and invoices, and
//! the `subscription.changed` event (built by `events::publish`) through the
//! transactional outbox, in the same transaction as the change.

use super::plans::Plan;
use super::{Billing, Provider, SubscriptionStatus, month};
use crate::error::{BillingError, Result};
use crate::events::publish;
use crate::store::{self, entities::subscription};
use crate::stripe::{CheckoutRequest, wire};
use chrono::{DateTime, Duration, Utc};

/// A tenant's subscription as callers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionView {
    pub tenant_id: String,
    pub user_id: String,
    /// Effective plan (entitlements).
    pub plan: String,
    pub subscribed_plan: String,
    pub status: SubscriptionStatus,
    pub provider: Provider,
    pub current_period_end: Option<DateTime<Utc>>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
}

/// What the caller asked to buy.
#[derive(Debug, Default, Clone, Copy)]
pub struct CheckoutInput<'a> {
    pub plan: &'a str,
    pub email: &'a str,
    pub success_url: Option<&'a str>,
    pub cancel_url: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
}

pub struct Checkout {
    pub url: Option<String>,
    pub session_id: Option<String>,
    pub subscription: SubscriptionView,
}

#[derive(Debug, Clone)]
pub struct InvoiceView {
    pub id: String,
    pub number: String,
    pub status: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    pub hosted_invoice_url: String,
    pub created: DateTime<Utc>,
}

fn active(status: SubscriptionStatus) -> bool {
    matches!(
        status,
        SubscriptionStatus::Active | SubscriptionStatus::Trialing
    )
}

/// Stripe's status of `current`. A status this version does not know must not fail the
/// webhook: it reads as `paused` (not entitled, not in the past-due grace period, not
/// ended), which is logged.
fn stripe_status(current: &wire::Subscription) -> SubscriptionStatus {
    SubscriptionStatus::parse(&current.status).unwrap_or_else(|| {
        tracing::warn!(
            subscription = %current.id,
            status = %current.status,
            "unknown Stripe subscription status; treated as paused"
        );
        SubscriptionStatus::Paused
    })
}

impl Billing {
    /// The plan whose limits apply to `row` at `now`.
    fn effective(&self, row: Option<&subscription::Model>, now: DateTime<Utc>) -> Plan {
        let free = self.catalogue().free().clone();
        let Some(row) = row else { return free };
        let plan = self
            .catalogue()
            .get(&row.plan)
            .cloned()
            .unwrap_or(free.clone());
        let grace = Duration::days(self.settings().past_due_grace_days);
        match row.status {
            s if active(s) => plan,
            SubscriptionStatus::PastDue
                if row.past_due_since.is_none_or(|since| now < since + grace) =>
            {
                plan
            }
            _ => free,
        }
    }

    pub async fn effective_plan(&self, tenant: &str, now: DateTime<Utc>) -> Result<Plan> {
        let row = store::subscriptions::get(self.db(), tenant).await?;
        Ok(self.effective(row.as_ref(), now))
    }

    fn view(&self, tenant: &str, row: Option<&subscription::Model>) -> SubscriptionView {
        let now = Utc::now();
        let plan = self.effective(row, now).id;
        match row {
            Some(row) => SubscriptionView {
                tenant_id: tenant.to_string(),
                user_id: row.user_id.clone(),
                plan,
                subscribed_plan: row.plan.clone(),
                status: row.status,
                provider: row.provider,
                current_period_end: row.current_period_end,
                past_due_since: row.past_due_since,
                cancel_at_period_end: row.cancel_at_period_end,
            },
            None => SubscriptionView {
                tenant_id: tenant.to_string(),
                user_id: String::new(),
                subscribed_plan: plan.clone(),
                plan,
                status: SubscriptionStatus::Active,
                provider: self.provider(),
                current_period_end: (self.provider() == Provider::Local).then(|| month(now).2),
                past_due_since: None,
                cancel_at_period_end: false,
            },
        }
    }

    pub async fn subscription(&self, tenant: &str) -> Result<SubscriptionView> {
        let row = store::subscriptions::get(self.db(), tenant).await?;
        Ok(self.view(tenant, row.as_ref()))
    }

    /// Saves `next` and, when the effective plan or status changed, enqueues
    /// `subscription.changed` in the same transaction.
    async fn save(
        &self,
        before: Option<&subscription::Model>,
        next: subscription::Model,
    ) -> Result<()> {
        let old = self.effective(before, Utc::now()).id;
        self.save_from(before, next, old).await
    }

    /// As `save`, with the effective plan before the change given (`old`). A Stripe
    /// state fetched before the stored one is dropped without an event.
    async fn save_from(
        &self,
        before: Option<&subscription::Model>,
        next: subscription::Model,
        old: String,
    ) -> Result<()> {
        let new = self.effective(Some(&next), Utc::now()).id;
        let changed =
            old != new || before.is_none_or(|b| b.status != next.status || b.plan != next.plan);
        let txn = marquee_db::begin_write(self.db()).await?;
        if !store::subscriptions::save(&txn, next.clone()).await? {
            tracing::info!(tenant_id = %next.tenant_id, "a newer Stripe state is already stored; this older one is dropped");
            return Ok(());
        }
        if changed {
            publish::subscription_changed(&txn, &next, &old, &new).await?;
        }
        txn.commit().await?;
        if changed {
            tracing::info!(tenant_id = %next.tenant_id, from = %old, to = %new, status = %next.status, "subscription changed");
            self.wake_outbox();
        }
        Ok(())
    }

    /// Starts a subscription to `plan`. Stripe: a Checkout Session to redirect to (the
    /// plan changes when the webhook arrives). Local: the plan applies at once.
    pub async fn checkout(
        &self,
        tenant: &str,
        user: &str,
        request: &CheckoutInput<'_>,
    ) -> Result<Checkout> {
        let CheckoutInput {
            plan,
            email,
            success_url,
            cancel_url,
            idempotency_key,
        } = *request;
        let target = self.catalogue().get(plan).cloned().ok_or_else(|| {
            BillingError::invalid("unknown_plan", format!("unknown plan {plan:?}"))
        })?;
        let before = store::subscriptions::get(self.db(), tenant).await?;
        let Some(stripe) = self.inner.stripe.as_ref() else {
            let now = Utc::now();
            let next = subscription::Model {
                tenant_id: tenant.to_string(),
                user_id: user.to_string(),
                plan: target.id.clone(),
                status: SubscriptionStatus::Active,
                provider: Provider::Local,
                stripe_customer_id: None,
                stripe_subscription_id: None,
                current_period_end: Some(month(now).2),
                cancel_at_period_end: false,
                past_due_since: None,
                stripe_synced_at: None,
                updated_at: now,
            };
            self.save(before.as_ref(), next.clone()).await?;
            return Ok(Checkout {
                url: None,
                session_id: None,
                subscription: self.view(tenant, Some(&next)),
            });
        };
        let price = target.stripe_price_id.clone().ok_or_else(|| {
            BillingError::invalid(
                "plan_not_purchasable",
                format!("plan {plan:?} has no Stripe price"),
            )
        })?;
        let customer = self
            .ensure_customer(tenant, user, email, before.as_ref())
            .await?;
        let key = match idempotency_key {
            Some(key) if !key.is_empty() => format!("checkout-{tenant}-{key}"),
            _ => format!("checkout-{tenant}-{}", uuid::Uuid::now_v7()),
        };
        let settings = self.settings();
        let session = stripe
            .create_checkout_session(&CheckoutRequest {
                tenant_id: tenant,
                plan: &target.id,
                price_id: &price,
                customer_id: &customer,
                success_url: success_url
                    .filter(|u| !u.is_empty())
                    .unwrap_or(&settings.checkout_success_url),
                cancel_url: cancel_url
                    .filter(|u| !u.is_empty())
                    .unwrap_or(&settings.checkout_cancel_url),
                idempotency_key: &key,
            })
            .await?;
        Ok(Checkout {
            url: session.url,
            session_id: Some(session.id),
            subscription: self.subscription(tenant).await?,
        })
    }

    /// The tenant's Stripe customer, created (idempotently) on first use.
    async fn ensure_customer(
        &self,
        tenant: &str,
        user: &str,
        email: &str,
        before: Option<&subscription::Model>,
    ) -> Result<String> {
        if let Some(customer) = before.and_then(|b| b.stripe_customer_id.clone()) {
            return Ok(customer);
        }
        let customer = self
            .stripe()?
            .create_customer(tenant, email, &format!("customer-{tenant}"))
            .await?;
        let now = Utc::now();
        let row = match before {
            Some(row) => subscription::Model {
                stripe_customer_id: Some(customer.id.clone()),
                updated_at: now,
                ..row.clone()
            },
            None => subscription::Model {
                tenant_id: tenant.to_string(),
                user_id: user.to_string(),
                plan: self.catalogue().free().id.clone(),
                status: SubscriptionStatus::Active,
                provider: Provider::Stripe,
                stripe_customer_id: Some(customer.id.clone()),
                stripe_subscription_id: None,
                current_period_end: None,
                cancel_at_period_end: false,
                past_due_since: None,
                stripe_synced_at: None,
                updated_at: now,
            },
        };
        store::subscriptions::save(self.db(), row).await?;
        Ok(customer.id)
    }

    pub async fn portal(
        &self,
        tenant: &str,
        return_url: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<String> {
        let Some(stripe) = self.inner.stripe.as_ref() else {
            return Err(BillingError::StripeNotConfigured);
        };
        let customer = store::subscriptions::get(self.db(), tenant)
            .await?
            .and_then(|row| row.stripe_customer_id)
            .ok_or(BillingError::NotFound("Stripe customer"))?;
        let key = match idempotency_key {
            Some(key) if !key.is_empty() => format!("portal-{tenant}-{key}"),
            _ => format!("portal-{tenant}-{}", uuid::Uuid::now_v7()),
        };
        let url = return_url
            .filter(|u| !u.is_empty())
            .unwrap_or(&self.settings().portal_return_url);
        Ok(stripe
            .create_portal_session(&customer, url, &key)
            .await?
            .url)
    }

    /// The tenant's invoices (none for the local provider).
    pub async fn invoices(&self, tenant: &str, limit: u32) -> Result<Vec<InvoiceView>> {
        let Some(stripe) = self.inner.stripe.as_ref() else {
            return Ok(Vec::new());
        };
        let Some(customer) = store::subscriptions::get(self.db(), tenant)
            .await?
            .and_then(|row| row.stripe_customer_id)
        else {
            return Ok(Vec::new());
        };
        let limit = if limit == 0 { 20 } else { limit };
        Ok(stripe
            .list_invoices(&customer, limit)
            .await?
            .into_iter()
            .map(|invoice| InvoiceView {
                id: invoice.id,
                number: invoice.number.unwrap_or_default(),
                status: invoice.status.unwrap_or_default(),
                amount_due: invoice.amount_due,
                amount_paid: invoice.amount_paid,
                currency: invoice.currency,
                hosted_invoice_url: invoice.hosted_invoice_url.unwrap_or_default(),
                created: DateTime::from_timestamp(invoice.created, 0).unwrap_or_default(),
            })
            .collect())
    }

    /// Applies Stripe's current state of a subscription (fetched, never taken from an
    /// event), so events in any order, repeated or replayed, converge. `fetched_at` is
    /// when the fetch started: a state fetched earlier than the stored one is dropped
    /// (several workers can finish out of order).
    pub async fn apply_stripe_subscription(
        &self,
        current: &wire::Subscription,
        fetched_at: DateTime<Utc>,
    ) -> Result<()> {
        let status = stripe_status(current);
        let by_customer = store::subscriptions::by_customer(self.db(), &current.customer).await?;
        let tenant = match current.metadata.get("tenant_id") {
            Some(tenant) => tenant.clone(),
            None => by_customer
                .as_ref()
                .map(|row| row.tenant_id.clone())
                .ok_or_else(|| {
                    BillingError::Internal(format!("no tenant for customer {}", current.customer))
                })?,
        };
        let before = store::subscriptions::get(self.db(), &tenant).await?;
        // A different, older subscription of the same tenant must not overwrite a newer one.
        if let Some(row) = &before
            && let Some(existing) = &row.stripe_subscription_id
            && existing != &current.id
            && active(row.status)
            && !active(status)
        {
            tracing::info!(tenant_id = %tenant, subscription = %current.id, "ignoring an ended subscription superseded by another");
            return Ok(());
        }
        let item = current.items.data.first();
        let plan = item
            .and_then(|item| self.catalogue().by_price(&item.price.id))
            .map(|plan| plan.id.clone())
            .unwrap_or_else(|| self.catalogue().free().id.clone());
        let now = Utc::now();
        // Once the grace period ran out locally (`unpaid`), Stripe still saying
        // `past_due` (it keeps retrying the payment) must not restore the plan.
        let status = match &before {
            Some(row)
                if status == SubscriptionStatus::PastDue
                    && row.status == SubscriptionStatus::Unpaid
                    && row.past_due_since.is_some()
                    && row.stripe_subscription_id.as_deref() == Some(current.id.as_str()) =>
            {
                SubscriptionStatus::Unpaid
            }
            _ => status,
        };
        let past_due_since = if matches!(
            status,
            SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
        ) {
            before
                .as_ref()
                .and_then(|row| row.past_due_since)
                .or(Some(now))
        } else {
            None
        };
        let next = subscription::Model {
            tenant_id: tenant.clone(),
            user_id: before
                .as_ref()
                .map(|row| row.user_id.clone())
                .unwrap_or_default(),
            plan,
            status,
            provider: Provider::Stripe,
            stripe_customer_id: Some(current.customer.clone()),
            stripe_subscription_id: Some(current.id.clone()),
            current_period_end: item
                .and_then(|item| item.current_period_end)
                .and_then(|t| DateTime::from_timestamp(t, 0)),
            cancel_at_period_end: current.cancel_at_period_end,
            past_due_since,
            stripe_synced_at: Some(fetched_at),
            updated_at: now,
        };
        if before.as_ref().is_some_and(|row| same_state(row, &next)) {
            return Ok(());
        }
        self.save(before.as_ref(), next).await
    }

    /// Publishes `subscription.changed` for tenants whose past-due grace ran out since
    /// the last sweep (their entitlements just fell to the free plan).
    pub async fn downgrade_expired_grace(&self) -> Result<usize> {
        // The effective plan is computed on read; nothing to rewrite. The event is the
        // only effect, and it must be sent once: mark it by clearing `past_due_since`
        // into the status `unpaid`, which keeps the tenant on free until Stripe says
        // otherwise.
        let cutoff = Utc::now() - Duration::days(self.settings().past_due_grace_days);
        let rows = store::subscriptions::past_due_since_before(self.db(), cutoff).await?;
        let count = rows.len();
        for row in rows {
            // Until now the grace period kept the bought plan: that is the previous plan.
            let previous = self
                .catalogue()
                .get(&row.plan)
                .unwrap_or(self.catalogue().free())
                .id
                .clone();
            let next = subscription::Model {
                status: SubscriptionStatus::Unpaid,
                updated_at: Utc::now(),
                ..row.clone()
            };
            self.save_from(Some(&row), next, previous).await?;
        }
        Ok(count)
    }
}

fn same_state(a: &subscription::Model, b: &subscription::Model) -> bool {
    a.plan == b.plan
        && a.status == b.status
        && a.stripe_subscription_id == b.stripe_subscription_id
        && a.stripe_customer_id == b.stripe_customer_id
        && a.current_period_end == b.current_period_end
        && a.cancel_at_period_end == b.cancel_at_period_end
        && a.past_due_since == b.past_due_since
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_subscription(status: &str) -> wire::Subscription {
        miniserde::json::from_str(&format!(
            r#"{{"id":"sub_1","customer":"cus_1","status":"{status}","cancel_at_period_end":false,
            "metadata":{{}},"items":{{"data":[]}}}}"#
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn portal_on_the_local_provider_is_a_conflict_not_an_outage() {
        let settings = crate::BillingSettings::default();
        let db = marquee_db::connect("sqlite::memory:").await.unwrap();
        let billing = crate::Billing::new(db, settings).unwrap();
        assert_eq!(billing.provider(), Provider::Local);
        let error = billing.portal("tenant-1", None, None).await.unwrap_err();
        assert!(
            matches!(error, BillingError::StripeNotConfigured),
            "{error:?}"
        );
        let error = marquee_platform::Error::from(error);
        assert_eq!(error.status().as_u16(), 409);
        assert_eq!(error.code, "stripe_not_configured");
        assert!(error.message.contains("Stripe is not configured"));
    }

    #[test]
    fn stripe_statuses_read_as_stored_and_unknown_ones_as_paused() {
        for (wire, status) in [
            ("active", SubscriptionStatus::Active),
            ("trialing", SubscriptionStatus::Trialing),
            ("past_due", SubscriptionStatus::PastDue),
            ("unpaid", SubscriptionStatus::Unpaid),
            ("canceled", SubscriptionStatus::Canceled),
            ("incomplete", SubscriptionStatus::Incomplete),
            ("incomplete_expired", SubscriptionStatus::IncompleteExpired),
            ("paused", SubscriptionStatus::Paused),
            ("some_future_status", SubscriptionStatus::Paused),
        ] {
            assert_eq!(stripe_status(&wire_subscription(wire)), status, "{wire}");
        }
        assert!(!active(stripe_status(&wire_subscription(
            "some_future_status"
        ))));
    }
}
