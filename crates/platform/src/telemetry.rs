//! One subscriber for every binary: `EnvFilter`, JSON or pretty logs, and an
//! OpenTelemetry layer. Spans always carry W3C trace ids (so `traceparent` propagates
//! through gRPC and, later, RabbitMQ); they are exported over OTLP only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            filter: "info,sqlx=warn,sea_orm=warn,h2=warn,tower=warn,hyper=warn".into(),
        }
    }
}

/// Flushes pending spans when dropped (at the end of `main`).
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("failed to flush traces: {error}");
        }
    }
}

/// Installs the global subscriber and the W3C trace-context propagator. Call once per
/// process; later calls (e.g. several services in one test process) are no-ops.
pub fn init(service_name: &str, settings: &LogSettings) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(settings.filter.clone()));

    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service_name.to_string())
            .build(),
    );
    let exporting = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some();
    if exporting {
        match otlp_exporter(None) {
            Ok(exporter) => builder = builder.with_batch_exporter(exporter),
            Err(error) => eprintln!("OTLP exporter disabled: {error}"),
        }
    }
    let provider = builder.build();
    let tracer = provider.tracer(service_name.to_string());
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);

    let fmt = match settings.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };

    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(otel)
        .with(fmt)
        .try_init()
        .is_ok();
    if installed {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    TelemetryGuard {
        provider: installed.then_some(provider),
    }
}

/// The OTLP/gRPC span exporter: to `endpoint`, else where the `OTEL_EXPORTER_OTLP_*`
/// variables say. Build it inside the Tokio runtime that is to carry the exports (its
/// channel's connection runs there; the batch processor's thread only hands it batches).
fn otlp_exporter(
    endpoint: Option<&str>,
) -> Result<opentelemetry_otlp::SpanExporter, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig;
    let builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    match endpoint {
        Some(endpoint) => builder.with_endpoint(endpoint).build(),
        None => builder.build(),
    }
}

/// For tests: installs, for the whole process, a subscriber that only exports spans (the
/// default filter, whatever `RUST_LOG` says; no log output) through [`init`]'s OTLP
/// exporter to `endpoint`, in batches every 100 ms. Call it inside a Tokio runtime that
/// outlives every span to export (see [`otlp_exporter`]). The provider comes back to
/// flush; `None` when a subscriber was installed before (e.g. by [`init_for_tests`]
/// with `TEST_LOG`) or the exporter could not be built.
pub fn init_exporting_for_tests(service_name: &str, endpoint: &str) -> Option<SdkTracerProvider> {
    use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor};
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = otlp_exporter(Some(endpoint)).ok()?;
    let batches = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(std::time::Duration::from_millis(100))
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service_name.to_string())
                .build(),
        )
        .with_span_processor(batches)
        .build();
    let otel =
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name.to_string()));
    tracing_subscriber::registry()
        .with(otel.with_filter(EnvFilter::new(LogSettings::default().filter)))
        .try_init()
        .ok()?;
    opentelemetry::global::set_tracer_provider(provider.clone());
    Some(provider)
}

/// For tests: a subscriber that stays silent unless `TEST_LOG` is set.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _guard = init("test", &LogSettings::default());
        std::mem::forget(_guard);
    }
}

/// The current span's W3C `traceparent`, if it has a valid trace context.
pub fn current_traceparent() -> Option<String> {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier)
    });
    carrier.remove("traceparent")
}
