//! A local HTTP server that speaks the Gemini REST API's wire format
//! (`POST /v1beta/models/{model}:generateContent`, key in `x-goog-api-key`, JSON
//! `contents`/`generationConfig` in, `candidates[].content.parts[].text` out, errors as
//! `{"error":{"code","message","status"}}`), for the real clients in the product. Tests
//! script what it answers next: an answer, a status (429, 500), a delay longer than the
//! client's timeout, or a malformed body.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub const API_KEY: &str = "gemini-test-key";

/// What the fake answers to one request.
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
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub api_key: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    /// Answered when the script is empty.
    fallback: Option<Reply>,
    requests: Vec<Recorded>,
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
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues the next answers, in order.
    pub fn reply(&self, reply: Reply) {
        self.state().script.push_back(reply);
    }

    /// What to answer once the queue is empty (by default: 500).
    pub fn always(&self, reply: Reply) {
        self.state().fallback = Some(reply);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }
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

fn error(status: u16, message: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let name = match status {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    HttpResponse::build(code).json(json!({
        "error": {"code": status, "message": message, "status": name}
    }))
}

async fn handle(
    state: web::Data<Mutex<State>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let path = request.path().to_string();
    let api_key = request
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let reply = {
        let mut state = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.requests.push(Recorded {
            path: path.clone(),
            api_key: api_key.clone(),
            body: parsed.clone(),
        });
        state.script.pop_front().or_else(|| state.fallback.clone())
    };
    if request.method() != actix_web::http::Method::POST
        || !path.starts_with("/v1beta/models/")
        || !path.ends_with(":generateContent")
    {
        return error(404, "not found");
    }
    if api_key.as_deref() != Some(API_KEY) {
        return error(403, "API key not valid. Please pass a valid API key.");
    }
    if parsed.get("contents").and_then(Value::as_array).is_none() {
        return error(400, "contents is required");
    }
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
        None => error(500, "no reply scripted"),
    }
}
