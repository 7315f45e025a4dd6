//! Mutual TLS against a real tonic server (the health service) with certificates made
//! here by rcgen.

use super::*;
use crate::grpc;
use crate::service_identity::{IdentityVerifier, ServiceIdentity};
use crate::shutdown::CancellationToken;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::path::Path;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// A certificate authority for tests.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A leaf: certificate and key, PEM.
struct Leaf {
    cert: String,
    key: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A certificate for server and client use naming `names` (DNS names or IPs).
    fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_for(
            names,
            &[
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        )
    }

    fn leaf_for(&self, names: &[&str], usages: &[ExtendedKeyUsagePurpose]) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        for name in names {
            params.subject_alt_names.push(match name.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into().unwrap()),
            });
        }
        params.extended_key_usages = usages.to_vec();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// The three files, written the way kubelet writes a mounted Secret: into a fresh
/// directory, published by swapping the `..data` symlink the file names point through.
struct Mounted {
    dir: tempfile::TempDir,
    version: u32,
}

impl Mounted {
    fn new(leaf: &Leaf, ca: &Ca) -> Self {
        let mut mounted = Self {
            dir: tempfile::tempdir().unwrap(),
            version: 0,
        };
        mounted.publish(&leaf.cert, &leaf.key, &ca.pem);
        for name in ["tls.crt", "tls.key", "ca.crt"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), mounted.dir.path().join(name))
                .unwrap();
        }
        mounted
    }

    fn publish(&mut self, cert: &str, key: &str, ca: &str) {
        self.version += 1;
        let root = self.dir.path();
        let version = format!("..version_{}", self.version);
        std::fs::create_dir(root.join(&version)).unwrap();
        for (name, text) in [("tls.crt", cert), ("tls.key", key), ("ca.crt", ca)] {
            std::fs::write(root.join(&version).join(name), text).unwrap();
        }
        let link = root.join("..data_tmp");
        std::os::unix::fs::symlink(&version, &link).unwrap();
        std::fs::rename(&link, root.join("..data")).unwrap();
    }

    fn files(&self) -> TlsFiles {
        let path = |name: &str| self.dir.path().join(name);
        TlsFiles {
            cert: path("tls.crt"),
            key: path("tls.key"),
            ca: path("ca.crt"),
        }
    }

    fn tls(&self) -> Arc<ReloadingTls> {
        let mut tls = ReloadingTls::load(self.files()).unwrap();
        tls.retry_after_failure = Duration::ZERO;
        Arc::new(tls)
    }
}

/// A health server over mutual TLS on 127.0.0.1; its URL and shutdown.
async fn start_server(tls: Arc<ReloadingTls>) -> (String, CancellationToken) {
    let (health, health_service) = crate::health::Health::new("test");
    health.set_ready(true).await;
    let router = grpc::server(
        grpc::SERVER_DEADLINE,
        &[],
        IdentityVerifier::trusting("test", &[&ServiceIdentity::generate("test")]),
    )
    .add_service(health_service);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(grpc::serve_with_tls(
        router,
        listener,
        Some(tls),
        stop.clone(),
    ));
    (format!("https://{addr}"), stop)
}

async fn check(channel: tonic::transport::Channel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel)
        .check(grpc::anonymous(HealthCheckRequest {
            service: String::new(),
        }))
        .await
        .map(|response| response.into_inner().status)
}

fn fixed_channel(url: &str, config: ClientConfig) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_string())
        .unwrap()
        .timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(Connector::fixed(Arc::new(config)))
}

fn client_config(trusting: &Ca, presenting: Option<&Leaf>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots.add(der(&trusting.pem)).unwrap();
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match presenting {
        Some(leaf) => builder
            .with_client_auth_cert(
                vec![der(&leaf.cert)],
                PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    config
}

/// The certificate the server at `url` presents to a new connection.
async fn served_certificate(url: &str, client: &ReloadingTls) -> CertificateDer<'static> {
    let addr = url.trim_start_matches("https://");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(client.client_config())
        .connect(name, tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

#[test]
fn settings_are_off_by_default_and_name_a_missing_file() {
    let common: crate::config::CommonSettings =
        crate::config::load_from("sample", Default::default()).unwrap();
    assert!(common.tls.files().unwrap().is_none());

    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([(
                "MARQUEE_CONFIG_FILE".to_string(),
                "/nonexistent.toml".to_string(),
            )])
            .collect()
    };
    let common: crate::config::CommonSettings = crate::config::load_from(
        "sample",
        env(&[
            ("MARQUEE_TLS__ENABLED", "true"),
            ("MARQUEE_TLS__CERT_FILE", "/tls/tls.crt"),
            ("MARQUEE_SAMPLE_TLS__CA_FILE", "/tls/ca.crt"),
        ]),
    )
    .unwrap();
    assert!(common.tls.enabled);
    let missing = common.tls.files().unwrap_err().to_string();
    assert!(missing.contains("MARQUEE_TLS__KEY_FILE"), "{missing}");

    let common: crate::config::CommonSettings = crate::config::load_from(
        "sample",
        env(&[
            ("MARQUEE_TLS__ENABLED", "true"),
            ("MARQUEE_TLS__CERT_FILE", "/tls/tls.crt"),
            ("MARQUEE_TLS__KEY_FILE", "/tls/tls.key"),
            ("MARQUEE_SAMPLE_TLS__CA_FILE", "/tls/ca.crt"),
        ]),
    )
    .unwrap();
    assert_eq!(
        common.tls.files().unwrap(),
        Some(TlsFiles {
            cert: "/tls/tls.crt".into(),
            key: "/tls/tls.key".into(),
            ca: "/tls/ca.crt".into(),
        })
    );
    let no_cert = TlsSettings {
        enabled: true,
        ..Default::default()
    };
    assert!(
        no_cert
            .files()
            .unwrap_err()
            .to_string()
            .contains("MARQUEE_TLS__CERT_FILE")
    );
}

#[test]
fn inconsistent_files_are_refused_at_start_up() {
    let ca = Ca::new("marquee-ca");
    let other = Ca::new("other-ca");
    let leaf = ca.leaf(&["marquee-auth"]);
    let stranger = other.leaf(&["marquee-auth"]);

    let key_of_another = Mounted::new(
        &Leaf {
            cert: leaf.cert.clone(),
            key: stranger.key.clone(),
        },
        &ca,
    );
    let error = format!(
        "{:#}",
        ReloadingTls::load(key_of_another.files()).unwrap_err()
    );
    assert!(error.contains("does not belong"), "{error}");

    let wrong_ca = Mounted::new(&stranger, &ca);
    let error = format!("{:#}", ReloadingTls::load(wrong_ca.files()).unwrap_err());
    assert!(error.contains("CA"), "{error}");

    let server_only = Mounted::new(
        &ca.leaf_for(&["marquee-auth"], &[ExtendedKeyUsagePurpose::ServerAuth]),
        &ca,
    );
    assert!(
        ReloadingTls::load(server_only.files()).is_err(),
        "no client use"
    );

    let good = Mounted::new(&leaf, &ca);
    let missing = TlsFiles {
        key: Path::new("/nonexistent/tls.key").into(),
        ..good.files()
    };
    let error = format!("{:#}", ReloadingTls::load(missing).unwrap_err());
    assert!(error.contains("/nonexistent/tls.key"), "{error}");

    assert!(ReloadingTls::load(good.files()).is_ok());
}

#[tokio::test]
async fn only_clients_with_a_certificate_of_the_ca_are_served() {
    let ca = Ca::new("marquee-ca");
    let server = Mounted::new(&ca.leaf(&["127.0.0.1", "marquee-auth"]), &ca);
    let (url, stop) = start_server(server.tls()).await;

    let client = Mounted::new(&ca.leaf(&["marquee-gateway"]), &ca);
    let served = grpc::channel_with_tls(&url, Some(&client.tls())).unwrap();
    assert_eq!(check(served.clone()).await.unwrap(), 1, "SERVING");
    assert_eq!(check(served).await.unwrap(), 1, "the connection is reused");

    let anonymous = fixed_channel(&url, client_config(&ca, None));
    assert!(check(anonymous).await.is_err(), "no client certificate");

    let other = Ca::new("other-ca");
    let foreign = fixed_channel(
        &url,
        client_config(&ca, Some(&other.leaf(&["marquee-gateway"]))),
    );
    assert!(check(foreign).await.is_err(), "a certificate of another CA");

    let plaintext = grpc::channel_with_tls(&url.replace("https", "http"), None).unwrap();
    assert!(check(plaintext).await.is_err(), "plaintext");

    // The client checks the server too: one whose certificate does not name the host it
    // was called by is refused.
    let (elsewhere, stop_elsewhere) =
        start_server(Mounted::new(&ca.leaf(&["marquee-billing"]), &ca).tls()).await;
    let misnamed = grpc::channel_with_tls(&elsewhere, Some(&client.tls())).unwrap();
    assert!(
        check(misnamed).await.is_err(),
        "a server not named by the URL"
    );

    stop.cancel();
    stop_elsewhere.cancel();
}

#[tokio::test]
async fn a_rotated_certificate_is_served_to_new_connections_without_a_restart() {
    let ca = Ca::new("marquee-ca");
    let first = ca.leaf(&["127.0.0.1"]);
    let mut server = Mounted::new(&first, &ca);
    let (url, stop) = start_server(server.tls()).await;
    let client = Mounted::new(&ca.leaf(&["marquee-gateway"]), &ca).tls();
    let before = grpc::channel_with_tls(&url, Some(&client)).unwrap();
    assert_eq!(check(before.clone()).await.unwrap(), 1);
    assert_eq!(served_certificate(&url, &client).await, der(&first.cert));

    // cert-manager renews: a new key and certificate from the same CA.
    let second = ca.leaf(&["127.0.0.1"]);
    server.publish(&second.cert, &second.key, &ca.pem);
    assert_eq!(served_certificate(&url, &client).await, der(&second.cert));
    let after = grpc::channel_with_tls(&url, Some(&client)).unwrap();
    assert_eq!(
        check(after).await.unwrap(),
        1,
        "served with the new certificate"
    );
    assert_eq!(check(before).await.unwrap(), 1, "open connections carry on");

    // Bad files: a key that is not the certificate's, then garbage. The last good
    // certificate stays.
    let third = ca.leaf(&["127.0.0.1"]);
    server.publish(&third.cert, &second.key, &ca.pem);
    assert_eq!(served_certificate(&url, &client).await, der(&second.cert));
    server.publish("not a certificate", "not a key", &ca.pem);
    assert_eq!(served_certificate(&url, &client).await, der(&second.cert));
    let still = grpc::channel_with_tls(&url, Some(&client)).unwrap();
    assert_eq!(check(still).await.unwrap(), 1);

    // Fixed files are picked up again.
    server.publish(&third.cert, &third.key, &ca.pem);
    assert_eq!(served_certificate(&url, &client).await, der(&third.cert));
    stop.cancel();
}

#[test]
fn the_client_certificate_rotates_too_and_unchanged_files_are_not_reloaded() {
    let ca = Ca::new("marquee-ca");
    let first = ca.leaf(&["marquee-gateway"]);
    let mut mounted = Mounted::new(&first, &ca);
    let tls = mounted.tls();
    let config = tls.client_config();
    assert!(
        Arc::ptr_eq(&config, &tls.client_config()),
        "nothing changed"
    );
    assert!(!tls.refresh());

    // The same bytes again (a resync of the Secret): kept as is.
    mounted.publish(&first.cert, &first.key, &ca.pem);
    assert!(!tls.refresh());
    assert!(Arc::ptr_eq(&config, &tls.client_config()));

    let second = ca.leaf(&["marquee-gateway"]);
    mounted.publish(&second.cert, &second.key, &ca.pem);
    assert!(!Arc::ptr_eq(&config, &tls.client_config()));
    assert_eq!(tls.certificate(), der(&second.cert));
}

#[tokio::test]
async fn a_service_does_not_start_with_tls_on_and_a_file_missing() {
    let common = crate::config::CommonSettings {
        tls: TlsSettings {
            enabled: true,
            cert_file: Some("/tls/tls.crt".into()),
            ca_file: Some("/tls/ca.crt".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let started = crate::service::Service::start("test.v1.Test", &common, CancellationToken::new());
    let Err(error) = started else {
        panic!("started without a key file");
    };
    assert!(
        error.to_string().contains("MARQUEE_TLS__KEY_FILE"),
        "{error}"
    );
    assert!(client_tls().is_none(), "nothing installed for the clients");
}

/// Resolves every name to 127.0.0.1.
struct Loopback;

impl crate::balance::Resolver for Loopback {
    fn resolve(
        &self,
        _host: &str,
    ) -> futures::future::BoxFuture<'static, std::io::Result<Vec<std::net::IpAddr>>> {
        Box::pin(async { Ok(vec![std::net::IpAddr::from([127, 0, 0, 1])]) })
    }
}

/// A channel balanced over the addresses of `url`'s host (all 127.0.0.1 here).
fn balanced_channel(url: &str, client: Arc<ReloadingTls>) -> crate::balance::GrpcChannel {
    let host = url
        .parse::<http::Uri>()
        .unwrap()
        .host()
        .unwrap()
        .to_string();
    crate::balance::balanced(
        grpc::endpoint(url).unwrap(),
        Some(Duration::from_secs(5)),
        host,
        Some(client),
        Arc::new(Loopback),
        Duration::from_millis(50),
    )
}

async fn check_balanced(channel: &crate::balance::GrpcChannel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel.clone())
        .check(grpc::anonymous(HealthCheckRequest {
            service: String::new(),
        }))
        .await
        .map(|response| response.into_inner().status)
}

/// A balanced channel dials addresses but checks the server's certificate against the
/// host name of the URL (a headless Service's name, on the pods' certificates).
#[tokio::test]
async fn balanced_channels_check_the_certificate_against_the_host_name() {
    let ca = Ca::new("marquee-ca");
    let client = Mounted::new(&ca.leaf(&["marquee-gateway"]), &ca).tls();
    let server = Mounted::new(&ca.leaf(&["marquee-auth.marquee.test"]), &ca);
    let (url, stop) = start_server(server.tls()).await;
    let named = url.replace("127.0.0.1", "marquee-auth.marquee.test");
    let channel = balanced_channel(&named, client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match check_balanced(&channel).await {
            Ok(status) => {
                assert_eq!(status, 1, "SERVING");
                break;
            }
            // Until the first answer calls go to the (unresolvable) name itself.
            Err(status) => assert!(
                tokio::time::Instant::now() < deadline,
                "never served: {status:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A server whose certificate names another service is refused.
    let (elsewhere, stop_elsewhere) =
        start_server(Mounted::new(&ca.leaf(&["marquee-billing.marquee.test"]), &ca).tls()).await;
    let misnamed = balanced_channel(
        &elsewhere.replace("127.0.0.1", "marquee-auth.marquee.test"),
        client,
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        assert!(
            check_balanced(&misnamed).await.is_err(),
            "a server not named by the URL"
        );
    }
    stop.cancel();
    stop_elsewhere.cancel();
}
