use clap::{Parser, Subcommand};
use marquee::{Fleet, FleetSettings, Transport};
use marquee_bus::BusSettings;
use marquee_platform::{install_crypto_provider, shutdown, telemetry};

marquee_platform::global_allocator!();

#[derive(Parser)]
#[command(
    name = "marquee",
    about = "Marquee: run the embedded fleet and operate it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the gateway and every service on loopback ports with embedded defaults
    /// (SQLite under MARQUEE_DATA_DIR, default ./data). Ctrl-C stops all.
    Up {
        /// The services call each other over their loopback TCP ports instead of in
        /// process (as separate processes would; for comparing the two).
        #[arg(long)]
        tcp: bool,
    },
    /// Signing-key operations.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print the gateway's OpenAPI document (what `/api/v1/openapi.json` serves); the
    /// web studio's TypeScript client is generated from it (`make studio-client`).
    Openapi,
    /// Make a fresh signing key per service for the signed service identity: writes
    /// `<service>.key` (private, mode 0600) into DIR and prints the Helm values with the
    /// public keys.
    IdentityKeys {
        /// Where the private keys go (created if missing).
        dir: std::path::PathBuf,
    },
    /// Print every environment variable each service reads and the ones
    /// MARQUEE_PROFILE=cluster requires, as JSON (the deploy checks read the committed
    /// copy: `marquee settings-manifest > deploy/check/settings-manifest.json`).
    SettingsManifest,
    /// Event-bus operations on RabbitMQ (MARQUEE_AMQP_URL).
    Bus {
        #[command(subcommand)]
        command: BusCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Start signing with a new key; the previous one stays in the JWKS so nobody is
    /// logged out. Running services pick it up within `key_reload_secs`.
    Rotate,
}

#[derive(Subcommand)]
enum BusCommand {
    /// Move a consumer's dead-lettered messages back to its work queue, with a fresh
    /// attempt count. Fix the cause first: consumers are idempotent, so replaying twice
    /// is safe.
    ReplayDlq {
        /// The consumer, e.g. `tagging` (its queue is `<exchange>.tagging`).
        consumer: String,
        /// Replay at most this many (default: every message there now).
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Show a consumer's queues: ready, waiting to retry, dead-lettered.
    Stats {
        /// The consumer, e.g. `tagging`.
        consumer: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    install_crypto_provider();
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        println!("{}", marquee_gateway::openapi::document().to_pretty_json()?);
        return Ok(());
    }
    if let Command::SettingsManifest = cli.command {
        print!("{}", marquee::manifest::render());
        return Ok(());
    }
    if let Command::IdentityKeys { dir } = &cli.command {
        print!("{}", marquee::write_identity_keys(dir)?);
        return Ok(());
    }
    let mut settings = FleetSettings::load()?;
    let _telemetry = telemetry::init("marquee", &settings.auth.common.log);
    match cli.command {
        Command::Up { tcp } => {
            if tcp {
                settings.transport = Transport::Tcp;
            }
            let gateway_addr = settings.gateway.addr.clone();
            let stop = shutdown::on_signal();
            let fleet = Fleet::start(settings, &gateway_addr).await?;
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
        Command::Openapi | Command::IdentityKeys { .. } | Command::SettingsManifest => {
            unreachable!("answered before the settings are loaded")
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let (kid, published) = marquee_auth::rotate_signing_key(settings.auth).await?;
            println!(
                "signing with {kid}; published keys: {}",
                published.join(", ")
            );
            Ok(())
        }
        Command::Bus {
            command: BusCommand::ReplayDlq { consumer, limit },
        } => {
            let bus = BusSettings::load()?;
            let replayed = marquee_bus::ops::replay_dead_letters(&bus, &consumer, limit).await?;
            println!("replayed {replayed} message(s) from {consumer}'s dead-letter queue");
            Ok(())
        }
        Command::Bus {
            command: BusCommand::Stats { consumer },
        } => {
            let bus = BusSettings::load()?;
            println!("{}", marquee_bus::ops::stats(&bus, &consumer).await?);
            Ok(())
        }
    }
}
