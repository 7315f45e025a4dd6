//! `marquee-gateway`: the gateway as its own process.

use marquee_gateway::GatewaySettings;

marquee_platform::global_allocator!();

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    marquee_platform::install_crypto_provider();
    let settings = GatewaySettings::load()?;
    let _telemetry = marquee_platform::telemetry::init("gateway", &settings.common.log);
    for warning in settings.cluster_warnings() {
        tracing::warn!("{warning}");
    }
    let listener = std::net::TcpListener::bind(&settings.addr)
        .map_err(|error| anyhow::anyhow!("cannot bind {}: {error}", settings.addr))?;
    let shutdown = marquee_platform::shutdown::on_signal();
    marquee_gateway::serve(settings, listener, shutdown).await
}
