//! The billing service's errors and their single mapping to the platform error (and
//! from there to gRPC status and problem+json).

use marquee_platform::{Error, ErrorKind};

pub type Result<T, E = BillingError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Over a plan limit: 402 (upgrade) or, for rate-like limits, 429.
    #[error(
        "quota exceeded for {limit}: {used} of {allowed} used on the {plan} plan, {requested} more requested"
    )]
    QuotaExceeded {
        limit: &'static str,
        plan: String,
        used: u64,
        allowed: u64,
        requested: u64,
        rate: bool,
        retry_after_secs: u64,
    },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the Stripe-Signature header does not verify: {0}")]
    BadSignature(&'static str),
    #[error("{0}")]
    Unavailable(&'static str),
    /// A Stripe-only operation (the Customer Portal) on the local provider: a
    /// configuration state, not an outage.
    #[error(
        "Stripe is not configured: billing runs on the local provider, which has no customer portal"
    )]
    StripeNotConfigured,
    #[error("Stripe rejected the request: {0}")]
    StripeRejected(String),
    #[error("Stripe error: {0}")]
    Stripe(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Unauthenticated(Error),
    #[error("{0}")]
    Internal(String),
}

impl BillingError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl From<marquee_bus::BusError> for BillingError {
    fn from(error: marquee_bus::BusError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<BillingError> for Error {
    fn from(error: BillingError) -> Self {
        let message = error.to_string();
        match error {
            BillingError::Invalid { code, .. } => Error::invalid(code, message),
            BillingError::NotFound(_) => Error::not_found(message),
            BillingError::QuotaExceeded {
                rate: true,
                retry_after_secs,
                ..
            } => Error::new(ErrorKind::RateLimited, "quota_exceeded", message)
                .with_retry_after(retry_after_secs),
            BillingError::QuotaExceeded { .. } => {
                Error::new(ErrorKind::QuotaExceeded, "quota_exceeded", message)
            }
            BillingError::Conflict { code, .. } => Error::new(ErrorKind::Conflict, code, message),
            BillingError::BadSignature(_) => Error::invalid("invalid_signature", message),
            BillingError::Unavailable(_) => {
                Error::new(ErrorKind::Unavailable, "provider_unavailable", message)
            }
            BillingError::StripeNotConfigured => {
                Error::new(ErrorKind::Conflict, "stripe_not_configured", message)
            }
            BillingError::StripeRejected(_) => Error::invalid("stripe_rejected", message),
            BillingError::Stripe(cause) => {
                tracing::error!(error = %cause, "stripe call failed");
                Error::new(
                    ErrorKind::Unavailable,
                    "stripe_unavailable",
                    "the payment provider could not be reached, try again shortly",
                )
            }
            BillingError::Database(error) => Error::internal(error),
            BillingError::Unauthenticated(error) => error,
            BillingError::Internal(cause) => Error::internal(cause),
        }
    }
}

impl From<BillingError> for tonic::Status {
    fn from(error: BillingError) -> Self {
        Error::from(error).to_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_quota_is_402_or_429_and_names_the_limit() {
        let over = |rate| BillingError::QuotaExceeded {
            limit: "ai_text_generations",
            plan: "free".into(),
            used: 50,
            allowed: 50,
            requested: 1,
            rate,
            retry_after_secs: 60,
        };
        let error = Error::from(over(false));
        assert_eq!(error.status().as_u16(), 402);
        assert_eq!(error.code, "quota_exceeded");
        assert!(error.message.contains("ai_text_generations"));
        let error = Error::from(over(true));
        assert_eq!(error.status().as_u16(), 429);
        assert_eq!(error.retry_after, Some(60));
        let error = Error::from(BillingError::StripeNotConfigured);
        assert_eq!(
            (error.status().as_u16(), &*error.code),
            (409, "stripe_not_configured")
        );
        assert!(error.message.starts_with("Stripe is not configured"));
        let error = Error::from(BillingError::BadSignature("no v1 matches"));
        assert_eq!(
            (error.status().as_u16(), &*error.code),
            (400, "invalid_signature")
        );
    }
}
