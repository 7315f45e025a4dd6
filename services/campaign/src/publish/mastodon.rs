//! Posts to a Mastodon instance with an access token (an application registered in the
//! account's Preferences → Development, scope `write:statuses write:media`):
//!
//! 1. Each picture: `POST /api/v2/media` (multipart: `file`, `description` = alt text).
//!    `200` means ready; `202` means the instance is still processing it, so we poll
//!    `GET /api/v1/media/:id` (`206` while processing, `200` with a `url` when done) a
//!    bounded number of times: a status cannot attach unfinished media.
//! 2. `POST /api/v1/statuses` (JSON: `status`, `media_ids[]`, `visibility`, `language`)
//!    with `Idempotency-Key: <post id>`: Mastodon answers a repeated key with the status
//!    the first request created, so neither our retries nor the scheduler's repeat a post
//!    (Mastodon keeps keys for an hour).
//!
//! Errors come as `{"error": "…"}`: 401 is a revoked or wrong token, 422 a refused post
//! (text too long, unprocessable media), 429 a rate limit (`X-RateLimit-Reset` says when).

use super::{
    Answered, Attempt, Connector, ConnectorKind, Delivery, Failure, Media, OutgoingPost,
    PermanentCause, PublishError, RetryPolicy, Sent, retry_after, safe_remote_text,
    send_with_retries,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::fmt;
use std::time::Duration;

/// Attachments per status (Mastodon's default limit).
pub const MAX_ATTACHMENTS: usize = 4;
const DESTINATION: &str = "Mastodon";

/// Who sees a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    #[default]
    Public,
    /// Public, but kept out of public timelines.
    Unlisted,
    /// Followers only.
    Private,
    /// Mentioned people only.
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
            Self::Direct => "direct",
        }
    }
}

/// A Mastodon account to post as. `Debug` never shows the token.
#[derive(Clone)]
pub struct MastodonConfig {
    /// The instance, e.g. `https://mastodon.social/`.
    pub instance_url: url::Url,
    pub access_token: SecretString,
    pub visibility: Visibility,
    pub retry: RetryPolicy,
    /// How long one request may take (uploads included).
    pub request_timeout: Duration,
    /// The wait between two looks at media still being processed.
    pub media_poll_interval: Duration,
    /// Looks at media still being processed before giving up (a transient error: the
    /// scheduler tries again later).
    pub media_poll_limit: u32,
}

impl MastodonConfig {
    /// Public statuses, default retries, 30 s per request, media polled every second for
    /// up to a minute.
    pub fn new(instance_url: url::Url, access_token: SecretString) -> Self {
        Self {
            instance_url,
            access_token,
            visibility: Visibility::Public,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            media_poll_interval: Duration::from_secs(1),
            media_poll_limit: 60,
        }
    }
}

impl fmt::Debug for MastodonConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MastodonConfig")
            .field("instance_url", &self.instance_url.as_str())
            .field("access_token", &"[redacted]")
            .field("visibility", &self.visibility)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("media_poll_interval", &self.media_poll_interval)
            .field("media_poll_limit", &self.media_poll_limit)
            .finish()
    }
}

#[derive(Deserialize)]
struct MediaAttachment {
    id: String,
    url: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    url: Option<String>,
    uri: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

/// Publishes to one Mastodon account.
#[derive(Debug)]
pub struct MastodonConnector {
    http: reqwest::Client,
    config: MastodonConfig,
}

impl MastodonConnector {
    pub fn new(config: MastodonConfig) -> Result<Self, PublishError> {
        if !matches!(config.instance_url.scheme(), "http" | "https") {
            return Err(PublishError::configuration(
                "the Mastodon instance URL must be http or https",
            ));
        }
        let http = reqwest::Client::builder()
            // The token travels in a header: never let a redirect carry it elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.request_timeout)
            .build()
            .map_err(|_| PublishError::configuration("the HTTP client could not be built"))?;
        Ok(Self { http, config })
    }

    fn endpoint(&self, path: &str) -> Result<url::Url, Failure> {
        self.config.instance_url.join(path).map_err(|_| {
            Failure::permanent(
                PermanentCause::Configuration,
                "the Mastodon instance URL is not a base URL",
            )
        })
    }

    /// One API call, retried per the policy; `build` makes the request afresh per try.
    async fn call<T: DeserializeOwned>(
        &self,
        step: &str,
        log: &mut Vec<Attempt>,
        build: &(dyn Fn() -> reqwest::RequestBuilder + Sync),
    ) -> Result<Sent<T>, Failure> {
        let token = self.config.access_token.expose_secret();
        send_with_retries(&self.config.retry, step, log, |_try_number| {
            let request = build().bearer_auth(token);
            async move {
                let response = request
                    .send()
                    .await
                    .map_err(|e| Failure::from_transport(DESTINATION, &e))?;
                let status = response.status();
                let wait = retry_after(response.headers())
                    .or_else(|| rate_limit_reset(response.headers()));
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| Failure::from_transport(DESTINATION, &e))?;
                if status.is_success() {
                    let value = serde_json::from_slice(&body).map_err(|_| {
                        Failure::transient(format!("{DESTINATION} sent an unexpected answer"))
                    })?;
                    return Ok(Answered {
                        value,
                        status_code: status.as_u16(),
                    });
                }
                let detail = serde_json::from_slice::<ErrorBody>(&body)
                    .ok()
                    .and_then(|e| e.error)
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
                let detail = safe_remote_text(&detail, &[token]);
                Err(Failure::from_status(DESTINATION, status, wait, &detail))
            }
        })
        .await
    }

    /// Uploads one attachment and waits until the instance has processed it; its id.
    async fn upload(
        &self,
        index: usize,
        media: &Media,
        log: &mut Vec<Attempt>,
    ) -> Result<String, Failure> {
        let url = self.endpoint("api/v2/media")?;
        let length = u64::try_from(media.bytes.len()).unwrap_or(u64::MAX);
        let file_name = file_name(index, &media.content_type);
        let build = || {
            let file = reqwest::multipart::Part::stream_with_length(
                reqwest::Body::from(media.bytes.clone()),
                length,
            )
            .file_name(file_name.clone());
            // An unparsable MIME type is sent as octet-stream; Mastodon sniffs the bytes.
            let file = match file.mime_str(&media.content_type) {
                Ok(file) => file,
                Err(_) => reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::from(media.bytes.clone()),
                    length,
                )
                .file_name(file_name.clone()),
            };
            let form = reqwest::multipart::Form::new()
                .part("file", file)
                .text("description", media.alt.clone());
            self.http.post(url.clone()).multipart(form)
        };
        let uploaded: Sent<MediaAttachment> = self.call("upload media", log, &build).await?;
        if uploaded.status_code != 202 && uploaded.value.url.is_some() {
            return Ok(uploaded.value.id);
        }
        self.wait_until_processed(&uploaded.value.id, log).await?;
        Ok(uploaded.value.id)
    }

    /// Polls `GET /api/v1/media/:id` until it answers 200 with a URL.
    async fn wait_until_processed(&self, id: &str, log: &mut Vec<Attempt>) -> Result<(), Failure> {
        let url = self.endpoint(&format!("api/v1/media/{id}"))?;
        let build = || self.http.get(url.clone());
        for _ in 0..self.config.media_poll_limit {
            tokio::time::sleep(self.config.media_poll_interval).await;
            let polled: Sent<MediaAttachment> = self.call("media status", log, &build).await?;
            if polled.status_code == 200 && polled.value.url.is_some() {
                return Ok(());
            }
        }
        Err(Failure::transient(format!(
            "{DESTINATION} was still processing an attachment after {} checks",
            self.config.media_poll_limit
        )))
    }

    async fn publish_logged(
        &self,
        post: &OutgoingPost,
        log: &mut Vec<Attempt>,
    ) -> Result<Delivery, Failure> {
        if post.media.len() > MAX_ATTACHMENTS {
            return Err(Failure::permanent(
                PermanentCause::InvalidPost,
                format!(
                    "Mastodon takes at most {MAX_ATTACHMENTS} attachments per post; this one has {}",
                    post.media.len()
                ),
            ));
        }
        let mut media_ids = Vec::with_capacity(post.media.len());
        for (index, media) in post.media.iter().enumerate() {
            media_ids.push(self.upload(index, media, log).await?);
        }
        let mut body = json!({
            "status": post.text,
            "media_ids": media_ids,
            "visibility": self.config.visibility.as_str(),
        });
        if let Some(language) = &post.language {
            body["language"] = json!(language);
        }
        let url = self.endpoint("api/v1/statuses")?;
        let build = || {
            self.http
                .post(url.clone())
                .header("Idempotency-Key", post.post_id.as_str())
                .json(&body)
        };
        let sent: Sent<Status> = self.call("create status", log, &build).await?;
        Ok(Delivery {
            remote_id: Some(sent.value.id),
            remote_url: sent.value.url.or(sent.value.uri),
            attempts: sent.tries,
            status_code: Some(sent.status_code),
            log: Vec::new(),
        })
    }
}

#[async_trait]
impl Connector for MastodonConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Mastodon
    }

    async fn publish(&self, post: &OutgoingPost) -> Result<Delivery, PublishError> {
        let mut log = Vec::new();
        match self.publish_logged(post, &mut log).await {
            Ok(delivery) => Ok(Delivery { log, ..delivery }),
            Err(failure) => Err(failure.into_error(log)),
        }
    }
}

/// `media-<n>.<subtype>` (`media-0.png`): Mastodon wants a file name; the subtype is kept
/// only when it is a plain word.
fn file_name(index: usize, content_type: &str) -> String {
    let subtype = content_type
        .split(';')
        .next()
        .and_then(|essence| essence.split('/').nth(1))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 16 && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin");
    format!("media-{index}.{subtype}")
}

/// When a 429 carries no `Retry-After`, Mastodon's `X-RateLimit-Reset` (an ISO 8601 time)
/// says when the window reopens.
fn rate_limit_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let reset = headers.get("x-ratelimit-reset")?.to_str().ok()?;
    let reset = DateTime::parse_from_rfc3339(reset)
        .ok()?
        .with_timezone(&Utc);
    Some((reset - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{png, post, quick_retries};
    use super::*;
    use marquee_testkit::social::{FakeMastodon, mastodon};

    fn connector(fake: &FakeMastodon, token: &str) -> MastodonConnector {
        marquee_platform::install_crypto_provider();
        MastodonConnector::new(MastodonConfig {
            retry: quick_retries(4),
            request_timeout: Duration::from_secs(5),
            media_poll_interval: Duration::from_millis(5),
            media_poll_limit: 10,
            ..MastodonConfig::new(
                url::Url::parse(&fake.base).unwrap(),
                SecretString::from(token),
            )
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_status_with_a_picture() {
        let fake = FakeMastodon::start().await;
        let connector = connector(&fake, mastodon::TOKEN);
        let mut post = post("Autumn blend is back #coffee");
        post.media = vec![png()];
        let delivery = connector.publish(&post).await.unwrap();
        let statuses = fake.statuses();
        assert_eq!(statuses.len(), 1);
        let status = &statuses[0];
        assert_eq!(status.text, post.text);
        assert_eq!(status.visibility, "public");
        assert_eq!(status.language.as_deref(), Some("en"));
        assert_eq!(
            status.idempotency_key.as_deref(),
            Some(post.post_id.as_str())
        );
        assert_eq!(status.media.len(), 1);
        assert_eq!(status.media[0].description, "A single orange pixel");
        assert_eq!(status.media[0].content_type, "image/png");
        assert_eq!(status.media[0].bytes, png().bytes.to_vec());
        assert_eq!(delivery.remote_id.as_deref(), Some(status.id.as_str()));
        assert_eq!(delivery.remote_url.as_deref(), Some(status.url.as_str()));
        assert_eq!(delivery.attempts, 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn publishing_the_same_post_twice_makes_one_status() {
        let fake = FakeMastodon::start().await;
        let connector = connector(&fake, mastodon::TOKEN);
        let post = post("Only once, please");
        let first = connector.publish(&post).await.unwrap();
        let second = connector.publish(&post).await.unwrap();
        assert_eq!(first.remote_id, second.remote_id);
        assert_eq!(fake.statuses().len(), 1);
        assert_eq!(fake.status_requests(), 2);
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_server_error_after_posting_is_retried_without_a_second_status() {
        let fake = FakeMastodon::start().await;
        let connector = connector(&fake, mastodon::TOKEN);
        fake.fail_after_posting_once();
        let delivery = connector.publish(&post("Retried safely")).await.unwrap();
        assert_eq!(delivery.attempts, 2);
        assert_eq!(fake.statuses().len(), 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn media_still_processing_is_polled_until_ready() {
        let fake = FakeMastodon::start().await;
        fake.process_media_asynchronously(3);
        let connector = connector(&fake, mastodon::TOKEN);
        let mut post = post("Processed first");
        post.media = vec![png()];
        let delivery = connector.publish(&post).await.unwrap();
        let steps: Vec<_> = delivery.log.iter().map(|a| a.step.as_str()).collect();
        assert_eq!(
            steps,
            [
                "upload media",
                "media status",
                "media status",
                "media status",
                "create status"
            ]
        );
        let statuses: Vec<_> = delivery.log.iter().map(|a| a.status_code).collect();
        assert_eq!(
            statuses,
            [Some(202), Some(206), Some(206), Some(200), Some(200)]
        );
        assert_eq!(fake.statuses()[0].media.len(), 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn media_that_never_finishes_is_a_transient_error() {
        let fake = FakeMastodon::start().await;
        fake.process_media_asynchronously(1000);
        let connector = connector(&fake, mastodon::TOKEN);
        let mut post = post("Never ready");
        post.media = vec![png()];
        let error = connector.publish(&post).await.unwrap_err();
        assert!(error.is_transient());
        assert!(error.to_string().contains("still processing"));
        assert!(fake.statuses().is_empty());
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_wrong_token_is_permanent_and_not_shown() {
        let fake = FakeMastodon::start().await;
        let connector = connector(&fake, "not-the-token-123");
        let error = connector.publish(&post("hello")).await.unwrap_err();
        assert_eq!(error.permanent_cause(), Some(PermanentCause::Credentials));
        assert_eq!(error.status_code(), Some(401));
        assert_eq!(error.log().len(), 1);
        assert!(!format!("{error} {error:?}").contains("not-the-token-123"));
        assert!(!format!("{:?}", connector.config).contains("not-the-token-123"));
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_refused_status_is_permanent() {
        let fake = FakeMastodon::start().await;
        let connector = connector(&fake, mastodon::TOKEN);
        let error = connector.publish(&post("")).await.unwrap_err();
        assert_eq!(error.permanent_cause(), Some(PermanentCause::Rejected));
        assert_eq!(error.status_code(), Some(422));
        assert!(error.to_string().contains("can't be blank"));
        fake.stop().await;
    }

    #[test]
    fn file_names_keep_plain_subtypes_only() {
        assert_eq!(file_name(0, "image/png"), "media-0.png");
        assert_eq!(file_name(1, "image/jpeg; q=1"), "media-1.jpeg");
        assert_eq!(file_name(2, "image/../../etc"), "media-2.bin");
        assert_eq!(file_name(3, "nonsense"), "media-3.bin");
    }
}
