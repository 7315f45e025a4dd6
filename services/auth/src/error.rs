//! The auth service's errors, and their single mapping to the platform error (and from
//! there to gRPC status and problem+json).

use marquee_platform::{Error, ErrorKind};

pub type Result<T, E = AuthError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts, try again later")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A verification or reset mail was sent moments ago.
    #[error("a message was sent moments ago; check your mail or try again later")]
    MailRecentlySent { retry_after_secs: u64 },
    #[error("the refresh token is invalid, expired or revoked")]
    RefreshTokenInvalid,
    #[error("the refresh token was already used; the session has been revoked")]
    RefreshTokenReused,
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// Refused with a code of its own (`invitation_required`, `invitation_invalid`):
    /// 403.
    #[error("{message}")]
    Refused {
        code: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Unauthenticated(Error),
    #[error("sign-in with {0} is not configured")]
    ProviderNotConfigured(&'static str),
    /// An external sign-in refused: `code` names the check that failed. The message
    /// never repeats what the provider sent.
    #[error("{message}")]
    ExternalSignIn {
        code: &'static str,
        message: &'static str,
    },
    #[error("the sign-in provider could not be reached, try again shortly")]
    ProviderUnavailable,
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Internal(String),
}

impl AuthError {
    /// A refused external sign-in (`code`: `state_invalid`, `id_token_invalid`, …).
    pub fn external(code: &'static str, message: &'static str) -> Self {
        Self::ExternalSignIn { code, message }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

/// A refused input (the rules the gateway also enforces): `InvalidArgument` with the
/// same code.
impl From<marquee_platform::input::Violation> for AuthError {
    fn from(violation: marquee_platform::input::Violation) -> Self {
        Self::Invalid {
            code: violation.code,
            message: violation.message,
        }
    }
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        match error {
            AuthError::Invalid { code, .. } => Error::invalid(code, message),
            AuthError::EmailTaken => Error::new(ErrorKind::Conflict, "email_taken", message),
            AuthError::Conflict { code, .. } => Error::new(ErrorKind::Conflict, code, message),
            AuthError::InvalidCredentials => Error::unauthenticated("invalid_credentials", message),
            AuthError::TooManyAttempts { retry_after_secs } => {
                Error::new(ErrorKind::RateLimited, "too_many_attempts", message)
                    .with_retry_after(retry_after_secs)
            }
            AuthError::MailRecentlySent { retry_after_secs } => {
                Error::new(ErrorKind::RateLimited, "mail_recently_sent", message)
                    .with_retry_after(retry_after_secs)
            }
            AuthError::RefreshTokenInvalid => {
                Error::unauthenticated("refresh_token_invalid", message)
            }
            AuthError::RefreshTokenReused => {
                Error::unauthenticated("refresh_token_reused", message)
            }
            AuthError::InvalidClient => Error::unauthenticated("invalid_client", message),
            AuthError::InvalidScope(_) => Error::invalid("invalid_scope", message),
            AuthError::UnauthorizedClient(_) => Error::forbidden("unauthorized_client", message),
            AuthError::NotFound(_) => Error::not_found(message),
            AuthError::Forbidden(_) => Error::forbidden("forbidden", message),
            AuthError::Refused { code, .. } => Error::forbidden(code, message),
            AuthError::Unauthenticated(error) => error,
            AuthError::ProviderNotConfigured(_) => Error::new(
                ErrorKind::FailedPrecondition,
                "provider_not_configured",
                message,
            ),
            AuthError::ExternalSignIn { code, .. } => Error::unauthenticated(code, message),
            AuthError::ProviderUnavailable => {
                Error::new(ErrorKind::Unavailable, "provider_unavailable", message)
            }
            AuthError::Database(error) => Error::internal(error),
            AuthError::Internal(cause) => Error::internal(cause),
        }
    }
}

impl From<AuthError> for tonic::Status {
    fn from(error: AuthError) -> Self {
        Error::from(error).to_status()
    }
}
