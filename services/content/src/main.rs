use clap::{Parser, Subcommand};
use marquee_content::{ContentSettings, open_database};
use marquee_platform::{install_crypto_provider, shutdown, telemetry};

#[derive(Parser)]
#[command(name = "marquee-content", about = "Marquee content service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve gRPC, the outbox relay and the processing worker (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    install_crypto_provider();
    let cli = Cli::parse();
    let settings = ContentSettings::load()?;
    let _telemetry = telemetry::init("content", &settings.common.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(&settings.grpc_addr).await?;
            marquee_content::serve(settings, listener, shutdown::on_signal()).await
        }
        Command::Migrate => {
            open_database(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
