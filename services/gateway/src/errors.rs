//! Every failure the HTTP layer itself detects becomes an RFC 9457 problem with a stable
//! code: extractor errors (malformed JSON, missing fields, wrong content type, oversized
//! bodies, bad path or query parameters), unknown routes, wrong methods, and, as a last
//! resort, any plain-text error response produced inside actix or a middleware.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use marquee_platform::error::{PROBLEM_CONTENT_TYPE, REQUEST_ID};
use marquee_platform::{Error, ErrorKind, Problem};

/// JSON bodies: size limit and problem answers for every way a body can be wrong.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |error, _req| json_error(error, limit).into())
}

fn json_error(error: JsonPayloadError, limit: usize) -> Error {
    match error {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            too_large(limit)
        }
        JsonPayloadError::ContentType => Error::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            "the request body must be JSON (Content-Type: application/json)",
        ),
        JsonPayloadError::Deserialize(error) => json_body_error(error),
        JsonPayloadError::Payload(error) => payload_error(&error, limit),
        other => Error::invalid("invalid_request", format!("invalid request body: {other}")),
    }
}

/// A body that is not the JSON it should be: `invalid_request` when it is JSON of the
/// wrong shape, `malformed_json` when it is not JSON at all.
pub fn json_body_error(error: serde_json::Error) -> Error {
    if error.is_data() {
        Error::invalid(
            "invalid_request",
            format!("invalid request body: {}", redact(&error.to_string())),
        )
    } else {
        Error::invalid(
            "malformed_json",
            format!(
                "the request body is not valid JSON: {}",
                redact(&error.to_string())
            ),
        )
    }
}

/// Longest quoted value a deserializer's message may repeat.
const MAX_QUOTED: usize = 64;

/// A deserializer's message without the caller's long or unprintable values: serde
/// quotes what it refused (`invalid type: string "…"`, ``unknown variant `…` ``); a
/// quoted part longer than [`MAX_QUOTED`] characters or holding a control character
/// becomes `…`.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find(quote) else {
            rest = after;
            if rest.chars().count() > MAX_QUOTED || rest.chars().any(char::is_control) {
                out.push('…');
                rest = "";
            }
            break;
        };
        let quoted = &after[..end];
        if quoted.chars().count() > MAX_QUOTED || quoted.chars().any(char::is_control) {
            out.push('…');
        } else {
            out.push_str(quoted);
        }
        out.push(quote);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn too_large(limit: usize) -> Error {
    Error::new(
        ErrorKind::PayloadTooLarge,
        "payload_too_large",
        format!("the request body is larger than the limit of {limit} bytes"),
    )
}

fn payload_error(error: &actix_web::error::PayloadError, limit: usize) -> Error {
    match error {
        actix_web::error::PayloadError::Overflow => too_large(limit),
        other => Error::invalid(
            "invalid_request",
            format!("the request body could not be read: {other}"),
        ),
    }
}

/// Raw bodies (the form-encoded token endpoint).
pub fn payload_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit)
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        let detail = match &error {
            QueryPayloadError::Deserialize(inner) => inner.to_string(),
            other => other.to_string(),
        };
        let detail = redact(&detail);
        Error::invalid("invalid_request", format!("invalid query string: {detail}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _req| {
        let detail = match &error {
            PathError::Deserialize(inner) => inner.to_string(),
            other => other.to_string(),
        };
        let detail = redact(&detail);
        Error::invalid(
            "invalid_request",
            format!("invalid path parameter: {detail}"),
        )
        .into()
    })
}

pub fn route_not_found_error(method: &str, path: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "route_not_found",
        format!("no route for {method} {path}"),
    )
}

/// The app's default service: nothing matched the path.
pub async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, Error> {
    Err(route_not_found_error(req.method().as_str(), req.path()))
}

/// `405` with `Allow`; the platform error has no kind for it, so it is built here.
pub fn method_not_allowed(method: &str, allowed: &[&str]) -> HttpResponse {
    let mut response = problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{method} is not allowed on this route; allowed: {}",
            allowed.join(", ")
        ),
    );
    if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// A problem response for a status the platform error does not model directly.
pub fn problem(status: StatusCode, code: &str, detail: String) -> HttpResponse {
    let body = Problem {
        r#type: format!("https://docs.marquee.dev/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        code: code.to_string(),
        request_id: REQUEST_ID.try_with(Clone::clone).ok(),
        extensions: Default::default(),
    };
    HttpResponse::build(status)
        .content_type(PROBLEM_CONTENT_TYPE)
        .json(body)
}

fn kind_for(status: StatusCode) -> Option<(ErrorKind, &'static str)> {
    Some(match status.as_u16() {
        400 => (ErrorKind::InvalidInput, "invalid_request"),
        401 => (ErrorKind::Unauthenticated, "unauthenticated"),
        403 => (ErrorKind::PermissionDenied, "forbidden"),
        404 => (ErrorKind::NotFound, "route_not_found"),
        409 => (ErrorKind::Conflict, "conflict"),
        413 => (ErrorKind::PayloadTooLarge, "payload_too_large"),
        415 => (ErrorKind::UnsupportedMediaType, "unsupported_media_type"),
        429 => (ErrorKind::RateLimited, "rate_limited"),
        _ => return None,
    })
}

/// Renders any error (from a middleware or actix itself) as a problem response.
pub fn render(error: &actix_web::Error) -> HttpResponse {
    if let Some(platform) = error.as_error::<Error>() {
        return platform.error_response();
    }
    let response_error = error.as_response_error();
    let status = response_error.status_code();
    problem_for(status, &response_error.to_string())
}

fn problem_for(status: StatusCode, message: &str) -> HttpResponse {
    if status.is_server_error() {
        // Ours: logged, never shown.
        tracing::error!(status = status.as_u16(), error = message, "error response");
        return if status == StatusCode::SERVICE_UNAVAILABLE {
            Error::new(
                ErrorKind::Unavailable,
                "unavailable",
                "the service is unavailable, try again shortly",
            )
        } else {
            Error::new(
                ErrorKind::Internal,
                "internal",
                "an internal error occurred",
            )
        }
        .error_response();
    }
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message.to_string()
    };
    match kind_for(status) {
        Some((kind, code)) => Error::new(kind, code, message).error_response(),
        None => problem(status, "http_error", message),
    }
}

/// Last resort: an error response that is not JSON (actix's own plain-text answers,
/// CORS refusals) is replaced by the equivalent problem, keeping its headers.
pub fn ensure_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.contains("json") {
        return response;
    }
    let message = response
        .response()
        .error()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut replacement = problem_for(status, &message);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    response.into_response(replacement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(response: HttpResponse) -> serde_json::Value {
        let bytes = to_bytes(response.into_body()).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[actix_web::test]
    async fn problems_carry_the_request_id_and_content_type() {
        let response = REQUEST_ID
            .scope("req-42".to_string(), async {
                Error::invalid("malformed_json", "bad").error_response()
            })
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_CONTENT_TYPE
        );
        let body = body_of(response).await;
        assert_eq!(body["request_id"], "req-42");
        assert_eq!(body["code"], "malformed_json");
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(
            body["type"],
            "https://docs.marquee.dev/problems/malformed_json"
        );
    }

    #[actix_web::test]
    async fn json_errors_map_to_stable_codes() {
        let syntax = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(
            json_error(JsonPayloadError::Deserialize(syntax), 10).code,
            "malformed_json"
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            email: String,
        }
        let data = serde_json::from_str::<Body>("{}").unwrap_err();
        let error = json_error(JsonPayloadError::Deserialize(data), 10);
        assert_eq!(error.code, "invalid_request");
        assert!(
            error.message.contains("missing field `email`"),
            "{}",
            error.message
        );
        let error = json_error(
            JsonPayloadError::OverflowKnownLength {
                length: 20,
                limit: 10,
            },
            10,
        );
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error.code, "payload_too_large");
        let error = json_error(JsonPayloadError::ContentType, 10);
        assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn deserializer_messages_do_not_echo_long_or_unprintable_values() {
        let long = "x".repeat(100_000);
        let error = serde_json::from_str::<u32>(&format!("\"{long}\"")).unwrap_err();
        let detail = json_body_error(error).message;
        assert!(detail.len() < 200, "{detail}");
        assert!(detail.contains("invalid type: string \"…\""), "{detail}");
        assert_eq!(
            redact("unknown variant `prod`, expected `sandbox` or `live`"),
            "unknown variant `prod`, expected `sandbox` or `live`"
        );
        assert_eq!(redact("unknown field `a\u{0}b`"), "unknown field `…`");
        assert_eq!(redact("dangling \"abc"), "dangling \"abc");
    }

    #[actix_web::test]
    async fn method_not_allowed_lists_allowed_methods() {
        let response = method_not_allowed("PATCH", &["GET", "PUT"]);
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers().get(header::ALLOW).unwrap(), "GET, PUT");
        let body = body_of(response).await;
        assert_eq!(body["code"], "method_not_allowed");
        assert_eq!(body["status"], 405);
    }

    #[actix_web::test]
    async fn plain_errors_become_problems_without_leaking_internals() {
        let response = problem_for(StatusCode::INTERNAL_SERVER_ERROR, "db password hunter2");
        let body = body_of(response).await;
        assert_eq!(body["code"], "internal");
        assert!(!body.to_string().contains("hunter2"));

        let response = problem_for(StatusCode::PAYLOAD_TOO_LARGE, "");
        assert_eq!(body_of(response).await["code"], "payload_too_large");
    }
}
