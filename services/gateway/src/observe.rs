//! The outermost middleware: gives every request its [`RequestContext`] and a span
//! (continuing an incoming W3C `traceparent`), runs the rest of the stack inside the
//! platform's `REQUEST_ID` task-local (so problems carry the id), turns anything that is
//! not yet a problem into one, echoes `X-Request-Id`, adds the security headers every
//! response carries ([`security_headers`]), and records the access log line and the
//! Prometheus metrics `http_requests_total` / `http_request_duration_seconds`.

use crate::AppState;
use crate::errors;
use crate::request_id::{self, Forwarding, RequestContext};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use marquee_platform::error::REQUEST_ID;
use std::time::Instant;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Route label for requests that matched no route (keeps metric cardinality bounded).
const UNMATCHED: &str = "unmatched";

/// The Content-Security-Policy of API responses: JSON loads nothing and is framed by
/// nobody. A handler may set its own (the docs page does).
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// `Strict-Transport-Security` of responses to requests that came over TLS.
pub const HSTS: &str = "max-age=31536000";

/// Adds what every response carries: `X-Content-Type-Options: nosniff`,
/// `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, a Content-Security-Policy
/// ([`API_CSP`] unless the handler set one) and, when the request came over TLS,
/// `Strict-Transport-Security`.
pub fn security_headers(headers: &mut HeaderMap, tls: bool) {
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, API_CSP),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>();
    let access_log = state.is_none_or(|state| state.settings.access_log);
    // Without the state no proxy is trusted: the client is the peer.
    let no_proxies = Forwarding::default();
    let forwarding = state.map_or(&no_proxies, |state| &state.forwarding);
    let origin = forwarding.origin(req.peer_addr().map(|addr| addr.ip()), req.headers());
    // Our own listener is TLS, or a trusted proxy says the client came over https.
    let tls = req.app_config().secure() || origin.https;
    let context = RequestContext::from_request(&req, origin.client_ip);
    let request_id = context.request_id.clone();
    req.extensions_mut().insert(context.clone());
    let route = context.route.clone();
    let method = req.method().clone();
    let path = if access_log {
        req.path().to_string()
    } else {
        String::new()
    };

    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        http.request.method = %method,
        http.route = route.as_deref().unwrap_or(UNMATCHED),
        request_id = %request_id,
        http.response.status_code = tracing::field::Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(req.headers()))
    });
    let _ = span.set_parent(parent);

    let outcome = REQUEST_ID
        .scope(
            request_id.to_string(),
            next.call(req).instrument(span.clone()),
        )
        .await;
    let mut answer = REQUEST_ID.sync_scope(request_id.to_string(), || match outcome {
        Ok(response) => Answer::Served(errors::ensure_problem(response.map_into_boxed_body())),
        Err(error) => Answer::Failed(error.to_string(), errors::render(&error)),
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        answer
            .headers_mut()
            .insert(HeaderName::from_static(request_id::HEADER), value);
    }
    security_headers(answer.headers_mut(), tls);
    let status = answer.status().as_u16();
    let elapsed = started.elapsed();
    let route_label = route.as_deref().unwrap_or(UNMATCHED).to_string();
    span.record("http.response.status_code", status);
    metrics::counter!(
        "http_requests_total",
        "method" => method.to_string(),
        "route" => route_label.clone(),
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route_label.clone(),
    )
    .record(elapsed.as_secs_f64());
    if access_log {
        tracing::info!(
            target: "marquee_gateway::access",
            parent: None,
            method = %method,
            route = %route_label,
            path = %path,
            status,
            latency_ms = %format_args!("{:.3}", elapsed.as_secs_f64() * 1000.0),
            request_id = %request_id,
            client_ip = %context.client_ip,
            "request"
        );
    }
    match answer {
        Answer::Served(response) => Ok(response),
        Answer::Failed(message, response) => {
            Err(actix_web::error::InternalError::from_response(message, response).into())
        }
    }
}

/// The inner stack answers errors itself; an `Err` could only come from actix internals.
/// It is rendered as a problem inside the request-id scope and handed on as an error
/// carrying that exact response.
enum Answer {
    Served(ServiceResponse<BoxBody>),
    Failed(String, HttpResponse),
}

impl Answer {
    fn headers_mut(&mut self) -> &mut actix_web::http::header::HeaderMap {
        match self {
            Self::Served(response) => response.headers_mut(),
            Self::Failed(_, response) => response.headers_mut(),
        }
    }

    fn status(&self) -> actix_web::http::StatusCode {
        match self {
            Self::Served(response) => response.status(),
            Self::Failed(_, response) => response.status(),
        }
    }
}

struct HeaderExtractor<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}
