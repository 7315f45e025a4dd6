use clap::{Parser, Subcommand};
use marquee_billing::{BillingSettings, open_database};
use marquee_platform::{install_crypto_provider, shutdown, telemetry};

#[derive(Parser)]
#[command(name = "marquee-billing", about = "Marquee billing service")]
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    install_crypto_provider();
    let cli = Cli::parse();
    let settings = BillingSettings::load()?;
    let _telemetry = telemetry::init("billing", &settings.common.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(&settings.grpc_addr).await?;
            marquee_billing::serve(settings, listener, shutdown::on_signal()).await
        }
        Command::Migrate => {
            open_database(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
