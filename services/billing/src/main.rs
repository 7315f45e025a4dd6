use clap::Parser;
use marquee_platform::service::{self, Command};

marquee_platform::global_allocator!();

#[derive(Parser)]
#[command(name = "marquee-billing", about = "Marquee billing service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command.unwrap_or_default();
    service::launch(
        "billing",
        command,
        marquee_billing::migrate,
        marquee_billing::serve,
    )
    .await
}
