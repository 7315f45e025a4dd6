use clap::{Parser, Subcommand};
use marquee_platform::health::{self, Health};
use marquee_platform::service_identity::ServiceIdentity;
use marquee_platform::{shutdown, telemetry};
use marquee_tenant_operator::clients::auth::AuthDirectory;
use marquee_tenant_operator::controller::{self, Context, metrics};
use marquee_tenant_operator::leader;
use marquee_tenant_operator::settings::{OperatorSettings, SERVICE};

marquee_platform::global_allocator!();

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
    /// SIGTERM or Ctrl-C, while this replica holds the leader lease. Settings come from
    /// `MARQUEE_TENANT_OPERATOR_*` (docs/ops/tenants.md).
    Run {
        /// This replica's name: the lease holder and the events' reporter (the pod name).
        #[arg(long, env = "POD_NAME")]
        instance: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => print!("{}", marquee_tenant_operator::crd_yaml()?),
        Command::Run { instance } => {
            marquee_platform::install_crypto_provider();
            let settings = OperatorSettings::load()?;
            tokio::runtime::Runtime::new()?.block_on(run(settings, instance))?;
        }
    }
    Ok(())
}

/// The wiring: telemetry, the admin listener, the auth directory, the lease, the controller.
async fn run(settings: OperatorSettings, instance: Option<String>) -> anyhow::Result<()> {
    let _telemetry = telemetry::init(SERVICE, &settings.common.log);
    let stop = shutdown::on_signal();
    let (health, _) = Health::new(SERVICE);
    health::spawn_admin_if_configured(&settings.common.admin_addr, health.clone(), stop.clone())?;
    // The auth client: mutual TLS when configured (renewed certificates reloaded), and
    // balanced over auth's addresses like every service's client.
    if let Some(tls) = marquee_platform::tls::init(&settings.common.tls)? {
        tokio::spawn(tls.watch(stop.clone()));
    }
    marquee_platform::balance::set_resolve_interval(std::time::Duration::from_secs(
        settings.common.grpc_resolve_interval_secs,
    ));
    let identity = ServiceIdentity::from_settings(SERVICE, &settings.common.identity)?;
    let directory = settings
        .auth_url
        .as_deref()
        .map(|url| AuthDirectory::connect_lazy(url, identity))
        .transpose()?;
    let client = kube::Client::try_default().await?;
    let instance = instance.unwrap_or_else(default_instance);
    metrics::leader(false);
    // A standby is healthy: it is ready to take over.
    health.set_ready(true).await;
    tracing::info!(%instance, lease = %settings.lease.name, "waiting for the leader lease");
    let Some(mut leadership) = leader::acquire(
        client.clone(),
        &settings.lease,
        &instance,
        stop.clone().cancelled_owned(),
    )
    .await?
    else {
        return Ok(());
    };
    metrics::leader(true);
    tracing::info!(fleet = ?settings.fleet(), auth = ?settings.auth_url, "leading: reconciling tenants");
    let ctx = Context::new(client, settings.fleet(), directory, Some(instance));
    let lost = tokio_util::sync::CancellationToken::new();
    let controller_stop = stop.child_token();
    let finished = controller::run(ctx, controller_stop.clone().cancelled_owned());
    tokio::pin!(finished);
    let result = tokio::select! {
        result = &mut finished => result,
        () = leadership.lost() => {
            lost.cancel();
            controller_stop.cancel();
            finished.await
        }
    };
    metrics::leader(false);
    if lost.is_cancelled() {
        anyhow::bail!("lost the leader lease: exiting to restart as a standby");
    }
    leadership.release().await;
    result
}

/// Without `POD_NAME`: the host name and process id (unique enough off-cluster).
fn default_instance() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tenant-operator".into());
    format!("{host}-{}", std::process::id())
}
