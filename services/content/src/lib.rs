//! The content service: creators' assets in object storage (local file system or S3),
//! their processing (metadata, thumbnails, metadata-free published copies) driven by
//! events, and moderation — over gRPC.

pub mod api;
pub mod clients;
pub mod domain;
pub mod error;
pub mod events;
pub mod settings;
pub mod store;

pub use domain::Content;
pub use settings::ContentSettings;

use marquee_bus::OutboxRelay;
use marquee_platform::health::{self, Health};
use marquee_platform::shutdown::CancellationToken;
use marquee_platform::{ExposeSecret, grpc};
use std::sync::Arc;
use std::time::Duration;

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.content.v1.ContentService";

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations.
pub async fn open_database(
    settings: &ContentSettings,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = settings.database_url();
    if url.expose_secret().starts_with("sqlite") {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    let db = store::connect(url.expose_secret()).await?;
    store::migrate(&db).await?;
    Ok(db)
}

/// Runs the service on `listener` until `shutdown` is cancelled: gRPC, the outbox relay
/// and the processing worker. In-flight calls and handlers finish.
pub async fn serve(
    settings: ContentSettings,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (health, health_service) = Health::new(SERVICE_NAME);
    health::spawn_admin_if_configured(
        &settings.common.admin_addr,
        health.clone(),
        shutdown.clone(),
    )?;

    let db = open_database(&settings).await?;
    let objects = domain::storage::open(&settings)?;
    let flags = Arc::new(clients::auth::AuthFlags::connect_lazy(
        &settings.auth_url,
        Duration::from_secs(settings.flags_cache_ttl_secs),
    )?);
    if settings.signing_key.is_none() {
        tracing::warn!(
            "MARQUEE_CONTENT_SIGNING_KEY is unset: signed download URLs use a random key and stop working when this process restarts"
        );
    }
    let bus = marquee_bus::connect(&settings.bus)?;
    let relay = OutboxRelay::new(events::SERVICE, db.clone(), bus.clone(), &settings.bus);
    let quota = Arc::new(clients::billing::BillingQuota::connect_lazy(
        &settings.billing_url,
    )?);
    let content = Content::new(db, objects, settings, flags)
        .with_waker(relay.waker())
        .with_quota(quota);

    // Declare the worker's queue before anything is published, so no event is dropped.
    let consumer = events::processing_worker::consumer(content.clone());
    bus.declare(&consumer).await?;
    let mut tasks = tokio::task::JoinSet::new();
    {
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = relay.run_until_stopped(shutdown).await {
                tracing::error!(%error, "outbox relay stopped");
            }
        });
    }
    {
        let bus = bus.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = consumer.run_until_stopped(bus, shutdown).await {
                tracing::error!(%error, "processing worker stopped");
            }
        });
    }

    health.set_ready(true).await;
    tracing::info!(addr = %listener.local_addr()?, "content service listening");
    let router = grpc::server(&[])
        .trace_fn(grpc::server_span)
        .add_service(health_service)
        .add_service(api::ContentGrpc::new(content).into_server());
    grpc::serve(router, listener, shutdown).await?;
    while tasks.join_next().await.is_some() {}
    tracing::info!("content service stopped");
    Ok(())
}
