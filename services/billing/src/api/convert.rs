//! Domain and store models → protobuf messages.

use crate::domain::Provider;
use crate::domain::plans::Plan;
use crate::domain::quotas::{Check, LimitUsage, UsageReport};
use crate::domain::subscriptions::{InvoiceView, SubscriptionView};
use crate::domain::webhooks::Received;
use crate::store::entities::reservation;
use marquee_proto::billing::v1 as pb;

use marquee_proto::convert::timestamp as ts;

/// `purchasable` is decided by the caller (it depends on the provider).
pub fn plan(plan: &Plan, purchasable: bool) -> pb::Plan {
    pb::Plan {
        id: plan.id.clone(),
        name: plan.name.clone(),
        limits: plan
            .limits
            .iter()
            .map(|(limit, value)| pb::Limit {
                name: limit.as_str().into(),
                value: *value,
                period: limit.period().as_str().into(),
            })
            .collect(),
        purchasable,
    }
}

pub fn subscription(view: SubscriptionView) -> pb::Subscription {
    pb::Subscription {
        tenant_id: view.tenant_id,
        user_id: view.user_id,
        plan: view.plan,
        status: view.status.as_str().into(),
        provider: view.provider.as_str().into(),
        current_period_end: view.current_period_end.map(ts),
        subscribed_plan: view.subscribed_plan,
        past_due_since: view.past_due_since.map(ts),
        cancel_at_period_end: view.cancel_at_period_end,
    }
}

pub fn invoice(invoice: InvoiceView) -> pb::Invoice {
    pb::Invoice {
        id: invoice.id,
        number: invoice.number,
        status: invoice.status,
        amount_due: invoice.amount_due,
        amount_paid: invoice.amount_paid,
        currency: invoice.currency,
        hosted_invoice_url: invoice.hosted_invoice_url,
        created: Some(ts(invoice.created)),
    }
}

pub fn usage(usage: UsageReport, provider: Provider) -> pb::Usage {
    pb::Usage {
        plan: usage.plan,
        provider: provider.as_str().into(),
        period_start: Some(ts(usage.period_start)),
        period_end: Some(ts(usage.period_end)),
        limits: usage.limits.into_iter().map(limit_usage).collect(),
    }
}

fn limit_usage(usage: LimitUsage) -> pb::LimitUsage {
    pb::LimitUsage {
        limit: usage.limit.as_str().into(),
        used: usage.used,
        reserved: usage.reserved,
        limit_value: usage.allowed,
        period: usage.limit.period().as_str().into(),
    }
}

pub fn check(check: Check) -> pb::CheckEntitlementResponse {
    pb::CheckEntitlementResponse {
        allowed: check.allowed,
        used: check.used,
        limit: check.limit,
        plan: check.plan,
    }
}

pub fn reservation(model: reservation::Model) -> pb::Reservation {
    pb::Reservation {
        id: model.id,
        limit: model.limit_name,
        amount: u64::try_from(model.amount).unwrap_or(0),
        state: model.state,
        expires_at: Some(ts(model.expires_at)),
    }
}

pub fn webhook_received(received: Received) -> pb::StripeWebhookResponse {
    pb::StripeWebhookResponse {
        event_id: received.event_id,
        accepted: received.accepted,
    }
}
