//! One trace per request: with an OTLP receiver, an upload carrying the client's W3C
//! `traceparent` gives ONE trace — the gateway's REST span, content's `UploadAsset`
//! span, billing's spans for content's quota calls, the `asset.uploaded` consumer's
//! processing span and tagging's consumer span of the `asset.processed` that follows —
//! connected parent to child.
//!
//! The fleet runs in this process, so it exports through one process-wide tracer (the
//! platform's OTLP exporter, pointed at the receiver): every span, whichever service
//! made it, reaches the receiver, and the check is on trace ids and parents.

use super::content::{BOUNDARY, form, png, token_of};
use super::{Options, spawn_fleet};
use marquee_testkit::otlp::{OtlpReceiver, ReceivedSpan};
use reqwest::StatusCode;
use std::sync::OnceLock;
use std::time::Duration;

const UPLOAD_METHOD: &str = "/marquee.content.v1.ContentService/UploadAsset";
const BILLING_METHODS: &str = "/marquee.billing.v1.BillingService/";

/// The process-wide receiver, with the process's tracer exporting to it (installed once,
/// on the receiver's own runtime so the exporter outlives every test's runtime).
fn receiver() -> &'static OtlpReceiver {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let receiver = OtlpReceiver::process_wide();
    let installed = *INSTALLED.get_or_init(|| {
        let runtime = receiver
            .runtime()
            .expect("the receiver runs on its own runtime");
        let _inside = runtime.enter();
        marquee_platform::telemetry::init_exporting_for_tests("marquee-e2e", receiver.endpoint())
            .is_some()
    });
    assert!(
        installed,
        "another subscriber was installed first (TEST_LOG?): the trace contract needs the \
         exporting one; run it without TEST_LOG"
    );
    receiver
}

/// What the trace must hold; `Err` names what is missing so far.
fn check_trace(spans: &[ReceivedSpan], client_span: &str) -> Result<(), String> {
    let rest = spans.iter().find(|span| {
        span.name == "http.request" && span.attribute("http.route") == Some("/api/v1/assets")
    });
    let upload = spans
        .iter()
        .find(|span| span.attribute("rpc.method") == Some(UPLOAD_METHOD));
    let billing = spans.iter().any(|span| {
        span.attribute("rpc.method")
            .is_some_and(|method| method.starts_with(BILLING_METHODS))
    });
    let mut missing = Vec::new();
    match rest {
        None => missing.push("the gateway's REST span".to_string()),
        Some(rest) if rest.parent_span_id != client_span => missing.push(format!(
            "the REST span's parent is {}, not the client's span",
            rest.parent_span_id
        )),
        Some(_) => {}
    }
    if upload.is_none() {
        missing.push(format!("content's {UPLOAD_METHOD} span"));
    }
    if !billing {
        missing.push("a billing server span (content's quota calls)".into());
    }
    // The event's consumer (content's processing), and the next hop: tagging consuming
    // the `asset.processed` that processing published (queues `<exchange>.<consumer>`).
    for (event, consumer) in [
        (
            "asset.uploaded",
            marquee_content::events::processing_worker::CONSUMER,
        ),
        (
            "asset.processed",
            marquee_tagging::events::asset_worker::CONSUMER,
        ),
    ] {
        let queue_suffix = format!(".{consumer}");
        if !spans.iter().any(|span| {
            span.attribute("event_type") == Some(event)
                && span
                    .attribute("messaging.destination.name")
                    .is_some_and(|queue| queue.ends_with(&queue_suffix))
        }) {
            missing.push(format!("the {event} consumer span of {consumer}"));
        }
    }
    // Connected: every span's parent is in the trace, but the REST span's (the client).
    let ids: std::collections::HashSet<&str> =
        spans.iter().map(|span| span.span_id.as_str()).collect();
    for span in spans {
        if span.parent_span_id != client_span && !ids.contains(span.parent_span_id.as_str()) {
            missing.push(format!(
                "the parent {} of {} {:?}",
                span.parent_span_id,
                span.name,
                span.attribute("rpc.method")
            ));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join("; "))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_one_trace_from_the_gateway_to_the_consumers() {
    upload_is_one_trace(Options::default(), "traced@traces.test").await;
}

/// The same across a real broker: the trace context rides in the AMQP message headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_one_trace_on_postgres_and_rabbitmq() {
    let options = Options {
        postgres: true,
        amqp: true,
        ..Default::default()
    };
    upload_is_one_trace(options, "traced-amqp@traces.test").await;
}

async fn upload_is_one_trace(options: Options, email: &str) {
    let receiver = receiver();
    let fleet = spawn_fleet(options).await;
    let token = token_of(&fleet, email).await;

    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let client_span = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let response = fleet
        .http
        .post(fleet.at("/api/v1/assets"))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{trace_id}-{client_span}-01"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(
            &[("title", "Traced")],
            Some(("traced.png", &png(64, 48, 5))),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // Spans arrive in batches, the consumers' after the event is relayed: poll, bounded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let missing = loop {
        match check_trace(&receiver.spans_of_trace(&trace_id), &client_span) {
            Ok(()) => break None,
            Err(missing) if tokio::time::Instant::now() > deadline => break Some(missing),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    if let Some(missing) = missing {
        // Where the spans that should have joined the trace went.
        let elsewhere: Vec<String> = receiver
            .spans()
            .iter()
            .filter(|span| {
                span.trace_id != trace_id && span.attribute("rpc.method") == Some(UPLOAD_METHOD)
            })
            .map(|span| span.trace_id.clone())
            .collect();
        panic!(
            "the upload is not one trace {trace_id}: missing {missing}; UploadAsset spans in \
             other traces: {elsewhere:?}"
        );
    }
    fleet.stop().await;
}
