//! The operator's metrics (rendered at the admin listener's `/metrics`). The alerts and
//! the dashboard read exactly these names (`deploy/prometheus/marquee-rules.yaml`,
//! `deploy/grafana/`; checked by `services/marquee/tests/e2e/metrics_contract.rs`).

use super::Error;
use std::time::Duration;

/// One reconcile pass: `reconciles_total{outcome="ok"|"error"}`, its duration, and on
/// failure `reconcile_errors_total{reason}` (a condition reason, or `Kubernetes`).
pub fn pass(elapsed: Duration, error: Option<&Error>) {
    let outcome = if error.is_some() { "error" } else { "ok" };
    metrics::counter!("marquee_tenant_operator_reconciles_total", "outcome" => outcome)
        .increment(1);
    metrics::histogram!("marquee_tenant_operator_reconcile_duration_seconds")
        .record(elapsed.as_secs_f64());
    if let Some(error) = error {
        metrics::counter!(
            "marquee_tenant_operator_reconcile_errors_total",
            "reason" => error.reason()
        )
        .increment(1);
    }
}

/// How many tenants the last pass of each left not `Ready` (the alert on a tenant stuck
/// not Ready reads it; `kubectl get tenants` says which).
pub fn tenants_not_ready(count: usize) {
    metrics::gauge!("marquee_tenant_operator_tenants_not_ready").set(count as f64);
}

/// 1 while this replica holds the leader lease (and reconciles), else 0.
pub fn leader(holding: bool) {
    metrics::gauge!("marquee_tenant_operator_leader").set(if holding { 1.0 } else { 0.0 });
}
