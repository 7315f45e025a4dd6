//! The content service's errors, and their single mapping to the platform error (and
//! from there to gRPC status and problem+json).

use marquee_platform::{Error, ErrorKind};

pub type Result<T, E = ContentError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// Refused with a specific code (signed URLs: `invalid_signature`, `url_expired`).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// A `Range` that starts at or after the end of an object of `size` bytes.
    #[error("the requested range is not satisfiable: the object has {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedType(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A per-user limit (comments, follows); `retry_after` in seconds.
    #[error("{message}")]
    RateLimited {
        code: &'static str,
        message: String,
        retry_after: u64,
    },
    #[error(transparent)]
    Unauthenticated(Error),
    /// Billing's answer (quota exceeded, unavailable…), passed through unchanged.
    #[error(transparent)]
    Billing(Error),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("object storage error: {0}")]
    Storage(#[from] object_store::Error),
    #[error("event error: {0}")]
    Bus(#[from] marquee_bus::BusError),
    #[error("{0}")]
    Internal(String),
}

impl ContentError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn denied(code: &'static str, message: impl Into<String>) -> Self {
        Self::Denied {
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
}

/// A refused input (the rules the gateway also enforces): `InvalidArgument` with the
/// same code.
impl From<marquee_platform::input::Violation> for ContentError {
    fn from(violation: marquee_platform::input::Violation) -> Self {
        Self::Invalid {
            code: violation.code,
            message: violation.message,
        }
    }
}

impl From<ContentError> for Error {
    fn from(error: ContentError) -> Self {
        let message = error.to_string();
        match error {
            ContentError::Invalid { code, .. } => Error::invalid(code, message),
            ContentError::NotFound(_) => Error::not_found(message),
            ContentError::Forbidden(_) => Error::forbidden("forbidden", message),
            ContentError::Denied { code, .. } => Error::forbidden(code, message),
            ContentError::RangeNotSatisfiable { size } => Error::new(
                ErrorKind::RangeNotSatisfiable,
                "range_not_satisfiable",
                message,
            )
            .with_unsatisfied_range(size),
            ContentError::TooLarge { .. } => {
                Error::new(ErrorKind::PayloadTooLarge, "payload_too_large", message)
            }
            ContentError::UnsupportedType(_) => Error::new(
                ErrorKind::UnsupportedMediaType,
                "unsupported_file_type",
                message,
            ),
            ContentError::Conflict { code, .. } => Error::new(ErrorKind::Conflict, code, message),
            ContentError::RateLimited {
                code, retry_after, ..
            } => Error::new(ErrorKind::RateLimited, code, message).with_retry_after(retry_after),
            ContentError::Unauthenticated(error) => error,
            ContentError::Billing(error) => error,
            // An update whose row went away meanwhile (a concurrent delete): the
            // resource is gone, which is the caller's answer, not our failure.
            ContentError::Database(sea_orm::DbErr::RecordNotUpdated) => {
                Error::not_found("the resource no longer exists")
            }
            ContentError::Database(error) => Error::internal(error),
            ContentError::Storage(error) => Error::internal(error),
            ContentError::Bus(error) => Error::internal(error),
            ContentError::Internal(cause) => Error::internal(cause),
        }
    }
}

impl From<ContentError> for tonic::Status {
    fn from(error: ContentError) -> Self {
        Error::from(error).to_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_stable_codes() {
        let too_large = Error::from(ContentError::TooLarge { limit: 10 });
        assert_eq!(too_large.kind, ErrorKind::PayloadTooLarge);
        assert_eq!(too_large.code, "payload_too_large");
        let unsupported = Error::from(ContentError::UnsupportedType("x".into()));
        assert_eq!(unsupported.status().as_u16(), 415);
        let hidden = Error::from(ContentError::Internal("secret detail".into()));
        assert!(!hidden.message.contains("secret"));
        assert_eq!(
            Error::from(ContentError::NotFound("asset")).code,
            "not_found"
        );
        let limited = Error::from(ContentError::RateLimited {
            code: "comment_rate_limited",
            message: "slow down".into(),
            retry_after: 12,
        });
        assert_eq!(limited.status().as_u16(), 429);
        assert_eq!(limited.retry_after, Some(12));
        assert_eq!(limited.code, "comment_rate_limited");
        let range = Error::from(ContentError::RangeNotSatisfiable { size: 9 });
        assert_eq!(range.status().as_u16(), 416);
        assert_eq!(range.unsatisfied_range_size, Some(9));
        let denied = Error::from(ContentError::denied("url_expired", "late"));
        assert_eq!(
            (denied.status().as_u16(), &*denied.code),
            (403, "url_expired")
        );
    }
}
