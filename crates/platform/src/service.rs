//! The skeleton every gRPC service runs on, so that a service's `main.rs` is a few lines
//! and its `serve` is only its wiring diagram:
//!
//! ```ignore
//! pub async fn serve(settings: ContentSettings, listener: TcpListener, shutdown: CancellationToken)
//!     -> anyhow::Result<()> {
//!     let mut service = Service::start(SERVICE_NAME, &settings.common, shutdown)?;
//!     let db = open_database(&settings).await?;
//!     service.watch("database", marquee_db::probe(db.clone()));
//!     service.spawn("outbox relay", relay.run_until_stopped(service.shutdown()));
//!     service
//!         .serve(listener, |router| router.add_service(api::ContentGrpc::new(content).into_server()))
//!         .await
//! }
//! ```
//!
//! It owns the parts every service has: health over gRPC and the admin endpoint,
//! readiness that drops while a watched dependency (database, broker) fails or a
//! background task has died, background tasks whose errors are logged, counted and
//! surfaced, and a graceful stop that lets in-flight calls and tasks finish.

use crate::config::CommonSettings;
use crate::grpc::{self, GrpcRouter};
use crate::health::{self, Health, HealthGrpc};
use crate::in_process;
use crate::listener::GrpcListener;
use crate::service_identity::{IdentityVerifier, ServiceIdentity};
use crate::shutdown::{self, CancellationToken};
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;

/// How often watched dependencies are probed.
const PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// How long one probe may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The settings every service binary has (implemented by each service's settings).
pub trait ServiceSettings: Sized {
    /// Loads defaults → file → `MARQUEE_*` env (see [`crate::config`]).
    fn load() -> anyhow::Result<Self>;
    fn common(&self) -> &CommonSettings;
    /// Where the gRPC server listens.
    fn grpc_addr(&self) -> &str;
}

/// The commands every service binary understands.
#[derive(Debug, Clone, Copy, Default, clap::Subcommand)]
pub enum Command {
    /// Serve gRPC and the service's background work (the default).
    #[default]
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

/// A service binary's start-up: the TLS crypto provider, settings, telemetry, then
/// `command` — migrate, or serve on the configured address until SIGTERM/SIGINT.
pub async fn launch<S, M, V>(
    name: &'static str,
    command: Command,
    migrate: M,
    serve: V,
) -> anyhow::Result<()>
where
    S: ServiceSettings,
    M: AsyncFnOnce(&S) -> anyhow::Result<()>,
    V: AsyncFnOnce(S, tokio::net::TcpListener, CancellationToken) -> anyhow::Result<()>,
{
    crate::install_crypto_provider();
    let settings = S::load()?;
    let _telemetry = crate::telemetry::init(name, &settings.common().log);
    match command {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(settings.grpc_addr()).await?;
            serve(settings, listener, shutdown::on_signal()).await
        }
        Command::Migrate => {
            migrate(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

/// One running service: its health, its shutdown signal and its background tasks.
pub struct Service {
    name: &'static str,
    identity: ServiceIdentity,
    verifier: IdentityVerifier,
    /// Mutual TLS for the gRPC server (and, process-wide, for the clients), when on.
    tls: Option<std::sync::Arc<crate::tls::ReloadingTls>>,
    deadline: Duration,
    health: Health,
    health_grpc: HealthGrpc,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl Service {
    /// Starts the shared parts: the service's signed identity and the check of its
    /// callers' (named by the gRPC package: `marquee.auth.v1.AuthService` is `auth`), the
    /// health state (not ready until [`Service::serve`]) and the admin endpoint when
    /// `common.admin_addr` names a port.
    pub fn start(
        grpc_service_name: &'static str,
        common: &CommonSettings,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let identity_name = identity_name(grpc_service_name);
        let identity = ServiceIdentity::from_settings(identity_name, &common.identity)?;
        let verifier = IdentityVerifier::from_settings(identity_name, &common.identity)?;
        // Mutual TLS: the server's certificate, and the clients' for the whole process.
        let tls = crate::tls::init(&common.tls)?;
        crate::balance::set_resolve_interval(Duration::from_secs(
            common.grpc_resolve_interval_secs,
        ));
        let (health, health_grpc) = Health::new(grpc_service_name);
        health::spawn_admin_if_configured(&common.admin_addr, health.clone(), shutdown.clone())?;
        let mut tasks = JoinSet::new();
        if let Some(tls) = &tls {
            tasks.spawn(tls.clone().watch(shutdown.clone()));
        }
        Ok(Self {
            name: grpc_service_name,
            identity,
            verifier,
            tls,
            deadline: Duration::from_secs(common.grpc_deadline_secs.max(1)),
            health,
            health_grpc,
            shutdown,
            tasks,
        })
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// This service's identity, for the clients it calls other services with.
    pub fn identity(&self) -> ServiceIdentity {
        self.identity.clone()
    }

    /// Cancelled when the service is asked to stop; background tasks watch it.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs a background task (outbox relay, consumer, reloader) until it returns. A task
    /// that fails before shutdown is logged, counted in
    /// `marquee_background_task_failures_total{task}`, and takes readiness down: a
    /// replica whose worker died must not look healthy.
    pub fn spawn<F, E>(&mut self, task: &'static str, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let health = self.health.clone();
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            let outcome = future.await;
            let problem = match outcome {
                Err(error) => format!("stopped with an error: {error}"),
                Ok(()) if shutdown.is_cancelled() => return,
                Ok(()) => "stopped before shutdown".to_string(),
            };
            tracing::error!(task, %problem, "background task failed");
            metrics::counter!("marquee_background_task_failures_total", "task" => task)
                .increment(1);
            health.set_dependency(task, Some(problem)).await;
        });
    }

    /// Probes `dependency` every few seconds until shutdown; readiness follows it (drops
    /// while it fails, comes back when it answers again).
    pub fn watch<P, F>(&mut self, dependency: &'static str, probe: P)
    where
        P: Fn() -> F + Send + 'static,
        F: Future<Output = Result<(), String>> + Send,
    {
        let health = self.health.clone();
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            loop {
                let problem = match tokio::time::timeout(PROBE_TIMEOUT, probe()).await {
                    Ok(Ok(())) => None,
                    Ok(Err(problem)) => Some(problem),
                    Err(_) => Some(format!("no answer within {PROBE_TIMEOUT:?}")),
                };
                health.set_dependency(dependency, problem).await;
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(PROBE_INTERVAL) => {}
                }
            }
        });
    }

    /// Serves gRPC on `listener` — the health service plus what `mount` adds, with the
    /// platform's server defaults — until shutdown, then waits for the background tasks.
    pub async fn serve(
        self,
        listener: impl Into<GrpcListener>,
        mount: impl FnOnce(GrpcRouter) -> GrpcRouter,
    ) -> anyhow::Result<()> {
        self.serve_with_client_streams(listener, &[], mount).await
    }

    /// [`Service::serve`] for a service with client-streaming methods (full paths such as
    /// `/marquee.content.v1.ContentService/UploadAsset`): those are exempt from the
    /// server's overall deadline, and their handlers must bound idle time themselves.
    pub async fn serve_with_client_streams(
        mut self,
        listener: impl Into<GrpcListener>,
        client_streams: &'static [&'static str],
        mount: impl FnOnce(GrpcRouter) -> GrpcRouter,
    ) -> anyhow::Result<()> {
        let routes = mount(GrpcRouter::new(self.health_grpc));
        let layers = grpc::server_layers(self.deadline, client_streams, self.verifier.clone());
        let listener = listener.into();
        // Without TLS only: an in-process caller presents no certificate.
        let registration = match listener.in_process() {
            Some(address) if self.tls.is_none() => Some(in_process::register(
                address,
                in_process::server(&layers, routes.clone()),
                self.shutdown.clone(),
            )),
            _ => None,
        };
        let router = grpc::server_with(layers).add_routes(routes);
        self.health.set_ready(true).await;
        tracing::info!(
            service = self.name,
            addr = %listener.local_addr()?,
            in_process = ?registration.as_ref().and(listener.in_process()),
            mutual_tls = self.tls.is_some(),
            "listening"
        );
        let served =
            grpc::serve_with_tls(router, listener, self.tls.clone(), self.shutdown.clone()).await;
        self.health.set_ready(false).await;
        // Tasks watch the same signal; a serve error stops them too.
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        served?;
        tracing::info!(service = self.name, "stopped");
        Ok(())
    }
}

/// The name a service signs and is called by: the second part of its gRPC package
/// (`marquee.content.v1.ContentService` → `content`).
pub fn identity_name(grpc_service_name: &str) -> &str {
    grpc_service_name
        .split('.')
        .nth(1)
        .unwrap_or(grpc_service_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_named_by_their_package() {
        assert_eq!(
            identity_name("marquee.content.v1.ContentService"),
            "content"
        );
        assert_eq!(identity_name("plain"), "plain");
    }

    #[tokio::test]
    async fn a_failed_task_takes_readiness_down_and_a_recovered_dependency_brings_it_back() {
        let shutdown = CancellationToken::new();
        let mut service =
            Service::start("test.v1.Test", &CommonSettings::default(), shutdown.clone()).unwrap();
        let health = service.health().clone();
        health.set_ready(true).await;
        assert!(health.is_ready());

        health
            .set_dependency("database", Some("refused".into()))
            .await;
        assert!(!health.is_ready());
        assert_eq!(health.failing()["database"], "refused");
        health.set_dependency("database", None).await;
        assert!(health.is_ready());

        service.spawn("worker", async { Err::<(), _>("broker gone") });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while health.is_ready() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "task failure not surfaced"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(health.failing()["worker"].contains("broker gone"));
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_task_ending_at_shutdown_is_not_a_failure() {
        let shutdown = CancellationToken::new();
        let mut service =
            Service::start("test.v1.Test", &CommonSettings::default(), shutdown.clone()).unwrap();
        let stop = service.shutdown();
        service.spawn("relay", async move {
            stop.cancelled().await;
            Ok::<(), String>(())
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let health = service.health().clone();
        let serving = tokio::spawn(service.serve(listener, |router| router));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !health.is_ready() {
            assert!(tokio::time::Instant::now() < deadline, "never became ready");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shutdown.cancel();
        serving.await.unwrap().unwrap();
        assert!(health.failing().is_empty());
    }

    #[tokio::test]
    async fn a_service_answers_on_its_port_and_in_process_until_it_stops() {
        let shutdown = CancellationToken::new();
        let service =
            Service::start("test.v1.Test", &CommonSettings::default(), shutdown.clone()).unwrap();
        let address = in_process::address("test");
        let listener = crate::listener::GrpcListener::from(
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
        .with_in_process(address.clone());
        let tcp_url = format!("http://{}", listener.local_addr().unwrap());
        // Nothing answers there before the service serves.
        assert!(!grpc::is_serving(&address).await);
        let serving = tokio::spawn(service.serve(listener, |router| router));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !grpc::is_serving(&tcp_url).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never served over TCP"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(grpc::is_serving(&address).await, "no answer at {address}");
        // Another address is nobody's.
        assert!(!grpc::is_serving(&in_process::address("test")).await);
        shutdown.cancel();
        serving.await.unwrap().unwrap();
        assert!(
            !grpc::is_serving(&address).await,
            "still answering once stopped"
        );
    }
}
