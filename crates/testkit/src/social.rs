//! Local servers speaking the wire formats posts are published over, for the campaign
//! service's real connectors:
//!
//! - [`FakeBluesky`]: a PDS's XRPC API — `com.atproto.server.createSession` /
//!   `refreshSession`, `com.atproto.repo.uploadBlob` / `createRecord` / `getRecord` — with
//!   bearer tokens, `{"error","message"}` errors, and a `createRecord` that validates an
//!   `app.bsky.feed.post` as the PDS does (facets' BYTE ranges must point at their `#tag`
//!   or link in the UTF-8 text; image embeds must reference uploaded blobs).
//! - [`FakeMastodon`]: `POST /api/v2/media` (multipart; synchronous 200 or 202 then
//!   `GET /api/v1/media/:id` 206 until ready), `POST /api/v1/statuses` (JSON or form) with
//!   `Idempotency-Key` replays, bearer tokens, `{"error": "…"}` errors.
//! - [`WebhookReceiver`]: records every request (headers and raw body, for checking
//!   signatures) and answers a scripted sequence of statuses.
//!
//! Tests script failures: N answers of 500 or 429, an expired access token, a 500 sent after
//! the post was stored (so a client retrying blindly would post twice).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Uploads of a few MB must get through.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    header(request, "authorization").and_then(|v| v.strip_prefix("Bearer "))
}

// ---------------------------------------------------------------------------------------
// Webhook receiver
// ---------------------------------------------------------------------------------------

/// What the receiver answers to one request.
#[derive(Debug, Clone)]
pub enum WebhookReply {
    /// This status, empty body.
    Status(u16),
    /// This status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// Waits, then answers with the status.
    Delay(Duration, u16),
    /// 302 to this location.
    Redirect(String),
}

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body, byte for byte (signatures are over these bytes).
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct WebhookState {
    script: VecDeque<WebhookReply>,
    /// Answered once the script is empty; 200 when unset.
    fallback: Option<WebhookReply>,
    requests: Vec<ReceivedRequest>,
}

/// A webhook endpoint: every path of [`WebhookReceiver::base`] is accepted.
pub struct WebhookReceiver {
    state: Arc<Mutex<WebhookState>>,
    handle: actix_web::dev::ServerHandle,
    /// Base URL ending in `/`.
    pub base: String,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(WebhookState::default()));
        let (handle, base) = crate::fake_server::start(
            "webhook receiver",
            state.clone(),
            MAX_BODY_BYTES,
            webhook_handle,
        );
        Self {
            state,
            handle,
            base,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    /// Queues the next answers, in order.
    pub fn reply(&self, reply: WebhookReply) {
        lock(&self.state).script.push_back(reply);
    }

    /// What to answer once the queue is empty (by default: 200).
    pub fn always(&self, reply: WebhookReply) {
        lock(&self.state).fallback = Some(reply);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.state).requests.clone()
    }
}

async fn webhook_handle(
    state: web::Data<Mutex<WebhookState>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let reply = {
        let mut state = lock(&state);
        state.requests.push(ReceivedRequest {
            method: request.method().to_string(),
            path: request.path().to_string(),
            query: request.query_string().to_string(),
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        });
        state
            .script
            .pop_front()
            .or_else(|| state.fallback.clone())
            .unwrap_or(WebhookReply::Status(200))
    };
    match reply {
        WebhookReply::Status(code) => HttpResponse::build(status(code)).finish(),
        WebhookReply::RetryAfter(code, seconds) => HttpResponse::build(status(code))
            .insert_header(("Retry-After", seconds.to_string()))
            .finish(),
        WebhookReply::Delay(delay, code) => {
            tokio::time::sleep(delay).await;
            HttpResponse::build(status(code)).finish()
        }
        WebhookReply::Redirect(location) => HttpResponse::Found()
            .insert_header(("Location", location))
            .finish(),
    }
}

// ---------------------------------------------------------------------------------------
// Bluesky
// ---------------------------------------------------------------------------------------

/// The one account [`FakeBluesky`] knows.
pub mod bluesky {
    pub const HANDLE: &str = "shop.bsky.test";
    pub const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
    pub const DID: &str = "did:plc:marqueetestshop0000000001";
    pub const COLLECTION: &str = "app.bsky.feed.post";
}

/// A post the fake PDS stored.
#[derive(Debug, Clone)]
pub struct BlueskyPost {
    /// `at://<did>/app.bsky.feed.post/<rkey>`.
    pub uri: String,
    pub cid: String,
    pub rkey: String,
    /// The record as sent.
    pub record: Value,
}

struct Blob {
    mime_type: String,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct BlueskyState {
    seq: u64,
    access_tokens: Vec<String>,
    refresh_tokens: Vec<String>,
    /// Access tokens answered with `ExpiredToken`.
    expired_tokens: Vec<String>,
    sessions_created: usize,
    sessions_refreshed: usize,
    /// By CID, and in upload order.
    blobs: HashMap<String, Blob>,
    blob_order: Vec<String>,
    posts: Vec<BlueskyPost>,
    /// Statuses the next requests (any method) answer with.
    failures: VecDeque<u16>,
    /// The next stored post is answered with a 500.
    fail_after_commit: bool,
    requests: Vec<String>,
}

impl BlueskyState {
    fn next(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}{:08}", self.seq)
    }

    fn new_session(&mut self) -> Value {
        let access = self.next("access-jwt-");
        let refresh = self.next("refresh-jwt-");
        self.access_tokens.push(access.clone());
        self.refresh_tokens.push(refresh.clone());
        json!({
            "did": bluesky::DID, "handle": bluesky::HANDLE, "email": "shop@example.test",
            "accessJwt": access, "refreshJwt": refresh, "active": true,
        })
    }
}

/// A PDS hosting [`bluesky::HANDLE`] (password [`bluesky::APP_PASSWORD`]).
pub struct FakeBluesky {
    state: Arc<Mutex<BlueskyState>>,
    handle: actix_web::dev::ServerHandle,
    /// Base URL ending in `/`, for the connector's service URL.
    pub base: String,
}

impl FakeBluesky {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(BlueskyState::default()));
        let (handle, base) =
            crate::fake_server::start("Bluesky PDS", state.clone(), MAX_BODY_BYTES, bluesky_handle);
        Self {
            state,
            handle,
            base,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    /// The next `count` requests answer `status` (500: `InternalServerError`, 429:
    /// `RateLimitExceeded`, …) before anything else is looked at.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut state = lock(&self.state);
        state.failures.extend(std::iter::repeat_n(status, count));
    }

    /// Every access token issued so far answers `ExpiredToken` from now on; refreshed or
    /// new sessions work.
    pub fn expire_access_token(&self) {
        let mut state = lock(&self.state);
        let tokens = std::mem::take(&mut state.access_tokens);
        state.expired_tokens.extend(tokens);
    }

    /// The next `createRecord` stores the post, then answers 500 as if it had failed.
    pub fn fail_after_commit_once(&self) {
        lock(&self.state).fail_after_commit = true;
    }

    /// Posts stored, in order.
    pub fn posts(&self) -> Vec<BlueskyPost> {
        lock(&self.state).posts.clone()
    }

    /// Uploaded blobs' bytes, in upload order.
    pub fn blobs(&self) -> Vec<Vec<u8>> {
        let state = lock(&self.state);
        state
            .blob_order
            .iter()
            .filter_map(|cid| state.blobs.get(cid).map(|b| b.bytes.clone()))
            .collect()
    }

    pub fn sessions_created(&self) -> usize {
        lock(&self.state).sessions_created
    }

    pub fn sessions_refreshed(&self) -> usize {
        lock(&self.state).sessions_refreshed
    }

    /// `METHOD /path` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }
}

fn xrpc_error(code: u16, error: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status(code)).json(json!({ "error": error, "message": message }))
}

/// A CID-looking identifier for content (not a real multihash; clients treat it as opaque).
fn fake_cid(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("bafkrei{}", &hex[..52])
}

/// `^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`
fn is_tid(rkey: &str) -> bool {
    const ALPHABET: &str = "234567abcdefghijklmnopqrstuvwxyz";
    rkey.len() == 13
        && rkey.starts_with(|c: char| "234567abcdefghij".contains(c))
        && rkey.chars().all(|c| ALPHABET.contains(c))
}

async fn bluesky_handle(
    state: web::Data<Mutex<BlueskyState>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let mut state = lock(&state);
    let method = request.method().as_str().to_string();
    let path = request.path().to_string();
    state.requests.push(format!("{method} {path}"));
    if let Some(code) = state.failures.pop_front() {
        return match code {
            429 => xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded"),
            502..=504 => xrpc_error(code, "UpstreamFailure", "Upstream Failure"),
            _ => xrpc_error(code, "InternalServerError", "Internal Server Error"),
        };
    }
    let Some(nsid) = path.strip_prefix("/xrpc/") else {
        return xrpc_error(404, "NotFound", "Not Found");
    };
    match (method.as_str(), nsid) {
        ("POST", "com.atproto.server.createSession") => {
            let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let (Some(identifier), Some(password)) =
                (input["identifier"].as_str(), input["password"].as_str())
            else {
                return xrpc_error(
                    400,
                    "InvalidRequest",
                    "Input must have the property \"identifier\" and \"password\"",
                );
            };
            let known = [bluesky::HANDLE, bluesky::DID, "shop@example.test"];
            if !known.contains(&identifier) || password != bluesky::APP_PASSWORD {
                return xrpc_error(
                    401,
                    "AuthenticationRequired",
                    "Invalid identifier or password",
                );
            }
            state.sessions_created += 1;
            HttpResponse::Ok().json(state.new_session())
        }
        ("POST", "com.atproto.server.refreshSession") => {
            let token = bearer(&request).unwrap_or_default().to_string();
            let Some(position) = state.refresh_tokens.iter().position(|t| *t == token) else {
                return xrpc_error(400, "ExpiredToken", "Token has been revoked");
            };
            // Refresh tokens rotate: the used one is gone.
            state.refresh_tokens.remove(position);
            state.sessions_refreshed += 1;
            HttpResponse::Ok().json(state.new_session())
        }
        ("GET", "com.atproto.repo.getRecord") => {
            let query: Vec<(String, String)> =
                serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
            let param = |name: &str| {
                query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let uri = format!(
                "at://{}/{}/{}",
                bluesky::DID,
                param("collection").unwrap_or_default(),
                param("rkey").unwrap_or_default()
            );
            let repo_ok = matches!(param("repo"), Some(bluesky::DID | bluesky::HANDLE));
            match state.posts.iter().find(|p| p.uri == uri) {
                Some(post) if repo_ok => HttpResponse::Ok().json(json!({
                    "uri": post.uri, "cid": post.cid, "value": post.record,
                })),
                _ => xrpc_error(
                    400,
                    "RecordNotFound",
                    &format!("Could not locate record: {uri}"),
                ),
            }
        }
        ("POST", "com.atproto.repo.uploadBlob" | "com.atproto.repo.createRecord") => {
            match bearer(&request) {
                None => {
                    return xrpc_error(401, "AuthenticationRequired", "Authentication Required");
                }
                Some(token) if state.expired_tokens.iter().any(|t| t == token) => {
                    return xrpc_error(400, "ExpiredToken", "Token has expired");
                }
                Some(token) if !state.access_tokens.iter().any(|t| t == token) => {
                    return xrpc_error(401, "InvalidToken", "Token could not be verified");
                }
                Some(_) => {}
            }
            if nsid == "com.atproto.repo.uploadBlob" {
                upload_blob(&mut state, &request, &body)
            } else {
                create_record(&mut state, &body)
            }
        }
        _ => xrpc_error(501, "MethodNotImplemented", "Method Not Implemented"),
    }
}

fn upload_blob(state: &mut BlueskyState, request: &HttpRequest, body: &[u8]) -> HttpResponse {
    let Some(mime_type) = header(request, "content-type").map(str::to_string) else {
        return xrpc_error(400, "InvalidRequest", "A content-type is required");
    };
    if body.is_empty() {
        return xrpc_error(400, "InvalidRequest", "Request body is empty");
    }
    let cid = fake_cid(body);
    state.blobs.insert(
        cid.clone(),
        Blob {
            mime_type: mime_type.clone(),
            bytes: body.to_vec(),
        },
    );
    state.blob_order.push(cid.clone());
    HttpResponse::Ok().json(json!({
        "blob": {
            "$type": "blob", "ref": { "$link": cid }, "mimeType": mime_type, "size": body.len(),
        }
    }))
}

fn create_record(state: &mut BlueskyState, body: &[u8]) -> HttpResponse {
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return xrpc_error(400, "InvalidRequest", "Request body is not JSON");
    };
    if !matches!(input["repo"].as_str(), Some(bluesky::DID | bluesky::HANDLE)) {
        return xrpc_error(400, "InvalidRequest", "Could not find repo");
    }
    if input["collection"] != bluesky::COLLECTION {
        return xrpc_error(400, "InvalidRequest", "Unsupported collection");
    }
    let rkey = match input.get("rkey") {
        None | Some(Value::Null) => state.next("3l3qo2vuowo"),
        Some(Value::String(rkey)) if is_tid(rkey) => rkey.clone(),
        Some(_) => return xrpc_error(400, "InvalidRequest", "Invalid record key: not a TID"),
    };
    let record = &input["record"];
    if let Err(message) = validate_post(state, record) {
        return xrpc_error(
            400,
            "InvalidRequest",
            &format!("Invalid app.bsky.feed.post record: {message}"),
        );
    }
    let uri = format!("at://{}/{}/{rkey}", bluesky::DID, bluesky::COLLECTION);
    if state.posts.iter().any(|p| p.uri == uri) {
        return xrpc_error(
            400,
            "InvalidRequest",
            &format!("Record already exists: {uri}"),
        );
    }
    let cid = fake_cid(record.to_string().as_bytes());
    state.posts.push(BlueskyPost {
        uri: uri.clone(),
        cid: cid.clone(),
        rkey,
        record: record.clone(),
    });
    if std::mem::take(&mut state.fail_after_commit) {
        return xrpc_error(500, "InternalServerError", "Internal Server Error");
    }
    HttpResponse::Ok().json(json!({
        "uri": uri, "cid": cid,
        "commit": { "cid": fake_cid(uri.as_bytes()), "rev": state.next("3l3qo2vuowr") },
        "validationStatus": "valid",
    }))
}

/// What the PDS checks of an `app.bsky.feed.post` (lexicon constraints that matter here).
fn validate_post(state: &BlueskyState, record: &Value) -> Result<(), String> {
    if record["$type"] != bluesky::COLLECTION {
        return Err("$type must be app.bsky.feed.post".into());
    }
    let text = record["text"].as_str().ok_or("text must be a string")?;
    if text.len() > 3000 {
        return Err("text is longer than 3000 bytes".into());
    }
    let created_at = record["createdAt"]
        .as_str()
        .ok_or("createdAt must be a string")?;
    chrono::DateTime::parse_from_rfc3339(created_at)
        .map_err(|_| "createdAt must be an RFC 3339 datetime")?;
    if let Some(langs) = record.get("langs") {
        let langs = langs.as_array().ok_or("langs must be an array")?;
        if langs.len() > 3 || !langs.iter().all(Value::is_string) {
            return Err("langs must be at most 3 language tags".into());
        }
    }
    if let Some(facets) = record.get("facets") {
        for facet in facets.as_array().ok_or("facets must be an array")? {
            validate_facet(text, facet)?;
        }
    }
    if let Some(embed) = record.get("embed") {
        validate_images(state, embed)?;
    }
    Ok(())
}

fn validate_facet(text: &str, facet: &Value) -> Result<(), String> {
    let index = &facet["index"];
    let (Some(start), Some(end)) = (index["byteStart"].as_u64(), index["byteEnd"].as_u64()) else {
        return Err("facet index needs integer byteStart and byteEnd".into());
    };
    let (start, end) = (
        usize::try_from(start).map_err(|_| "byteStart out of range")?,
        usize::try_from(end).map_err(|_| "byteEnd out of range")?,
    );
    // The protocol counts bytes of UTF-8; a range cutting a character is a client bug.
    let Some(covered) = text.get(start..end) else {
        return Err(format!(
            "facet range {start}..{end} is not a range of whole characters in the {}-byte text",
            text.len()
        ));
    };
    if covered.is_empty() {
        return Err("facet range is empty".into());
    }
    let features = facet["features"]
        .as_array()
        .filter(|f| !f.is_empty())
        .ok_or("facet features must be a non-empty array")?;
    for feature in features {
        match feature["$type"].as_str() {
            Some("app.bsky.richtext.facet#tag") => {
                let tag = feature["tag"].as_str().ok_or("tag feature needs a tag")?;
                if tag.is_empty() || tag.starts_with('#') || tag.chars().count() > 64 {
                    return Err(format!("bad tag {tag:?}"));
                }
                if covered != format!("#{tag}") && covered != format!("＃{tag}") {
                    return Err(format!(
                        "tag facet {start}..{end} covers {covered:?}, not \"#{tag}\""
                    ));
                }
            }
            Some("app.bsky.richtext.facet#link") => {
                let uri = feature["uri"].as_str().ok_or("link feature needs a uri")?;
                if !(uri.starts_with("https://") || uri.starts_with("http://")) {
                    return Err(format!("bad link {uri:?}"));
                }
                if covered != uri {
                    return Err(format!(
                        "link facet {start}..{end} covers {covered:?}, not {uri:?}"
                    ));
                }
            }
            Some("app.bsky.richtext.facet#mention") => {
                if !feature["did"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("did:"))
                {
                    return Err("mention feature needs a did".into());
                }
            }
            other => return Err(format!("unknown facet feature {other:?}")),
        }
    }
    Ok(())
}

fn validate_images(state: &BlueskyState, embed: &Value) -> Result<(), String> {
    if embed["$type"] != "app.bsky.embed.images" {
        return Err(format!("unsupported embed {}", embed["$type"]));
    }
    let images = embed["images"]
        .as_array()
        .ok_or("embed images must be an array")?;
    if images.is_empty() || images.len() > 4 {
        return Err("an images embed holds 1 to 4 images".into());
    }
    for image in images {
        if !image["alt"].is_string() {
            return Err("every image needs alt text (may be empty)".into());
        }
        let blob = &image["image"];
        if blob["$type"] != "blob" {
            return Err("image must be a blob".into());
        }
        let cid = blob["ref"]["$link"]
            .as_str()
            .ok_or("blob ref needs a $link")?;
        let uploaded = state
            .blobs
            .get(cid)
            .ok_or_else(|| format!("blob {cid} was never uploaded"))?;
        if blob["mimeType"] != uploaded.mime_type.as_str() {
            return Err("blob mimeType differs from the upload".into());
        }
        if !uploaded.mime_type.starts_with("image/") || uploaded.bytes.len() > 1_000_000 {
            return Err("images must be image/* of at most 1,000,000 bytes".into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Mastodon
// ---------------------------------------------------------------------------------------

/// The one account [`FakeMastodon`] knows.
pub mod mastodon {
    pub const TOKEN: &str = "mastodon-test-token";
    pub const ACCOUNT: &str = "shop";
}

/// An attachment as the fake received it.
#[derive(Debug, Clone)]
pub struct MastodonMedia {
    pub id: String,
    pub description: String,
    pub content_type: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A status the fake created.
#[derive(Debug, Clone)]
pub struct MastodonStatus {
    pub id: String,
    pub url: String,
    pub text: String,
    pub visibility: String,
    pub language: Option<String>,
    pub idempotency_key: Option<String>,
    pub media: Vec<MastodonMedia>,
}

#[derive(Default)]
struct MastodonState {
    base: String,
    seq: u64,
    media: HashMap<String, MastodonMedia>,
    /// Media id → polls still answered 206.
    processing: HashMap<String, u32>,
    /// 0: uploads are ready at once (200). n: 202, then n-1 polls answered 206, then 200.
    async_polls: u32,
    statuses: Vec<MastodonStatus>,
    /// Idempotency key → the status answered for it.
    idempotent: HashMap<String, Value>,
    status_requests: usize,
    fail_after_posting: bool,
}

/// A Mastodon instance with one account, token [`mastodon::TOKEN`].
pub struct FakeMastodon {
    state: Arc<Mutex<MastodonState>>,
    handle: actix_web::dev::ServerHandle,
    /// Base URL ending in `/`, for the connector's instance URL.
    pub base: String,
}

impl FakeMastodon {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(MastodonState::default()));
        let (handle, base) =
            crate::fake_server::start("Mastodon", state.clone(), MAX_BODY_BYTES, mastodon_handle);
        lock(&state).base = base.clone();
        Self {
            state,
            handle,
            base,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    /// Uploads answer 202; `GET /api/v1/media/:id` answers 206 `polls - 1` times, then
    /// 200 with the URL.
    pub fn process_media_asynchronously(&self, polls: u32) {
        lock(&self.state).async_polls = polls;
    }

    /// The next status is created, then answered with a 500.
    pub fn fail_after_posting_once(&self) {
        lock(&self.state).fail_after_posting = true;
    }

    /// Statuses created, in order (replays of an idempotency key create none).
    pub fn statuses(&self) -> Vec<MastodonStatus> {
        lock(&self.state).statuses.clone()
    }

    /// `POST /api/v1/statuses` requests received, replays included.
    pub fn status_requests(&self) -> usize {
        lock(&self.state).status_requests
    }
}

fn mastodon_error(code: u16, message: &str) -> HttpResponse {
    HttpResponse::build(status(code)).json(json!({ "error": message }))
}

fn media_json(state: &MastodonState, media: &MastodonMedia, ready: bool) -> Value {
    let url = ready.then(|| format!("{}system/media/{}/original.png", state.base, media.id));
    json!({
        "id": media.id, "type": "image", "url": url, "preview_url": url,
        "remote_url": null, "description": media.description, "blurhash": null,
    })
}

async fn mastodon_handle(
    state: web::Data<Mutex<MastodonState>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let mut state = lock(&state);
    if bearer(&request) != Some(mastodon::TOKEN) {
        return mastodon_error(401, "The access token is invalid");
    }
    let path = request.path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (request.method().as_str(), segments.as_slice()) {
        ("POST", ["api", "v2", "media"]) => upload_media(&mut state, &request, &body),
        ("GET", ["api", "v1", "media", id]) => {
            let Some(media) = state.media.get(*id).cloned() else {
                return mastodon_error(404, "Record not found");
            };
            let left = state.processing.get(*id).copied().unwrap_or(0);
            if left > 0 {
                state.processing.insert(media.id.clone(), left - 1);
                return HttpResponse::PartialContent().json(media_json(&state, &media, false));
            }
            HttpResponse::Ok().json(media_json(&state, &media, true))
        }
        ("POST", ["api", "v1", "statuses"]) => create_status(&mut state, &request, &body),
        _ => mastodon_error(404, "Not found"),
    }
}

fn upload_media(state: &mut MastodonState, request: &HttpRequest, body: &[u8]) -> HttpResponse {
    let content_type = header(request, "content-type").unwrap_or_default();
    let Some(parts) = multipart_parts(content_type, body) else {
        return mastodon_error(422, "Validation failed: File can't be blank");
    };
    let Some(file) = parts.iter().find(|p| p.name == "file") else {
        return mastodon_error(422, "Validation failed: File can't be blank");
    };
    if file.data.is_empty() {
        return mastodon_error(422, "Validation failed: File can't be blank");
    }
    let description = parts
        .iter()
        .find(|p| p.name == "description")
        .map(|p| String::from_utf8_lossy(&p.data).into_owned())
        .unwrap_or_default();
    let id = {
        state.seq += 1;
        format!("1090{:08}", state.seq)
    };
    let media = MastodonMedia {
        id: id.clone(),
        description,
        content_type: file.content_type.clone().unwrap_or_default(),
        file_name: file.file_name.clone().unwrap_or_default(),
        bytes: file.data.clone(),
    };
    state.media.insert(id.clone(), media.clone());
    if state.async_polls > 0 {
        let polls = state.async_polls - 1;
        state.processing.insert(id, polls);
        return HttpResponse::Accepted().json(media_json(state, &media, false));
    }
    HttpResponse::Ok().json(media_json(state, &media, true))
}

fn create_status(state: &mut MastodonState, request: &HttpRequest, body: &[u8]) -> HttpResponse {
    state.status_requests += 1;
    let key = header(request, "idempotency-key").map(str::to_string);
    if let Some(answer) = key.as_ref().and_then(|k| state.idempotent.get(k)) {
        return HttpResponse::Ok().json(answer.clone());
    }
    let form = header(request, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let (text, media_ids, visibility, language) = if form {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let ids = pairs
            .iter()
            .filter(|(k, _)| k == "media_ids[]")
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>();
        (get("status"), ids, get("visibility"), get("language"))
    } else {
        let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let ids = input["media_ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let text = |name: &str| input[name].as_str().map(str::to_string);
        (text("status"), ids, text("visibility"), text("language"))
    };
    let text = text.unwrap_or_default();
    if text.trim().is_empty() && media_ids.is_empty() {
        return mastodon_error(422, "Validation failed: Text can't be blank");
    }
    if text.chars().count() > 500 {
        return mastodon_error(
            422,
            "Validation failed: Text character limit of 500 exceeded",
        );
    }
    let visibility = visibility.unwrap_or_else(|| "public".into());
    if !["public", "unlisted", "private", "direct"].contains(&visibility.as_str()) {
        return mastodon_error(
            422,
            "Validation failed: Visibility is not included in the list",
        );
    }
    if media_ids.len() > 4 {
        return mastodon_error(422, "Validation failed: Media attachments exceed the limit");
    }
    let mut media = Vec::new();
    for id in &media_ids {
        let Some(item) = state.media.get(id) else {
            return mastodon_error(404, "Record not found");
        };
        if state.processing.get(id).copied().unwrap_or(0) > 0 {
            return mastodon_error(
                422,
                "Cannot attach files that have not finished processing. Try again in a moment!",
            );
        }
        media.push(item.clone());
    }
    state.seq += 1;
    let id = format!("1130{:08}", state.seq);
    let url = format!("{}@{}/{id}", state.base, mastodon::ACCOUNT);
    let attachments: Vec<Value> = media.iter().map(|m| media_json(state, m, true)).collect();
    let answer = json!({
        "id": id, "url": url, "uri": format!("{}users/{}/statuses/{id}", state.base, mastodon::ACCOUNT),
        "content": format!("<p>{text}</p>"), "visibility": visibility, "language": language,
        "media_attachments": attachments, "created_at": chrono::Utc::now().to_rfc3339(),
    });
    state.statuses.push(MastodonStatus {
        id,
        url,
        text,
        visibility,
        language,
        idempotency_key: key.clone(),
        media,
    });
    if let Some(key) = key {
        state.idempotent.insert(key, answer.clone());
    }
    if std::mem::take(&mut state.fail_after_posting) {
        return mastodon_error(500, "Internal server error");
    }
    HttpResponse::Ok().json(answer)
}

/// One part of a `multipart/form-data` body.
struct FormPart {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

/// Splits a `multipart/form-data` body (RFC 7578) into its parts; `None` if malformed.
fn multipart_parts(content_type: &str, body: &[u8]) -> Option<Vec<FormPart>> {
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    let mut parts = Vec::new();
    let mut next_delimiter = b"\r\n".to_vec();
    next_delimiter.extend_from_slice(&delimiter);
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, &next_delimiter)?;
        let part = &rest[..end];
        rest = &rest[end + next_delimiter.len()..];
        let header_end = find(part, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&part[..header_end]).ok()?;
        let mut form_part = FormPart {
            name: String::new(),
            file_name: None,
            content_type: None,
            data: part[header_end + 4..].to_vec(),
        };
        for line in headers.split("\r\n") {
            let (name, value) = line.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in value.split(';').map(str::trim) {
                        if let Some(v) = param.strip_prefix("name=") {
                            form_part.name = v.trim_matches('"').to_string();
                        } else if let Some(v) = param.strip_prefix("filename=") {
                            form_part.file_name = Some(v.trim_matches('"').to_string());
                        }
                    }
                }
                "content-type" => form_part.content_type = Some(value.trim().to_string()),
                _ => {}
            }
        }
        parts.push(form_part);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_split_into_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nalt text\r\n--XyZ--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].file_name.as_deref(), Some("a.png"));
        assert_eq!(parts[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[0].data, b"\x89PNG");
        assert_eq!(parts[1].data, b"alt text");
        assert!(multipart_parts("multipart/form-data; boundary=XyZ", b"garbage").is_none());
    }

    #[test]
    fn facets_are_checked_against_the_bytes() {
        let text = "☕ #coffee";
        let good = json!({"index": {"byteStart": 4, "byteEnd": 11},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "coffee"}]});
        assert!(validate_facet(text, &good).is_ok());
        // Counting characters instead of bytes lands inside the emoji / off the tag.
        let by_chars = json!({"index": {"byteStart": 2, "byteEnd": 9},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "coffee"}]});
        assert!(validate_facet(text, &by_chars).is_err());
    }

    #[test]
    fn tids_are_recognised() {
        assert!(is_tid("3jzfcijpj2z2a"));
        assert!(!is_tid("3jzfcijpj2z2"));
        assert!(!is_tid("zzzzzzzzzzzzz"));
    }
}
