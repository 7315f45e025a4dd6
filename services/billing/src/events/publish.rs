//! Building the events billing publishes, and writing them to the outbox.

use super::SERVICE;
use crate::error::Result;
use crate::store::entities::subscription;
use marquee_bus::outbox;
use marquee_proto::Timestamp;
use marquee_proto::convert::timestamp;
use marquee_proto::events::types;
use marquee_proto::events::v1 as ev;
use sea_orm::ConnectionTrait;

async fn enqueue(
    txn: &impl ConnectionTrait,
    event_type: &str,
    tenant_id: &str,
    full_name: &str,
    payload: &impl prost::Message,
) -> Result<()> {
    outbox::enqueue_event(txn, SERVICE, event_type, tenant_id, full_name, payload).await?;
    Ok(())
}

/// `subscription.changed`: the tenant's effective plan went from `previous_plan` to
/// `plan`, or the stored status or bought plan changed.
pub async fn subscription_changed(
    txn: &impl ConnectionTrait,
    row: &subscription::Model,
    previous_plan: &str,
    plan: &str,
) -> Result<()> {
    let payload = ev::SubscriptionChanged {
        tenant_id: row.tenant_id.clone(),
        plan: plan.to_string(),
        previous_plan: previous_plan.to_string(),
        status: row.status.as_str().to_string(),
        provider: row.provider.as_str().to_string(),
        // Whole seconds (`nanos: 0`), as this event has always carried.
        current_period_end: row.current_period_end.map(|at| Timestamp {
            nanos: 0,
            ..timestamp(at)
        }),
    };
    enqueue(
        txn,
        types::SUBSCRIPTION_CHANGED,
        &row.tenant_id,
        "marquee.events.v1.SubscriptionChanged",
        &payload,
    )
    .await
}
