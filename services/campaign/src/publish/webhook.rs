//! Posts delivered to a URL of the creator's choosing (Zapier, Make, their own site), as a
//! signed JSON `POST`.
//!
//! # What the receiver gets
//!
//! ```text
//! POST <configured URL>
//! Content-Type: application/json
//! User-Agent: Marquee-Webhooks/1
//! X-Marquee-Event: post.published
//! X-Marquee-Delivery: 0b7f3c1e-…          (the same for every try of the same post)
//! X-Marquee-Signature: t=1767225600,v1=5f2c…
//!
//! {"event":"post.published","delivery_id":"0b7f3c1e-…","post":{"post_id":…,"campaign_id":…,
//!  "platform":"instagram","text":…,"hashtags":[…],"language":"en","scheduled_at":"2026-…Z",
//!  "media":[{"content_type":"image/jpeg","alt":…,"size_bytes":48213,"data_base64":…}]}}
//! ```
//!
//! # Verifying the signature (Stripe's scheme)
//!
//! `t` is the Unix time (seconds) the try was signed; `v1` is the lowercase hex of
//! HMAC-SHA256 keyed with the shared secret over the bytes `"<t>.<raw body>"`. A receiver
//! recomputes it over the body exactly as received, compares in constant time, and refuses
//! a `t` further than a few minutes from its clock (so a captured request cannot be replayed
//! later). The header may carry several `v1=` values (one per secret while a secret is being
//! rotated); any match is enough. [`verify_signature`] does all of this.
//!
//! Each try is signed afresh (a new `t`); `X-Marquee-Delivery` stays the same so receivers
//! can drop duplicates: it is derived from the post id, so even the scheduler publishing the
//! post again hours later sends the same id.
//!
//! # Delivery
//!
//! Any 2xx is a delivery. 408, 429 and 5xx, timeouts and connection failures are retried
//! with exponential backoff ([`RetryPolicy`]), waiting what `Retry-After` asks on 429/503 up
//! to a cap. Other 4xx are not retried. Redirects are not followed (a redirect would carry
//! the signed post somewhere the creator did not configure): configure the final URL.

use super::{
    Answered, Attempt, Connector, ConnectorKind, Delivery, Failure, OutgoingPost, PermanentCause,
    PublishError, RetryPolicy, redacted_url, retry_after, safe_remote_text, send_with_retries,
};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The event every delivery carries (`X-Marquee-Event` and the body's `event`).
pub const EVENT_POST_PUBLISHED: &str = "post.published";
pub const SIGNATURE_HEADER: &str = "X-Marquee-Signature";
pub const DELIVERY_HEADER: &str = "X-Marquee-Delivery";
pub const EVENT_HEADER: &str = "X-Marquee-Event";
/// How far a signature's `t` may be from the receiver's clock, by default.
pub const DEFAULT_SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);

const USER_AGENT: &str = "Marquee-Webhooks/1";
/// How errors name the receiver (never by URL: it may hold a token).
const DESTINATION: &str = "the webhook";

type HmacSha256 = Hmac<Sha256>;

/// Where and how to deliver. `Debug` shows neither the secret nor the URL's path and query
/// (webhook URLs often embed a token).
#[derive(Clone)]
pub struct WebhookConfig {
    /// `http` or `https` URL receiving the `POST`.
    pub url: url::Url,
    /// The shared secret signing every delivery.
    pub secret: SecretString,
    pub retry: RetryPolicy,
    /// How long one try may take, connection included.
    pub attempt_timeout: Duration,
    /// Which addresses the webhook may be delivered to, when creators enter webhook URLs
    /// (a URL pointing at our own network would be SSRF): the URL's literal IP is checked
    /// once, a host name's addresses at every connection, by the resolver the connection
    /// then uses (no gap for DNS rebinding). `None` delivers anywhere. The service passes
    /// `clients::web::is_public_address`.
    pub address_filter: Option<AddressFilter>,
}

/// Whether deliveries may go to an address.
pub type AddressFilter = Arc<dyn Fn(IpAddr) -> bool + Send + Sync>;

impl WebhookConfig {
    /// A configuration with the default retries (4 tries, 500 ms doubling), a 10 s
    /// timeout per try and no address filter.
    pub fn new(url: url::Url, secret: SecretString) -> Self {
        Self {
            url,
            secret,
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(10),
            address_filter: None,
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &redacted_url(&self.url))
            .field("secret", &"[redacted]")
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("address_filter", &self.address_filter.is_some())
            .finish()
    }
}

/// Delivers posts to one webhook URL.
#[derive(Debug)]
pub struct WebhookConnector {
    http: reqwest::Client,
    config: WebhookConfig,
}

impl WebhookConnector {
    /// Fails (permanently, as a configuration error) on a URL that is not http(s) or
    /// carries credentials, or when the HTTP client cannot be built.
    ///
    /// The URL is not checked against private addresses here: a service letting creators
    /// enter webhook URLs should vet them as it vets websites it fetches.
    pub fn new(config: WebhookConfig) -> Result<Self, PublishError> {
        if !matches!(config.url.scheme(), "http" | "https") {
            return Err(PublishError::configuration(
                "the webhook URL must be http or https",
            ));
        }
        if config.url.host_str().is_none() {
            return Err(PublishError::configuration("the webhook URL has no host"));
        }
        if !config.url.username().is_empty() || config.url.password().is_some() {
            return Err(PublishError::configuration(
                "the webhook URL must not carry a user name or password",
            ));
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.attempt_timeout)
            .user_agent(USER_AGENT);
        if let Some(filter) = &config.address_filter {
            let literal = match config.url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(|ip| !filter(ip)) {
                return Err(PublishError::configuration(REFUSED_ADDRESS));
            }
            // A proxy would resolve names itself, out of the filter's reach.
            builder = builder.no_proxy().dns_resolver(Arc::new(FilteringResolver {
                filter: filter.clone(),
            }));
        }
        let http = builder
            .build()
            .map_err(|_| PublishError::configuration("the HTTP client could not be built"))?;
        Ok(Self { http, config })
    }

    async fn deliver(
        &self,
        delivery_id: &str,
        body: &Bytes,
        log: &mut Vec<Attempt>,
    ) -> Result<super::Sent<()>, Failure> {
        let secret = self.config.secret.expose_secret();
        send_with_retries(
            &self.config.retry,
            "deliver",
            log,
            |_try_number| async move {
                // Signed per try: receivers refuse timestamps outside their tolerance.
                let signature = signature_header(secret, Utc::now().timestamp(), body);
                let response = self
                    .http
                    .post(self.config.url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(EVENT_HEADER, EVENT_POST_PUBLISHED)
                    .header(DELIVERY_HEADER, delivery_id)
                    .header(SIGNATURE_HEADER, signature)
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        if refused_by_filter(&e) {
                            Failure::permanent(PermanentCause::Configuration, REFUSED_ADDRESS)
                        } else {
                            Failure::from_transport(DESTINATION, &e)
                        }
                    })?;
                let status = response.status();
                if status.is_success() {
                    return Ok(Answered {
                        value: (),
                        status_code: status.as_u16(),
                    });
                }
                let wait = retry_after(response.headers());
                // What the receiver said helps the creator fix their endpoint; it is theirs.
                let detail = response.text().await.unwrap_or_default();
                let detail = safe_remote_text(&detail, &[secret]);
                Err(Failure::from_status(DESTINATION, status, wait, &detail))
            },
        )
        .await
    }
}

#[async_trait]
impl Connector for WebhookConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Webhook
    }

    async fn publish(&self, post: &OutgoingPost) -> Result<Delivery, PublishError> {
        let delivery_id = delivery_id(&post.post_id);
        let body = serde_json::to_vec(&Payload::new(&delivery_id, post))
            .map(Bytes::from)
            .map_err(|_| PublishError::configuration("the post could not be serialised"))?;
        let mut log = Vec::new();
        match self.deliver(&delivery_id, &body, &mut log).await {
            Ok(sent) => Ok(Delivery {
                remote_id: Some(delivery_id),
                remote_url: None,
                attempts: sent.tries,
                status_code: Some(sent.status_code),
                log,
            }),
            Err(failure) => Err(failure.into_error(log)),
        }
    }
}

const REFUSED_ADDRESS: &str = "the webhook URL points to an address deliveries may not go to";

/// Resolves host names for deliveries, refusing a name if any of its addresses fails the
/// filter. The connection uses exactly the addresses returned here.
struct FilteringResolver {
    filter: AddressFilter,
}

/// The resolver's refusal, recognised in the error chain of a failed request.
#[derive(Debug, thiserror::Error)]
#[error("the host resolves to an address deliveries may not go to")]
struct RefusedAddress;

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let filter = self.filter.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: the connector puts the URL's port on the addresses.
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.iter().any(|a| !filter(a.ip())) {
                return Err(Box::new(RefusedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn refused_by_filter(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.is::<RefusedAddress>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The delivery id for a post: a UUID made from a hash of the post id, so every try and
/// every later publish of the same post carry the same id.
pub fn delivery_id(post_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"marquee webhook delivery\0")
        .chain_update(post_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Version-4 layout (the bits say "random"; these are as good as random).
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The `X-Marquee-Signature` value for `body` signed at `timestamp` (Unix seconds).
pub fn sign(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    signature_header(secret.expose_secret(), timestamp, body)
}

fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = signer(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(mac))
}

fn signer(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `header` (an `X-Marquee-Signature` value) signs `body` with `secret`, at a time
/// within `tolerance` of `now`. Comparison is constant-time; a malformed header is `false`.
pub fn verify_signature(
    secret: &SecretString,
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if now.timestamp().abs_diff(timestamp) > tolerance.as_secs() {
        return false;
    }
    signatures.iter().any(|signature| {
        signer(secret.expose_secret(), timestamp, body)
            .verify_slice(signature)
            .is_ok()
    })
}

#[derive(Serialize)]
struct Payload<'a> {
    event: &'static str,
    delivery_id: &'a str,
    post: PostPayload<'a>,
}

#[derive(Serialize)]
struct PostPayload<'a> {
    post_id: &'a str,
    campaign_id: &'a str,
    platform: &'a str,
    text: &'a str,
    hashtags: &'a [String],
    language: Option<&'a str>,
    scheduled_at: String,
    media: Vec<MediaPayload<'a>>,
}

#[derive(Serialize)]
struct MediaPayload<'a> {
    content_type: &'a str,
    alt: &'a str,
    size_bytes: usize,
    /// The file itself: the receiver has no other way to fetch it.
    data_base64: String,
}

impl<'a> Payload<'a> {
    fn new(delivery_id: &'a str, post: &'a OutgoingPost) -> Self {
        Self {
            event: EVENT_POST_PUBLISHED,
            delivery_id,
            post: PostPayload {
                post_id: &post.post_id,
                campaign_id: &post.campaign_id,
                platform: &post.platform,
                text: &post.text,
                hashtags: &post.hashtags,
                language: post.language.as_deref(),
                scheduled_at: post
                    .scheduled_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                media: post
                    .media
                    .iter()
                    .map(|media| MediaPayload {
                        content_type: &media.content_type,
                        alt: &media.alt,
                        size_bytes: media.bytes.len(),
                        data_base64: BASE64.encode(&media.bytes),
                    })
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{png, post, quick_retries};
    use super::*;
    use marquee_testkit::social::{WebhookReceiver, WebhookReply};
    use std::time::Instant;

    const SECRET: &str = "whsec_marquee_test";

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    async fn connector(receiver: &WebhookReceiver, retry: RetryPolicy) -> WebhookConnector {
        marquee_platform::install_crypto_provider();
        let url = url::Url::parse(&format!("{}hooks/marquee?token=abc", receiver.base)).unwrap();
        WebhookConnector::new(WebhookConfig {
            retry,
            attempt_timeout: Duration::from_secs(2),
            ..WebhookConfig::new(url, secret())
        })
        .unwrap()
    }

    #[test]
    fn signatures_verify_and_tampering_is_refused() {
        let body = br#"{"event":"post.published"}"#;
        let now = Utc::now();
        let header = sign(&secret(), now.timestamp(), body);
        assert!(verify_signature(
            &secret(),
            &header,
            body,
            now,
            DEFAULT_SIGNATURE_TOLERANCE
        ));
        // Another body, another secret, a stale timestamp, garbage.
        assert!(!verify_signature(
            &secret(),
            &header,
            br#"{"event":"post.published "}"#,
            now,
            DEFAULT_SIGNATURE_TOLERANCE
        ));
        assert!(!verify_signature(
            &SecretString::from("other"),
            &header,
            body,
            now,
            DEFAULT_SIGNATURE_TOLERANCE
        ));
        let later = now + chrono::Duration::seconds(301);
        assert!(!verify_signature(
            &secret(),
            &header,
            body,
            later,
            DEFAULT_SIGNATURE_TOLERANCE
        ));
        for bad in ["", "t=abc,v1=00", "v1=00", "t=1", "t=1,v1=zz"] {
            assert!(!verify_signature(
                &secret(),
                bad,
                body,
                now,
                DEFAULT_SIGNATURE_TOLERANCE
            ));
        }
        // Several v1 values (secret rotation): any one matching is enough.
        let rotated = format!(
            "t={},v1={},v1={}",
            now.timestamp(),
            "ab".repeat(32),
            &header[header.find("v1=").unwrap() + 3..]
        );
        assert!(verify_signature(
            &secret(),
            &rotated,
            body,
            now,
            DEFAULT_SIGNATURE_TOLERANCE
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        let header = sign(&SecretString::from("key"), 1_700_000_000, b"{}");
        let mut expected = HmacSha256::new_from_slice(b"key").unwrap();
        expected.update(b"1700000000.{}");
        let expected = hex::encode(expected.finalize().into_bytes());
        assert_eq!(header, format!("t=1700000000,v1={expected}"));
    }

    #[test]
    fn delivery_ids_are_stable_uuids_per_post() {
        let a = delivery_id("2f1d4c52-5c1e-4a43-9f57-2b7d0fd1f0a1");
        assert_eq!(a, delivery_id("2f1d4c52-5c1e-4a43-9f57-2b7d0fd1f0a1"));
        assert_ne!(a, delivery_id("another post"));
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn debug_hides_the_secret_and_the_url_token() {
        let url = url::Url::parse("https://hooks.example.com/catch/123/tok3n?key=k3y").unwrap();
        let printed = format!("{:?}", WebhookConfig::new(url, secret()));
        assert!(!printed.contains(SECRET));
        assert!(!printed.contains("tok3n") && !printed.contains("k3y"));
        assert!(printed.contains("hooks.example.com"));
    }

    #[tokio::test]
    async fn a_delivery_is_signed_and_verifiable_by_the_receiver() {
        let receiver = WebhookReceiver::start().await;
        let connector = connector(&receiver, quick_retries(4)).await;
        let mut post = post("Spring menu is here #coffee");
        post.hashtags = vec!["coffee".into()];
        post.media = vec![png()];
        let delivery = connector.publish(&post).await.unwrap();
        assert_eq!(delivery.attempts, 1);
        assert_eq!(delivery.status_code, Some(200));
        assert_eq!(delivery.log.len(), 1);

        let requests = receiver.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/marquee");
        assert_eq!(
            request.header("x-marquee-event"),
            Some(EVENT_POST_PUBLISHED)
        );
        assert_eq!(
            request.header("x-marquee-delivery"),
            delivery.remote_id.as_deref()
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        let signature = request.header("x-marquee-signature").unwrap();
        assert!(verify_signature(
            &secret(),
            signature,
            &request.body,
            Utc::now(),
            DEFAULT_SIGNATURE_TOLERANCE
        ));
        // One changed byte and it no longer verifies.
        let mut tampered = request.body.to_vec();
        let last = tampered.len() - 2;
        tampered[last] ^= 0x01;
        assert!(!verify_signature(
            &secret(),
            signature,
            &tampered,
            Utc::now(),
            DEFAULT_SIGNATURE_TOLERANCE
        ));

        let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(json["event"], EVENT_POST_PUBLISHED);
        assert_eq!(json["post"]["post_id"], post.post_id.as_str());
        assert_eq!(json["post"]["hashtags"][0], "coffee");
        assert_eq!(json["post"]["media"][0]["content_type"], "image/png");
        assert_eq!(
            BASE64
                .decode(json["post"]["media"][0]["data_base64"].as_str().unwrap())
                .unwrap(),
            png().bytes.to_vec()
        );
        receiver.stop().await;
    }

    #[tokio::test]
    async fn server_errors_are_retried_with_the_same_delivery_id() {
        let receiver = WebhookReceiver::start().await;
        receiver.reply(WebhookReply::Status(500));
        receiver.reply(WebhookReply::Status(502));
        let connector = connector(&receiver, quick_retries(4)).await;
        let delivery = connector.publish(&post("Hello")).await.unwrap();
        assert_eq!(delivery.attempts, 3);
        let statuses: Vec<_> = delivery.log.iter().map(|a| a.status_code).collect();
        assert_eq!(statuses, vec![Some(500), Some(502), Some(200)]);
        assert!(delivery.log[0].error.as_deref().unwrap().contains("500"));

        let requests = receiver.requests();
        assert_eq!(requests.len(), 3);
        let ids: Vec<_> = requests
            .iter()
            .map(|r| r.header("x-marquee-delivery").unwrap().to_string())
            .collect();
        assert!(
            ids.iter()
                .all(|id| Some(id.as_str()) == delivery.remote_id.as_deref())
        );
        // Every try verifies on its own.
        for request in &requests {
            assert!(verify_signature(
                &secret(),
                request.header("x-marquee-signature").unwrap(),
                &request.body,
                Utc::now(),
                DEFAULT_SIGNATURE_TOLERANCE
            ));
        }
        receiver.stop().await;
    }

    #[tokio::test]
    async fn a_400_is_permanent_and_not_retried() {
        let receiver = WebhookReceiver::start().await;
        receiver.reply(WebhookReply::Status(400));
        let connector = connector(&receiver, quick_retries(4)).await;
        let error = connector.publish(&post("Hello")).await.unwrap_err();
        assert!(!error.is_transient());
        assert_eq!(error.permanent_cause(), Some(PermanentCause::Rejected));
        assert_eq!(error.status_code(), Some(400));
        assert_eq!(error.log().len(), 1);
        assert_eq!(receiver.requests().len(), 1);
        // The message names neither the URL's token nor the secret.
        let message = error.to_string();
        assert!(!message.contains("token=abc") && !message.contains(SECRET));
        receiver.stop().await;
    }

    #[tokio::test]
    async fn exhausted_retries_are_transient_for_the_scheduler() {
        let receiver = WebhookReceiver::start().await;
        for _ in 0..3 {
            receiver.reply(WebhookReply::Status(503));
        }
        let connector = connector(&receiver, quick_retries(3)).await;
        let error = connector.publish(&post("Hello")).await.unwrap_err();
        assert!(error.is_transient());
        assert_eq!(error.status_code(), Some(503));
        assert_eq!(error.log().len(), 3);
        receiver.stop().await;
    }

    #[tokio::test]
    async fn retry_after_is_honoured_and_a_long_one_is_left_to_the_scheduler() {
        let receiver = WebhookReceiver::start().await;
        receiver.reply(WebhookReply::RetryAfter(429, 1));
        let connector = connector(&receiver, quick_retries(4)).await;
        let started = Instant::now();
        let delivery = connector.publish(&post("Hello")).await.unwrap();
        assert_eq!(delivery.attempts, 2);
        // Backoff alone would have waited at most 5 ms.
        assert!(started.elapsed() >= Duration::from_millis(950));

        // Beyond max_retry_after (2 s): no waiting here, the scheduler gets the wait.
        receiver.reply(WebhookReply::RetryAfter(503, 3600));
        let started = Instant::now();
        let error = connector.publish(&post("Hello")).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(error.is_transient());
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
        assert_eq!(error.log().len(), 1);
        receiver.stop().await;
    }

    #[tokio::test]
    async fn a_slow_receiver_times_out_and_is_retried() {
        let receiver = WebhookReceiver::start().await;
        receiver.reply(WebhookReply::Delay(Duration::from_secs(3), 200));
        let connector = connector(&receiver, quick_retries(2)).await;
        let delivery = connector.publish(&post("Hello")).await.unwrap();
        assert_eq!(delivery.attempts, 2);
        assert_eq!(delivery.log[0].status_code, None);
        assert!(
            delivery.log[0]
                .error
                .as_deref()
                .unwrap()
                .contains("in time")
        );
        receiver.stop().await;
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let receiver = WebhookReceiver::start().await;
        receiver.reply(WebhookReply::Redirect(
            "http://127.0.0.1:9/elsewhere".into(),
        ));
        let connector = connector(&receiver, quick_retries(4)).await;
        let error = connector.publish(&post("Hello")).await.unwrap_err();
        assert_eq!(error.permanent_cause(), Some(PermanentCause::Configuration));
        assert_eq!(receiver.requests().len(), 1);
        receiver.stop().await;
    }

    #[tokio::test]
    async fn an_address_filter_keeps_deliveries_off_refused_addresses() {
        let receiver = WebhookReceiver::start().await;
        marquee_platform::install_crypto_provider();
        let port = url::Url::parse(&receiver.base).unwrap().port().unwrap();
        let loopback_refused: AddressFilter = Arc::new(|ip: IpAddr| !ip.is_loopback());
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://localhost:{port}/hook"),
        ] {
            let config = WebhookConfig {
                address_filter: Some(loopback_refused.clone()),
                retry: quick_retries(4),
                ..WebhookConfig::new(url::Url::parse(&url).unwrap(), secret())
            };
            let outcome = match WebhookConnector::new(config) {
                Ok(connector) => connector.publish(&post("Hello")).await.map(|_| ()),
                Err(error) => Err(error),
            };
            let error = outcome.unwrap_err();
            assert_eq!(
                error.permanent_cause(),
                Some(PermanentCause::Configuration),
                "{url}: {error}"
            );
            assert!(error.log().len() <= 1, "not retried: {url}");
        }
        assert!(receiver.requests().is_empty());
        // A filter permitting the address lets the delivery through.
        let config = WebhookConfig {
            address_filter: Some(Arc::new(|_| true)),
            ..WebhookConfig::new(
                url::Url::parse(&format!("http://localhost:{port}/hook")).unwrap(),
                secret(),
            )
        };
        WebhookConnector::new(config)
            .unwrap()
            .publish(&post("Hello"))
            .await
            .unwrap();
        assert_eq!(receiver.requests().len(), 1);
        receiver.stop().await;
    }

    #[test]
    fn urls_that_cannot_work_are_refused_up_front() {
        for bad in ["ftp://example.com/hook", "https://user:pw@example.com/hook"] {
            let config = WebhookConfig::new(url::Url::parse(bad).unwrap(), secret());
            let error = WebhookConnector::new(config).unwrap_err();
            assert_eq!(error.permanent_cause(), Some(PermanentCause::Configuration));
            assert!(!error.to_string().contains("pw"));
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn at(timestamp: i64) -> DateTime<Utc> {
            DateTime::from_timestamp(timestamp, 0).unwrap()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_on_arbitrary_headers(
                header in prop_oneof![
                    ".{0,200}".boxed(),
                    marquee_testkit::props::signature_header().boxed(),
                ],
                body in proptest::collection::vec(any::<u8>(), 0..64),
                now in -8_000_000_000_000i64..8_000_000_000_000,
                tolerance in any::<u64>(),
            ) {
                let _ = verify_signature(
                    &secret(),
                    &header,
                    &body,
                    at(now),
                    Duration::from_secs(tolerance),
                );
            }

            /// What [`sign`] produces verifies; one changed byte of the body or of the
            /// signature, or a timestamp past the tolerance, does not.
            #[test]
            fn a_signature_verifies_and_any_single_byte_change_does_not(
                key in "[ -~]{1,40}",
                body in proptest::collection::vec(any::<u8>(), 1..200),
                timestamp in 0i64..4_000_000_000,
                index in any::<prop::sample::Index>(),
                flip in 1u8..=255,
                late in 301i64..1_000_000,
            ) {
                let key = SecretString::from(key);
                let tolerance = DEFAULT_SIGNATURE_TOLERANCE;
                let header = sign(&key, timestamp, &body);
                prop_assert!(verify_signature(&key, &header, &body, at(timestamp), tolerance));
                prop_assert!(!verify_signature(
                    &key, &header, &body, at(timestamp + late), tolerance
                ));

                let mut tampered = body.clone();
                tampered[index.index(body.len())] ^= flip;
                prop_assert!(!verify_signature(&key, &header, &tampered, at(timestamp), tolerance));

                let (prefix, signature) = header.split_once(",v1=").unwrap();
                let mut raw = hex::decode(signature).unwrap();
                let byte = index.index(raw.len());
                raw[byte] ^= flip;
                let forged = format!("{prefix},v1={}", hex::encode(raw));
                prop_assert!(!verify_signature(&key, &forged, &body, at(timestamp), tolerance));
            }
        }
    }
}
