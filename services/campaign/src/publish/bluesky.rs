//! Posts to Bluesky through the AT Protocol's XRPC API on the account's PDS (the service
//! URL, `https://bsky.social` for most accounts):
//!
//! 1. `com.atproto.server.createSession` with the handle and an app password → access and
//!    refresh tokens and the account's DID. The session is kept and reused (Bluesky rate
//!    limits session creation hard); when a call answers `ExpiredToken` it is refreshed
//!    with `com.atproto.server.refreshSession` (or created anew if the refresh token has
//!    expired too) and the call made once more.
//! 2. `com.atproto.repo.uploadBlob` per picture (raw bytes, its MIME type) → a blob
//!    reference for the post's `app.bsky.embed.images` embed (at most 4 pictures of at most
//!    1,000,000 bytes each, with their alt text).
//! 3. `com.atproto.repo.createRecord` of an `app.bsky.feed.post` with rich-text facets:
//!    every `#hashtag` (`app.bsky.richtext.facet#tag`) and `http(s)://` link
//!    (`app.bsky.richtext.facet#link`), addressed by BYTE offsets into the UTF-8 text, as
//!    the protocol requires (an emoji before a tag moves it by 4 bytes, not 1 or 2).
//!
//! Retries cannot double-post: the record key (`rkey`) is a TID derived from the post id
//! and its scheduled time, so a second `createRecord` for the same post names a record
//! that already exists. When `createRecord` fails we look that record up
//! (`com.atproto.repo.getRecord`); if it is there with our text, the earlier try (or the
//! earlier publish) went through and counts as the delivery.
//!
//! XRPC errors come as `{"error": "<Name>", "message": "…"}`; the name decides what we do
//! (`ExpiredToken` refreshes, `AuthenticationRequired` on login is a wrong password, …).

use super::{
    Answered, Attempt, Connector, ConnectorKind, Delivery, Failure, Media, OutgoingPost,
    PermanentCause, PublishError, RetryPolicy, Sent, retry_after, safe_remote_text,
    send_with_retries,
};
use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;
use tokio::sync::Mutex;

pub const DEFAULT_SERVICE_URL: &str = "https://bsky.social/";
/// Pictures per post (`app.bsky.embed.images` allows 4).
pub const MAX_IMAGES: usize = 4;
/// Bytes per picture (`app.bsky.embed.images#image.image.maxSize`).
pub const MAX_IMAGE_BYTES: usize = 1_000_000;
/// Characters per hashtag (`app.bsky.richtext.facet#tag.tag.maxGraphemes` is 64).
const MAX_TAG_CHARS: usize = 64;
const POST_COLLECTION: &str = "app.bsky.feed.post";
const DESTINATION: &str = "Bluesky";

/// A Bluesky account to post as. `Debug` never shows the app password.
#[derive(Clone)]
pub struct BlueskyConfig {
    /// The account's PDS, ending in `/` (`https://bsky.social/`).
    pub service_url: url::Url,
    /// The handle (`shop.bsky.social`), the account's e-mail or its DID.
    pub identifier: String,
    /// An app password (Settings → App passwords), not the account password.
    pub app_password: SecretString,
    pub retry: RetryPolicy,
    /// How long one request may take (uploads included).
    pub request_timeout: Duration,
}

impl BlueskyConfig {
    /// An account on `https://bsky.social`, default retries, 30 s per request.
    pub fn new(identifier: impl Into<String>, app_password: SecretString) -> Self {
        Self {
            service_url: url::Url::parse(DEFAULT_SERVICE_URL)
                .unwrap_or_else(|_| unreachable!("the default service URL parses")),
            identifier: identifier.into(),
            app_password,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for BlueskyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlueskyConfig")
            .field("service_url", &self.service_url.as_str())
            .field("identifier", &self.identifier)
            .field("app_password", &"[redacted]")
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// A logged-in session. Tokens stay secret; the DID names the account's repository.
#[derive(Clone)]
struct Session {
    did: String,
    access_jwt: SecretString,
    refresh_jwt: SecretString,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionOutput {
    did: String,
    access_jwt: String,
    refresh_jwt: String,
}

impl From<SessionOutput> for Session {
    fn from(output: SessionOutput) -> Self {
        Self {
            did: output.did,
            access_jwt: SecretString::from(output.access_jwt),
            refresh_jwt: SecretString::from(output.refresh_jwt),
        }
    }
}

#[derive(Deserialize)]
struct UploadBlobOutput {
    /// Kept as sent: the post must carry the blob reference exactly.
    blob: Value,
}

#[derive(Deserialize)]
struct RecordRef {
    uri: String,
}

#[derive(Deserialize)]
struct GetRecordOutput {
    uri: String,
    value: Value,
}

#[derive(Deserialize)]
struct XrpcError {
    error: Option<String>,
    message: Option<String>,
}

/// Publishes to one Bluesky account.
pub struct BlueskyConnector {
    http: reqwest::Client,
    config: BlueskyConfig,
    /// The current session, created on first use.
    session: Mutex<Option<Session>>,
}

impl fmt::Debug for BlueskyConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlueskyConnector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl BlueskyConnector {
    pub fn new(config: BlueskyConfig) -> Result<Self, PublishError> {
        if !matches!(config.service_url.scheme(), "http" | "https") {
            return Err(PublishError::configuration(
                "the Bluesky service URL must be http or https",
            ));
        }
        let http = reqwest::Client::builder()
            // Credentials travel in headers: never let a redirect carry them elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.request_timeout)
            .build()
            .map_err(|_| PublishError::configuration("the HTTP client could not be built"))?;
        Ok(Self {
            http,
            config,
            session: Mutex::new(None),
        })
    }

    fn endpoint(&self, method: &str) -> Result<url::Url, Failure> {
        self.config
            .service_url
            .join(&format!("xrpc/{method}"))
            .map_err(|_| {
                Failure::permanent(
                    PermanentCause::Configuration,
                    "the Bluesky service URL is not a base URL",
                )
            })
    }

    /// One XRPC call, retried per the policy; `build` makes the request afresh per try.
    async fn xrpc<T: DeserializeOwned>(
        &self,
        step: &str,
        log: &mut Vec<Attempt>,
        build: &(dyn Fn() -> reqwest::RequestBuilder + Sync),
    ) -> Result<Sent<T>, Failure> {
        let password = self.config.app_password.expose_secret();
        send_with_retries(&self.config.retry, step, log, |_try_number| {
            let request = build();
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
                let error: Option<XrpcError> = serde_json::from_slice(&body).ok();
                let name = error.as_ref().and_then(|e| e.error.clone());
                let detail = match &error {
                    Some(XrpcError {
                        error: Some(name),
                        message: Some(message),
                    }) => format!("{name}: {message}"),
                    Some(XrpcError {
                        error: Some(name), ..
                    }) => name.clone(),
                    _ => String::from_utf8_lossy(&body).into_owned(),
                };
                let detail = safe_remote_text(&detail, &[password]);
                let mut failure = Failure::from_status(DESTINATION, status, wait, &detail);
                failure.remote_error = name;
                Err(failure)
            }
        })
        .await
    }

    /// The current session, logging in first if there is none.
    async fn session(&self, log: &mut Vec<Attempt>) -> Result<Session, Failure> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref() {
            return Ok(session.clone());
        }
        let session = self.create_session(log).await?;
        *current = Some(session.clone());
        Ok(session)
    }

    async fn create_session(&self, log: &mut Vec<Attempt>) -> Result<Session, Failure> {
        let url = self.endpoint("com.atproto.server.createSession")?;
        let build = || {
            self.http.post(url.clone()).json(&json!({
                "identifier": self.config.identifier,
                "password": self.config.app_password.expose_secret(),
            }))
        };
        match self
            .xrpc::<SessionOutput>("createSession", log, &build)
            .await
        {
            Ok(sent) => Ok(sent.value.into()),
            // Whatever the 4xx (a wrong password is 401 `AuthenticationRequired`, a
            // malformed identifier 400), the account as configured cannot log in.
            Err(mut failure)
                if matches!(
                    failure.permanent,
                    Some(PermanentCause::Rejected | PermanentCause::Credentials)
                ) =>
            {
                failure.permanent = Some(PermanentCause::Credentials);
                let status = failure.status_code.map(|code| format!(" ({code})"));
                failure.reason = format!(
                    "{DESTINATION} refused to log in as {}{}: {}",
                    safe_remote_text(&self.config.identifier, &[]),
                    status.unwrap_or_default(),
                    failure.detail
                );
                Err(failure)
            }
            Err(failure) => Err(failure),
        }
    }

    /// Replaces `expired` with a refreshed session, or a new one when the refresh token
    /// is no good either. Does nothing if another publish already replaced it.
    async fn refresh_session(
        &self,
        expired: &Session,
        log: &mut Vec<Attempt>,
    ) -> Result<(), Failure> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref()
            && session.access_jwt.expose_secret() != expired.access_jwt.expose_secret()
        {
            return Ok(());
        }
        let url = self.endpoint("com.atproto.server.refreshSession")?;
        let build = || {
            self.http
                .post(url.clone())
                .bearer_auth(expired.refresh_jwt.expose_secret())
        };
        let session = match self
            .xrpc::<SessionOutput>("refreshSession", log, &build)
            .await
        {
            Ok(sent) => sent.value.into(),
            Err(failure) if !failure.is_transient() => {
                *current = None;
                self.create_session(log).await?
            }
            Err(failure) => return Err(failure),
        };
        *current = Some(session);
        Ok(())
    }

    /// An XRPC call with the session's access token; an `ExpiredToken` answer refreshes
    /// the session (once per publish: `refreshed` remembers) and repeats the call.
    async fn authed<T: DeserializeOwned>(
        &self,
        step: &str,
        log: &mut Vec<Attempt>,
        refreshed: &mut bool,
        build: &(dyn Fn(&Session) -> reqwest::RequestBuilder + Sync),
    ) -> Result<Sent<T>, Failure> {
        loop {
            let session = self.session(log).await?;
            let result = self.xrpc(step, log, &|| build(&session)).await;
            match result {
                Err(failure)
                    if !*refreshed && failure.remote_error.as_deref() == Some("ExpiredToken") =>
                {
                    *refreshed = true;
                    tracing::debug!("Bluesky session expired; refreshing");
                    self.refresh_session(&session, log).await?;
                }
                other => return other,
            }
        }
    }

    async fn upload_image(
        &self,
        media: &Media,
        log: &mut Vec<Attempt>,
        refreshed: &mut bool,
    ) -> Result<Value, Failure> {
        let url = self.endpoint("com.atproto.repo.uploadBlob")?;
        let build = |session: &Session| {
            self.http
                .post(url.clone())
                .bearer_auth(session.access_jwt.expose_secret())
                .header(reqwest::header::CONTENT_TYPE, media.content_type.as_str())
                // Bytes clones share the buffer: no copy per try.
                .body(media.bytes.clone())
        };
        let sent: Sent<UploadBlobOutput> =
            self.authed("uploadBlob", log, refreshed, &build).await?;
        Ok(sent.value.blob)
    }

    /// Our record, if a previous try created it: the record under `rkey` when its text is
    /// ours (a different text would be another post that drew the same key).
    async fn find_existing(
        &self,
        did: &str,
        rkey: &str,
        text: &str,
        log: &mut Vec<Attempt>,
    ) -> Option<String> {
        let mut url = self.endpoint("com.atproto.repo.getRecord").ok()?;
        url.query_pairs_mut()
            .append_pair("repo", did)
            .append_pair("collection", POST_COLLECTION)
            .append_pair("rkey", rkey);
        let build = || self.http.get(url.clone());
        let found: GetRecordOutput = self.xrpc("getRecord", log, &build).await.ok()?.value;
        (found.value.get("text").and_then(Value::as_str) == Some(text)).then_some(found.uri)
    }

    async fn publish_logged(
        &self,
        post: &OutgoingPost,
        log: &mut Vec<Attempt>,
    ) -> Result<Delivery, Failure> {
        check_images(&post.media)?;
        let mut refreshed = false;
        let mut images = Vec::with_capacity(post.media.len());
        for media in &post.media {
            let blob = self.upload_image(media, log, &mut refreshed).await?;
            images.push(json!({ "alt": media.alt, "image": blob }));
        }

        let rkey = record_key(post);
        let mut record = json!({
            "$type": POST_COLLECTION,
            "text": post.text,
            "createdAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        let facets = detect_facets(&post.text);
        if !facets.is_empty() {
            record["facets"] = Value::Array(facets.iter().map(Facet::to_json).collect());
        }
        if let Some(language) = &post.language {
            record["langs"] = json!([language]);
        }
        if !images.is_empty() {
            record["embed"] = json!({ "$type": "app.bsky.embed.images", "images": images });
        }

        let url = self.endpoint("com.atproto.repo.createRecord")?;
        let build = |session: &Session| {
            self.http
                .post(url.clone())
                .bearer_auth(session.access_jwt.expose_secret())
                .json(&json!({
                    "repo": session.did,
                    "collection": POST_COLLECTION,
                    "rkey": rkey,
                    "record": record,
                }))
        };
        let created = self
            .authed::<RecordRef>("createRecord", log, &mut refreshed, &build)
            .await;
        let tries = log.iter().filter(|a| a.step == "createRecord").count();
        let attempts = u32::try_from(tries).unwrap_or(u32::MAX);
        let (uri, status_code) = match created {
            Ok(sent) => (sent.value.uri, Some(sent.status_code)),
            Err(failure) => {
                // Maybe an earlier try created it and its answer was lost, or an earlier
                // publish did: the duplicate key is then refused (or errs) and the record
                // is there. Not worth asking when we could not even log in.
                let logged_in = self.session.lock().await.as_ref().map(|s| s.did.clone());
                let unreachable_account = matches!(
                    failure.permanent,
                    Some(PermanentCause::Credentials | PermanentCause::Configuration)
                );
                let existing = match logged_in {
                    Some(did) if !unreachable_account => {
                        self.find_existing(&did, &rkey, &post.text, log).await
                    }
                    _ => None,
                };
                match existing {
                    Some(uri) => (uri, None),
                    None => return Err(failure),
                }
            }
        };
        Ok(Delivery {
            remote_url: post_url(&uri),
            remote_id: Some(uri),
            attempts,
            status_code,
            log: Vec::new(),
        })
    }
}

#[async_trait]
impl Connector for BlueskyConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Bluesky
    }

    async fn publish(&self, post: &OutgoingPost) -> Result<Delivery, PublishError> {
        let mut log = Vec::new();
        match self.publish_logged(post, &mut log).await {
            Ok(delivery) => Ok(Delivery { log, ..delivery }),
            Err(failure) => Err(failure.into_error(log)),
        }
    }
}

fn check_images(media: &[Media]) -> Result<(), Failure> {
    if media.len() > MAX_IMAGES {
        return Err(Failure::permanent(
            PermanentCause::InvalidPost,
            format!(
                "Bluesky takes at most {MAX_IMAGES} pictures per post; this one has {}",
                media.len()
            ),
        ));
    }
    for item in media {
        if !item.content_type.starts_with("image/") {
            return Err(Failure::permanent(
                PermanentCause::InvalidPost,
                format!(
                    "Bluesky posts take pictures only, not {}",
                    safe_remote_text(&item.content_type, &[])
                ),
            ));
        }
        if item.bytes.len() > MAX_IMAGE_BYTES {
            return Err(Failure::permanent(
                PermanentCause::InvalidPost,
                format!(
                    "Bluesky takes pictures of at most {MAX_IMAGE_BYTES} bytes; one is {}",
                    item.bytes.len()
                ),
            ));
        }
    }
    Ok(())
}

/// When a 429 carries no `Retry-After`, Bluesky's `RateLimit-Reset` (Unix seconds) says
/// when the window reopens.
fn rate_limit_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let reset: i64 = headers
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let wait = reset.saturating_sub(Utc::now().timestamp());
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

/// `https://bsky.app/profile/<did>/post/<rkey>` for `at://<did>/app.bsky.feed.post/<rkey>`.
pub fn post_url(at_uri: &str) -> Option<String> {
    let rest = at_uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let (did, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    if collection != POST_COLLECTION || did.is_empty() || rkey.is_empty() {
        return None;
    }
    Some(format!("https://bsky.app/profile/{did}/post/{rkey}"))
}

/// The record key for a post: a TID (the protocol's timestamp identifier, which posts'
/// keys must be) made from the post's scheduled time, its low ~1 s of microseconds and
/// the clock id replaced by a hash of the post id. The same post always gets the same key;
/// two posts scheduled for the same instant almost never do (30 bits of hash).
pub fn record_key(post: &OutgoingPost) -> String {
    let digest = Sha256::digest(post.post_id.as_bytes());
    let hash = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    let scheduled = u64::try_from(post.scheduled_at.timestamp_micros()).unwrap_or(0);
    const LOW_MICROS: u64 = (1 << 20) - 1;
    let micros = (scheduled & !LOW_MICROS) | (hash & LOW_MICROS);
    let clock_id = (hash >> 20) & 0x3ff;
    tid(micros, clock_id)
}

/// A TID: 1 zero bit, 53 bits of microseconds since the epoch, 10 bits of clock id, in
/// base32-sortable (13 characters).
fn tid(micros: u64, clock_id: u64) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let mut value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3ff);
    let mut out = [b'2'; 13];
    for slot in out.iter_mut().rev() {
        // Masked to 0..32: the index is in range.
        *slot = ALPHABET[usize::try_from(value & 31).unwrap_or(0)];
        value >>= 5;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// What a rich-text facet marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FacetFeature {
    /// A hashtag, without its `#`.
    Tag(String),
    /// A link, as written.
    Link(String),
}

/// A rich-text facet: `text.as_bytes()[byte_start..byte_end]` is the `#tag` or the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub byte_start: usize,
    pub byte_end: usize,
    pub feature: FacetFeature,
}

impl Facet {
    fn to_json(&self) -> Value {
        let feature = match &self.feature {
            FacetFeature::Tag(tag) => json!({ "$type": "app.bsky.richtext.facet#tag", "tag": tag }),
            FacetFeature::Link(uri) => {
                json!({ "$type": "app.bsky.richtext.facet#link", "uri": uri })
            }
        };
        json!({
            "index": { "byteStart": self.byte_start, "byteEnd": self.byte_end },
            "features": [feature],
        })
    }
}

/// The links and hashtags in `text`, in order, the way Bluesky's own clients find them: a
/// link starts with `http://` or `https://` after a space, `(` or the start and runs to the
/// next space, minus trailing punctuation; a hashtag is `#` or `＃` after a space or the
/// start, minus trailing punctuation, not all digits, at most 64 characters.
pub fn detect_facets(text: &str) -> Vec<Facet> {
    let mut facets = detect_links(text);
    let tags = detect_tags(text);
    for tag in tags {
        let overlaps = facets
            .iter()
            .any(|f| tag.byte_start < f.byte_end && f.byte_start < tag.byte_end);
        if !overlaps {
            facets.push(tag);
        }
    }
    facets.sort_by_key(|f| f.byte_start);
    facets
}

fn detect_links(text: &str) -> Vec<Facet> {
    let mut links = Vec::new();
    let mut previous: Option<char> = None;
    let mut skip_until = 0;
    for (start, c) in text.char_indices() {
        let at_boundary = previous.is_none_or(|p| p.is_whitespace() || p == '(');
        previous = Some(c);
        if start < skip_until || !at_boundary || !matches!(c, 'h' | 'H') {
            continue;
        }
        let rest = &text[start..];
        let scheme_len = if starts_with_ignore_case(rest, "https://") {
            8
        } else if starts_with_ignore_case(rest, "http://") {
            7
        } else {
            continue;
        };
        let end = start + rest.find(char::is_whitespace).unwrap_or(rest.len());
        let link = trim_link(&text[start..end]);
        let host = &link[scheme_len..];
        if host.is_empty() || host.starts_with('/') {
            continue;
        }
        links.push(Facet {
            byte_start: start,
            byte_end: start + link.len(),
            feature: FacetFeature::Link(link.to_string()),
        });
        skip_until = start + link.len();
    }
    links
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// A link without the punctuation that ends the sentence around it: `.`, `,`, `;`, `:`,
/// `!`, `?`, quotes, and a `)` that closes a parenthesis opened before the link.
fn trim_link(link: &str) -> &str {
    let mut link = link;
    loop {
        let Some(last) = link.chars().last() else {
            return link;
        };
        let unbalanced_paren = last == ')' && link.matches('(').count() < link.matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'') || unbalanced_paren {
            link = &link[..link.len() - last.len_utf8()];
        } else {
            return link;
        }
    }
}

/// Characters that end a hashtag besides whitespace: zero-width and invisible ones.
fn ends_tag(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' | '\u{2060}' | '\u{200A}'..='\u{200D}' | '\u{20E2}'
        )
}

/// Punctuation trimmed from a hashtag's end ("#coffee!" tags `coffee`).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '…' | '‥'
                | '。'
                | '、'
                | '，'
                | '．'
                | '！'
                | '？'
                | '：'
                | '；'
                | '「'
                | '」'
                | '『'
                | '』'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '«'
                | '»'
                | '¡'
                | '¿'
                | '–'
                | '—'
        )
}

fn detect_tags(text: &str) -> Vec<Facet> {
    let mut tags = Vec::new();
    let mut previous: Option<char> = None;
    for (start, c) in text.char_indices() {
        let at_boundary = previous.is_none_or(char::is_whitespace);
        previous = Some(c);
        if !at_boundary || !matches!(c, '#' | '＃') {
            continue;
        }
        let body_start = start + c.len_utf8();
        let rest = &text[body_start..];
        let raw = &rest[..rest.find(ends_tag).unwrap_or(rest.len())];
        let tag = raw.trim_end_matches(is_punctuation);
        // `#️⃣` (keycap) is an emoji, not a tag.
        if tag.is_empty() || tag.starts_with('\u{FE0F}') {
            continue;
        }
        if tag.chars().all(|c| c.is_ascii_digit() || is_punctuation(c)) {
            continue;
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            continue;
        }
        tags.push(Facet {
            byte_start: start,
            byte_end: body_start + tag.len(),
            feature: FacetFeature::Tag(tag.to_string()),
        });
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{png, post, quick_retries};
    use super::*;
    use marquee_testkit::social::{FakeBluesky, bluesky};

    fn connector(fake: &FakeBluesky, password: &str) -> BlueskyConnector {
        marquee_platform::install_crypto_provider();
        BlueskyConnector::new(BlueskyConfig {
            service_url: url::Url::parse(&fake.base).unwrap(),
            retry: quick_retries(4),
            request_timeout: Duration::from_secs(5),
            ..BlueskyConfig::new(bluesky::HANDLE, SecretString::from(password))
        })
        .unwrap()
    }

    fn slice(text: &str, facet: &Facet) -> String {
        String::from_utf8(text.as_bytes()[facet.byte_start..facet.byte_end].to_vec()).unwrap()
    }

    #[test]
    fn facets_use_byte_offsets_past_emoji_and_accents() {
        let text = "Café ☕️ season 🎉 #CoffeeLover #café: see https://example.com/menu?x=1.";
        let facets = detect_facets(text);
        assert_eq!(facets.len(), 3, "{facets:?}");
        assert_eq!(slice(text, &facets[0]), "#CoffeeLover");
        assert_eq!(facets[0].feature, FacetFeature::Tag("CoffeeLover".into()));
        assert_eq!(slice(text, &facets[1]), "#café");
        assert_eq!(facets[1].feature, FacetFeature::Tag("café".into()));
        assert_eq!(slice(text, &facets[2]), "https://example.com/menu?x=1");
        assert_eq!(
            facets[2].feature,
            FacetFeature::Link("https://example.com/menu?x=1".into())
        );
        // "Café " is 6 bytes, "☕️" 6 (U+2615 U+FE0F), " season " 8, "🎉" 4, " " 1.
        assert_eq!(facets[0].byte_start, 25);
    }

    #[test]
    fn things_that_are_not_tags_or_links_are_left_alone() {
        for text in [
            "issue#12",
            "#123",
            "#",
            "# spaced",
            "#️⃣ keycap",
            "mail me@x.com",
            "see http://",
            "ftp://example.com",
            "https:///path",
            "x.com/#frag",
        ] {
            assert!(
                detect_facets(text).is_empty(),
                "{text}: {:?}",
                detect_facets(text)
            );
        }
        let text = "(see https://en.wikipedia.org/wiki/Latte_(drink)) ＃ラテ！";
        let facets = detect_facets(text);
        assert_eq!(
            slice(text, &facets[0]),
            "https://en.wikipedia.org/wiki/Latte_(drink)"
        );
        assert_eq!(slice(text, &facets[1]), "＃ラテ");
        assert_eq!(facets[1].feature, FacetFeature::Tag("ラテ".into()));
        let long = format!("#{}", "a".repeat(65));
        assert!(detect_facets(&long).is_empty());
    }

    #[test]
    fn record_keys_are_valid_tids_and_stable_per_post() {
        let first = post("a");
        let key = record_key(&first);
        assert_eq!(key.len(), 13);
        assert!("234567abcdefghij".contains(&key[..1]));
        assert!(
            key.chars()
                .all(|c| "234567abcdefghijklmnopqrstuvwxyz".contains(c))
        );
        assert_eq!(key, record_key(&first));
        let mut same_time = post("b");
        same_time.scheduled_at = first.scheduled_at;
        assert_ne!(key, record_key(&same_time));
        assert_eq!(tid(0, 0), "2222222222222");
    }

    #[test]
    fn post_urls_come_from_at_uris() {
        assert_eq!(
            post_url("at://did:plc:abc/app.bsky.feed.post/3kabc").as_deref(),
            Some("https://bsky.app/profile/did:plc:abc/post/3kabc")
        );
        assert_eq!(post_url("at://did:plc:abc/app.bsky.feed.like/3kabc"), None);
        assert_eq!(post_url("https://example.com"), None);
    }

    #[test]
    fn debug_hides_the_app_password() {
        let config = BlueskyConfig::new("shop.bsky.social", SecretString::from("abcd-efgh"));
        assert!(!format!("{config:?}").contains("abcd-efgh"));
    }

    #[tokio::test]
    async fn a_post_with_tags_a_link_emoji_and_a_picture() {
        let fake = FakeBluesky::start().await;
        let connector = connector(&fake, bluesky::APP_PASSWORD);
        let mut post = post("New roast 🔥☕ #coffee #SmallBusiness https://shop.example/roast!");
        post.hashtags = vec!["coffee".into(), "SmallBusiness".into()];
        post.media = vec![png()];
        let delivery = connector.publish(&post).await.unwrap();

        let records = fake.posts();
        assert_eq!(records.len(), 1);
        let record = &records[0].record;
        assert_eq!(record["text"], post.text.as_str());
        assert_eq!(record["langs"][0], "en");
        // The fake checks each facet's byte range against the text; check the values too.
        let facets = record["facets"].as_array().unwrap();
        assert_eq!(facets.len(), 3);
        assert_eq!(facets[0]["features"][0]["tag"], "coffee");
        assert_eq!(facets[0]["index"]["byteStart"], 18);
        assert_eq!(facets[0]["index"]["byteEnd"], 25);
        assert_eq!(facets[1]["features"][0]["tag"], "SmallBusiness");
        assert_eq!(
            facets[2]["features"][0]["$type"],
            "app.bsky.richtext.facet#link"
        );
        assert_eq!(
            facets[2]["features"][0]["uri"],
            "https://shop.example/roast"
        );
        let images = record["embed"]["images"].as_array().unwrap();
        assert_eq!(record["embed"]["$type"], "app.bsky.embed.images");
        assert_eq!(images.len(), 1);
        assert_eq!(images[0]["alt"], "A single orange pixel");
        assert_eq!(images[0]["image"]["mimeType"], "image/png");
        assert_eq!(fake.blobs(), vec![png().bytes.to_vec()]);

        assert_eq!(delivery.remote_id.as_deref(), Some(records[0].uri.as_str()));
        assert_eq!(
            delivery.remote_url,
            Some(format!(
                "https://bsky.app/profile/{}/post/{}",
                bluesky::DID,
                record_key(&post)
            ))
        );
        assert_eq!(delivery.attempts, 1);
        let steps: Vec<_> = delivery.log.iter().map(|a| a.step.as_str()).collect();
        assert_eq!(steps, ["createSession", "uploadBlob", "createRecord"]);

        // The session is reused.
        connector
            .publish(&super::super::test_support::post("again"))
            .await
            .unwrap();
        assert_eq!(fake.sessions_created(), 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn an_expired_token_is_refreshed_once() {
        let fake = FakeBluesky::start().await;
        let connector = connector(&fake, bluesky::APP_PASSWORD);
        connector.publish(&post("first")).await.unwrap();
        fake.expire_access_token();
        let delivery = connector.publish(&post("second")).await.unwrap();
        let steps: Vec<_> = delivery.log.iter().map(|a| a.step.as_str()).collect();
        assert_eq!(steps, ["createRecord", "refreshSession", "createRecord"]);
        assert_eq!(fake.sessions_created(), 1);
        assert_eq!(fake.sessions_refreshed(), 1);
        assert_eq!(fake.posts().len(), 2);
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_wrong_password_is_permanent_and_not_repeated() {
        let fake = FakeBluesky::start().await;
        let connector = connector(&fake, "wrong-pass-word");
        let error = connector.publish(&post("hello")).await.unwrap_err();
        assert_eq!(error.permanent_cause(), Some(PermanentCause::Credentials));
        assert_eq!(error.status_code(), Some(401));
        assert_eq!(error.log().len(), 1);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("wrong-pass-word"), "{shown}");
        assert!(shown.contains("AuthenticationRequired"));
        assert!(fake.posts().is_empty());
        fake.stop().await;
    }

    #[tokio::test]
    async fn server_errors_and_rate_limits_are_retried() {
        let fake = FakeBluesky::start().await;
        let connector = connector(&fake, bluesky::APP_PASSWORD);
        fake.fail_next(2, 500);
        fake.fail_next(1, 429);
        let delivery = connector.publish(&post("hello")).await.unwrap();
        let statuses: Vec<_> = delivery.log.iter().map(|a| a.status_code).collect();
        assert_eq!(
            statuses,
            [Some(500), Some(500), Some(429), Some(200), Some(200)]
        );
        assert_eq!(fake.posts().len(), 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_post_created_before_its_answer_was_lost_is_not_posted_twice() {
        let fake = FakeBluesky::start().await;
        let connector = connector(&fake, bluesky::APP_PASSWORD);
        fake.fail_after_commit_once();
        let post = post("only once");
        let delivery = connector.publish(&post).await.unwrap();
        assert_eq!(fake.posts().len(), 1);
        assert_eq!(
            delivery.remote_id.as_deref(),
            Some(fake.posts()[0].uri.as_str())
        );
        // And the scheduler publishing it again changes nothing.
        connector.publish(&post).await.unwrap();
        assert_eq!(fake.posts().len(), 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn too_many_or_wrong_media_are_refused_before_sending() {
        let fake = FakeBluesky::start().await;
        let connector = connector(&fake, bluesky::APP_PASSWORD);
        let mut five = post("five");
        five.media = vec![png(); 5];
        let mut video = post("video");
        video.media = vec![Media {
            content_type: "video/mp4".into(),
            ..png()
        }];
        for post in [five, video] {
            let error = connector.publish(&post).await.unwrap_err();
            assert_eq!(error.permanent_cause(), Some(PermanentCause::InvalidPost));
            assert!(error.log().is_empty());
        }
        fake.stop().await;
    }
}
