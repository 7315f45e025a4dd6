//! Building, checking and decoding [`Envelope`]s.
//!
//! ```
//! # use marquee_bus::envelope::EventBuilder;
//! # let payload = prost_types::Timestamp::default();
//! let envelope = EventBuilder::new("asset.uploaded", "content")
//!     .tenant("tenant-1")
//!     .payload("google.protobuf.Timestamp", &payload)
//!     .build()
//!     .unwrap();
//! assert_eq!(envelope.r#type, "asset.uploaded");
//! ```

use crate::error::{BusError, HandlerError};
use crate::names;
use crate::trace;
use marquee_proto::events::v1::Envelope;
use prost::Message;
use prost_types::{Any, Timestamp};

const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// Builds an envelope: a fresh UUIDv7 id, `occurred_at` now, and the current span's W3C
/// trace context, so the consumer's span continues the caller's trace.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    envelope: Envelope,
}

impl EventBuilder {
    /// `event_type` is the routing key (`asset.uploaded`); `source` the producing service.
    pub fn new(event_type: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            envelope: Envelope {
                id: uuid::Uuid::now_v7().to_string(),
                r#type: event_type.into(),
                occurred_at: Some(now()),
                tenant_id: String::new(),
                source: source.into(),
                trace: None,
                payload: None,
            },
        }
    }

    pub fn tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.envelope.tenant_id = tenant_id.into();
        self
    }

    /// Packs `message` as `Any` with `type.googleapis.com/<full_name>`, e.g.
    /// `marquee.events.v1.UserRegistered`.
    pub fn payload(mut self, full_name: &str, message: &impl Message) -> Self {
        self.envelope.payload = Some(Any {
            type_url: format!("{TYPE_URL_PREFIX}{full_name}"),
            value: message.encode_to_vec(),
        });
        self
    }

    /// Packs a message that knows its own name (`prost::Name`).
    pub fn message<M: prost::Name>(self, message: &M) -> Self {
        self.payload(&M::full_name(), message)
    }

    /// Overrides the generated id (e.g. to derive it from a domain id).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.envelope.id = id.into();
        self
    }

    pub fn build(mut self) -> Result<Envelope, BusError> {
        self.envelope.trace = trace::current_trace_context();
        validate(&self.envelope)?;
        Ok(self.envelope)
    }
}

fn now() -> Timestamp {
    let now = chrono::Utc::now();
    Timestamp {
        seconds: now.timestamp(),
        nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// What every envelope must have before it is enqueued or published.
pub fn validate(envelope: &Envelope) -> Result<(), BusError> {
    names::validate_event_type(&envelope.r#type)?;
    if envelope.id.is_empty() || envelope.id.len() > 200 {
        return Err(BusError::InvalidEvent(
            "event id must be 1 to 200 bytes".into(),
        ));
    }
    if envelope.source.len() > 200 {
        return Err(BusError::InvalidEvent(
            "source must be at most 200 bytes".into(),
        ));
    }
    Ok(())
}

pub fn encode(envelope: &Envelope) -> Vec<u8> {
    envelope.encode_to_vec()
}

pub fn decode(bytes: &[u8]) -> Result<Envelope, BusError> {
    Ok(Envelope::decode(bytes)?)
}

/// Unpacks the payload for a handler, checking its type name. A missing or mismatched
/// payload is a permanent failure: retrying cannot fix it.
pub fn unpack<M: Message + Default>(
    envelope: &Envelope,
    full_name: &str,
) -> Result<M, HandlerError> {
    let payload = envelope
        .payload
        .as_ref()
        .ok_or_else(|| HandlerError::permanent(format!("{} has no payload", envelope.r#type)))?;
    let name = payload
        .type_url
        .rsplit_once('/')
        .map_or(payload.type_url.as_str(), |(_, name)| name);
    if name != full_name {
        return Err(HandlerError::permanent(format!(
            "{} carries {name}, expected {full_name}",
            envelope.r#type
        )));
    }
    M::decode(payload.value.as_slice())
        .map_err(|error| HandlerError::permanent(format!("undecodable {full_name}: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_valid_envelopes_with_time_ordered_ids() {
        let first = EventBuilder::new("asset.uploaded", "content")
            .tenant("t1")
            .payload(
                "google.protobuf.Timestamp",
                &Timestamp {
                    seconds: 5,
                    nanos: 0,
                },
            )
            .build()
            .unwrap();
        let second = EventBuilder::new("asset.uploaded", "content")
            .build()
            .unwrap();
        assert!(first.id < second.id, "UUIDv7 ids sort by creation");
        let back: Timestamp = unpack(&first, "google.protobuf.Timestamp").unwrap();
        assert_eq!(back.seconds, 5);
        let wrong = unpack::<Timestamp>(&first, "marquee.events.v1.UserRegistered").unwrap_err();
        assert!(wrong.is_permanent());
        assert_eq!(decode(&encode(&first)).unwrap(), first);
    }

    #[test]
    fn rejects_bad_types() {
        assert!(
            EventBuilder::new("Asset Uploaded", "content")
                .build()
                .is_err()
        );
        assert!(
            EventBuilder::new("asset.uploaded", "content")
                .id("")
                .build()
                .is_err()
        );
    }
}
