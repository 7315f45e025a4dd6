//! A local HTTP server that speaks the Gemini REST API's wire format, for the real clients
//! in the product. Key in `x-goog-api-key` everywhere (403 without it), errors as
//! `{"error":{"code","message","status"}}`.
//!
//! - `POST /v1beta/models/{model}:generateContent`: JSON `contents`/`generationConfig` in,
//!   `candidates[].content.parts[]` out (a text part, or an `inlineData` image part) with
//!   `usageMetadata`. Tests script what it answers next: an answer, a status (429, 500), a
//!   429 with `Retry-After`, a delay longer than the client's timeout, a malformed body, or
//!   any JSON body (a safety block, a truncated answer).
//! - Veo: `POST /v1beta/models/{model}:predictLongRunning` starts an operation
//!   (`{"name": "models/{model}/operations/op-N"}`), `GET /v1beta/{name}` polls it (done
//!   after a configured number of polls, with a video or an error) and
//!   `GET /v1beta/files/{id}:download` serves the video's bytes, as Veo's answers point to.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub const API_KEY: &str = "gemini-test-key";

/// A valid 1×1 RGB PNG, for image answers.
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0xdf, 0xc0, 0x00,
    0x00, 0x04, 0x01, 0x01, 0x80, 0xfb, 0xd7, 0xcb, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The bytes the video download serves by default: the start of an MP4 (`ftyp` box).
pub const SAMPLE_VIDEO: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isomfake video bytes";

/// What the fake answers to one generateContent request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with one candidate whose text part is `text` (for JSON mode: the JSON).
    Text(String),
    /// This HTTP status with Gemini's error body.
    Status(u16, &'static str),
    /// Waits this long, then answers with the given text.
    Delay(Duration, String),
    /// 200 with a body that is not a generateContent answer.
    Malformed,
    /// 429 asking to retry after this long: whole seconds (rounded up) in `Retry-After`,
    /// the exact delay in the body's `google.rpc.RetryInfo` as Gemini sends it.
    RateLimited(Duration),
    /// 200 with one candidate whose part is this picture inline (`inlineData`, base64).
    Image {
        mime_type: &'static str,
        bytes: Vec<u8>,
    },
    /// 200 with exactly this body (see [`blocked_prompt`], [`finished`]).
    Json(Value),
}

/// How the next Veo operations go (set with [`FakeGemini::video`]).
#[derive(Debug, Clone)]
pub struct VideoPlan {
    /// The poll that finds the operation done (1 = the first poll).
    pub done_after_polls: u32,
    pub outcome: VideoOutcome,
    /// How long each poll takes to answer.
    pub poll_delay: Duration,
}

impl Default for VideoPlan {
    fn default() -> Self {
        Self {
            done_after_polls: 1,
            outcome: VideoOutcome::Video(SAMPLE_VIDEO.to_vec()),
            poll_delay: Duration::ZERO,
        }
    }
}

#[derive(Debug, Clone)]
pub enum VideoOutcome {
    /// Done with one generated sample: a URI on this server that serves these bytes.
    Video(Vec<u8>),
    /// Done with `error: {code, message}` (a `google.rpc.Status`).
    Error { code: i32, message: String },
    /// Done with no sample, filtered by responsible-AI checks for this reason.
    Filtered(String),
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
    pub api_key: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    /// Answered when the script is empty.
    fallback: Option<Reply>,
    requests: Vec<Recorded>,
    video_plan: VideoPlan,
    /// Operation name → (its plan, polls so far).
    operations: HashMap<String, (VideoPlan, u32)>,
    /// File id → bytes, for downloads.
    files: HashMap<String, Vec<u8>>,
    next_id: u64,
}

pub struct FakeGemini {
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
    /// Base URL ending in `/`, for the client's `base_url`.
    pub base: String,
}

impl FakeGemini {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        // Pictures travel inline (base64) in the JSON body.
        let (handle, base) =
            crate::fake_server::start("Gemini", state.clone(), 32 * 1024 * 1024, handle);
        Self {
            state,
            handle,
            base,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Queues the next generateContent answers, in order.
    pub fn reply(&self, reply: Reply) {
        self.state().script.push_back(reply);
    }

    /// What to answer once the queue is empty (by default: 500).
    pub fn always(&self, reply: Reply) {
        self.state().fallback = Some(reply);
    }

    /// How operations started from now on go (by default: done at the first poll with
    /// [`SAMPLE_VIDEO`]).
    pub fn video(&self, plan: VideoPlan) {
        self.state().video_plan = plan;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A generateContent answer whose single text part is `text`.
pub fn answer(text: &str) -> Value {
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": [{"text": text}]},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20},
        "modelVersion": "gemini-2.5-flash"
    })
}

/// A generateContent answer whose single part is a picture inline; an image costs 1290
/// output tokens, as Gemini counts them.
pub fn image_answer(mime_type: &str, bytes: &[u8]) -> Value {
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"inlineData": {"mimeType": mime_type, "data": STANDARD.encode(bytes)}}
            ]},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1290, "totalTokenCount": 1299},
        "modelVersion": "gemini-2.5-flash-image"
    })
}

/// The answer when the prompt itself is blocked: no candidate, `promptFeedback.blockReason`.
pub fn blocked_prompt(reason: &str) -> Value {
    json!({
        "promptFeedback": {"blockReason": reason},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7}
    })
}

/// An answer that stopped for `finish_reason` (`SAFETY`, `RECITATION`, `MAX_TOKENS`) after
/// producing `text` (empty: no content at all, as for safety stops).
pub fn finished(finish_reason: &str, text: &str) -> Value {
    let candidate = if text.is_empty() {
        json!({"finishReason": finish_reason, "index": 0})
    } else {
        json!({
            "content": {"role": "model", "parts": [{"text": text}]},
            "finishReason": finish_reason,
            "index": 0
        })
    };
    json!({
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20}
    })
}

fn error(status: u16, message: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let name = match status {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    HttpResponse::build(code).json(json!({
        "error": {"code": status, "message": message, "status": name}
    }))
}

fn rate_limited(delay: Duration) -> HttpResponse {
    let header_secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    HttpResponse::TooManyRequests()
        .insert_header(("Retry-After", header_secs.to_string()))
        .json(json!({
            "error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": format!("{:.3}s", delay.as_secs_f64())
                }]
            }
        }))
}

async fn handle(
    state: web::Data<Mutex<State>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let path = request.path().to_string();
    let method = request.method().clone();
    let api_key = request
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    lock(&state).requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: request.query_string().to_string(),
        api_key: api_key.clone(),
        body: parsed.clone(),
    });
    let post = method == actix_web::http::Method::POST;
    let get = method == actix_web::http::Method::GET;
    let Some(rest) = path.strip_prefix("/v1beta/") else {
        return error(404, "not found");
    };
    let route = if post && rest.starts_with("models/") && rest.ends_with(":generateContent") {
        Route::Generate
    } else if post && rest.starts_with("models/") && rest.ends_with(":predictLongRunning") {
        Route::StartVideo
    } else if get && rest.contains("/operations/") {
        Route::Poll
    } else if get && rest.starts_with("files/") && rest.ends_with(":download") {
        Route::Download
    } else {
        return error(404, "not found");
    };
    if api_key.as_deref() != Some(API_KEY) {
        return error(403, "API key not valid. Please pass a valid API key.");
    }
    match route {
        Route::Generate => generate(&state, &parsed).await,
        Route::StartVideo => start_video(&state, rest, &parsed),
        Route::Poll => poll(&state, &request, rest).await,
        Route::Download => download(&state, rest),
    }
}

enum Route {
    Generate,
    StartVideo,
    Poll,
    Download,
}

async fn generate(state: &Mutex<State>, body: &Value) -> HttpResponse {
    if body.get("contents").and_then(Value::as_array).is_none() {
        return error(400, "contents is required");
    }
    let reply = {
        let mut state = lock(state);
        state.script.pop_front().or_else(|| state.fallback.clone())
    };
    match reply {
        Some(Reply::Text(text)) => HttpResponse::Ok().json(answer(&text)),
        Some(Reply::Status(status, message)) => error(status, message),
        Some(Reply::Delay(delay, text)) => {
            tokio::time::sleep(delay).await;
            HttpResponse::Ok().json(answer(&text))
        }
        Some(Reply::Malformed) => HttpResponse::Ok()
            .content_type("application/json")
            .body("{\"candidates\": [ {\"content\": "),
        Some(Reply::RateLimited(delay)) => rate_limited(delay),
        Some(Reply::Image { mime_type, bytes }) => {
            HttpResponse::Ok().json(image_answer(mime_type, &bytes))
        }
        Some(Reply::Json(value)) => HttpResponse::Ok().json(value),
        None => error(500, "no reply scripted"),
    }
}

/// `rest` is `models/{model}:predictLongRunning`.
fn start_video(state: &Mutex<State>, rest: &str, body: &Value) -> HttpResponse {
    let prompt = body["instances"][0]["prompt"].as_str().unwrap_or_default();
    if prompt.is_empty() {
        return error(400, "instances[0].prompt is required");
    }
    let model = rest
        .trim_start_matches("models/")
        .trim_end_matches(":predictLongRunning");
    let mut state = lock(state);
    state.next_id += 1;
    let name = format!("models/{model}/operations/op-{}", state.next_id);
    let plan = state.video_plan.clone();
    state.operations.insert(name.clone(), (plan, 0));
    HttpResponse::Ok().json(json!({ "name": name }))
}

/// `rest` is the operation's name.
async fn poll(state: &Mutex<State>, request: &HttpRequest, rest: &str) -> HttpResponse {
    let found = {
        let mut state = lock(state);
        let polled = state.operations.get_mut(rest).map(|(plan, polls)| {
            *polls += 1;
            (plan.clone(), *polls)
        });
        polled.map(|(plan, polls)| {
            // The file a finished video is served as: made once, on the finishing poll.
            let file_id = format!("video-{}", rest.rsplit('/').next().unwrap_or("x"));
            if let VideoOutcome::Video(bytes) = &plan.outcome
                && polls >= plan.done_after_polls
            {
                state.files.insert(file_id.clone(), bytes.clone());
            }
            (plan, polls, file_id)
        })
    };
    let Some((plan, polls, file_id)) = found else {
        return error(404, "Operation not found");
    };
    tokio::time::sleep(plan.poll_delay).await;
    if polls < plan.done_after_polls {
        return HttpResponse::Ok().json(json!({ "name": rest, "done": false }));
    }
    let info = request.connection_info();
    let base = format!("{}://{}/", info.scheme(), info.host());
    HttpResponse::Ok().json(match plan.outcome {
        VideoOutcome::Video(_) => json!({
            "name": rest,
            "done": true,
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": {
                    "generatedSamples": [{
                        "video": {"uri": format!("{base}v1beta/files/{file_id}:download?alt=media")}
                    }]
                }
            }
        }),
        VideoOutcome::Error { code, message } => json!({
            "name": rest,
            "done": true,
            "error": {"code": code, "message": message}
        }),
        VideoOutcome::Filtered(reason) => json!({
            "name": rest,
            "done": true,
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": {
                    "raiMediaFilteredCount": 1,
                    "raiMediaFilteredReasons": [reason]
                }
            }
        }),
    })
}

/// `rest` is `files/{id}:download`.
fn download(state: &Mutex<State>, rest: &str) -> HttpResponse {
    let id = rest
        .trim_start_matches("files/")
        .trim_end_matches(":download");
    match lock(state).files.get(id) {
        Some(bytes) => HttpResponse::Ok()
            .content_type("video/mp4")
            .body(bytes.clone()),
        None => error(404, "File not found"),
    }
}
