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
use marquee_platform::service::Service;
use marquee_platform::shutdown::CancellationToken;
use std::sync::Arc;
use std::time::Duration;

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.content.v1.ContentService";

/// Client-streaming methods: exempt from the server's overall deadline (an upload lasts
/// as long as its bytes keep coming); the upload bounds idle time instead.
pub const CLIENT_STREAMS: &[&str] = &["/marquee.content.v1.ContentService/UploadAsset"];

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations.
pub async fn open_database(
    settings: &ContentSettings,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    marquee_db::open_with::<store::migration::Migrator>(
        &settings.database_url(),
        &settings.data_dir,
        &settings.db_pool,
    )
    .await
}

/// `marquee-content migrate`.
pub async fn migrate(settings: &ContentSettings) -> anyhow::Result<()> {
    open_database(settings).await.map(drop)
}

/// Runs the service on `listener` until `shutdown` is cancelled: gRPC, the outbox relay
/// and the processing worker. In-flight calls and handlers finish.
pub async fn serve(
    settings: ContentSettings,
    listener: impl Into<marquee_platform::listener::GrpcListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut service = Service::start(SERVICE_NAME, &settings.common, shutdown)?;
    let db = open_database(&settings).await?;
    service.watch("database", marquee_db::probe(db.clone()));
    let objects = domain::storage::open(&settings)?;
    if settings.signing_key.is_none() {
        tracing::warn!(
            "MARQUEE_CONTENT_SIGNING_KEY is unset: signed download URLs use a random key and stop working when this process restarts"
        );
    }
    let flags = clients::auth::AuthFlags::connect_lazy(
        &settings.auth_url,
        service.identity(),
        Duration::from_secs(settings.flags_cache_ttl_secs),
    )?;
    let quota =
        clients::billing::BillingQuota::connect_lazy(&settings.billing_url, service.identity())?;
    let bus = marquee_bus::connect(&settings.bus)?;
    service.watch("broker", marquee_bus::probe(bus.clone()));
    let relay = OutboxRelay::new(events::SERVICE, db.clone(), bus.clone(), &settings.bus);
    let content = Content::new(db, objects, settings, Arc::new(flags))
        .with_waker(relay.waker())
        .with_quota(Arc::new(quota));

    // Declare the consumers' queues before anything is published, so no event is dropped.
    let processing = events::processing_worker::consumer(content.clone());
    let quota = events::quota_worker::consumer(content.clone());
    bus.declare(&processing).await?;
    bus.declare(&quota).await?;
    service.spawn("outbox relay", relay.run_until_stopped(service.shutdown()));
    service.spawn(
        "processing worker",
        processing.run_until_stopped(bus.clone(), service.shutdown()),
    );
    service.spawn(
        "quota worker",
        quota.run_until_stopped(bus, service.shutdown()),
    );
    service
        .serve_with_client_streams(listener, CLIENT_STREAMS, |router| {
            router.add_service(api::ContentGrpc::new(content).into_server())
        })
        .await
}
