use clap::{Parser, Subcommand};
use marquee_tenant_operator::controller::{self, Context, NoDirectory};
use marquee_tenant_operator::domain::resources::FleetSettings;

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
    /// Run the controller (in-cluster config, or the current kubeconfig context) until
    /// SIGTERM or Ctrl-C. One replica only: there is no leader election yet.
    Run {
        /// The namespace of the Marquee release: tenant namespaces may reach it, and only it.
        #[arg(long, env = "MARQUEE_RELEASE_NAMESPACE", default_value = "marquee")]
        release_namespace: String,
        /// Ports of the release namespace tenant pods may reach (the gateway's HTTP port,
        /// the services' gRPC port).
        #[arg(long = "fleet-port", env = "MARQUEE_FLEET_PORTS", value_delimiter = ',', default_values_t = [8080u16, 50051])]
        fleet_ports: Vec<u16>,
        /// This replica's name in the events it records (the pod name).
        #[arg(long, env = "POD_NAME")]
        instance: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => print!("{}", marquee_tenant_operator::crd_yaml()?),
        Command::Run {
            release_namespace,
            fleet_ports,
            instance,
        } => {
            // kube's TLS is rustls on ring: choose the provider before any connection.
            let _ = rustls::crypto::ring::default_provider().install_default();
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,kube=warn,hyper=warn,tower=warn".into()),
                )
                .init();
            let fleet = FleetSettings {
                release_namespace,
                ports: fleet_ports,
            };
            tokio::runtime::Runtime::new()?.block_on(async move {
                let client = kube::Client::try_default().await?;
                tracing::info!(
                    ?fleet,
                    "tenant operator starting (no leader election: one replica)"
                );
                let ctx = Context::<NoDirectory>::new(client, fleet, None, instance);
                controller::run(ctx).await
            })?;
        }
    }
    Ok(())
}
