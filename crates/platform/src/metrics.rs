//! Prometheus metrics through the `metrics` facade. One recorder per process, rendered at
//! `/metrics` by the admin endpoint (and the gateway's own port).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder once and returns the handle that renders it. Latency
/// histograms use buckets fit for an API (1 ms … 10 s).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ])
                .expect("static bucket list is non-empty")
                .install_recorder()
                .expect("no other metrics recorder is installed in a Marquee binary");
            let upkeep = handle.clone();
            // Without upkeep, histogram samples accumulate forever.
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .expect("spawning a thread at start-up");
            handle
        })
        .clone()
}
