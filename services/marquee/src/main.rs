use clap::{Parser, Subcommand};
use marquee::Fleet;
use marquee_auth::AuthSettings;
use marquee_gateway::GatewaySettings;
use marquee_platform::{install_crypto_provider, shutdown, telemetry};

#[derive(Parser)]
#[command(name = "marquee", about = "Marquee: run the embedded fleet and operate it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the gateway and every service on loopback ports with embedded defaults
    /// (SQLite under MARQUEE_DATA_DIR, default ./data). Ctrl-C stops all.
    Up,
    /// Signing-key operations.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Start signing with a new key; the previous one stays in the JWKS so nobody is
    /// logged out. Running services pick it up within `key_reload_secs`.
    Rotate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    install_crypto_provider();
    let cli = Cli::parse();
    let auth = AuthSettings::load()?;
    let gateway = GatewaySettings::load()?;
    let _telemetry = telemetry::init("marquee", &auth.common.log);
    match cli.command {
        Command::Up => {
            let gateway_addr = gateway.addr.clone();
            let stop = shutdown::on_signal();
            let fleet = Fleet::start(auth, gateway, &gateway_addr).await?;
            tracing::info!(
                gateway = %fleet.gateway_url,
                auth = %fleet.auth_addr,
                docs = %format!("{}/docs", fleet.gateway_url),
                "marquee is up; Ctrl-C to stop"
            );
            fleet.run_until(stop).await?;
            tracing::info!("marquee stopped");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let (kid, published) = marquee_auth::rotate_signing_key(auth).await?;
            println!("signing with {kid}; published keys: {}", published.join(", "));
            Ok(())
        }
    }
}
