use clap::{Parser, Subcommand};
use marquee_auth::AuthSettings;
use marquee_platform::service::{self, Command};

marquee_platform::global_allocator!();

#[derive(Parser)]
#[command(name = "marquee-auth", about = "Marquee identity service")]
struct Cli {
    #[command(subcommand)]
    command: Option<AuthCommand>,
}

#[derive(Subcommand)]
enum AuthCommand {
    #[command(flatten)]
    Service(Command),
    /// Rotate the JWT signing key; the previous key stays published.
    RotateKey,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = match Cli::parse().command {
        None => Command::Serve,
        Some(AuthCommand::Service(command)) => command,
        Some(AuthCommand::RotateKey) => return rotate_key().await,
    };
    service::launch("auth", command, marquee_auth::migrate, marquee_auth::serve).await
}

async fn rotate_key() -> anyhow::Result<()> {
    marquee_platform::install_crypto_provider();
    let settings = AuthSettings::load()?;
    let (kid, published) = marquee_auth::rotate_signing_key(settings).await?;
    println!(
        "signing with {kid}; published keys: {}",
        published.join(", ")
    );
    Ok(())
}
