//! The auth service: users, sessions, signing keys and JWKS, OAuth2 partner clients,
//! tenants and feature flags, and the audit log — over gRPC.

pub mod api;
pub mod domain;
pub mod error;
pub mod settings;
pub mod store;

pub use domain::Auth;
pub use settings::AuthSettings;

use marquee_platform::health::{self, Health};
use marquee_platform::shutdown::CancellationToken;
use marquee_platform::{ExposeSecret, grpc};

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.auth.v1.AuthService";

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations.
pub async fn open_database(settings: &AuthSettings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = settings.database_url();
    if url.expose_secret().starts_with("sqlite") {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    let db = store::connect(url.expose_secret()).await?;
    store::migrate(&db).await?;
    Ok(db)
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
    let auth = Auth::start(db, settings).await?;
    tokio::spawn(auth.clone().reload_keys_until_stopped(shutdown.clone()));
    health.set_ready(true).await;
    tracing::info!(addr = %listener.local_addr()?, "auth service listening");

    let router = grpc::server()
        .trace_fn(grpc::server_span)
        .add_service(health_service)
        .add_service(api::AuthGrpc::new(auth).into_server());
    grpc::serve(router, listener, shutdown).await?;
    tracing::info!("auth service stopped");
    Ok(())
}
