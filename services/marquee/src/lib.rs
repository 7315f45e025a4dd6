//! The embedded fleet: every service in one process, each on its own loopback port,
//! calling each other in process with real gRPC requests — what `marquee up` runs and
//! what the end-to-end tests start.

pub mod manifest;

use anyhow::Context;
use marquee_auth::AuthSettings;
use marquee_billing::BillingSettings;
use marquee_campaign::CampaignSettings;
use marquee_content::ContentSettings;
use marquee_gateway::GatewaySettings;
use marquee_platform::in_process;
use marquee_platform::listener::GrpcListener;
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
    /// How the services call each other (`marquee up --tcp`: over their TCP ports).
    pub transport: Transport,
}

/// How the fleet's services call each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// Directly, in process: no socket between them (TCP when mutual TLS is on).
    #[default]
    InProcess,
    /// Their loopback TCP ports, as separate processes would.
    Tcp,
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
            transport: Transport::default(),
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
            transport,
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
        let tls = [
            &auth.common,
            &gateway.common,
            &content.common,
            &billing.common,
            &tagging.common,
            &campaign.common,
        ]
        .iter()
        .any(|common| common.tls.enabled);
        let loopback = Loopback::new(transport == Transport::InProcess && !tls);

        let auth_at = loopback.bind("auth").await?;
        auth.grpc_addr = auth_at.addr.to_string();

        // Content's bus is whatever its settings name: the process's in-process bus, or
        // RabbitMQ with `amqp_url` set (marquee_bus::connect); either way it declares its
        // consumer before its relay publishes.
        let content_at = loopback.bind("content").await?;
        // Billing's socket is bound now so content can hold storage quota there.
        let billing_at = loopback.bind("billing").await?;
        // Tagging reads images from content and consumes its events on the same bus.
        let tagging_at = loopback.bind("tagging").await?;
        // The campaign studio reads and writes assets in content, holds AI quota in
        // billing and reads tagging's taxonomy.
        let campaign_at = loopback.bind("campaign").await?;

        content.grpc_addr = content_at.addr.to_string();
        content.auth_url = auth_at.url.clone();
        content.billing_url = billing_at.url.clone();
        billing.grpc_addr = billing_at.addr.to_string();
        tagging.grpc_addr = tagging_at.addr.to_string();
        tagging.content_url = content_at.url.clone();
        campaign.grpc_addr = campaign_at.addr.to_string();
        campaign.content_url = content_at.url.clone();
        campaign.billing_url = billing_at.url.clone();
        campaign.tagging_url = tagging_at.url.clone();

        let gateway_listener = std::net::TcpListener::bind(gateway_addr)
            .with_context(|| format!("binding the gateway to {gateway_addr}"))?;
        let gateway_local = gateway_listener.local_addr()?;
        gateway.addr = gateway_local.to_string();
        gateway.auth_url = auth_at.url.clone();
        gateway.content_url = content_at.url.clone();
        gateway.billing_url = billing_at.url.clone();
        gateway.tagging_url = tagging_at.url.clone();
        gateway.campaign_url = campaign_at.url.clone();

        let internal = vec![
            ("auth", auth_at.addr),
            ("content", content_at.addr),
            ("billing", billing_at.addr),
            ("tagging", tagging_at.addr),
            ("campaign", campaign_at.addr),
        ];
        let auth_addr = auth_at.addr;
        tasks.spawn(named(
            "auth",
            marquee_auth::serve(auth, auth_at.listener, stops.token("auth")),
        ));
        tasks.spawn(named(
            "content",
            marquee_content::serve(content, content_at.listener, stops.token("content")),
        ));
        tasks.spawn(named(
            "billing",
            marquee_billing::serve(billing, billing_at.listener, stops.token("billing")),
        ));
        tasks.spawn(named(
            "tagging",
            marquee_tagging::serve(tagging, tagging_at.listener, stops.token("tagging")),
        ));
        tasks.spawn(named(
            "campaign",
            marquee_campaign::serve(campaign, campaign_at.listener, stops.token("campaign")),
        ));

        let mut fleet = Self {
            gateway_url: format!("http://{gateway_local}"),
            auth_addr,
            internal,
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

/// Where the fleet's services listen: each on a free loopback TCP port (two fleets can
/// run side by side; the readiness wait and the tests reach a service by address) and at
/// an in-process address, which is what the services call each other at — the same gRPC
/// calls (identities, deadlines, metrics) without HTTP/2 and a socket on every hop
/// (`marquee_platform::in_process`, `docs/benchmarks.md`, "Request path"). With mutual
/// TLS on, or [`Transport::Tcp`], over TCP only.
struct Loopback {
    in_process: bool,
}

/// One service's listeners, its TCP address and the URL its callers dial.
struct Bound {
    listener: GrpcListener,
    addr: SocketAddr,
    url: String,
}

impl Loopback {
    fn new(in_process: bool) -> Self {
        Self { in_process }
    }

    async fn bind(&self, service: &str) -> anyhow::Result<Bound> {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = tcp.local_addr()?;
        let mut listener = GrpcListener::from(tcp);
        let mut url = format!("http://{addr}");
        if self.in_process {
            url = in_process::address(service);
            listener = listener.with_in_process(url.clone());
        }
        Ok(Bound {
            listener,
            addr,
            url,
        })
    }
}

async fn named(
    service: &'static str,
    run: impl Future<Output = anyhow::Result<()>>,
) -> (&'static str, anyhow::Result<()>) {
    (service, run.await)
}
