use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "marquee-tenant-operator", about = "Marquee tenant operator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Tenant CustomResourceDefinition (YAML) generated from the Rust types.
    Crd,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => print!("{}", marquee_tenant_operator::crd_yaml()?),
    }
    Ok(())
}
