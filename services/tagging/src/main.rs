use clap::Parser;
use marquee_platform::service::{self, Command};

marquee_platform::global_allocator!();

#[derive(Parser)]
#[command(name = "marquee-tagging", about = "Marquee tagging service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command.unwrap_or_default();
    service::launch(
        "tagging",
        command,
        marquee_tagging::migrate,
        marquee_tagging::serve,
    )
    .await
}
