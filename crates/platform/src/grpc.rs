//! gRPC helpers: a server builder that opens a span per call continuing the caller's W3C
//! trace, a client interceptor that sends the current trace context, and serving until
//! shutdown.

use crate::principal::Principal;
use crate::service_identity::{IdentityVerifier, ServiceIdentity};
use crate::shutdown::CancellationToken;
use opentelemetry::propagation::{Extractor, Injector};
use std::time::Duration;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// How long a unary call may take on the server unless the caller's `grpc-timeout` is
/// shorter (the default of `CommonSettings::grpc_deadline_secs`).
pub const SERVER_DEADLINE: Duration = Duration::from_secs(30);

/// A tonic server builder with our defaults: TCP keepalive and [`server_layers`].
pub fn server(
    deadline: Duration,
    client_streams: &'static [&'static str],
    verifier: IdentityVerifier,
) -> GrpcServer {
    server_with(server_layers(deadline, client_streams, verifier))
}

/// [`server`] with layers already built (a service serves the same ones in process).
pub fn server_with(layers: ServerLayers) -> GrpcServer {
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .tcp_keepalive(Some(Duration::from_secs(60)))
        .layer(layers)
}

/// What every call to a service goes through, over any transport (a socket, or
/// [`crate::in_process`]): a span that continues the caller's W3C trace
/// ([`server_span`]), a metrics layer (`grpc_server_requests_total{method,code}`,
/// `grpc_server_request_duration_seconds{method}`), the caller's signed identity checked
/// by `verifier` on every call but health checks, and `deadline` on every call except
/// the client-streaming methods named in `client_streams` (an upload lasts as long as
/// its bytes keep coming; its handler bounds idle time instead).
pub fn server_layers(
    deadline: Duration,
    client_streams: &'static [&'static str],
    verifier: IdentityVerifier,
) -> ServerLayers {
    tower::ServiceBuilder::new()
        .layer(SpanLayer)
        .layer(MetricsLayer)
        .layer(IdentityLayer { verifier })
        .layer(DeadlineLayer {
            deadline,
            exempt: client_streams,
        })
        .into_inner()
}

/// The tonic server [`server`] builds.
pub type GrpcServer =
    tonic::transport::Server<tower::layer::util::Stack<ServerLayers, tower::layer::util::Identity>>;

/// The layers [`server_layers`] stacks (tower's `Stack` lists them innermost first).
pub type ServerLayers = tower::layer::util::Stack<
    DeadlineLayer,
    tower::layer::util::Stack<
        IdentityLayer,
        tower::layer::util::Stack<
            MetricsLayer,
            tower::layer::util::Stack<SpanLayer, tower::layer::util::Identity>,
        >,
    >,
>;

/// Health checks need no identity: load balancers and `is_serving` ask them.
const HEALTH_PATH_PREFIX: &str = "/grpc.health.v1.Health/";

/// Refuses, with `Unauthenticated`, every call whose `x-marquee-identity` does not
/// verify, and hands the verified caller to the handler in the request's extensions.
#[derive(Clone, Debug)]
pub struct IdentityLayer {
    verifier: IdentityVerifier,
}

impl<S> tower::Layer<S> for IdentityLayer {
    type Service = IdentityService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        IdentityService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct IdentityService<S> {
    inner: S,
    verifier: IdentityVerifier,
}

impl<S, B> tower::Service<http::Request<B>> for IdentityService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if !request.uri().path().starts_with(HEALTH_PATH_PREFIX) {
            match self.verifier.verify(request.headers()) {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                }
                Err(rejection) => {
                    tracing::warn!(
                        method = %request.uri().path(),
                        %rejection,
                        "call refused: service identity"
                    );
                    let refused = tonic::Status::unauthenticated(rejection.to_string());
                    return Box::pin(async move { Ok(refused.into_http()) });
                }
            }
        }
        Box::pin(self.inner.call(request))
    }
}

/// The routes a service mounts its gRPC services on (served with [`server_layers`]).
pub type GrpcRouter = tonic::service::Routes;

/// Answers `DEADLINE_EXCEEDED` when a call's answer takes longer than `deadline`,
/// except for the `exempt` method paths. (tonic's own `Server::timeout` cannot exempt
/// anything: it cut every upload at 30 s.)
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    deadline: Duration,
    exempt: &'static [&'static str],
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService {
            inner,
            layer: *self,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DeadlineService<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S, B> tower::Service<http::Request<B>> for DeadlineService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limited = !self.layer.exempt.contains(&request.uri().path());
        let deadline = self.layer.deadline;
        let call = self.inner.call(request);
        Box::pin(async move {
            if !limited {
                return call.await;
            }
            match tokio::time::timeout(deadline, call).await {
                Ok(result) => result,
                Err(_) => Ok(tonic::Status::deadline_exceeded(format!(
                    "no answer within {}s",
                    deadline.as_secs()
                ))
                .into_http()),
            }
        })
    }
}

/// The `code` label of a call the server's transport failed before any status (the
/// connection broke): not a gRPC status.
pub const TRANSPORT_FAILURE: &str = "transport";

/// The `code` label of `grpc_server_requests_total`: the status code's name as tonic
/// spells its variants (`Ok`, `InvalidArgument`, `DeadlineExceeded`, `Unavailable`…),
/// which the alerts, dashboards and canary analyses filter on. An unknown number in
/// `grpc-status` is `Unknown` (tonic's reading of it).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "Ok",
        Code::Cancelled => "Cancelled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// Counts calls (`grpc_server_requests_total{method,code}`, `code` named by
/// [`code_name`]) and their latency per method.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsLayer;

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for MetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_string();
        let started = std::time::Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await;
            // Errors before the handler answers are in the headers (trailers-only);
            // a successful unary answer carries its status in trailers: Ok.
            let code = match &result {
                Ok(response) => code_name(tonic::Code::from_bytes(
                    response
                        .headers()
                        .get("grpc-status")
                        .map_or(b"0".as_slice(), |v| v.as_bytes()),
                )),
                Err(_) => TRANSPORT_FAILURE,
            };
            metrics::counter!("grpc_server_requests_total", "method" => method.clone(), "code" => code).increment(1);
            metrics::histogram!("grpc_server_request_duration_seconds", "method" => method)
                .record(started.elapsed().as_secs_f64());
            result
        })
    }
}

/// The span of one incoming call, continuing the caller's trace; [`SpanLayer`] opens it
/// for every call (or pass it to `Server::trace_fn`).
pub fn server_span(request: &http::Request<()>) -> tracing::Span {
    call_span(request.uri().path(), request.headers())
}

fn call_span(method: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = %method,
    );
    // Reading the caller's context costs a few allocations; not when nothing records.
    if !span.is_disabled() {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(headers))
        });
        let _ = span.set_parent(parent);
    }
    span
}

/// Runs every call inside its [`server_span`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SpanLayer;

impl<S> tower::Layer<S> for SpanLayer {
    type Service = SpanService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SpanService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct SpanService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for SpanService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        use tracing::Instrument as _;
        let span = call_span(request.uri().path(), request.headers());
        let _entered = span.enter();
        self.inner.call(request).instrument(span.clone())
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled, finishing in-flight calls.
pub async fn serve<L>(
    router: tonic::transport::server::Router<L>,
    listener: impl Into<crate::listener::GrpcListener>,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error>
where
    L: tower::Layer<tonic::service::Routes> + Clone,
    L::Service: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
        > + Clone
        + Send
        + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    serve_with_tls(router, listener, None, shutdown).await
}

/// [`serve`], over mutual TLS when `tls` is given ([`crate::tls`]): only clients
/// presenting a certificate of the CA get through the handshake.
pub async fn serve_with_tls<L>(
    router: tonic::transport::server::Router<L>,
    listener: impl Into<crate::listener::GrpcListener>,
    tls: Option<std::sync::Arc<crate::tls::ReloadingTls>>,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error>
where
    L: tower::Layer<tonic::service::Routes> + Clone,
    L::Service: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
        > + Clone
        + Send
        + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    let listener = listener.into();
    if let Some(tls) = tls {
        return router
            .serve_with_incoming_shutdown(
                crate::tls::incoming(listener.into_tcp(), tls),
                shutdown.cancelled_owned(),
            )
            .await;
    }
    router
        .serve_with_incoming_shutdown(listener.incoming(), shutdown.cancelled_owned())
        .await
}

/// The deadline of a unary call between services unless the call sets its own.
pub const UNARY_DEADLINE: Duration = Duration::from_secs(15);

/// A lazily connecting channel to `url` (e.g. `http://127.0.0.1:50051`) whose calls all
/// get [`UNARY_DEADLINE`] (a request's own `grpc-timeout`, if shorter, wins). Over
/// mutual TLS when the process turned it on ([`crate::tls::init`]), whatever the URL's
/// scheme; the server's certificate must name the URL's host. A URL naming a host (not
/// an IP address) is balanced over the host's addresses ([`crate::balance`]). An
/// `in-process://` URL calls a service of this process directly ([`crate::in_process`]).
pub fn channel(url: &str) -> Result<crate::balance::GrpcChannel, tonic::transport::Error> {
    crate::balance::channel(url, Some(UNARY_DEADLINE), crate::tls::client_tls())
}

/// [`channel`] with the client TLS given (`None`: plaintext) instead of the process's,
/// always to the one endpoint the URL names (no balancing).
pub fn channel_with_tls(
    url: &str,
    tls: Option<&std::sync::Arc<crate::tls::ReloadingTls>>,
) -> Result<Channel, tonic::transport::Error> {
    Ok(connect_lazy(endpoint(url)?.timeout(UNARY_DEADLINE), tls))
}

/// A lazily connecting channel with no overall deadline, for services whose streams last
/// as long as their bytes keep coming. Its unary calls must set one: build them with
/// [`for_caller`] / [`anonymous`], which do. Over mutual TLS like [`channel`].
pub fn streaming_channel(
    url: &str,
) -> Result<crate::balance::GrpcChannel, tonic::transport::Error> {
    crate::balance::channel(url, None, crate::tls::client_tls())
}

pub(crate) fn connect_lazy(
    endpoint: Endpoint,
    tls: Option<&std::sync::Arc<crate::tls::ReloadingTls>>,
) -> Channel {
    match tls {
        None => endpoint.connect_lazy(),
        Some(tls) => endpoint.connect_with_connector_lazy(crate::tls::Connector::new(tls.clone())),
    }
}

pub(crate) fn endpoint(url: &str) -> Result<Endpoint, tonic::transport::Error> {
    Ok(Endpoint::from_shared(url.to_string())?
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30)))
}

/// A unary request made on behalf of a verified caller (the client's
/// [`CallInterceptor`] signs their identity into it) with the [`UNARY_DEADLINE`].
pub fn for_caller<T>(caller: &Principal, message: T) -> tonic::Request<T> {
    let mut request = anonymous(message);
    request.extensions_mut().insert(OnBehalfOf(caller.clone()));
    request
}

/// A unary request on nobody's behalf (register, login, token grant, JWKS): it still
/// carries the calling service's signed identity. With the [`UNARY_DEADLINE`].
pub fn anonymous<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(UNARY_DEADLINE);
    request
}

/// A streaming request on nobody's behalf (a download through a signed URL): no overall
/// deadline.
pub fn stream_anonymous<T>(message: T) -> tonic::Request<T> {
    tonic::Request::new(message)
}

/// A streaming request on behalf of `caller`: no overall deadline (the server bounds
/// idle time instead).
pub fn stream_for_caller<T>(caller: &Principal, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.extensions_mut().insert(OnBehalfOf(caller.clone()));
    request
}

/// Whom an outgoing request is made for, from [`for_caller`] to the [`CallInterceptor`]
/// (request extensions never leave the process).
#[derive(Clone, Debug)]
struct OnBehalfOf(Principal);

/// Whether the service at `url` answers the gRPC health check with SERVING (it has
/// started: consumers declared, listener up, dependencies usable).
pub async fn is_serving(url: &str) -> bool {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let Ok(channel) = channel(url) else {
        return false;
    };
    // Health checks need no identity (see `HEALTH_PATH_PREFIX`).
    let request = anonymous(HealthCheckRequest {
        service: String::new(),
    });
    matches!(
        HealthClient::new(channel).check(request).await,
        Ok(response) if response.get_ref().status == ServingStatus::Serving as i32
    )
}

/// Client interceptor for calls to service `audience`: signs the calling service's
/// identity (and whom the call is for, see [`for_caller`]) and sends the current span's
/// trace context as `traceparent`.
#[derive(Clone, Debug)]
pub struct CallInterceptor {
    identity: ServiceIdentity,
    audience: &'static str,
}

impl CallInterceptor {
    pub fn new(identity: ServiceIdentity, audience: &'static str) -> Self {
        Self { identity, audience }
    }
}

impl tonic::service::Interceptor for CallInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let on_behalf_of = request
            .extensions()
            .get::<OnBehalfOf>()
            .map(|OnBehalfOf(principal)| principal);
        let token = self.identity.token_for(self.audience, on_behalf_of);
        request
            .metadata_mut()
            .insert(crate::service_identity::IDENTITY_HEADER, token);
        inject_trace_context(request.metadata_mut());
        Ok(request)
    }
}

/// Writes the current span's trace context into gRPC metadata.
pub fn inject_trace_context(metadata: &mut MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata))
    });
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;
    use tower::{Layer, Service, ServiceExt};

    /// A call slower than the deadline gets DEADLINE_EXCEEDED, unless its method is an
    /// exempt client stream (an upload on a slow connection).
    #[tokio::test(start_paused = true)]
    async fn the_deadline_cuts_slow_calls_but_not_exempt_streams() {
        let layer = DeadlineLayer {
            deadline: Duration::from_secs(30),
            exempt: &["/svc/Upload"],
        };
        let slow = tower::service_fn(|_request: http::Request<()>| async {
            tokio::time::sleep(Duration::from_secs(120)).await;
            Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
        });
        let mut service = layer.layer(slow);
        let call = |path: &str| http::Request::builder().uri(path).body(()).unwrap();
        let cut = service
            .ready()
            .await
            .unwrap()
            .call(call("/svc/Get"))
            .await
            .unwrap();
        assert_eq!(cut.headers()["grpc-status"], "4", "DEADLINE_EXCEEDED");
        let upload = service
            .ready()
            .await
            .unwrap()
            .call(call("/svc/Upload"))
            .await
            .unwrap();
        assert!(
            upload.headers().get("grpc-status").is_none(),
            "the upload ran to its end"
        );
    }

    /// The server layer refuses calls without a verified identity (but not health
    /// checks) and hands the verified caller to the handler; the client interceptor signs
    /// whom a request built with `for_caller` is for.
    #[tokio::test]
    async fn identity_is_signed_by_the_client_and_checked_by_the_server() {
        use crate::identity::{PrincipalKind, Role};
        use crate::service_identity::{IdentitySettings, VerifiedCaller, generate_key_pair};
        use tonic::service::Interceptor;
        let (private, public) = generate_key_pair();
        let gateway = ServiceIdentity::from_settings(
            "gateway",
            &IdentitySettings {
                signing_key: Some(private),
                ..Default::default()
            },
        )
        .unwrap();
        let verifier = IdentityVerifier::from_settings(
            "auth",
            &IdentitySettings {
                trusted: [("gateway".to_string(), public)].into(),
                ..Default::default()
            },
        )
        .unwrap();
        let handler = tower::service_fn(|request: http::Request<()>| async move {
            let caller = request.extensions().get::<std::sync::Arc<VerifiedCaller>>();
            let subject = caller
                .and_then(|c| c.principal.as_ref())
                .map_or("-".to_string(), |p| p.subject.clone());
            let mut response = http::Response::new(tonic::body::Body::empty());
            response
                .headers_mut()
                .insert("x-subject", subject.parse().unwrap());
            Ok::<_, std::convert::Infallible>(response)
        });
        let mut service = IdentityLayer { verifier }.layer(handler);
        let send = |metadata: MetadataMap, path: &str| {
            let mut request = http::Request::builder().uri(path).body(()).unwrap();
            *request.headers_mut() = metadata.into_headers();
            request
        };

        let caller = Principal {
            kind: PrincipalKind::User,
            subject: "u1".into(),
            tenant_id: "t1".into(),
            roles: vec![Role::Admin],
            scopes: vec![],
        };
        let outgoing = for_caller(&caller, ());
        let signed = CallInterceptor::new(gateway, "auth")
            .call(outgoing)
            .unwrap();
        let answer = service.ready().await.unwrap();
        let answer = answer
            .call(send(signed.metadata().clone(), "/auth/GetMe"))
            .await
            .unwrap();
        assert_eq!(answer.headers()["x-subject"], "u1");

        let mut forged = MetadataMap::new();
        forged.insert("x-marquee-subject", "u1".parse().unwrap());
        forged.insert("x-marquee-roles", "admin".parse().unwrap());
        let refused = service.ready().await.unwrap();
        let refused = refused
            .call(send(forged.clone(), "/auth/GetMe"))
            .await
            .unwrap();
        assert_eq!(refused.headers()["grpc-status"], "16", "UNAUTHENTICATED");
        assert!(
            refused.headers().get("x-subject").is_none(),
            "the handler never ran"
        );

        let health = service.ready().await.unwrap();
        let health = health
            .call(send(forged, "/grpc.health.v1.Health/Check"))
            .await
            .unwrap();
        assert_eq!(health.headers()["x-subject"], "-");
    }

    /// Every status code is labelled by its tonic name, the names the alerts and canary
    /// analyses filter on.
    #[test]
    fn status_codes_are_labelled_by_name() {
        for number in 0..=16 {
            let code = tonic::Code::from(number);
            assert_eq!(code_name(code), format!("{code:?}"), "code {number}");
        }
        assert_eq!(code_name(tonic::Code::from_bytes(b"13")), "Internal");
        assert_eq!(code_name(tonic::Code::from_bytes(b"99")), "Unknown");
    }

    /// The metrics layer counts a plain answer as `Ok` and a trailers-only error by its
    /// name, never by its number.
    #[test]
    fn the_metrics_layer_labels_codes_by_name() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let answer = tower::service_fn(|request: http::Request<()>| async move {
                let response = if request.uri().path() == "/svc/Fail" {
                    tonic::Status::unavailable("down").into_http()
                } else {
                    http::Response::new(tonic::body::Body::empty())
                };
                Ok::<_, std::convert::Infallible>(response)
            });
            let mut service = MetricsLayer.layer(answer);
            for path in ["/svc/Get", "/svc/Fail"] {
                let request = http::Request::builder().uri(path).body(()).unwrap();
                futures::executor::block_on(service.call(request)).unwrap();
            }
        });
        let rendered = handle.render();
        assert!(
            rendered.contains(r#"grpc_server_requests_total{method="/svc/Get",code="Ok"} 1"#),
            "{rendered}"
        );
        assert!(
            rendered
                .contains(r#"grpc_server_requests_total{method="/svc/Fail",code="Unavailable"} 1"#),
            "{rendered}"
        );
    }

    #[test]
    fn extracts_parent_from_traceparent_header() {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let context = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(&headers))
        });
        let span_context = context.span().span_context().clone();
        assert_eq!(
            span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(span_context.is_remote());
    }

    /// A client call made inside a span sends its trace context, and the server's span
    /// continues the same trace.
    #[tokio::test]
    async fn trace_context_crosses_a_grpc_call() {
        use opentelemetry::trace::TracerProvider as _;
        use std::sync::{Arc, Mutex};
        use tonic_health::pb::HealthCheckRequest;
        use tonic_health::pb::health_client::HealthClient;
        use tracing::Instrument;
        use tracing_subscriber::layer::SubscriberExt;

        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        // Current-thread runtime: client, server and this default share one thread.
        let _default = tracing::subscriber::set_default(subscriber);

        let seen = Arc::new(Mutex::new(None::<String>));
        let recorder = seen.clone();
        let (health, health_service) = crate::health::Health::new("test");
        health.set_ready(true).await;
        let caller = ServiceIdentity::generate("test");
        let router = server(
            SERVER_DEADLINE,
            &[],
            IdentityVerifier::trusting("test", &[&caller]),
        )
        .trace_fn(move |request| {
            let span = server_span(request);
            let trace_id = span.context().span().span_context().trace_id().to_string();
            *recorder.lock().unwrap() = Some(trace_id);
            span
        })
        .add_service(health_service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(router, listener, stop.clone()));

        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(&headers))
        });
        let span = tracing::info_span!("client call");
        let _ = span.set_parent(parent);
        let mut client = HealthClient::with_interceptor(
            channel(&format!("http://{addr}")).unwrap(),
            CallInterceptor::new(caller, "test"),
        );
        let response = async {
            client
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
        }
        .instrument(span)
        .await
        .unwrap();
        assert_eq!(response.into_inner().status, 1, "SERVING");
        assert_eq!(
            seen.lock().unwrap().as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            "the server span continues the client's trace"
        );
        stop.cancel();
        server.await.unwrap().unwrap();
    }
}
