//! The campaign service's errors and their single mapping to the platform error (and
//! from there to gRPC status and problem+json).

use marquee_platform::{Error, ErrorKind};

pub type Result<T, E = CampaignError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request is valid but the resource is not in a state that allows it.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The AI provider failed (after its retries); `kind` is the metric's outcome.
    #[error("AI generation failed ({kind}): {message}")]
    Generation { kind: &'static str, message: String },
    /// The work was cancelled (a job's cancel).
    #[error("cancelled")]
    Cancelled,
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// Another service answered with an error; passed through as it is.
    #[error(transparent)]
    Upstream(Error),
    #[error("{0}")]
    Internal(String),
}

impl CampaignError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn generation(kind: &'static str, message: impl Into<String>) -> Self {
        Self::Generation {
            kind,
            message: message.into(),
        }
    }
}

impl From<marquee_bus::BusError> for CampaignError {
    fn from(error: marquee_bus::BusError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<tonic::Status> for CampaignError {
    fn from(status: tonic::Status) -> Self {
        Self::Upstream(Error::from(status))
    }
}

impl From<CampaignError> for Error {
    fn from(error: CampaignError) -> Self {
        let message = error.to_string();
        match error {
            CampaignError::Invalid { code, .. } => Error::invalid(code, message),
            CampaignError::NotFound(_) => Error::not_found(message),
            CampaignError::Forbidden(_) => Error::forbidden("forbidden", message),
            CampaignError::Conflict { code, .. } => Error::new(ErrorKind::Conflict, code, message),
            CampaignError::Generation { .. } => {
                Error::new(ErrorKind::Unavailable, "ai_unavailable", message)
            }
            CampaignError::Cancelled => Error::new(ErrorKind::Conflict, "cancelled", message),
            CampaignError::Upstream(error) => error,
            CampaignError::Database(cause) => Error::internal(cause),
            CampaignError::Internal(cause) => Error::internal(cause),
        }
    }
}

impl From<CampaignError> for tonic::Status {
    fn from(error: CampaignError) -> Self {
        Error::from(error).to_status()
    }
}

impl From<marquee_platform::input::Violation> for CampaignError {
    fn from(violation: marquee_platform::input::Violation) -> Self {
        Self::Invalid {
            code: violation.code,
            message: violation.message,
        }
    }
}
