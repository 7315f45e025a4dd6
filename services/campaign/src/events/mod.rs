//! What the campaign service publishes (through the outbox). It consumes nothing yet:
//! its inputs come over gRPC.

pub mod publish;

/// This service's name on the bus (outbox rows, event `source`).
pub const SERVICE: &str = "campaign";
