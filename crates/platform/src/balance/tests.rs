//! Balancing against real tonic servers on two loopback addresses (Linux answers on all
//! of 127.0.0.0/8), with a resolver the test controls.

use super::*;
use crate::shutdown::CancellationToken;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Answers with the addresses the test sets, counting the questions.
#[derive(Clone, Default)]
struct Listed {
    addresses: Arc<Mutex<Vec<IpAddr>>>,
    asked: Arc<AtomicUsize>,
}

impl Listed {
    fn set(&self, addresses: &[&str]) {
        *self.addresses.lock().unwrap() = addresses.iter().map(|a| a.parse().unwrap()).collect();
    }
}

impl Resolver for Listed {
    fn resolve(&self, _host: &str) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let addresses = self.addresses.lock().unwrap().clone();
        Box::pin(async move { Ok(addresses) })
    }
}

/// A plaintext health server on `ip:port` (0: any port); its port and call count.
async fn start(ip: &str, port: u16, stop: &CancellationToken) -> (u16, Arc<AtomicUsize>) {
    let (health, service) = crate::health::Health::new("test");
    health.set_ready(true).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let listener = tokio::net::TcpListener::bind((ip, port)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = tonic::transport::Server::builder()
        .trace_fn(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            tracing::Span::none()
        })
        .add_service(service);
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(router.serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned()));
    (port, calls)
}

async fn check(channel: &GrpcChannel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel.clone())
        .check(crate::grpc::anonymous(HealthCheckRequest {
            service: String::new(),
        }))
        .await
        .map(|response| response.into_inner().status)
}

const INTERVAL: Duration = Duration::from_millis(50);

#[test]
fn only_host_names_are_balanced() {
    let host = |url: &str| balanced_host(&url.parse().unwrap());
    assert_eq!(host("http://127.0.0.1:50051"), None);
    assert_eq!(host("http://[::1]:50051"), None);
    assert_eq!(host("http://localhost:50051"), None);
    assert_eq!(
        host("http://marquee-auth.marquee.svc.cluster.local:50051").as_deref(),
        Some("marquee-auth.marquee.svc.cluster.local")
    );
    assert_eq!(host("https://auth:50051").as_deref(), Some("auth"));
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn calls_spread_over_every_address_and_a_removed_one_gets_none() {
    let stop = CancellationToken::new();
    let (port, first) = start("127.0.0.1", 0, &stop).await;
    let (_, second) = start("127.0.0.2", port, &stop).await;
    let resolver = Listed::default();
    resolver.set(&["127.0.0.1", "127.0.0.2"]);
    let url = format!("http://backends.marquee.test:{port}");
    let channel = balanced(
        crate::grpc::endpoint(&url).unwrap(),
        Some(Duration::from_secs(5)),
        "backends.marquee.test".into(),
        None,
        Arc::new(resolver.clone()),
        INTERVAL,
    );

    // The host name itself does not resolve: calls made before the first answer fail.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while check(&channel).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "never served");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.store(0, Ordering::SeqCst);
    second.store(0, Ordering::SeqCst);
    for _ in 0..40 {
        assert_eq!(check(&channel).await.unwrap(), 1, "SERVING");
    }
    let (a, b) = (first.load(Ordering::SeqCst), second.load(Ordering::SeqCst));
    assert_eq!(a + b, 40);
    assert!(a > 0 && b > 0, "both addresses get calls: {a} and {b}");

    // 127.0.0.2 leaves the answer (its pod went away): it gets no more calls.
    resolver.set(&["127.0.0.1"]);
    let asked = resolver.asked.load(Ordering::SeqCst);
    while resolver.asked.load(Ordering::SeqCst) < asked + 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check(&channel).await.unwrap();
    first.store(0, Ordering::SeqCst);
    second.store(0, Ordering::SeqCst);
    for _ in 0..20 {
        assert_eq!(check(&channel).await.unwrap(), 1);
    }
    assert_eq!(first.load(Ordering::SeqCst), 20);
    assert_eq!(
        second.load(Ordering::SeqCst),
        0,
        "a removed address gets no call"
    );

    // An empty answer (every pod unready for a moment) keeps what there is.
    resolver.set(&[]);
    let asked = resolver.asked.load(Ordering::SeqCst);
    while resolver.asked.load(Ordering::SeqCst) < asked + 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(check(&channel).await.unwrap(), 1);

    // Dropping the channel stops the resolving.
    drop(channel);
    tokio::time::sleep(INTERVAL * 3).await;
    let asked = resolver.asked.load(Ordering::SeqCst);
    tokio::time::sleep(INTERVAL * 4).await;
    assert_eq!(
        resolver.asked.load(Ordering::SeqCst),
        asked,
        "the resolving task outlived its channel"
    );
    stop.cancel();
}

#[test]
fn the_resolve_interval_is_process_wide_and_at_least_a_second() {
    assert_eq!(DEFAULT_RESOLVE_INTERVAL, Duration::from_secs(10));
    set_resolve_interval(Duration::from_millis(10));
    assert_eq!(resolve_interval(), Duration::from_secs(1));
    set_resolve_interval(DEFAULT_RESOLVE_INTERVAL);
    assert_eq!(resolve_interval(), DEFAULT_RESOLVE_INTERVAL);
}
