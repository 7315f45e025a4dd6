//! The platform error: what went wrong (`ErrorKind`), a stable machine-readable `code`,
//! and a message safe to show the caller. It is mapped in exactly one place to a gRPC
//! status (`to_status` / `from_status`, the code travels in `x-marquee-code` metadata)
//! and to RFC 9457 problem+json (`ResponseError`).
//!
//! Services keep their own `thiserror` enums and convert into this type once.

use actix_web::http::StatusCode;
use serde::Serialize;
use std::borrow::Cow;
use tonic::Code;

pub type Result<T, E = Error> = std::result::Result<T, E>;

const CODE_METADATA: &str = "x-marquee-code";
const RETRY_AFTER_METADATA: &str = "retry-after";
const RANGE_SIZE_METADATA: &str = "x-marquee-range-size";
/// Set only for kinds that share a gRPC code with another kind (415 shares
/// `InvalidArgument` with 400, 416 shares `OutOfRange` with 413, a failed precondition
/// shares `FailedPrecondition` with 402), so the kind survives the trip.
const KIND_METADATA: &str = "x-marquee-kind";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidInput,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// HTTP 416: a `Range` outside the representation.
    RangeNotSatisfiable,
    RateLimited,
    QuotaExceeded,
    /// The system is not in a state the operation needs (e.g. a sign-in provider that is
    /// not configured): retrying the same request will not help. gRPC
    /// `FAILED_PRECONDITION`, HTTP 400.
    FailedPrecondition,
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn http_status(self) -> StatusCode {
        match self {
            Self::InvalidInput => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            Self::FailedPrecondition => StatusCode::BAD_REQUEST,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn grpc_code(self) -> Code {
        match self {
            Self::InvalidInput | Self::UnsupportedMediaType => Code::InvalidArgument,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::PermissionDenied => Code::PermissionDenied,
            Self::NotFound => Code::NotFound,
            Self::Conflict => Code::AlreadyExists,
            Self::PayloadTooLarge | Self::RangeNotSatisfiable => Code::OutOfRange,
            Self::RateLimited => Code::ResourceExhausted,
            Self::QuotaExceeded | Self::FailedPrecondition => Code::FailedPrecondition,
            Self::Unavailable => Code::Unavailable,
            Self::Internal => Code::Internal,
        }
    }

    fn from_grpc(code: Code) -> Self {
        match code {
            Code::InvalidArgument => Self::InvalidInput,
            Code::Unauthenticated => Self::Unauthenticated,
            Code::PermissionDenied => Self::PermissionDenied,
            Code::NotFound => Self::NotFound,
            Code::AlreadyExists | Code::Aborted => Self::Conflict,
            Code::OutOfRange => Self::PayloadTooLarge,
            Code::ResourceExhausted => Self::RateLimited,
            Code::FailedPrecondition => Self::QuotaExceeded,
            Code::Unavailable | Code::DeadlineExceeded => Self::Unavailable,
            _ => Self::Internal,
        }
    }

    fn default_code(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_request",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RangeNotSatisfiable => "range_not_satisfiable",
            Self::RateLimited => "rate_limited",
            Self::QuotaExceeded => "quota_exceeded",
            Self::FailedPrecondition => "failed_precondition",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    fn title(self) -> &'static str {
        self.http_status().canonical_reason().unwrap_or("Error")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable, machine-readable, snake_case; documented in docs/api.md.
    pub code: Cow<'static, str>,
    /// Shown to the caller. Never holds internals for `Internal` errors.
    pub message: String,
    /// Seconds the caller should wait (rate limits, throttling).
    pub retry_after: Option<u64>,
    /// For `RangeNotSatisfiable`: the size of the whole representation, answered as
    /// `Content-Range: bytes */<size>`.
    pub unsatisfied_range_size: Option<u64>,
    /// RFC 9457 extension members added to the problem body (e.g. the `asset_id` a
    /// `duplicate_asset` conflict is about). Set at the edge; not carried over gRPC.
    pub extensions: Extensions,
}

/// Extension members of a problem, by name.
pub type Extensions = serde_json::Map<String, serde_json::Value>;

/// The members every problem has; an extension may not take their names.
const STANDARD_MEMBERS: &[&str] = &["type", "title", "status", "detail", "code", "request_id"];

impl Error {
    pub fn new(
        kind: ErrorKind,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            retry_after: None,
            unsatisfied_range_size: None,
            extensions: Extensions::new(),
        }
    }

    pub fn invalid(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }

    pub fn unauthenticated(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }

    pub fn forbidden(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, code, message)
    }

    /// Our fault: the cause is logged here, the caller gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal",
            "an internal error occurred",
        )
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// A 416 for a representation of `size` bytes.
    pub fn with_unsatisfied_range(mut self, size: u64) -> Self {
        self.unsatisfied_range_size = Some(size);
        self
    }

    /// Adds an extension member to the problem body. A standard member's name (`type`,
    /// `title`, `status`, `detail`, `code`, `request_id`) is refused: the extension is
    /// dropped with a warning, so the standard members always hold.
    pub fn with_extension(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        let name = name.into();
        if STANDARD_MEMBERS.contains(&name.as_str()) {
            tracing::warn!(extension = %name, "problem extension shadows a standard member; dropped");
        } else {
            self.extensions.insert(name, value.into());
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.kind.http_status()
    }

    /// The gRPC status carrying this error across a service boundary.
    pub fn to_status(&self) -> tonic::Status {
        let mut status = tonic::Status::new(self.kind.grpc_code(), self.message.clone());
        if let Ok(value) = self.code.parse() {
            status.metadata_mut().insert(CODE_METADATA, value);
        }
        let shared_code_kind = match self.kind {
            ErrorKind::UnsupportedMediaType => Some("unsupported_media_type"),
            ErrorKind::RangeNotSatisfiable => Some("range_not_satisfiable"),
            ErrorKind::FailedPrecondition => Some("failed_precondition"),
            _ => None,
        };
        if let Some(kind) = shared_code_kind {
            status.metadata_mut().insert(
                KIND_METADATA,
                tonic::metadata::MetadataValue::from_static(kind),
            );
        }
        if let Some(size) = self.unsatisfied_range_size
            && let Ok(value) = size.to_string().parse()
        {
            status.metadata_mut().insert(RANGE_SIZE_METADATA, value);
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = seconds.to_string().parse()
        {
            status.metadata_mut().insert(RETRY_AFTER_METADATA, value);
        }
        status
    }

    /// Rebuilds the error a downstream service returned. Transport failures become
    /// `unavailable`; unknown failures become `internal` without leaking their text.
    ///
    /// A status our services send always carries `x-marquee-code`. One without it that
    /// is `ResourceExhausted`, `Unavailable`, `DeadlineExceeded` or `Cancelled`, or whose
    /// message or source names the HTTP/2 or connection layer, was made by the gRPC
    /// stack itself (connection refused or reset, h2 protocol error, frame or header
    /// list too large, load shedding): it is answered `503 unavailable` with a generic
    /// message and logged, never shown, and never taken for a rate limit.
    pub fn from_status(status: &tonic::Status) -> Self {
        if !status.metadata().contains_key(CODE_METADATA) && is_transport_failure(status) {
            tracing::warn!(grpc.code = ?status.code(), grpc.message = status.message(), "downstream call failed in transport");
            return Self::new(
                ErrorKind::Unavailable,
                ErrorKind::Unavailable.default_code(),
                UNAVAILABLE_MESSAGE,
            );
        }
        let kind = match status.metadata().get(KIND_METADATA).map(|v| v.as_bytes()) {
            Some(b"unsupported_media_type") if status.code() == Code::InvalidArgument => {
                ErrorKind::UnsupportedMediaType
            }
            Some(b"range_not_satisfiable") if status.code() == Code::OutOfRange => {
                ErrorKind::RangeNotSatisfiable
            }
            Some(b"failed_precondition") if status.code() == Code::FailedPrecondition => {
                ErrorKind::FailedPrecondition
            }
            _ => ErrorKind::from_grpc(status.code()),
        };
        let code = status
            .metadata()
            .get(CODE_METADATA)
            .and_then(|v| v.to_str().ok())
            .map(|c| Cow::Owned(c.to_string()))
            .unwrap_or_else(|| Cow::Borrowed(kind.default_code()));
        let message = match kind {
            ErrorKind::Internal => {
                tracing::error!(grpc.code = ?status.code(), grpc.message = status.message(), "downstream internal error");
                "an internal error occurred".to_string()
            }
            ErrorKind::Unavailable => {
                tracing::warn!(grpc.code = ?status.code(), grpc.message = status.message(), "downstream unavailable");
                UNAVAILABLE_MESSAGE.to_string()
            }
            _ => status.message().to_string(),
        };
        let retry_after = status
            .metadata()
            .get(RETRY_AFTER_METADATA)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let unsatisfied_range_size = status
            .metadata()
            .get(RANGE_SIZE_METADATA)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Self {
            kind,
            code,
            message,
            retry_after,
            unsatisfied_range_size,
            extensions: Extensions::new(),
        }
    }

    pub fn problem(&self, request_id: Option<String>) -> Problem {
        Problem {
            r#type: format!("https://docs.marquee.dev/problems/{}", self.code),
            title: self.kind.title().to_string(),
            status: self.status().as_u16(),
            detail: self.message.clone(),
            code: self.code.to_string(),
            request_id,
            extensions: self.extensions.clone(),
        }
    }
}

const UNAVAILABLE_MESSAGE: &str = "a backing service is unavailable, try again shortly";

/// Whether a status without our code metadata comes from the transport (see
/// [`Error::from_status`]).
fn is_transport_failure(status: &tonic::Status) -> bool {
    const MARKERS: &[&str] = &[
        "h2 protocol error",
        "http2 error",
        "transport error",
        "connection error",
        "error trying to connect",
        "tcp connect error",
        "connection refused",
        "connection reset",
        "broken pipe",
    ];
    if matches!(
        status.code(),
        Code::ResourceExhausted | Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled
    ) {
        return true;
    }
    let message = status.message().to_ascii_lowercase();
    if MARKERS.iter().any(|marker| message.contains(marker)) {
        return true;
    }
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::transport::Error>() || error.is::<std::io::Error>() {
            return true;
        }
        source = error.source();
    }
    false
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Self::from_status(&status)
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        error.to_status()
    }
}

/// RFC 9457 problem details, as every REST error is answered.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type; ends with `code`.
    #[schema(example = "https://docs.marquee.dev/problems/invalid_request")]
    pub r#type: String,
    #[schema(example = "Bad Request")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(example = "invalid_request")]
    pub code: String,
    /// The `X-Request-Id` of the request that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Extension members particular to the problem type (RFC 9457 §3.2), beside the
    /// standard ones, e.g. `asset_id` of `duplicate_asset`. The operations that add
    /// some document them in their own response schema.
    #[serde(flatten, default)]
    #[schema(ignore)]
    pub extensions: Extensions,
}

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

tokio::task_local! {
    /// The current REST request's id, set by the gateway's request-id middleware so error
    /// bodies can carry it.
    pub static REQUEST_ID: String;
}

impl actix_web::ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let request_id = REQUEST_ID.try_with(Clone::clone).ok();
        let mut response = actix_web::HttpResponse::build(self.status());
        response.content_type(PROBLEM_CONTENT_TYPE);
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        if let Some(size) = self.unsatisfied_range_size {
            response.insert_header(("Content-Range", format!("bytes */{size}")));
        }
        response.json(self.problem(request_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_grpc_status() {
        let error = Error::new(
            ErrorKind::Conflict,
            "email_taken",
            "email already registered",
        )
        .with_retry_after(7);
        let back = Error::from_status(&error.to_status());
        assert_eq!(back.kind, ErrorKind::Conflict);
        assert_eq!(back.code, "email_taken");
        assert_eq!(back.message, "email already registered");
        assert_eq!(back.retry_after, Some(7));
        let media = Error::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_file_type",
            "no",
        );
        let back = Error::from_status(&media.to_status());
        assert_eq!(back.kind, ErrorKind::UnsupportedMediaType);
        assert_eq!(back.status().as_u16(), 415);
        let range = Error::new(
            ErrorKind::RangeNotSatisfiable,
            "range_not_satisfiable",
            "no",
        )
        .with_unsatisfied_range(42);
        let back = Error::from_status(&range.to_status());
        assert_eq!(back.kind, ErrorKind::RangeNotSatisfiable);
        assert_eq!(back.status().as_u16(), 416);
        assert_eq!(back.unsatisfied_range_size, Some(42));
        let too_large = Error::new(ErrorKind::PayloadTooLarge, "payload_too_large", "no");
        assert_eq!(
            Error::from_status(&too_large.to_status()).kind,
            ErrorKind::PayloadTooLarge
        );
        // Both travel as FAILED_PRECONDITION; the kind tells them apart.
        let precondition = Error::new(
            ErrorKind::FailedPrecondition,
            "provider_not_configured",
            "no",
        );
        let status = precondition.to_status();
        assert_eq!(status.code(), Code::FailedPrecondition);
        let back = Error::from_status(&status);
        assert_eq!(back.kind, ErrorKind::FailedPrecondition);
        assert_eq!(back.code, "provider_not_configured");
        assert_eq!(back.status().as_u16(), 400);
        let quota = Error::new(ErrorKind::QuotaExceeded, "quota_exceeded", "no");
        let back = Error::from_status(&quota.to_status());
        assert_eq!(back.kind, ErrorKind::QuotaExceeded);
        assert_eq!(back.status().as_u16(), 402);
    }

    #[test]
    fn range_problem_names_the_size() {
        use actix_web::ResponseError;
        let error = Error::new(
            ErrorKind::RangeNotSatisfiable,
            "range_not_satisfiable",
            "no",
        )
        .with_unsatisfied_range(42);
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), 416);
        assert_eq!(
            response.headers().get("content-range").unwrap(),
            "bytes */42"
        );
    }

    #[tokio::test]
    async fn problems_carry_extension_members_beside_the_standard_ones() {
        use actix_web::ResponseError;
        let error = Error::new(ErrorKind::Conflict, "duplicate_asset", "already uploaded")
            .with_extension("asset_id", "a-1");
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), 409);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "duplicate_asset");
        assert_eq!(json["status"], 409);
        assert_eq!(json["asset_id"], "a-1", "a top-level member: {json}");
        assert!(json.get("extensions").is_none());
        // Read back, the extension lands in `extensions`.
        let problem: Problem = serde_json::from_value(json).unwrap();
        assert_eq!(problem.extensions["asset_id"], "a-1");
        assert_eq!(problem.code, "duplicate_asset");
        // Without extensions the body has the standard members only.
        let plain = serde_json::to_value(Error::not_found("gone").problem(None)).unwrap();
        assert_eq!(
            plain.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["code", "detail", "status", "title", "type"]
        );
    }

    #[test]
    fn extensions_never_shadow_standard_members() {
        let error = Error::not_found("gone")
            .with_extension("status", 200)
            .with_extension("request_id", "forged");
        assert!(error.extensions.is_empty());
        let json = serde_json::to_value(error.problem(Some("r-1".into()))).unwrap();
        assert_eq!(
            (&json["status"], &json["request_id"]),
            (&404.into(), &"r-1".into())
        );
    }

    #[test]
    fn internal_details_do_not_leak() {
        let status = tonic::Status::internal("db password is hunter2");
        let error = Error::from_status(&status);
        assert_eq!(error.code, "internal");
        assert!(!error.message.contains("hunter2"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn transport_failures_are_unavailable_not_rate_limits() {
        // What tonic makes of an h2 failure (e.g. a header list too large for the peer),
        // a refused connection, a reset, load shedding: none carries our code.
        for status in [
            tonic::Status::resource_exhausted("h2 protocol error: http2 error"),
            tonic::Status::resource_exhausted("Too many active requests for the connection"),
            tonic::Status::unavailable("tcp connect error: Connection refused (os error 111)"),
            tonic::Status::unknown("transport error"),
            tonic::Status::internal("h2 protocol error: http2 error: stream error received"),
            tonic::Status::cancelled("Timeout expired"),
            tonic::Status::permission_denied("h2 protocol error: inadequate security"),
        ] {
            let error = Error::from_status(&status);
            assert_eq!(error.kind, ErrorKind::Unavailable, "{status:?}");
            assert_eq!(
                error.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{status:?}"
            );
            assert_eq!(error.code, "unavailable", "{status:?}");
            assert_eq!(
                error.message, "a backing service is unavailable, try again shortly",
                "internals do not leak: {status:?}"
            );
            assert_eq!(error.retry_after, None);
        }
    }

    #[test]
    fn only_our_own_code_makes_a_rate_limit() {
        let ours = Error::new(
            ErrorKind::RateLimited,
            "rate_limited",
            "too many requests, slow down",
        )
        .with_retry_after(3);
        let back = Error::from_status(&ours.to_status());
        assert_eq!(back.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(back.code, "rate_limited");
        assert_eq!(back.message, "too many requests, slow down");
        assert_eq!(back.retry_after, Some(3));
        // Our other throttles keep their codes too.
        let throttled = Error::new(
            ErrorKind::RateLimited,
            "too_many_attempts",
            "try again later",
        );
        let back = Error::from_status(&throttled.to_status());
        assert_eq!(
            (back.status(), &*back.code),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
        );
        // Our own `unavailable` kinds keep their code; their text is still generic.
        let stripe = Error::new(ErrorKind::Unavailable, "stripe_unavailable", "stripe down");
        let back = Error::from_status(&stripe.to_status());
        assert_eq!(back.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(back.code, "stripe_unavailable");
        // A plain internal error without transport markers stays a 500.
        let other = Error::from_status(&tonic::Status::unknown("boom"));
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn problem_has_rfc9457_fields() {
        let problem = Error::invalid("weak_password", "too short").problem(Some("req-1".into()));
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["status"], 400);
        assert_eq!(json["code"], "weak_password");
        assert_eq!(json["title"], "Bad Request");
        assert_eq!(json["request_id"], "req-1");
        assert!(json["type"].as_str().unwrap().ends_with("/weak_password"));
    }
}
