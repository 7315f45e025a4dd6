//! The webhook worker: processes stored Stripe webhooks, reports Stripe meter events,
//! and sweeps unsettled reservations and past-due grace periods that ended. One loop,
//! woken early when a webhook arrives.

use crate::domain::Billing;
use marquee_platform::shutdown::CancellationToken;
use std::time::Duration;

/// Runs until `stop` is cancelled.
pub async fn run_until_stopped(billing: Billing, stop: CancellationToken) {
    let interval = Duration::from_millis(billing.settings().worker_interval_ms.max(10));
    loop {
        run_once(&billing).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = billing.webhook_arrived() => {}
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// One pass of every job; failures are logged and retried on the next pass.
pub async fn run_once(billing: &Billing) {
    if let Err(error) = billing.process_webhooks().await {
        tracing::warn!(%error, "webhook processing pass failed");
    }
    if let Err(error) = billing.expire_reservations().await {
        tracing::warn!(%error, "reservation sweep failed");
    }
    if let Err(error) = billing.downgrade_expired_grace().await {
        tracing::warn!(%error, "grace sweep failed");
    }
    if let Err(error) = billing.report_meter_events().await {
        tracing::warn!(%error, "meter reporting failed");
    }
}
