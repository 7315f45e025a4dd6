//! Errors: [`BusError`] for the bus itself (publishing, topology, storage), and
//! [`HandlerError`], what a consumer's handler returns to ask for a retry or to park a
//! message at once.

use std::borrow::Cow;
use std::fmt;

pub type Result<T, E = BusError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The event cannot be sent as it is (bad type, name too long, no id). The caller's
    /// fault: retrying does not help.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// Settings that cannot work (bad URL, bad consumer name, bad binding).
    #[error("invalid bus configuration: {0}")]
    Config(String),
    /// The broker cannot be reached or dropped the connection; retry later.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused the message (negative publisher confirm).
    #[error("broker refused the message: {0}")]
    Nacked(String),
    /// The broker did not confirm within the configured time.
    #[error("broker did not confirm within {0:?}")]
    ConfirmTimeout(std::time::Duration),
    /// An operation the in-process bus cannot do from another process (CLI replay).
    #[error("{0}")]
    Unsupported(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("undecodable event: {0}")]
    Decode(#[from] prost::DecodeError),
}

impl BusError {
    /// A stable label for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) => "invalid_event",
            Self::Config(_) => "config",
            Self::Unavailable(_) => "unavailable",
            Self::Nacked(_) => "nacked",
            Self::ConfirmTimeout(_) => "confirm_timeout",
            Self::Unsupported(_) => "unsupported",
            Self::Database(_) => "database",
            Self::Decode(_) => "decode",
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_) | Self::Nacked(_) | Self::ConfirmTimeout(_) | Self::Database(_)
        )
    }
}

impl From<lapin::Error> for BusError {
    fn from(error: lapin::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<BusError> for marquee_platform::Error {
    fn from(error: BusError) -> Self {
        match error {
            BusError::InvalidEvent(message) => {
                marquee_platform::Error::invalid("invalid_event", message)
            }
            BusError::Unavailable(_) | BusError::ConfirmTimeout(_) | BusError::Nacked(_) => {
                tracing::warn!(%error, "event bus unavailable");
                marquee_platform::Error::new(
                    marquee_platform::ErrorKind::Unavailable,
                    "bus_unavailable",
                    "the event bus is unavailable, try again shortly",
                )
            }
            other => marquee_platform::Error::internal(other),
        }
    }
}

/// How a failed delivery is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Try again after a backoff; park in the dead-letter queue once attempts run out.
    Transient,
    /// Retrying cannot help (undecodable payload, unknown type): park at once.
    Permanent,
}

/// What a handler returns when it could not handle an event.
///
/// Any `std::error::Error` converts into a transient failure with `?`; use
/// [`HandlerError::permanent`] for events that can never succeed. The message ends up in
/// the dead-letter queue's `x-marquee-error` header, so keep secrets out of it.
#[derive(Debug, Clone)]
pub struct HandlerError {
    pub kind: FailureKind,
    pub message: Cow<'static, str>,
}

impl HandlerError {
    pub fn transient(message: impl fmt::Display) -> Self {
        Self {
            kind: FailureKind::Transient,
            message: Cow::Owned(message.to_string()),
        }
    }

    pub fn permanent(message: impl fmt::Display) -> Self {
        Self {
            kind: FailureKind::Permanent,
            message: Cow::Owned(message.to_string()),
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.kind == FailureKind::Permanent
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self::transient(error)
    }
}
