use clap::{Parser, Subcommand};
use marquee_auth::{AuthSettings, open_database};
use marquee_platform::{install_crypto_provider, shutdown, telemetry};

#[derive(Parser)]
#[command(name = "marquee-auth", about = "Marquee identity service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Rotate the JWT signing key; the previous key stays published.
    RotateKey,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    install_crypto_provider();
    let cli = Cli::parse();
    let settings = AuthSettings::load()?;
    let _telemetry = telemetry::init("auth", &settings.common.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(&settings.grpc_addr).await?;
            marquee_auth::serve(settings, listener, shutdown::on_signal()).await
        }
        Command::Migrate => {
            open_database(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::RotateKey => {
            let (kid, published) = marquee_auth::rotate_signing_key(settings).await?;
            println!(
                "signing with {kid}; published keys: {}",
                published.join(", ")
            );
            Ok(())
        }
    }
}
