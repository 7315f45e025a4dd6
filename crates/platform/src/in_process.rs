//! Calls between services of one process, without a socket: the embedded fleet's
//! transport (`marquee up`).
//!
//! Every service of the embedded fleet runs in one process. Over a socket (loopback TCP,
//! then Unix-domain sockets) each call between two of them was framed in HTTP/2 twice,
//! written to the kernel and read back, and handed from the caller's thread to the
//! connection's task and the server's task and back: most of the request path's cost
//! (`docs/benchmarks.md`, "Request path"). Here a service registers its gRPC server —
//! the same router and the same layers as on its port: signed identity checked,
//! deadline, metrics, span — under an `in-process://` URL, and a channel to that URL
//! calls the server's tower service directly, in a task on the service's runtime.
//! What stays: the
//! protobuf encoding both ways, the signed identity and its check, deadlines (the
//! channel's timeout and `grpc-timeout`, as tonic's channel applies them), status
//! codes and trailers, streaming bodies (pulled by the server as the caller produces
//! them, so memory stays bounded as over HTTP/2). What goes: HTTP/2 and the socket.
//!
//! A call whose caller goes away (a dropped future) drops the server's handler with
//! it, as an HTTP/2 reset does. A URL with no server registered, or whose server is
//! shutting down, answers `UNAVAILABLE` like a refused connection. The service still
//! listens on its TCP port (readiness, tools, tests), and in a cluster each service is
//! its own pod and only TCP is used.

use crate::balance::{BoxError, ChannelError, GrpcChannel};
use crate::shutdown::CancellationToken;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio_util::task::AbortOnDropHandle;
use tonic::body::Body;
use tower::ServiceExt as _;
use tower::util::BoxCloneSyncService;

/// The scheme of an in-process address.
const SCHEME: &str = "in-process://";

/// A service's gRPC server as the transport would call it.
pub type ServerService = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// The servers of this process, by address.
static SERVERS: LazyLock<RwLock<HashMap<String, Registered>>> = LazyLock::new(Default::default);

/// Makes every address unique, so that two fleets in one process (the tests) never meet.
static NEXT: AtomicU64 = AtomicU64::new(1);

#[derive(Clone)]
struct Registered {
    server: ServerService,
    /// Cancelled when the service begins to shut down: from then on, new calls are
    /// refused, as a server that stopped accepting connections refuses them.
    shutdown: CancellationToken,
    /// The runtime the service runs on, where its calls run too.
    runtime: tokio::runtime::Handle,
}

/// A new in-process address for `service` (e.g. `in-process://auth.7`); nothing
/// answers there until a server registers it.
pub fn address(service: &str) -> String {
    format!("{SCHEME}{service}.{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Whether `url` is an in-process address.
pub fn is_in_process_url(url: &str) -> bool {
    url.starts_with(SCHEME)
}

/// `routes` behind `layers` (a service's [`crate::grpc::server_layers`]), as the
/// in-process transport calls them.
pub fn server(layers: &crate::grpc::ServerLayers, routes: tonic::service::Routes) -> ServerService {
    let layered = tower::Layer::layer(layers, routes.prepare());
    ServerService::new(tower::ServiceExt::<http::Request<Body>>::map_err(
        layered,
        |never: std::convert::Infallible| -> BoxError { match never {} },
    ))
}

/// Serves `server` at `address` until the returned guard is dropped, refusing new calls
/// once `shutdown` is cancelled. Calls run on the runtime this is called on (the
/// service's). A server registered at the same address before is replaced.
pub fn register(address: &str, server: ServerService, shutdown: CancellationToken) -> Registration {
    let runtime = tokio::runtime::Handle::current();
    let mut servers = SERVERS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    servers.insert(
        address.to_string(),
        Registered {
            server,
            shutdown,
            runtime,
        },
    );
    Registration {
        address: address.to_string(),
    }
}

/// Keeps a server registered; dropping it removes the server (calls in flight finish).
#[derive(Debug)]
pub struct Registration {
    address: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut servers = SERVERS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        servers.remove(&self.address);
    }
}

fn lookup(address: &str) -> Option<Registered> {
    let servers = SERVERS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    servers.get(address).cloned()
}

/// A channel to the server at `address`, whose calls all get `timeout` (a request's own
/// `grpc-timeout`, if shorter, wins). Like tonic's lazy channel it connects to nothing
/// when made: each call finds the server then.
pub fn channel(address: &str, timeout: Option<Duration>) -> GrpcChannel {
    BoxCloneSyncService::new(InProcessChannel {
        address: Arc::from(address),
        timeout,
    })
}

#[derive(Clone)]
struct InProcessChannel {
    address: Arc<str>,
    timeout: Option<Duration>,
}

impl tower::Service<http::Request<Body>> for InProcessChannel {
    type Response = http::Response<Body>;
    type Error = ChannelError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let timeout = match (self.timeout, grpc_timeout(request.headers())) {
            (Some(channel), Some(call)) => Some(channel.min(call)),
            (channel, call) => channel.or(call),
        };
        let Some(Registered {
            server,
            shutdown,
            runtime,
        }) = lookup(&self.address)
        else {
            let refused = tonic::Status::unavailable(format!("nothing serves {}", self.address));
            return Box::pin(async move { Ok(refused.into_http()) });
        };
        if shutdown.is_cancelled() {
            let refused = tonic::Status::unavailable(format!("{} is shutting down", self.address));
            return Box::pin(async move { Ok(refused.into_http()) });
        }
        // On the service's runtime, not the caller's: what the service opens while
        // answering (database connections, HTTP clients) belongs to its runtime and
        // outlives the caller's (the gateway's workers stop first). Dropping the call
        // aborts it there, as an HTTP/2 reset drops the server's handler.
        let call = AbortOnDropHandle::new(runtime.spawn(server.oneshot(request)));
        let call = async move {
            match call.await {
                Ok(answer) => answer,
                // The handler panicked (or the runtime is going away).
                Err(failed) => Err(BoxError::from(failed)),
            }
        };
        Box::pin(async move {
            let answer = match timeout {
                None => call.await,
                Some(timeout) => match tokio::time::timeout(timeout, call).await {
                    Ok(answer) => answer,
                    // As tonic's channel reports an expired timeout.
                    Err(_) => Err(tonic::TimeoutExpired(()).into()),
                },
            };
            answer.map_err(ChannelError::new)
        })
    }
}

/// The `grpc-timeout` of a request (gRPC over HTTP/2: at most 8 digits and a unit); an
/// unreadable one is ignored, as tonic's channel ignores it.
fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::Service as _;

    fn headers(timeout: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-timeout", timeout.parse().unwrap());
        headers
    }

    #[test]
    fn grpc_timeouts_are_read_as_the_protocol_writes_them() {
        assert_eq!(grpc_timeout(&headers("15S")), Some(Duration::from_secs(15)));
        assert_eq!(
            grpc_timeout(&headers("250m")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            grpc_timeout(&headers("2H")),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(
            grpc_timeout(&headers("99999999u")),
            Some(Duration::from_micros(99_999_999))
        );
        for unreadable in ["", "S", "15", "15s", "-1S", "123456789S", "1.5S"] {
            let mut map = http::HeaderMap::new();
            if let Ok(value) = unreadable.parse() {
                map.insert("grpc-timeout", value);
            }
            assert_eq!(grpc_timeout(&map), None, "{unreadable:?}");
        }
        assert_eq!(grpc_timeout(&http::HeaderMap::new()), None);
    }

    fn request() -> http::Request<Body> {
        http::Request::builder()
            .uri("/test.v1.Test/Call")
            .body(Body::empty())
            .unwrap()
    }

    /// The `grpc-status` of a call made on `channel`.
    async fn status_of(channel: &mut GrpcChannel) -> Option<String> {
        let answer = channel
            .ready()
            .await
            .unwrap()
            .call(request())
            .await
            .unwrap();
        let status = answer.headers().get("grpc-status")?.to_str().ok()?;
        Some(status.to_string())
    }

    /// A server that answers OK after `delay`, on the thread it runs on, and marks
    /// `dropped` if its work is dropped before it answers.
    fn slow_server(
        delay: Duration,
        thread: Arc<std::sync::Mutex<Option<String>>>,
        dropped: Arc<std::sync::atomic::AtomicBool>,
    ) -> ServerService {
        struct MarkIfDropped(Arc<std::sync::atomic::AtomicBool>, bool);
        impl MarkIfDropped {
            fn finished(&mut self) {
                self.1 = true;
            }
        }
        impl Drop for MarkIfDropped {
            fn drop(&mut self) {
                if !self.1 {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
        }
        ServerService::new(tower::service_fn(move |_: http::Request<Body>| {
            let thread = thread.clone();
            let mut guard = MarkIfDropped(dropped.clone(), false);
            async move {
                *thread.lock().unwrap() = std::thread::current().name().map(str::to_string);
                tokio::time::sleep(delay).await;
                guard.finished();
                Ok::<_, BoxError>(tonic::Status::ok("").into_http())
            }
        }))
    }

    #[tokio::test]
    async fn calls_run_on_the_services_runtime_and_end_at_its_shutdown() {
        // The service's own runtime, as in the fleet: not the caller's.
        let service_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("service-runtime")
            .enable_all()
            .build()
            .unwrap();
        let address = address("test");
        let shutdown = CancellationToken::new();
        let thread = Arc::new(std::sync::Mutex::new(None));
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let server = slow_server(Duration::ZERO, thread.clone(), dropped);
        let registration = service_runtime
            .spawn({
                let (address, shutdown) = (address.clone(), shutdown.clone());
                async move { register(&address, server, shutdown) }
            })
            .await
            .unwrap();
        let mut channel = channel(&address, Some(Duration::from_secs(5)));

        assert_eq!(status_of(&mut channel).await.as_deref(), Some("0"));
        assert_eq!(thread.lock().unwrap().as_deref(), Some("service-runtime"));

        // Shutting down: new calls are refused as by a closed port.
        shutdown.cancel();
        assert_eq!(
            status_of(&mut channel).await.as_deref(),
            Some("14"),
            "UNAVAILABLE"
        );
        // Gone: the same.
        drop(registration);
        assert_eq!(
            status_of(&mut channel).await.as_deref(),
            Some("14"),
            "UNAVAILABLE"
        );
        service_runtime.shutdown_background();
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_fails_and_its_work_is_dropped() {
        let address = address("test");
        let thread = Arc::new(std::sync::Mutex::new(None));
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let _registration = register(
            &address,
            slow_server(Duration::from_secs(30), thread, dropped.clone()),
            CancellationToken::new(),
        );
        // The request's own grpc-timeout is shorter than the channel's: it wins.
        let mut call = request();
        call.headers_mut()
            .insert("grpc-timeout", "50m".parse().unwrap());
        let mut channel = channel(&address, Some(Duration::from_secs(15)));
        let started = std::time::Instant::now();
        let failed = channel.ready().await.unwrap().call(call).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        // Reported as tonic's channel reports it (tonic makes it a status).
        let expired = std::error::Error::source(&failed).unwrap();
        assert!(expired.is::<tonic::TimeoutExpired>(), "{failed}");
        // The server's work was aborted, as an HTTP/2 reset drops the handler.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !dropped.load(Ordering::SeqCst) {
            assert!(
                std::time::Instant::now() < deadline,
                "the work was not dropped"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[test]
    fn addresses_are_unique_and_recognised() {
        let first = address("auth");
        let second = address("auth");
        assert_ne!(first, second);
        assert!(is_in_process_url(&first));
        assert!(!is_in_process_url("http://127.0.0.1:50051"));
    }
}
