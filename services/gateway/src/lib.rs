//! The Marquee API gateway: the only REST edge of the platform.
//!
//! It verifies access tokens itself (against auth's cached JWKS), enforces roles, scopes
//! and principal kinds from one route table, rate-limits per user, partner client and
//! IP, answers every error as RFC 9457 problem+json, publishes its OpenAPI 3.1 document,
//! and forwards calls to the internal services over gRPC with the caller's principal and
//! the trace context in metadata.
//!
//! The request pipeline, outermost first: [`observe::edge`] (request id, span, metrics,
//! access log, problem fallback, security headers) → CORS → [`policy::enforce`]
//! (authenticate, throttle, authorize) → [`validate::path_ids`] → extractors (size and
//! shape checks, [`errors`]) → handler ([`api`], which checks every text field with
//! [`validate`]).

pub mod api;
pub mod browser;
pub mod clients;
pub mod errors;
pub mod observe;
pub mod openapi;
pub mod policy;
pub mod rate_limit;
pub mod request_id;
pub mod revocation;
pub mod settings;
pub mod studio;
pub mod token;
pub mod validate;

pub use settings::{CorsSettings, GatewaySettings, RateLimitSettings};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use marquee_platform::health::{self, Health};
use marquee_platform::service_identity::ServiceIdentity;
use marquee_platform::shutdown::CancellationToken;
use std::sync::Arc;
use std::time::Duration;
use utoipa_actix_web::AppExt;

/// Everything handlers and middleware share. Caches, the rate limiter and the token
/// verifier exist once per process; the gRPC clients once per server worker
/// ([`AppState::for_worker`]).
pub struct AppState {
    pub settings: GatewaySettings,
    pub auth: clients::AuthClient,
    pub content: clients::ContentClient,
    pub billing: clients::BillingClient,
    pub tagging: clients::TaggingClient,
    pub campaign: marquee_clients::CampaignClient,
    pub verifier: Arc<token::TokenVerifier>,
    pub limiter: Arc<rate_limit::RateLimiter>,
    /// The caller's tenant's feature flags, cached briefly.
    pub flags: Arc<marquee_clients::TenantFlagsCache>,
    /// The serialized OpenAPI document.
    pub openapi_json: web::Bytes,
    /// The web studio's files (empty when not built).
    pub studio: Arc<studio::Studio>,
    /// How the client address is read (`trusted_proxies`, parsed once).
    pub forwarding: request_id::Forwarding,
    identity: ServiceIdentity,
}

/// The downstream services' clients, lazily connected.
struct Downstream {
    auth: clients::AuthClient,
    content: clients::ContentClient,
    billing: clients::BillingClient,
    tagging: clients::TaggingClient,
    campaign: marquee_clients::CampaignClient,
}

impl Downstream {
    fn connect_lazy(
        settings: &GatewaySettings,
        identity: &ServiceIdentity,
    ) -> anyhow::Result<Self> {
        let auth = clients::AuthClient::connect_lazy(&settings.auth_url, identity.clone())
            .with_context(|| format!("auth_url {:?}", settings.auth_url))?;
        let content = clients::ContentClient::connect_lazy(&settings.content_url, identity.clone())
            .with_context(|| format!("content_url {:?}", settings.content_url))?;
        let billing = clients::BillingClient::connect_lazy(&settings.billing_url, identity.clone())
            .with_context(|| format!("billing_url {:?}", settings.billing_url))?;
        let tagging = clients::TaggingClient::connect_lazy(&settings.tagging_url, identity.clone())
            .with_context(|| format!("tagging_url {:?}", settings.tagging_url))?;
        let campaign =
            marquee_clients::CampaignClient::connect_lazy(&settings.campaign_url, identity.clone())
                .with_context(|| format!("campaign_url {:?}", settings.campaign_url))?;
        Ok(Self {
            auth,
            content,
            billing,
            tagging,
            campaign,
        })
    }
}

impl AppState {
    /// Builds the state; connects to nothing yet (gRPC and Redis connect lazily).
    pub fn new(settings: GatewaySettings) -> anyhow::Result<Self> {
        let identity = ServiceIdentity::from_settings("gateway", &settings.common.identity)?;
        // Mutual TLS for every gRPC client below (process-wide; off unless configured).
        marquee_platform::tls::init(&settings.common.tls)?;
        marquee_platform::balance::set_resolve_interval(Duration::from_secs(
            settings.common.grpc_resolve_interval_secs,
        ));
        let Downstream {
            auth,
            content,
            billing,
            tagging,
            campaign,
        } = Downstream::connect_lazy(&settings, &identity)?;
        let verifier = Arc::new(token::TokenVerifier::new(
            Box::new(auth.clone()),
            &settings.jwt_issuer,
            &settings.jwt_audience,
            settings.token_cache_capacity,
        ));
        let limiter = Arc::new(rate_limit::RateLimiter::from_settings(
            settings.redis_url.as_ref(),
            settings.redis_ca_file.as_deref(),
            &settings.rate_limit.redis_key_prefix,
        )?);
        let flags = Arc::new(marquee_clients::TenantFlagsCache::new(
            auth.clone(),
            Duration::from_secs(settings.flags_cache_ttl_secs),
        ));
        let openapi_json = serde_json::to_vec(&openapi::document())?.into();
        let studio = Arc::new(
            studio::Studio::load(&settings.studio_dir)
                .with_context(|| format!("studio_dir {:?}", settings.studio_dir))?,
        );
        let forwarding = request_id::Forwarding::new(
            &settings.trusted_proxies,
            settings.forwarded_header,
            settings.trust_forwarded_proto,
        )?;
        Ok(Self {
            settings,
            auth,
            content,
            billing,
            tagging,
            campaign,
            verifier,
            limiter,
            flags,
            openapi_json,
            studio,
            forwarding,
            identity,
        })
    }

    /// The state of one server worker: the same caches, limiter and verifier, and its own
    /// gRPC clients. Called on the worker's thread, so the clients' HTTP/2 connections run
    /// on the thread that makes the calls: no hand-off to another thread and back on
    /// every call (the benchmarks' largest cost after the allocator), and one connection
    /// per worker to each service instead of one for the process
    /// (`docs/benchmarks.md`, "Request path").
    pub fn for_worker(&self) -> anyhow::Result<Self> {
        let Downstream {
            auth,
            content,
            billing,
            tagging,
            campaign,
        } = Downstream::connect_lazy(&self.settings, &self.identity)?;
        Ok(Self {
            settings: self.settings.clone(),
            auth,
            content,
            billing,
            tagging,
            campaign,
            verifier: self.verifier.clone(),
            limiter: self.limiter.clone(),
            flags: self.flags.clone(),
            openapi_json: self.openapi_json.clone(),
            studio: self.studio.clone(),
            forwarding: self.forwarding.clone(),
            identity: self.identity.clone(),
        })
    }
}

/// The application: routes, extractor limits, and the middleware stack.
pub fn app(
    state: web::Data<AppState>,
    health: Health,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.settings.json_body_limit;
    let cors = cors(&state.settings.cors);
    let (app, _) = App::new()
        .into_utoipa_app()
        .app_data(state)
        .app_data(errors::json_config(limit))
        .app_data(errors::payload_config(limit))
        .app_data(errors::query_config())
        .app_data(errors::path_config())
        .configure(api::configure)
        .map(|app| {
            app.configure(marquee_platform::health::probes(health))
                .default_service(web::to(studio_or_not_found))
        })
        .split_for_parts();
    app.wrap(from_fn(validate::path_ids))
        .wrap(from_fn(policy::enforce))
        .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(from_fn(observe::edge))
}

/// The default service: the web studio's page or file, else `404 route_not_found`.
async fn studio_or_not_found(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, marquee_platform::Error> {
    if state.studio.handles(req.method(), req.path())
        && let Some(response) = state.studio.respond(&req)
    {
        return Ok(response);
    }
    errors::route_not_found(req).await
}

/// CORS from settings; `None` (no CORS headers, browsers enforce same-origin) when no
/// origins are configured.
fn cors(settings: &CorsSettings) -> Option<actix_cors::Cors> {
    if settings.allowed_origins.is_empty() {
        return None;
    }
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "x-request-id",
            "idempotency-key",
            "traceparent",
            "range",
        ])
        .expose_headers([
            "x-request-id",
            "retry-after",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "www-authenticate",
            "content-range",
            "accept-ranges",
            // Where a create or a started job can be read; an export's file name.
            "location",
            "content-disposition",
        ])
        .max_age(settings.max_age_secs);
    for origin in &settings.allowed_origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    Some(cors)
}

/// Serves the gateway on `listener` until `shutdown` is cancelled, then stops accepting
/// and returns once in-flight requests have finished.
///
/// Readiness (`/readyz`) turns true once the JWKS has been fetched from auth. Health is
/// served on the main port; Prometheus `/metrics` only on the admin listener, which runs
/// when `common.admin_addr` names a fixed port (production: `0.0.0.0:9090`) and serves
/// `/healthz` and `/readyz` too. The public API port never exposes metrics.
pub async fn serve(
    settings: GatewaySettings,
    listener: std::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    settings.validate()?;
    let workers = settings.workers;
    let jwks_refresh = Duration::from_secs(settings.jwks_refresh_secs);
    let revocation_poll = Duration::from_secs(settings.revocation_poll_secs);
    let admin_addr = settings.common.admin_addr.clone();
    let state = web::Data::new(AppState::new(settings)?);
    let (health, _grpc_health) = Health::new("gateway");

    tokio::spawn(state.verifier.clone().run_refresh_until_stopped(
        jwks_refresh,
        shutdown.clone(),
        {
            let health = health.clone();
            async move { health.set_ready(true).await }
        },
    ));
    tokio::spawn(state.verifier.revocations().run_poll_until_stopped(
        Arc::new(state.auth.clone()),
        revocation_poll,
        shutdown.clone(),
    ));
    tokio::spawn({
        let state = state.clone();
        let shutdown = shutdown.clone();
        async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(60)) => state.limiter.sweep(),
                }
            }
        }
    });
    // The recorder from the start, so the admin listener's first scrape sees every
    // request (it is rendered there only).
    marquee_platform::metrics::install();
    health::spawn_admin_if_configured(&admin_addr, health.clone(), shutdown.clone())
        .with_context(|| format!("binding admin_addr {admin_addr}"))?;

    let local_addr = listener.local_addr().ok();
    let server = HttpServer::new({
        let state = state.clone();
        let health = health.clone();
        move || {
            // Only fails on settings that `AppState::new` already accepted.
            let worker = state
                .for_worker()
                .expect("worker state from accepted settings");
            app(web::Data::new(worker), health.clone())
        }
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(30)
    .listen(listener)
    .context("listening on the gateway socket")?
    .run();
    if let Some(addr) = local_addr {
        tracing::info!(%addr, workers, "gateway listening");
    }
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    server.await.context("gateway server")?;
    tracing::info!("gateway stopped");
    Ok(())
}
