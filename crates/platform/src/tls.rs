//! Mutual TLS between services (`docs/security.md`, "Mutual TLS").
//!
//! Off by default. With `MARQUEE_TLS__ENABLED=true` and the three files
//! (`MARQUEE_TLS__CERT_FILE`, `MARQUEE_TLS__KEY_FILE`, `MARQUEE_TLS__CA_FILE`, PEM; in
//! Kubernetes cert-manager's `tls.crt`, `tls.key`, `ca.crt`):
//!
//! - the gRPC server ([`crate::grpc::serve_with_tls`]) accepts only TLS 1.3 connections
//!   whose client presents a certificate signed by the CA (ALPN `h2`);
//! - every channel ([`crate::grpc::channel`]) presents this service's certificate and
//!   checks the callee's against the CA and the host of the service URL (`marquee-auth`,
//!   `marquee-auth.<namespace>.svc`, or an IP address).
//!
//! Rotation without restarts: the files are watched ([`ReloadingTls`]). Every new
//! handshake, on either side, first compares the files' size, modification time and
//! inode with the last loaded ones (one `stat` each; kubelet replaces a mounted Secret by
//! swapping a symlink, which changes all three files at once), and a background task
//! does the same every 30 s. Changed files are read, checked (PEM, key matching the
//! certificate, certificate signed by the CA for client and server use) and, when good,
//! become new server and client configurations, swapped in atomically: connections made
//! from then on use them, open connections keep theirs. Bad files are logged and the
//! last good set is kept (tried again a few seconds later: a swap may be caught half
//! way).
//!
//! Outgoing channels are built in many places with a URL and the service identity only;
//! the process's client TLS is therefore set once at start-up ([`init`], called by
//! `Service::start` and the gateway's `AppState::new`) and read by the channel helpers.

use anyhow::{Context as _, bail};
use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How often the background task looks at the files (handshakes look too).
pub const WATCH_INTERVAL: Duration = Duration::from_secs(30);
/// After bad files, how long before they are read again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// How long a client may take to complete its TLS handshake with a server.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The only application protocol spoken: gRPC's HTTP/2.
const ALPN_H2: &[u8] = b"h2";

/// `MARQUEE_TLS__*` (shared by every service; `MARQUEE_<SVC>_TLS__*` for one).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct TlsSettings {
    /// Mutual TLS on every gRPC connection, served and made. Off: plaintext (loopback,
    /// `marquee up`, tests).
    pub enabled: bool,
    /// This service's certificate chain, PEM (leaf first).
    pub cert_file: Option<PathBuf>,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// The CA certificate(s) peers' certificates must be signed by, PEM.
    pub ca_file: Option<PathBuf>,
}

/// The three files of an enabled [`TlsSettings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TlsSettings {
    /// The files to load, `None` when TLS is off; an error naming the first setting that
    /// is missing when it is on.
    pub fn files(&self) -> anyhow::Result<Option<TlsFiles>> {
        if !self.enabled {
            return Ok(None);
        }
        let required = |value: &Option<PathBuf>, variable: &str| match value {
            Some(path) if !path.as_os_str().is_empty() => Ok(path.clone()),
            _ => Err(anyhow::anyhow!(
                "mutual TLS is on (MARQUEE_TLS__ENABLED) but {variable} is not set"
            )),
        };
        Ok(Some(TlsFiles {
            cert: required(&self.cert_file, "MARQUEE_TLS__CERT_FILE")?,
            key: required(&self.key_file, "MARQUEE_TLS__KEY_FILE")?,
            ca: required(&self.ca_file, "MARQUEE_TLS__CA_FILE")?,
        }))
    }
}

static CLIENT_TLS: OnceLock<Arc<ReloadingTls>> = OnceLock::new();

/// Loads the TLS files of `settings` (`None` when TLS is off) and makes them the
/// process's client TLS, which [`crate::grpc::channel`] and
/// [`crate::grpc::streaming_channel`] use from then on. The first enabled call wins
/// (in `marquee up` every service shares the process and the same settings). Unreadable
/// or inconsistent files are an error: the service must not start without them.
pub fn init(settings: &TlsSettings) -> anyhow::Result<Option<Arc<ReloadingTls>>> {
    let Some(files) = settings.files()? else {
        return Ok(None);
    };
    if let Some(existing) = CLIENT_TLS.get()
        && existing.files == files
    {
        return Ok(Some(existing.clone()));
    }
    let tls = Arc::new(ReloadingTls::load(files)?);
    if CLIENT_TLS.set(tls.clone()).is_err() {
        tracing::warn!(
            cert = %tls.files.cert.display(),
            "another certificate is already this process's client certificate; outgoing calls keep it"
        );
    } else {
        tracing::info!(
            cert = %tls.files.cert.display(),
            ca = %tls.files.ca.display(),
            "mutual TLS on for gRPC"
        );
    }
    Ok(Some(tls))
}

/// The process's client TLS, when [`init`] turned it on.
pub fn client_tls() -> Option<&'static Arc<ReloadingTls>> {
    CLIENT_TLS.get()
}

/// One loaded, consistent set of files, as the configurations built from them.
struct Material {
    raw: Raw,
    leaf: CertificateDer<'static>,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

/// The files' bytes as read.
#[derive(PartialEq, Eq)]
struct Raw {
    cert: Vec<u8>,
    key: Vec<u8>,
    ca: Vec<u8>,
}

/// What identifies a version of one file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

#[derive(Default)]
struct Watch {
    /// The stamps of the files the current material came from (or that held the same
    /// bytes).
    loaded: Option<[Option<FileStamp>; 3]>,
    /// After bad files: not before this instant again.
    retry_at: Option<Instant>,
    /// The last problem logged, so that a lasting one is logged once.
    problem: Option<String>,
}

/// Server and client TLS configurations from three files, rebuilt when the files change
/// (see the module documentation).
pub struct ReloadingTls {
    files: TlsFiles,
    current: ArcSwap<Material>,
    watch: Mutex<Watch>,
    retry_after_failure: Duration,
}

impl std::fmt::Debug for ReloadingTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingTls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ReloadingTls {
    /// Reads and checks the files; an error says which one and why.
    pub fn load(files: TlsFiles) -> anyhow::Result<Self> {
        let stamps = stamps(&files);
        let material = build(read(&files)?)?;
        Ok(Self {
            files,
            current: ArcSwap::from_pointee(material),
            watch: Mutex::new(Watch {
                loaded: Some(stamps),
                ..Default::default()
            }),
            retry_after_failure: RETRY_AFTER_FAILURE,
        })
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// The server configuration for a new connection (files checked first).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.refresh();
        self.current.load().server.clone()
    }

    /// The client configuration for a new connection (files checked first).
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.refresh();
        self.current.load().client.clone()
    }

    /// The leaf certificate presented now (DER).
    pub fn certificate(&self) -> CertificateDer<'static> {
        self.current.load().leaf.clone()
    }

    /// Reloads the files if they changed since they were loaded. Returns whether a new
    /// set is in use. Bad files are logged and the current set kept.
    pub fn refresh(&self) -> bool {
        // Someone else is looking right now: their answer will do.
        let Ok(mut watch) = self.watch.try_lock() else {
            return false;
        };
        let stamps = stamps(&self.files);
        if watch.loaded.as_ref() == Some(&stamps) {
            return false;
        }
        if watch.retry_at.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        let outcome = read(&self.files).and_then(|raw| {
            if raw == self.current.load().raw {
                Ok(None)
            } else {
                build(raw).map(Some)
            }
        });
        match outcome {
            Ok(None) => {
                watch.loaded = Some(stamps);
                false
            }
            Ok(Some(material)) => {
                self.current.store(Arc::new(material));
                *watch = Watch {
                    loaded: Some(stamps),
                    ..Default::default()
                };
                metrics::counter!("marquee_tls_reloads_total", "outcome" => "reloaded")
                    .increment(1);
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                true
            }
            Err(error) => {
                let problem = format!("{error:#}");
                metrics::counter!("marquee_tls_reloads_total", "outcome" => "failed").increment(1);
                if watch.problem.as_deref() != Some(problem.as_str()) {
                    tracing::warn!(
                        %problem,
                        cert = %self.files.cert.display(),
                        "new TLS files refused; keeping the certificate in use"
                    );
                }
                watch.problem = Some(problem);
                watch.retry_at = Some(Instant::now() + self.retry_after_failure);
                false
            }
        }
    }

    /// Looks at the files every [`WATCH_INTERVAL`] until `shutdown` (so that bad files
    /// are reported even while no connection is made).
    pub async fn watch(self: Arc<Self>, shutdown: crate::shutdown::CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(WATCH_INTERVAL) => {}
            }
            self.refresh();
        }
    }
}

fn stamps(files: &TlsFiles) -> [Option<FileStamp>; 3] {
    [&files.cert, &files.key, &files.ca].map(|path| {
        // Follows symlinks: a swapped `..data` link gives other files.
        std::fs::metadata(path).ok().map(|metadata| FileStamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode: inode(&metadata),
        })
    })
}

#[cfg(unix)]
fn inode(metadata: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

fn read(files: &TlsFiles) -> anyhow::Result<Raw> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
    };
    Ok(Raw {
        cert: read(&files.cert, "certificate")?,
        key: read(&files.key, "private key")?,
        ca: read(&files.ca, "CA certificate")?,
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(raw: Raw) -> anyhow::Result<Material> {
    let provider = provider();
    let chain = CertificateDer::pem_slice_iter(&raw.cert)
        .collect::<Result<Vec<_>, _>>()
        .context("the certificate file is not PEM")?;
    let Some(leaf) = chain.first().cloned() else {
        bail!("the certificate file holds no certificate");
    };
    let key =
        PrivateKeyDer::from_pem_slice(&raw.key).context("the key file holds no private key")?;
    rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider)
        .context("the private key does not belong to the certificate")?;
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(&raw.ca) {
        roots
            .add(ca.context("the CA file is not PEM")?)
            .context("the CA file holds an unusable certificate")?;
    }
    if roots.is_empty() {
        bail!("the CA file holds no certificate");
    }
    let roots = Arc::new(roots);
    let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .context("building the client certificate verifier")?;
    // Our own certificate must be one our peers accept: signed by the CA, for client use
    // (servers check this), and valid now.
    verifier
        .verify_client_cert(&leaf, &chain[1..], UnixTime::now())
        .context("the certificate is not one the CA vouches for (CA, client use, validity)")?;
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain.clone(), key.clone_key())
        .context("the server certificate")?;
    server.alpn_protocols = vec![ALPN_H2.to_vec()];
    let mut client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS versions")?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .context("the client certificate")?;
    client.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Material {
        raw,
        leaf,
        server: Arc::new(server),
        client: Arc::new(client),
    })
}

// ---------------------------------------------------------------------------------------
// Server side

/// An accepted, authenticated TLS connection, as tonic serves it.
pub struct TlsIo(tokio_rustls::server::TlsStream<TcpStream>);

impl TlsIo {
    /// The client's certificate chain (leaf first).
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.0.get_ref().1.peer_certificates()
    }
}

impl Connected for TlsIo {
    // The TCP peer, as on a plaintext connection (`Request::remote_addr` keeps working).
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().0.connect_info()
    }
}

impl AsyncRead for TlsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// The connections of `listener` that complete a mutual TLS handshake with the current
/// server configuration of `tls`. Handshakes run concurrently (a slow or silent client
/// holds up nobody) and are bounded in time; refused ones are logged and counted in
/// `marquee_tls_handshake_failures_total`. Accepting stops when the stream is dropped.
pub fn incoming(
    listener: TcpListener,
    tls: Arc<ReloadingTls>,
) -> impl futures::Stream<Item = Result<TlsIo, std::io::Error>> + Send + 'static {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<TlsIo>(64);
    tokio::spawn(accept(listener, tls, sender));
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx).map(|io| io.map(Ok)))
}

async fn accept(
    listener: TcpListener,
    tls: Arc<ReloadingTls>,
    sender: tokio::sync::mpsc::Sender<TlsIo>,
) {
    use futures::StreamExt as _;
    let mut connections =
        tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    loop {
        let next = tokio::select! {
            () = sender.closed() => return,
            next = connections.next() => next,
        };
        let stream = match next {
            None => return,
            Some(Ok(stream)) => stream,
            Some(Err(error)) => {
                // Out of file descriptors and the like: do not spin.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config());
        let sender = sender.clone();
        tokio::spawn(async move {
            let peer = stream.peer_addr().ok();
            let refused =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(io)) => {
                        let _ = sender.send(TlsIo(io)).await;
                        return;
                    }
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => format!("no handshake within {HANDSHAKE_TIMEOUT:?}"),
                };
            metrics::counter!("marquee_tls_handshake_failures_total").increment(1);
            tracing::warn!(peer = ?peer, reason = %refused, "TLS connection refused");
        });
    }
}

// ---------------------------------------------------------------------------------------
// Client side

/// Connects channels over TCP + TLS with the current client configuration, checking the
/// server's certificate against the host of the URL (tonic's
/// `Endpoint::connect_with_connector_lazy`).
#[derive(Clone)]
pub struct Connector {
    config: ConfigSource,
    /// The name the server's certificate must carry when it is not the URL's host (a
    /// balanced channel dials an address of the host: [`crate::balance`]).
    server_name: Option<String>,
}

#[derive(Clone)]
enum ConfigSource {
    Reloading(Arc<ReloadingTls>),
    #[cfg(test)]
    Fixed(Arc<ClientConfig>),
}

impl Connector {
    pub fn new(tls: Arc<ReloadingTls>) -> Self {
        Self {
            config: ConfigSource::Reloading(tls),
            server_name: None,
        }
    }

    /// Checks the server's certificate against `name` instead of the URL's host.
    pub fn with_server_name(self, name: &str) -> Self {
        Self {
            server_name: Some(name.to_string()),
            ..self
        }
    }

    #[cfg(test)]
    fn fixed(config: Arc<ClientConfig>) -> Self {
        Self {
            config: ConfigSource::Fixed(config),
            server_name: None,
        }
    }

    fn client_config(&self) -> Arc<ClientConfig> {
        match &self.config {
            ConfigSource::Reloading(tls) => tls.client_config(),
            #[cfg(test)]
            ConfigSource::Fixed(config) => config.clone(),
        }
    }
}

/// The stream a [`Connector`] makes.
pub type ClientIo = hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;

impl tower::Service<http::Uri> for Connector {
    type Response = ClientIo;
    type Error = std::io::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let config = self.client_config();
        let server_name = self.server_name.clone();
        Box::pin(async move {
            let invalid =
                |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
            let host = uri
                .host()
                .ok_or_else(|| invalid(format!("{uri}: no host")))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                });
            let checked = server_name.unwrap_or_else(|| host.clone());
            let name = ServerName::try_from(checked.clone())
                .map_err(|_| invalid(format!("{checked:?} is not a DNS name or IP address")))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(hyper_util::rt::TokioIo::new(tls))
        })
    }
}

#[cfg(test)]
mod tests;
