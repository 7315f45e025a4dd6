//! The auth service: users, sessions, signing keys and JWKS, OAuth2 partner clients,
//! tenants and feature flags, and the audit log — over gRPC.

pub mod api;
pub mod clients;
pub mod domain;
pub mod error;
pub mod settings;
pub mod store;

pub use domain::Auth;
pub use settings::AuthSettings;

use marquee_platform::service::Service;
use marquee_platform::shutdown::CancellationToken;

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.auth.v1.AuthService";

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations.
pub async fn open_database(settings: &AuthSettings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    marquee_db::open_with::<store::migration::Migrator>(
        &settings.database_url(),
        &settings.data_dir,
        &settings.db_pool,
    )
    .await
}

/// `marquee-auth migrate`.
pub async fn migrate(settings: &AuthSettings) -> anyhow::Result<()> {
    open_database(settings).await.map(drop)
}

/// Rotates the signing key in the configured database (the `keys rotate` commands).
/// Running replicas pick the new key up within `key_reload_secs`.
pub async fn rotate_signing_key(settings: AuthSettings) -> anyhow::Result<(String, Vec<String>)> {
    let db = open_database(&settings).await?;
    let auth = Auth::start(db, settings).await?;
    Ok(auth
        .rotate_signing_key("cli", "", &domain::RequestContext::default())
        .await?)
}

/// Runs the service on `listener` until `shutdown` is cancelled; in-flight calls finish.
pub async fn serve(
    settings: AuthSettings,
    listener: impl Into<marquee_platform::listener::GrpcListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut service = Service::start(SERVICE_NAME, &settings.common, shutdown)?;
    let db = open_database(&settings).await?;
    service.watch("database", marquee_db::probe(db.clone()));
    let auth = Auth::start(db, settings).await?;
    let reloader = auth.clone().reload_keys_until_stopped(service.shutdown());
    service.spawn("signing key reloader", async move {
        reloader.await;
        Ok::<_, std::convert::Infallible>(())
    });
    service
        .serve(listener, |router| {
            router.add_service(api::AuthGrpc::new(auth).into_server())
        })
        .await
}
