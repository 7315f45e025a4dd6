//! The embedded fleet: every service in one process, each on its own loopback port,
//! talking real gRPC — what `marquee up` runs and what the end-to-end tests start.

pub mod manifest;

use anyhow::Context;
use marquee_auth::AuthSettings;
use marquee_billing::BillingSettings;
use marquee_campaign::CampaignSettings;
use marquee_content::ContentSettings;
use marquee_gateway::GatewaySettings;
use marquee_platform::service_identity::{self, IdentitySettings};
use marquee_platform::shutdown::CancellationToken;
use marquee_tagging::TaggingSettings;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinSet;

/// Settings of every service in the fleet. Each service's own settings load from its
/// config file and `MARQUEE_*` / `MARQUEE_<SERVICE>_*` environment; the fleet then
/// points them at each other on loopback and gives them keys to sign their calls with.
#[derive(Debug, Clone, Default)]
pub struct FleetSettings {
    pub auth: AuthSettings,
    pub gateway: GatewaySettings,
    pub content: ContentSettings,
    pub billing: BillingSettings,
    pub tagging: TaggingSettings,
    pub campaign: CampaignSettings,
}

impl FleetSettings {
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            auth: AuthSettings::load()?,
            gateway: GatewaySettings::load()?,
            content: ContentSettings::load()?,
            billing: BillingSettings::load()?,
            tagging: TaggingSettings::load()?,
            campaign: CampaignSettings::load()?,
        })
    }
}

/// Who calls whom: each service accepts calls from these services only (the same edges
/// as the Helm chart's `calls`).
pub const CALLERS: [(&str, &[&str]); 5] = [
    ("auth", &["gateway", "content"]),
    ("content", &["gateway", "tagging", "campaign"]),
    ("billing", &["gateway", "content", "campaign"]),
    ("tagging", &["gateway", "campaign"]),
    ("campaign", &["gateway"]),
];

/// Every service that signs its calls, by identity name (the tenant operator runs only
/// in a cluster, but calls auth).
pub const SERVICES: [&str; 7] = [
    "gateway",
    "auth",
    "content",
    "billing",
    "tagging",
    "campaign",
    "tenant-operator",
];

/// A fresh key per service, as `marquee identity-keys DIR` makes them: each private key
/// in `DIR/<service>.key` (owner-only), and the chart's `identity.publicKeys` returned as
/// YAML. Each file becomes that service's `MARQUEE_IDENTITY__SIGNING_KEY`, e.g.
/// `kubectl create secret generic marquee-auth --from-file=MARQUEE_IDENTITY__SIGNING_KEY=DIR/auth.key`.
pub fn write_identity_keys(dir: &std::path::Path) -> anyhow::Result<String> {
    use marquee_platform::ExposeSecret;
    use std::io::Write;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut values = String::from("identity:\n  publicKeys:\n");
    for name in SERVICES {
        let (private, public) = service_identity::generate_key_pair();
        let path = dir.join(format!("{name}.key"));
        let mut file = owner_only_file(&path)?;
        file.write_all(private.expose_secret().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        values.push_str(&format!("    {name}: {public}\n"));
    }
    Ok(values)
}

fn owner_only_file(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| {
        format!(
            "creating {} (an existing key is never overwritten)",
            path.display()
        )
    })
}

/// Gives every service a signing key (a fresh one unless configured) and makes each
/// trust its callers' public keys (unless configured), so the fleet's calls verify.
fn wire_identities<const N: usize>(
    mut services: [(&str, &mut IdentitySettings); N],
) -> anyhow::Result<()> {
    let mut public_keys = std::collections::HashMap::new();
    for (name, identity) in &mut services {
        let key = identity
            .signing_key
            .get_or_insert_with(|| service_identity::generate_key_pair().0);
        let public = service_identity::public_key_of(key)
            .with_context(|| format!("{name}'s identity.signing_key"))?;
        public_keys.insert(name.to_string(), public);
    }
    for (name, identity) in &mut services {
        let callers = CALLERS
            .iter()
            .find(|(callee, _)| callee == name)
            .map_or(&[][..], |(_, callers)| *callers);
        for caller in callers {
            identity
                .trusted
                .entry(caller.to_string())
                .or_insert_with(|| public_keys[*caller].clone());
        }
    }
    Ok(())
}

/// A running fleet. Drop does not stop it: call [`Fleet::stop`].
pub struct Fleet {
    /// Base URL of the gateway, e.g. `http://127.0.0.1:8080`.
    pub gateway_url: String,
    /// Where the auth service's gRPC listens.
    pub auth_addr: SocketAddr,
    /// Every internal service's name and gRPC address (the start-up readiness wait; the
    /// tests that call services directly, as an intruder would).
    pub internal: Vec<(&'static str, SocketAddr)>,
    /// One shutdown signal per service, cancelled in [`STOP_ORDER`].
    stops: Stops,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
    /// Services whose task has already ended (joined).
    ended: std::collections::HashSet<&'static str>,
}

/// The order services stop in, each phase once the phases before it have ended: the
/// gateway first, draining the requests in flight (which still reach every service behind
/// it), then each caller before what it calls — campaign (calls tagging, content,
/// billing), tagging (calls content), content (calls billing, auth), then billing and
/// auth. Stopping them all at once failed in-flight uploads with 503: content's call to
/// billing met a closed port.
pub const STOP_ORDER: [&[&str]; 5] = [
    &["gateway"],
    &["campaign"],
    &["tagging"],
    &["content"],
    &["billing", "auth"],
];

/// Each service's shutdown signal.
#[derive(Default)]
struct Stops(Vec<(&'static str, CancellationToken)>);

impl Stops {
    fn token(&mut self, service: &'static str) -> CancellationToken {
        let token = CancellationToken::new();
        self.0.push((service, token.clone()));
        token
    }

    fn cancel(&self, service: &str) {
        for (name, token) in &self.0 {
            if *name == service {
                token.cancel();
            }
        }
    }
}

impl Fleet {
    /// Starts every service on a free loopback port and the gateway on `gateway_addr`, and
    /// waits until every service serves and the gateway reports ready.
    pub async fn start(settings: FleetSettings, gateway_addr: &str) -> anyhow::Result<Self> {
        let FleetSettings {
            mut auth,
            mut gateway,
            mut content,
            mut billing,
            mut tagging,
            mut campaign,
        } = settings;
        wire_identities([
            ("gateway", &mut gateway.common.identity),
            ("auth", &mut auth.common.identity),
            ("content", &mut content.common.identity),
            ("billing", &mut billing.common.identity),
            ("tagging", &mut tagging.common.identity),
            ("campaign", &mut campaign.common.identity),
        ])?;
        let mut stops = Stops::default();
        let mut tasks = JoinSet::new();

        // Internal services take free ports, so two fleets can run side by side.
        let auth_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let auth_addr = auth_listener.local_addr()?;
        auth.grpc_addr = auth_addr.to_string();
        tasks.spawn(named(
            "auth",
            marquee_auth::serve(auth, auth_listener, stops.token("auth")),
        ));

        // Content's bus is whatever its settings name: the process's in-process bus, or
        // RabbitMQ with `amqp_url` set (marquee_bus::connect); either way it declares its
        // consumer before its relay publishes.
        let content_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let content_addr = content_listener.local_addr()?;
        content.grpc_addr = content_addr.to_string();
        content.auth_url = format!("http://{auth_addr}");
        // Billing's port is taken now so content can hold storage quota there.
        let billing_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let billing_addr = billing_listener.local_addr()?;
        content.billing_url = format!("http://{billing_addr}");
        tasks.spawn(named(
            "content",
            marquee_content::serve(content, content_listener, stops.token("content")),
        ));

        let gateway_listener = std::net::TcpListener::bind(gateway_addr)
            .with_context(|| format!("binding the gateway to {gateway_addr}"))?;
        let gateway_local = gateway_listener.local_addr()?;
        gateway.addr = gateway_local.to_string();
        gateway.auth_url = format!("http://{auth_addr}");
        gateway.content_url = format!("http://{content_addr}");

        billing.grpc_addr = billing_addr.to_string();
        tasks.spawn(named(
            "billing",
            marquee_billing::serve(billing, billing_listener, stops.token("billing")),
        ));
        gateway.billing_url = format!("http://{billing_addr}");

        // Tagging reads images from content and consumes its events on the same bus.
        let tagging_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let tagging_addr = tagging_listener.local_addr()?;
        tagging.grpc_addr = tagging_addr.to_string();
        tagging.content_url = format!("http://{content_addr}");
        tasks.spawn(named(
            "tagging",
            marquee_tagging::serve(tagging, tagging_listener, stops.token("tagging")),
        ));
        gateway.tagging_url = format!("http://{tagging_addr}");

        // The campaign studio reads and writes assets in content, holds AI quota in
        // billing and reads tagging's taxonomy.
        let campaign_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let campaign_addr = campaign_listener.local_addr()?;
        campaign.grpc_addr = campaign_addr.to_string();
        campaign.content_url = format!("http://{content_addr}");
        campaign.billing_url = format!("http://{billing_addr}");
        campaign.tagging_url = format!("http://{tagging_addr}");
        tasks.spawn(named(
            "campaign",
            marquee_campaign::serve(campaign, campaign_listener, stops.token("campaign")),
        ));
        gateway.campaign_url = format!("http://{campaign_addr}");

        let mut fleet = Self {
            gateway_url: format!("http://{gateway_local}"),
            auth_addr,
            internal: vec![
                ("auth", auth_addr),
                ("content", content_addr),
                ("billing", billing_addr),
                ("tagging", tagging_addr),
                ("campaign", campaign_addr),
            ],
            stops,
            tasks,
            ended: Default::default(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        // The gateway opens only once every service serves: their event consumers are
        // declared by then (with the in-process bus an event published before its
        // consumer exists is lost), so nothing a client does through the gateway can
        // race a service's start-up.
        if let Err(error) = fleet.wait_internal(deadline).await {
            fleet.stop().await;
            return Err(error);
        }
        fleet.tasks.spawn(named(
            "gateway",
            marquee_gateway::serve(gateway, gateway_listener, fleet.stops.token("gateway")),
        ));
        if let Err(error) = fleet.wait_gateway(deadline).await {
            fleet.stop().await;
            return Err(error);
        }
        Ok(fleet)
    }

    fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(Ok((service, result))) = self.tasks.try_join_next() {
            self.ended.insert(service);
            anyhow::bail!("{service} stopped during start-up: {:?}", result.err());
        }
        Ok(())
    }

    async fn wait_internal(&mut self, deadline: tokio::time::Instant) -> anyhow::Result<()> {
        loop {
            self.check_running()?;
            if self.all_serving().await {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("the fleet's services did not serve in time");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_gateway(&mut self, deadline: tokio::time::Instant) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.gateway_url);
        loop {
            self.check_running()?;
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("the gateway was not ready in time");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn all_serving(&self) -> bool {
        for (_, addr) in &self.internal {
            if !marquee_platform::grpc::is_serving(&format!("http://{addr}")).await {
                return false;
            }
        }
        true
    }

    /// Runs until `stop` is cancelled or a service fails, then shuts everything down.
    pub async fn run_until(mut self, stop: CancellationToken) -> anyhow::Result<()> {
        let failure = tokio::select! {
            () = stop.cancelled() => None,
            Some(Ok((service, result))) = self.tasks.join_next() => Some((service, result)),
        };
        if let Some((service, _)) = &failure {
            self.ended.insert(service);
        }
        self.stop().await;
        match failure {
            Some((service, Err(error))) => Err(error.context(format!("{service} failed"))),
            Some((service, Ok(()))) => anyhow::bail!("{service} stopped unexpectedly"),
            None => Ok(()),
        }
    }

    /// Stops every service in [`STOP_ORDER`], letting in-flight requests finish.
    pub async fn stop(&mut self) {
        for phase in STOP_ORDER {
            for service in phase {
                self.stops.cancel(service);
            }
            while phase.iter().any(|service| !self.ended.contains(service)) {
                match self.tasks.join_next().await {
                    Some(Ok((service, result))) => {
                        if let Err(error) = result {
                            tracing::warn!(%service, %error, "service ended with an error");
                        }
                        self.ended.insert(service);
                    }
                    // A task that panicked (its name is lost): go on stopping the rest.
                    Some(Err(error)) => {
                        tracing::warn!(%error, "a service task failed");
                        break;
                    }
                    None => break,
                }
            }
        }
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn named(
    service: &'static str,
    run: impl Future<Output = anyhow::Result<()>>,
) -> (&'static str, anyhow::Result<()>) {
    (service, run.await)
}
