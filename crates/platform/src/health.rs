//! Liveness and readiness over HTTP (`/healthz`, `/readyz`) and the gRPC health protocol,
//! plus the admin HTTP endpoint that also serves Prometheus `/metrics`.

use crate::shutdown::CancellationToken;
use actix_web::{HttpResponse, web};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// The gRPC health service to mount beside a service's own.
pub type HealthGrpc =
    tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService>;

/// Shared readiness of one service. Live means the process answers; ready means it has
/// started and every dependency it watches (database, broker, background tasks) is
/// usable — readiness drops while one is not, and comes back when it recovers.
#[derive(Clone)]
pub struct Health {
    service: &'static str,
    ready: Arc<AtomicBool>,
    state: Arc<Mutex<Readiness>>,
    reporter: HealthReporter,
}

#[derive(Default)]
struct Readiness {
    started: bool,
    /// Dependencies that are failing now, with why.
    failing: BTreeMap<&'static str, String>,
    /// Features that are off while the service still serves (e.g. AI tagging without
    /// models), with why: shown by `/readyz`, never making it fail.
    degraded: BTreeMap<&'static str, String>,
}

impl Readiness {
    fn ready(&self) -> bool {
        self.started && self.failing.is_empty()
    }
}

impl Health {
    /// Returns the state and the gRPC health service to mount next to the service's own.
    pub fn new(service: &'static str) -> (Self, HealthGrpc) {
        let reporter = HealthReporter::new();
        let grpc_service = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(reporter.clone()),
        );
        let health = Self {
            service,
            ready: Arc::new(AtomicBool::new(false)),
            state: Arc::default(),
            reporter,
        };
        (health, grpc_service)
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Whether the service has finished starting (or is shutting down: `false`).
    pub async fn set_ready(&self, ready: bool) {
        let now = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.started = ready;
            state.ready()
        };
        self.publish(now).await;
    }

    /// Records whether `dependency` works; `problem` says why when it does not.
    pub async fn set_dependency(&self, dependency: &'static str, problem: Option<String>) {
        let (now, changed) = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let changed = match problem {
                Some(problem) => state.failing.insert(dependency, problem).is_none(),
                None => state.failing.remove(dependency).is_some(),
            };
            (state.ready(), changed)
        };
        if changed {
            match self.failing().get(dependency) {
                Some(problem) => {
                    tracing::warn!(dependency, %problem, "dependency lost: not ready")
                }
                None => tracing::info!(dependency, "dependency back"),
            }
        }
        self.publish(now).await;
    }

    /// Records that `feature` is off (`Some(why)`) or back (`None`) without touching
    /// readiness: the service works, with less.
    pub fn set_degraded(&self, feature: &'static str, why: Option<String>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match why {
            Some(why) => state.degraded.insert(feature, why),
            None => state.degraded.remove(feature),
        };
    }

    /// The features that are off now, with why.
    pub fn degraded(&self) -> BTreeMap<&'static str, String> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.degraded.clone()
    }

    /// The dependencies failing now, with why.
    pub fn failing(&self) -> BTreeMap<&'static str, String> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.failing.clone()
    }

    async fn publish(&self, ready: bool) {
        if self.ready.swap(ready, Ordering::Relaxed) == ready && ready {
            return;
        }
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        // Both the overall ("") and the named service status, as grpc-health-probe asks.
        self.reporter.set_service_status("", status).await;
        self.reporter.set_service_status(self.service, status).await;
    }
}

/// Mounts `/healthz`, `/readyz` and `/metrics` on an actix-web app (the admin listener).
pub fn routes(health: Health) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        let metrics = crate::metrics::install();
        probes(health)(config);
        config
            .app_data(web::Data::new(metrics))
            .route("/metrics", web::get().to(render_metrics));
    }
}

/// Mounts only `/healthz` and `/readyz` (a public port, where metrics must not be).
pub fn probes(health: Health) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(web::Data::new(health))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz));
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(health: web::Data<Health>) -> HttpResponse {
    let degraded = health.degraded();
    let mut body = if health.is_ready() {
        serde_json::json!({ "status": "ready" })
    } else {
        serde_json::json!({ "status": "not_ready", "failing": health.failing() })
    };
    if !degraded.is_empty() {
        body["degraded"] = serde_json::json!(degraded);
    }
    if health.is_ready() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn render_metrics(
    handle: web::Data<metrics_exporter_prometheus::PrometheusHandle>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// Serves the admin endpoint on `listener` until `shutdown` is cancelled.
pub async fn serve_admin(
    listener: std::net::TcpListener,
    health: Health,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(routes(health.clone())))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(5)
            .listen(listener)?
            .run();
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    server.await
}

/// Starts the admin endpoint when `addr` names a fixed port (production:
/// `0.0.0.0:9090`). An empty address or port 0 (the embedded default) means none: the
/// embedded fleet is probed through the gateway and the gRPC health protocol.
pub fn spawn_admin_if_configured(
    addr: &str,
    health: Health,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if addr.is_empty() || addr.ends_with(":0") {
        return Ok(());
    }
    let listener = std::net::TcpListener::bind(addr)?;
    tokio::spawn(async move {
        if let Err(error) = serve_admin(listener, health, shutdown).await {
            tracing::error!(%error, "admin endpoint failed");
        }
    });
    Ok(())
}
