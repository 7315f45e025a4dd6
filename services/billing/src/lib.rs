//! The billing service: plans, subscriptions (Stripe or the local ledger), Stripe
//! webhooks, usage metering, and entitlements with quota reservations — over gRPC.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod settings;
pub mod store;
pub mod stripe;

pub use domain::Billing;
pub use settings::BillingSettings;

use marquee_platform::health::{self, Health};
use marquee_platform::shutdown::CancellationToken;
use marquee_platform::{ExposeSecret, grpc};

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.billing.v1.BillingService";

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations (billing's and the bus's outbox and inbox).
pub async fn open_database(
    settings: &BillingSettings,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = settings.database_url();
    if url.expose_secret().starts_with("sqlite") {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    let db = store::connect(url.expose_secret()).await?;
    store::migrate(&db).await?;
    Ok(db)
}

/// Runs the service on `listener` until `shutdown` is cancelled; in-flight calls finish.
pub async fn serve(
    settings: BillingSettings,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    settings.validate()?;
    let (health, health_service) = Health::new(SERVICE_NAME);
    health::spawn_admin_if_configured(
        &settings.common.admin_addr,
        health.clone(),
        shutdown.clone(),
    )?;

    let db = open_database(&settings).await?;
    let bus_settings = settings.bus.clone();
    let billing = Billing::new(db.clone(), settings)?;
    let bus = marquee_bus::connect(&bus_settings)?;
    let relay = marquee_bus::OutboxRelay::new("billing", db, bus, &bus_settings);
    billing.set_outbox_waker(relay.waker());
    let relay_task = tokio::spawn(relay.run_until_stopped(shutdown.clone()));
    let worker_task = tokio::spawn(events::run_until_stopped(billing.clone(), shutdown.clone()));
    health.set_ready(true).await;
    tracing::info!(addr = %listener.local_addr()?, provider = billing.provider().as_str(), "billing service listening");

    let router = grpc::server()
        .trace_fn(grpc::server_span)
        .add_service(health_service)
        .add_service(api::BillingGrpc::new(billing).into_server());
    grpc::serve(router, listener, shutdown).await?;
    let _ = worker_task.await;
    let _ = relay_task.await;
    tracing::info!("billing service stopped");
    Ok(())
}
