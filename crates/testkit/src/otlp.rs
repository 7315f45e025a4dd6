//! An OTLP/gRPC trace receiver (the collector's `TraceService`, as the OpenTelemetry
//! Collector serves it on port 4317) that keeps every span it is sent, for tests that
//! check what services export: which trace a span is in, its parent, its attributes.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let receiver = marquee_testkit::otlp::OtlpReceiver::start().await?;
//! // Point the exporter at receiver.endpoint(), do something traced, then:
//! let spans = receiver.spans_of_trace("4bf92f3577b34da6a3ce929d0e0e4736");
//! # Ok(()) }
//! ```

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One span as received.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The service that exported it (the resource's `service.name`).
    pub service: String,
    /// 32 lowercase hex digits, as in a `traceparent`.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    /// OTLP's `SpanKind`: 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    /// Every attribute, its value as text.
    pub attributes: BTreeMap<String, String>,
}

impl ReceivedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// A running receiver. Clones share the spans.
#[derive(Clone)]
pub struct OtlpReceiver {
    endpoint: String,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    runtime: Option<tokio::runtime::Handle>,
}

impl OtlpReceiver {
    /// Serves on a free loopback port, on the current Tokio runtime, while it runs.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let spans = Arc::new(Mutex::new(Vec::new()));
        let service = TraceServiceServer::new(Collector {
            spans: spans.clone(),
        });
        tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            if let Err(error) = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
            {
                eprintln!("the OTLP receiver stopped: {error}");
            }
        });
        Ok(Self {
            endpoint,
            spans,
            runtime: None,
        })
    }

    /// One receiver for the whole test process, on a runtime of its own thread, so that
    /// it outlives every test's runtime (a process-wide tracer exports to it for as long
    /// as the process lives). [`OtlpReceiver::runtime`] is that runtime: build the
    /// exporter inside it, for the same reason.
    pub fn process_wide() -> &'static Self {
        static RECEIVER: OnceLock<OtlpReceiver> = OnceLock::new();
        RECEIVER.get_or_init(|| {
            let (sender, started) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("otlp-receiver".into())
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .enable_all()
                        .build()
                        .expect("a runtime for the OTLP receiver");
                    let handle = runtime.handle().clone();
                    runtime.block_on(async move {
                        let receiver = Self::start().await.map(|mut receiver| {
                            receiver.runtime = Some(handle);
                            receiver
                        });
                        let _ = sender.send(receiver);
                        std::future::pending::<()>().await;
                    });
                })
                .expect("spawning the OTLP receiver's thread");
            started
                .recv()
                .expect("the OTLP receiver's thread started")
                .expect("the OTLP receiver listens")
        })
    }

    /// Where exporters send: `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The runtime the receiver runs on, when it has one of its own
    /// ([`OtlpReceiver::process_wide`]).
    pub fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.as_ref()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The spans received so far in the trace `trace_id` (32 hex digits).
    pub fn spans_of_trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        let trace_id = trace_id.to_ascii_lowercase();
        self.spans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|span| span.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

struct Collector {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|resource| {
                    resource
                        .attributes
                        .iter()
                        .find(|kv| kv.key == "service.name")
                })
                .map(|kv| text(kv.value.as_ref()))
                .unwrap_or_default();
            for span in resource_spans
                .scope_spans
                .into_iter()
                .flat_map(|scope| scope.spans)
            {
                received.push(ReceivedSpan {
                    service: service.clone(),
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: hex::encode(&span.parent_span_id),
                    name: span.name,
                    kind: span.kind,
                    attributes: attributes(&span.attributes),
                });
            }
        }
        self.spans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attributes(pairs: &[KeyValue]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
    }
}
