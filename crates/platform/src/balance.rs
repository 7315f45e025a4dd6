//! Client-side load balancing for gRPC.
//!
//! HTTP/2 multiplexes every call over one long-lived connection, so behind a ClusterIP
//! Service a client keeps talking to whichever pod it first reached: new replicas (a
//! canary) get no traffic until clients reconnect. A client whose URL names a host (in
//! a cluster: a headless Service, whose DNS name answers with every ready pod) therefore
//! resolves it, keeps a lazily connected channel per address and spreads calls over
//! them (power of two choices on pending requests), resolving again every
//! [`resolve_interval`] (`MARQUEE_GRPC_RESOLVE_INTERVAL_SECS`, 10 s by default): new
//! pods are added, gone ones removed. A failed or empty answer keeps the addresses it
//! has. Until the first answer, and while none has come, calls go to the host name
//! itself (today's single channel), so a client never waits on DNS.
//!
//! The task that resolves lives as long as the channel: it stops once every clone is
//! dropped. URLs naming an IP address (the embedded fleet's `127.0.0.1`) or `localhost`
//! keep a single channel. Over mutual TLS each connection verifies the server's
//! certificate against the host name of the URL, not the address it dials.

use crate::tls::ReloadingTls;
use futures::future::BoxFuture;
use std::collections::HashSet;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::discover::Change;
use tower::load::{CompleteOnResponse, PendingRequests};
use tower::util::BoxCloneSyncService;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A gRPC channel: one endpoint, or balanced over the addresses of a host. Cheap to
/// clone; clones share the connections.
pub type GrpcChannel = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, ChannelError>;

/// Why a call could not be made (connection refused, no address, …). A concrete type:
/// tonic maps it to a status through its source chain (`Unavailable` for a connection
/// that failed), as it does the errors of its own channel.
#[derive(Debug)]
pub struct ChannelError(BoxError);

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ChannelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl ChannelError {
    pub(crate) fn new(error: impl Into<BoxError>) -> Self {
        Self(error.into())
    }
}

/// How often a balanced channel resolves its host again, unless configured.
pub const DEFAULT_RESOLVE_INTERVAL: Duration = Duration::from_secs(10);

static RESOLVE_INTERVAL_SECS: AtomicU64 = AtomicU64::new(DEFAULT_RESOLVE_INTERVAL.as_secs());

/// Sets the process's resolve interval for channels made from now on (at least 1 s);
/// services do it at start-up from `grpc_resolve_interval_secs`.
pub fn set_resolve_interval(interval: Duration) {
    RESOLVE_INTERVAL_SECS.store(interval.as_secs().max(1), Ordering::Relaxed);
}

/// The process's resolve interval.
pub fn resolve_interval() -> Duration {
    Duration::from_secs(RESOLVE_INTERVAL_SECS.load(Ordering::Relaxed))
}

/// Resolves a host name to its addresses: DNS in a service ([`Dns`]), a list in tests.
pub trait Resolver: Send + Sync + 'static {
    fn resolve(&self, host: &str) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>>;
}

/// The system resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dns;

impl Resolver for Dns {
    fn resolve(&self, host: &str) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let host = host.to_string();
        Box::pin(async move {
            let mut addresses: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|address| address.ip())
                .collect();
            addresses.sort();
            addresses.dedup();
            Ok(addresses)
        })
    }
}

/// The host to balance over, when `uri` names one: not an IP address, not `localhost`.
pub fn balanced_host(uri: &Uri) -> Option<String> {
    let host = uri.host()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() || bare.eq_ignore_ascii_case("localhost") {
        return None;
    }
    Some(bare.to_string())
}

/// A channel to `url`: balanced over the host's addresses when it names a host, else a
/// single lazily connected channel. `timeout` applies to every call (see
/// [`crate::grpc::channel`]); `tls` is the client TLS (`None`: plaintext).
pub fn channel(
    url: &str,
    timeout: Option<Duration>,
    tls: Option<&Arc<ReloadingTls>>,
) -> Result<GrpcChannel, tonic::transport::Error> {
    // A service of this process (the embedded fleet): called directly, no socket.
    if crate::in_process::is_in_process_url(url) {
        return Ok(crate::in_process::channel(url, timeout));
    }
    let endpoint = configured(crate::grpc::endpoint(url)?, timeout);
    Ok(match balanced_host(endpoint.uri()) {
        None => BoxCloneSyncService::new(tower::ServiceExt::map_err(
            crate::grpc::connect_lazy(endpoint, tls),
            ChannelError::new,
        )),
        Some(host) => balanced(
            endpoint,
            timeout,
            host,
            tls.cloned(),
            Arc::new(Dns),
            resolve_interval(),
        ),
    })
}

fn configured(endpoint: Endpoint, timeout: Option<Duration>) -> Endpoint {
    match timeout {
        Some(timeout) => endpoint.timeout(timeout),
        None => endpoint,
    }
}

/// Which of a balanced channel's channels: the host itself (before any address is
/// known) or one address.
type Key = Option<IpAddr>;
type Member = PendingRequests<Channel, CompleteOnResponse>;

/// A channel balanced over the addresses `resolver` gives for `host`, resolved again
/// every `interval`. `endpoint` is the URL's (calls keep its host as `:authority`).
pub fn balanced(
    endpoint: Endpoint,
    timeout: Option<Duration>,
    host: String,
    tls: Option<Arc<ReloadingTls>>,
    resolver: Arc<dyn Resolver>,
    interval: Duration,
) -> GrpcChannel {
    let (changes, receiver) = tokio::sync::mpsc::channel(CHANGES);
    let balance = tower::balance::p2c::Balance::new(Changes(receiver));
    let buffered = tower::buffer::Buffer::new(tower::util::BoxService::new(balance), BUFFER);
    let members = Members {
        endpoint,
        timeout,
        host,
        tls,
    };
    // Calls made before the first answer go to the host name, as without balancing.
    let _ = changes.try_send(Change::Insert(None, members.by_name()));
    tokio::spawn(keep_resolving(members, changes, resolver, interval));
    BoxCloneSyncService::new(tower::ServiceExt::map_err(buffered, ChannelError::new))
}

/// Calls waiting for a channel to take them.
const BUFFER: usize = 1024;
/// Changes waiting for the balancer (it takes them when a call comes).
const CHANGES: usize = 1024;

/// Makes the channel of each member.
struct Members {
    endpoint: Endpoint,
    timeout: Option<Duration>,
    host: String,
    tls: Option<Arc<ReloadingTls>>,
}

impl Members {
    fn by_name(&self) -> Member {
        let channel = crate::grpc::connect_lazy(self.endpoint.clone(), self.tls.as_ref());
        PendingRequests::new(channel, CompleteOnResponse::default())
    }

    /// A channel that dials `address` and otherwise behaves as the URL's: the same
    /// `:authority`, and over TLS the certificate checked against the host name.
    fn at(&self, address: IpAddr) -> Option<Member> {
        let uri = self.endpoint.uri();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let authority = match address {
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        };
        let url = format!("{}://{authority}", uri.scheme_str().unwrap_or("http"));
        let endpoint =
            configured(crate::grpc::endpoint(&url).ok()?, self.timeout).origin(uri.clone());
        let channel = match &self.tls {
            None => endpoint.connect_lazy(),
            Some(tls) => endpoint.connect_with_connector_lazy(
                crate::tls::Connector::new(tls.clone()).with_server_name(&self.host),
            ),
        };
        Some(PendingRequests::new(channel, CompleteOnResponse::default()))
    }
}

/// Resolves `members.host` now and every `interval`, telling the balancer what changed,
/// until the channel is dropped.
async fn keep_resolving(
    members: Members,
    changes: tokio::sync::mpsc::Sender<Change<Key, Member>>,
    resolver: Arc<dyn Resolver>,
    interval: Duration,
) {
    let mut current: HashSet<IpAddr> = HashSet::new();
    let mut by_name = true;
    loop {
        let resolved = tokio::select! {
            () = changes.closed() => return,
            resolved = resolver.resolve(&members.host) => resolved,
        };
        match resolved {
            Ok(addresses) if !addresses.is_empty() => {
                let now: HashSet<IpAddr> = addresses.into_iter().collect();
                // Added first, removed after: the balancer is never left empty.
                for &address in now.difference(&current) {
                    let Some(member) = members.at(address) else {
                        continue;
                    };
                    if changes
                        .send(Change::Insert(Some(address), member))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                let mut gone: Vec<Key> = current.difference(&now).map(|a| Some(*a)).collect();
                if std::mem::take(&mut by_name) {
                    gone.push(None);
                }
                for key in gone {
                    if changes.send(Change::Remove(key)).await.is_err() {
                        return;
                    }
                }
                if now != current {
                    tracing::debug!(host = %members.host, addresses = ?now, "gRPC endpoints");
                }
                current = now;
            }
            Ok(_) => tracing::debug!(
                host = %members.host,
                "resolved to no address; keeping the endpoints there are"
            ),
            Err(error) => tracing::warn!(
                host = %members.host,
                %error,
                "cannot resolve; keeping the endpoints there are"
            ),
        }
        tokio::select! {
            () = changes.closed() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// The balancer's view of the changes: a stream that never ends (the sender lives as
/// long as the channel).
struct Changes(tokio::sync::mpsc::Receiver<Change<Key, Member>>);

impl futures::Stream for Changes {
    type Item = Result<Change<Key, Member>, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.poll_recv(cx) {
            Poll::Ready(Some(change)) => Poll::Ready(Some(Ok(change))),
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests;
