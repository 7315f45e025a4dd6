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

use marquee_platform::service::Service;
use marquee_platform::shutdown::CancellationToken;

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.billing.v1.BillingService";

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations (billing's and the bus's outbox and inbox).
pub async fn open_database(
    settings: &BillingSettings,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    marquee_db::open_with::<store::migration::Migrator>(
        &settings.database_url(),
        &settings.data_dir,
        &settings.db_pool,
    )
    .await
}

/// `marquee-billing migrate`.
pub async fn migrate(settings: &BillingSettings) -> anyhow::Result<()> {
    open_database(settings).await.map(drop)
}

/// Runs the service on `listener` until `shutdown` is cancelled: gRPC, the outbox relay
/// and the webhook worker. In-flight calls finish.
pub async fn serve(
    settings: BillingSettings,
    listener: impl Into<marquee_platform::listener::GrpcListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    settings.validate()?;
    let mut service = Service::start(SERVICE_NAME, &settings.common, shutdown)?;
    let db = open_database(&settings).await?;
    service.watch("database", marquee_db::probe(db.clone()));
    let bus = marquee_bus::connect(&settings.bus)?;
    service.watch("broker", marquee_bus::probe(bus.clone()));
    let relay = marquee_bus::OutboxRelay::new(events::SERVICE, db.clone(), bus, &settings.bus);
    let billing = Billing::new(db, settings)?;
    billing.set_outbox_waker(relay.waker());
    tracing::info!(provider = billing.provider().as_str(), "billing provider");

    service.spawn("outbox relay", relay.run_until_stopped(service.shutdown()));
    let worker = events::webhook_worker::run_until_stopped(billing.clone(), service.shutdown());
    service.spawn("webhook worker", async move {
        worker.await;
        Ok::<_, std::convert::Infallible>(())
    });
    service
        .serve(listener, |router| {
            router.add_service(api::BillingGrpc::new(billing).into_server())
        })
        .await
}
