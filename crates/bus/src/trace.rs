//! W3C trace context across the bus.
//!
//! The producer's context is captured when the envelope is built (inside the REST or gRPC
//! call that caused the event) and travels twice: in the envelope's `trace` field and in
//! the AMQP headers `traceparent` / `tracestate`. The consumer's span takes it as parent,
//! so one trace runs from the REST call to every consumer — even though the outbox relay
//! publishes later, from its own task.

use lapin::types::{AMQPValue, FieldTable, LongString};
use marquee_proto::events::v1::{Envelope, TraceContext};
use opentelemetry::propagation::{Extractor, Injector};
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// The current span's context through the global propagator, if it has one.
pub fn current_trace_context() -> Option<TraceContext> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier)
    });
    let traceparent = carrier.remove(TRACEPARENT)?;
    Some(TraceContext {
        traceparent,
        tracestate: carrier.remove(TRACESTATE).unwrap_or_default(),
    })
}

/// Writes the envelope's trace context into AMQP headers.
pub fn inject_headers(envelope: &Envelope, headers: &mut FieldTable) {
    if let Some(trace) = &envelope.trace {
        if !trace.traceparent.is_empty() {
            headers.insert(
                TRACEPARENT.into(),
                AMQPValue::LongString(LongString::from(trace.traceparent.as_str())),
            );
        }
        if !trace.tracestate.is_empty() {
            headers.insert(
                TRACESTATE.into(),
                AMQPValue::LongString(LongString::from(trace.tracestate.as_str())),
            );
        }
    }
}

/// A text carrier over AMQP headers, for propagators.
pub struct FieldTableCarrier<'a>(pub &'a mut FieldTable);

impl Injector for FieldTableCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let Ok(key) = lapin::types::ShortString::try_new(key) {
            self.0
                .insert(key, AMQPValue::LongString(LongString::from(value)));
        }
    }
}

/// Reads text headers from an AMQP header table.
pub struct FieldTableExtractor<'a>(pub &'a FieldTable);

impl Extractor for FieldTableExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        header_str(self.0, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.inner().keys().map(|k| k.as_str()).collect()
    }
}

/// A text header's value (long or short string).
pub fn header_str<'a>(headers: &'a FieldTable, key: &str) -> Option<&'a str> {
    match headers.inner().get(key)? {
        AMQPValue::LongString(value) => std::str::from_utf8(value.as_bytes()).ok(),
        AMQPValue::ShortString(value) => Some(value.as_str()),
        _ => None,
    }
}

struct TraceContextExtractor<'a>(&'a TraceContext);

impl Extractor for TraceContextExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT if !self.0.traceparent.is_empty() => Some(&self.0.traceparent),
            TRACESTATE if !self.0.tracestate.is_empty() => Some(&self.0.tracestate),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

/// The span a consumer handles one delivery in, a child of the producer's span. The
/// headers win over the envelope's field when both are present.
pub fn consumer_span(
    envelope: &Envelope,
    queue: &str,
    attempt: u32,
    headers: Option<&FieldTable>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "bus.consume",
        otel.kind = "consumer",
        otel.name = %format!("{} process", envelope.r#type),
        messaging.system = "rabbitmq",
        messaging.destination.name = %queue,
        messaging.message.id = %envelope.id,
        event_id = %envelope.id,
        event_type = %envelope.r#type,
        tenant_id = %envelope.tenant_id,
        attempt,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        match headers.filter(|h| h.contains_key(TRACEPARENT)) {
            Some(headers) => propagator.extract(&FieldTableExtractor(headers)),
            None => match &envelope.trace {
                Some(trace) => propagator.extract(&TraceContextExtractor(trace)),
                None => opentelemetry::Context::new(),
            },
        }
    });
    let _ = span.set_parent(parent);
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_through_the_carrier() {
        let mut headers = FieldTable::default();
        FieldTableCarrier(&mut headers).set(TRACEPARENT, "00-abc-def-01".into());
        assert_eq!(header_str(&headers, TRACEPARENT), Some("00-abc-def-01"));
        let envelope = Envelope {
            trace: Some(TraceContext {
                traceparent: "00-1-2-01".into(),
                tracestate: "k=v".into(),
            }),
            ..Envelope::default()
        };
        let mut headers = FieldTable::default();
        inject_headers(&envelope, &mut headers);
        assert_eq!(header_str(&headers, TRACEPARENT), Some("00-1-2-01"));
        assert_eq!(header_str(&headers, TRACESTATE), Some("k=v"));
    }
}
