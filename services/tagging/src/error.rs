//! The tagging service's errors and their single mapping to the platform error (and
//! from there to gRPC status and problem+json).

use marquee_platform::{Error, ErrorKind};

pub type Result<T, E = TaggingError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum TaggingError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// Search, similar assets and tagging need the text model, and it is not loaded.
    #[error("AI tagging is off: {0}")]
    ModelsUnavailable(String),
    #[error("inference failed: {0}")]
    Inference(#[from] crate::inference::InferenceError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Unauthenticated(Error),
    #[error("{0}")]
    Internal(String),
}

impl TaggingError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl From<marquee_bus::BusError> for TaggingError {
    fn from(error: marquee_bus::BusError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<TaggingError> for Error {
    fn from(error: TaggingError) -> Self {
        let message = error.to_string();
        match error {
            TaggingError::Invalid { code, .. } => Error::invalid(code, message),
            TaggingError::NotFound(_) => Error::not_found(message),
            TaggingError::Forbidden(_) => Error::forbidden("forbidden", message),
            TaggingError::ModelsUnavailable(_) => {
                Error::new(ErrorKind::Unavailable, "ai_unavailable", message)
            }
            TaggingError::Inference(cause) => Error::internal(cause),
            TaggingError::Database(cause) => Error::internal(cause),
            TaggingError::Unauthenticated(error) => error,
            TaggingError::Internal(cause) => Error::internal(cause),
        }
    }
}

impl From<TaggingError> for tonic::Status {
    fn from(error: TaggingError) -> Self {
        Error::from(error).to_status()
    }
}

impl From<tonic::Status> for TaggingError {
    fn from(status: tonic::Status) -> Self {
        Self::Internal(format!("{}: {}", status.code(), status.message()))
    }
}
