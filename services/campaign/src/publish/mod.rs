//! Publishing a campaign's posts: one [`Connector`] trait for every destination (a signed
//! webhook, Bluesky over XRPC, a Mastodon instance), the post as the scheduler hands it
//! over ([`OutgoingPost`]), what came of it ([`Delivery`], every HTTP request in its
//! [`Attempt`] log) and one error ([`PublishError`]) that tells the scheduler whether to
//! try again later ([`PublishError::Transient`]) or to give up and tell the creator
//! ([`PublishError::Permanent`]).
//!
//! Every connector retries transient failures itself (a [`RetryPolicy`]: exponential
//! backoff, `Retry-After` honoured up to a cap) and makes retries safe: the webhook carries a
//! delivery id constant for a post, Mastodon gets an `Idempotency-Key`, Bluesky gets a record
//! key derived from the post so a second `createRecord` cannot make a second post.
//!
//! Error messages are safe to show to the creator and to log: they never hold a password, a
//! token, a signing secret or a webhook URL (which often embeds a token); text coming back
//! from a remote service is cut short and scrubbed of the connector's secrets.

pub mod bluesky;
mod dispatch;
pub mod mastodon;
pub mod webhook;

pub use bluesky::{BlueskyConfig, BlueskyConnector};
pub use dispatch::Connectors;
pub use mastodon::{MastodonConfig, MastodonConnector, Visibility};
pub use webhook::{AddressFilter, WebhookConfig, WebhookConnector, verify_signature};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::Rng as _;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

/// Characters of a remote service's error text kept in a [`PublishError`].
const MAX_REMOTE_MESSAGE_CHARS: usize = 200;

/// Where a connector publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectorKind {
    Webhook,
    Bluesky,
    Mastodon,
}

impl ConnectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Bluesky => "bluesky",
            Self::Mastodon => "mastodon",
        }
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A destination for posts. Implementations are cheap to share (`Arc<dyn Connector>`) and
/// safe to call concurrently.
#[async_trait]
pub trait Connector: Send + Sync {
    fn kind(&self) -> ConnectorKind;

    /// Publishes `post`, retrying transient failures within the connector's
    /// [`RetryPolicy`]. Calling it again for the same post after a failure (the scheduler
    /// retrying later) does not publish it twice where the destination allows preventing
    /// that (see each connector).
    async fn publish(&self, post: &OutgoingPost) -> Result<Delivery, PublishError>;
}

/// A picture (or other file) attached to a post.
#[derive(Clone)]
pub struct Media {
    /// MIME type, e.g. `image/jpeg`.
    pub content_type: String,
    pub bytes: Bytes,
    /// Alternative text for people using screen readers.
    pub alt: String,
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Media")
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .field("alt", &self.alt)
            .finish()
    }
}

/// One post, final and ready to go out.
#[derive(Debug, Clone)]
pub struct OutgoingPost {
    /// The post's id (a UUID); connectors derive their idempotency keys from it.
    pub post_id: String,
    pub campaign_id: String,
    /// The network the post was written for: `x`, `linkedin`, `instagram`, `facebook`,
    /// `tiktok`, `threads`, `bluesky` or `mastodon`.
    pub platform: String,
    /// The final text, hashtags included.
    pub text: String,
    /// The hashtags in `text`, without `#`.
    pub hashtags: Vec<String>,
    pub media: Vec<Media>,
    /// When the post was planned to go out. Publishing happens at or after it.
    pub scheduled_at: DateTime<Utc>,
    /// The text's language (BCP-47, e.g. `en`, `pt-BR`), when known.
    pub language: Option<String>,
}

/// One HTTP request made while publishing, for the service's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// What the request was for: `deliver` (webhook), `createSession`, `uploadBlob`,
    /// `createRecord` (Bluesky), `upload media`, `create status` (Mastodon), …
    pub step: String,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The status answered, if an answer came.
    pub status_code: Option<u16>,
    /// Why it failed (safe to show), if it did.
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// A post that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The destination's id for it: the status id (Mastodon), the record's `at://` URI
    /// (Bluesky), the delivery id sent in `X-Marquee-Delivery` (webhook).
    pub remote_id: Option<String>,
    /// Where people can see it, when the destination has a public page for it.
    pub remote_url: Option<String>,
    /// How many times the post itself was sent (1 when the first try went through).
    pub attempts: u32,
    /// The status of the answer that accepted it; `None` when no answer did but the post
    /// was found already there (Bluesky: created by a try whose answer was lost).
    pub status_code: Option<u16>,
    /// Every HTTP request made, in order (sessions and uploads included).
    pub log: Vec<Attempt>,
}

/// Why a post is not worth sending again as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermanentCause {
    /// The destination refused the account's credentials (401/403, a wrong password, a
    /// revoked token): the creator has to reconnect the account.
    Credentials,
    /// The destination refused the post (another 4xx): its text or media must change.
    Rejected,
    /// The post breaks a rule checked before sending (too many images, a type the
    /// destination does not take).
    InvalidPost,
    /// The connector is set up wrongly (a malformed URL, a redirecting webhook).
    Configuration,
}

impl fmt::Display for PermanentCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Credentials => "credentials refused",
            Self::Rejected => "post rejected",
            Self::InvalidPost => "invalid post",
            Self::Configuration => "misconfigured",
        })
    }
}

/// Why publishing failed. The message is safe to show; `log` holds every request made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Timeouts, connection failures, 408, 429 and 5xx that outlasted the connector's own
    /// retries: the scheduler should try again later (not before `retry_after`, if given).
    #[error("{reason} (temporary, retry later)")]
    Transient {
        reason: String,
        status_code: Option<u16>,
        retry_after: Option<Duration>,
        log: Vec<Attempt>,
    },
    /// Sending the same post again would fail the same way.
    #[error("{cause}: {reason}")]
    Permanent {
        cause: PermanentCause,
        reason: String,
        status_code: Option<u16>,
        log: Vec<Attempt>,
    },
}

impl PublishError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Transient { status_code, .. } | Self::Permanent { status_code, .. } => {
                *status_code
            }
        }
    }

    /// How long the destination asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Transient { retry_after, .. } => *retry_after,
            Self::Permanent { .. } => None,
        }
    }

    pub fn permanent_cause(&self) -> Option<PermanentCause> {
        match self {
            Self::Permanent { cause, .. } => Some(*cause),
            Self::Transient { .. } => None,
        }
    }

    /// The requests made before failing.
    pub fn log(&self) -> &[Attempt] {
        match self {
            Self::Transient { log, .. } | Self::Permanent { log, .. } => log,
        }
    }

    /// A configuration error found before any request (no log).
    pub(crate) fn configuration(reason: impl Into<String>) -> Self {
        Failure::permanent(PermanentCause::Configuration, reason).into_error(Vec::new())
    }
}

/// How a connector retries transient failures within one `publish` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included (1 = no retries).
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles for each further retry.
    pub base_delay: Duration,
    /// The longest wait between two tries by backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` waited for. A destination asking for longer ends the
    /// call with a [`PublishError::Transient`] carrying its `retry_after`, for the
    /// scheduler to come back then instead of holding a worker.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): `base_delay × 2^(retry-1)`
    /// capped at `max_delay`, then jittered down by up to half so that many posts failing
    /// together do not come back together.
    fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }

    /// The wait before retry number `retry` after `failure`, or `None` when the failure
    /// asks for longer than we wait (its `Retry-After` is beyond `max_retry_after`).
    fn delay_before(&self, retry: u32, failure: &Failure) -> Option<Duration> {
        match failure.retry_after {
            Some(asked) if asked > self.max_retry_after => None,
            Some(asked) => Some(asked),
            None => Some(self.backoff(retry)),
        }
    }
}

/// A failure before it is wrapped with the attempt log into a [`PublishError`].
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// `None` for a transient failure.
    pub(crate) permanent: Option<PermanentCause>,
    pub(crate) reason: String,
    pub(crate) status_code: Option<u16>,
    pub(crate) retry_after: Option<Duration>,
    /// The error name of an XRPC error body (`ExpiredToken`, `RecordNotFound`, …).
    pub(crate) remote_error: Option<String>,
    /// The remote's explanation of a refusal, already made safe (also in `reason`).
    pub(crate) detail: String,
}

impl Failure {
    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        Self {
            permanent: None,
            reason: reason.into(),
            status_code: None,
            retry_after: None,
            remote_error: None,
            detail: String::new(),
        }
    }

    pub(crate) fn permanent(cause: PermanentCause, reason: impl Into<String>) -> Self {
        Self {
            permanent: Some(cause),
            ..Self::transient(reason)
        }
    }

    /// Classifies a non-success HTTP answer: 408, 429 and 5xx are transient; 401 and 403
    /// are refused credentials; a redirect is a misconfiguration (we never follow them:
    /// a redirect could take credentials or signed bodies somewhere else); other 4xx are
    /// a rejected post. `detail` is the remote's explanation, already made safe.
    pub(crate) fn from_status(
        destination: &str,
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        detail: &str,
    ) -> Self {
        let code = status.as_u16();
        let explained = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        let mut failure = match code {
            408 | 429 | 500..=599 => {
                Self::transient(format!("{destination} answered {status}{explained}"))
            }
            401 | 403 => Self::permanent(
                PermanentCause::Credentials,
                format!("{destination} refused the credentials ({status}){explained}"),
            ),
            300..=399 => Self::permanent(
                PermanentCause::Configuration,
                format!("{destination} answered a redirect ({status}), which is not followed"),
            ),
            _ => Self::permanent(
                PermanentCause::Rejected,
                format!("{destination} rejected the post ({status}){explained}"),
            ),
        };
        failure.status_code = Some(code);
        failure.detail = detail.to_string();
        // Retry-After only means "come back then" on 429 and 503.
        if matches!(code, 429 | 503) {
            failure.retry_after = retry_after;
        }
        failure
    }

    /// Classifies a failure to get an answer at all: all of them are worth retrying (the
    /// destination may have been briefly down), except a request we could not even build.
    /// The URL is left out of the message: webhook URLs often hold a token.
    pub(crate) fn from_transport(destination: &str, error: &reqwest::Error) -> Self {
        if error.is_builder() {
            return Self::permanent(
                PermanentCause::Configuration,
                format!("the request to {destination} could not be built"),
            );
        }
        if error.is_timeout() {
            return Self::transient(format!("{destination} did not answer in time"));
        }
        let what = if error.is_connect() {
            "could not connect to"
        } else {
            "lost the connection to"
        };
        Self::transient(format!("{what} {destination}: {}", innermost_cause(error)))
    }

    pub(crate) fn is_transient(&self) -> bool {
        self.permanent.is_none()
    }

    pub(crate) fn into_error(self, log: Vec<Attempt>) -> PublishError {
        match self.permanent {
            None => PublishError::Transient {
                reason: self.reason,
                status_code: self.status_code,
                retry_after: self.retry_after,
                log,
            },
            Some(cause) => PublishError::Permanent {
                cause,
                reason: self.reason,
                status_code: self.status_code,
                log,
            },
        }
    }
}

/// The deepest error in `error`'s source chain, which says what actually happened
/// ("connection refused"), with no URL in it.
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// One successful HTTP exchange inside [`send_with_retries`].
pub(crate) struct Answered<T> {
    pub(crate) value: T,
    pub(crate) status_code: u16,
}

/// What [`send_with_retries`] came to: the value and the number of tries it took.
pub(crate) struct Sent<T> {
    pub(crate) value: T,
    pub(crate) status_code: u16,
    pub(crate) tries: u32,
}

/// Runs `send` until it succeeds, fails permanently, or `policy` runs out, logging every
/// try under `step` in `log`. `send` gets the try number (1 for the first).
pub(crate) async fn send_with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    step: &str,
    log: &mut Vec<Attempt>,
    mut send: F,
) -> Result<Sent<T>, Failure>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Answered<T>, Failure>>,
{
    let max_attempts = policy.max_attempts.max(1);
    let mut try_number = 1;
    loop {
        let at = Utc::now();
        let started = Instant::now();
        let outcome = send(try_number).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok(answered) => {
                log.push(Attempt {
                    step: step.to_string(),
                    at,
                    status_code: Some(answered.status_code),
                    error: None,
                    duration_ms,
                });
                return Ok(Sent {
                    value: answered.value,
                    status_code: answered.status_code,
                    tries: try_number,
                });
            }
            Err(failure) => {
                log.push(Attempt {
                    step: step.to_string(),
                    at,
                    status_code: failure.status_code,
                    error: Some(failure.reason.clone()),
                    duration_ms,
                });
                if !failure.is_transient() || try_number >= max_attempts {
                    return Err(failure);
                }
                let Some(delay) = policy.delay_before(try_number, &failure) else {
                    return Err(failure);
                };
                tracing::debug!(
                    step,
                    try_number,
                    delay_ms = delay.as_millis(),
                    reason = %failure.reason,
                    "retrying after a transient failure"
                );
                tokio::time::sleep(delay).await;
                try_number += 1;
            }
        }
    }
}

/// `Retry-After` as a wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&Utc) - Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A remote service's explanation made safe to keep in an error: cut short, stripped of
/// control characters, and with any of `secrets` replaced (in case a service echoes what
/// it was sent).
pub(crate) fn safe_remote_text(text: &str, secrets: &[&str]) -> String {
    let mut cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        cleaned = cleaned.replace(secret, "[redacted]");
    }
    let trimmed = cleaned.trim();
    let mut cut: String = trimmed.chars().take(MAX_REMOTE_MESSAGE_CHARS).collect();
    if cut.len() < trimmed.len() {
        cut.push('…');
    }
    cut
}

/// `https://host/…` for a URL that must not be shown in full (its path or query may hold a
/// token).
pub(crate) fn redacted_url(url: &url::Url) -> String {
    format!(
        "{}://{}/…",
        url.scheme(),
        url.host_str().unwrap_or("(no host)")
    )
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Retries fast enough for tests.
    pub(crate) fn quick_retries(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(2),
        }
    }

    /// A post with a fresh id.
    pub(crate) fn post(text: &str) -> OutgoingPost {
        OutgoingPost {
            post_id: uuid::Uuid::new_v4().to_string(),
            campaign_id: uuid::Uuid::new_v4().to_string(),
            platform: "bluesky".into(),
            text: text.into(),
            hashtags: Vec::new(),
            media: Vec::new(),
            scheduled_at: Utc::now(),
            language: Some("en".into()),
        }
    }

    /// A 1×1 PNG.
    pub(crate) fn png() -> Media {
        const PIXEL: &[u8] = &[
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
            0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
            0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
            0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
            0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
        ];
        Media {
            content_type: "image/png".into(),
            bytes: Bytes::from_static(PIXEL),
            alt: "A single orange pixel".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn statuses_are_classified_for_the_scheduler() {
        let transient = [408, 429, 500, 502, 503, 504];
        for code in transient {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(
                Failure::from_status("X", status, None, "").is_transient(),
                "{code}"
            );
        }
        let cases = [
            (400, PermanentCause::Rejected),
            (404, PermanentCause::Rejected),
            (422, PermanentCause::Rejected),
            (401, PermanentCause::Credentials),
            (403, PermanentCause::Credentials),
            (301, PermanentCause::Configuration),
        ];
        for (code, cause) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            let failure = Failure::from_status("X", status, None, "");
            assert_eq!(failure.permanent, Some(cause), "{code}");
            assert_eq!(failure.status_code, Some(code));
        }
    }

    #[test]
    fn retry_after_counts_only_on_429_and_503() {
        let wait = Some(Duration::from_secs(3));
        let on_429 = Failure::from_status("X", StatusCode::TOO_MANY_REQUESTS, wait, "");
        let on_500 = Failure::from_status("X", StatusCode::INTERNAL_SERVER_ERROR, wait, "");
        assert_eq!(on_429.retry_after, wait);
        assert_eq!(on_500.retry_after, None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = (Utc::now() + chrono::Duration::seconds(120))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        headers.insert("retry-after", later.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let tenth = policy.backoff(10);
            assert!(tenth >= Duration::from_millis(500) && tenth <= Duration::from_millis(1000));
        }
        let too_long = Failure {
            retry_after: Some(Duration::from_secs(60)),
            ..Failure::transient("busy")
        };
        assert_eq!(policy.delay_before(1, &too_long), None);
    }

    #[test]
    fn remote_text_is_cut_and_scrubbed() {
        let long = "x".repeat(500);
        assert_eq!(safe_remote_text(&long, &[]).chars().count(), 201);
        assert_eq!(
            safe_remote_text("bad password hunter2\n", &["hunter2"]),
            "bad password [redacted]"
        );
    }

    #[test]
    fn url_redaction_keeps_only_scheme_and_host() {
        let url = url::Url::parse("https://hooks.example.com/catch/123/s3cr3t?token=abc").unwrap();
        assert_eq!(redacted_url(&url), "https://hooks.example.com/…");
    }
}
