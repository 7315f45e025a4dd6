//! Gemini and Veo over REST, for campaign generation: copy as JSON that follows a response
//! schema, pictures, and video as a long-running operation.
//!
//! Wire formats (Gemini API `v1beta`, key in the `x-goog-api-key` header, never in the URL):
//! - Text: `POST {base}v1beta/models/{text_model}:generateContent` with `systemInstruction`,
//!   `contents` and `generationConfig.{responseMimeType: "application/json",
//!   responseSchema, temperature}`; the JSON is the concatenated text of
//!   `candidates[0].content.parts[*].text`. `promptFeedback.blockReason` and the
//!   candidate's `finishReason` (`SAFETY`, `RECITATION`, … → [`GeminiError::Blocked`];
//!   `MAX_TOKENS` → [`GeminiError::Truncated`]) are checked before the text is read.
//! - Images: the same call on `image_model` with `generationConfig.responseModalities:
//!   ["IMAGE"]` and `imageConfig.aspectRatio`; the picture comes back base64 in a part's
//!   `inlineData {mimeType, data}` (`inline_data` is accepted too).
//! - Video (Veo): `POST {base}v1beta/models/{video_model}:predictLongRunning` with
//!   `{"instances": [{"prompt"}], "parameters": {"aspectRatio", "durationSeconds",
//!   "negativePrompt"}}` answers an operation `{"name": "models/…/operations/…"}`;
//!   `GET {base}v1beta/{name}` polls it until `done: true`, with either
//!   `response.generateVideoResponse.generatedSamples[0].video.uri` (or
//!   `raiMediaFilteredReasons` when responsible-AI filters dropped the video) or
//!   `error: {code, message}`. The URI is downloaded with the same key header. This follows
//!   the Gemini API's documented REST calls for Veo 3 as of late 2025; Vertex AI's Veo
//!   endpoints are different and not supported here.
//!
//! Every request has its own timeout. 429, 5xx, 408 and transport failures (timeouts,
//! refused or reset connections) are retried with exponential backoff and jitter, waiting
//! at least as long as Google asks (`Retry-After`, or the `google.rpc.RetryInfo` detail in
//! the error body); other 4xx are not retried. Metrics are the caller's: every success
//! returns its [`Usage`] (tokens, cost, attempts) and every error has a [`GeminiError::kind`]
//! label.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use marquee_platform::{ExposeSecret, SecretString};
use reqwest::header::{HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/";
pub const DEFAULT_TEXT_MODEL: &str = "gemini-2.5-flash";
pub const DEFAULT_IMAGE_MODEL: &str = "gemini-2.5-flash-image";
pub const DEFAULT_VIDEO_MODEL: &str = "veo-3.0-generate-001";

/// The header that carries the API key.
const API_KEY_HEADER: &str = "x-goog-api-key";
/// Error bodies are read this far at most: enough for Google's JSON error.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// Non-media answers (text generations, operations) are read this far at most.
const MAX_JSON_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Redirects followed when downloading a video (Google answers the download URI with a
/// redirect to storage).
const MAX_DOWNLOAD_REDIRECTS: usize = 5;
/// Polling faster than this gains nothing and only spends quota.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Aspect ratios the image model accepts.
pub const IMAGE_ASPECT_RATIOS: &[&str] = &[
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];
/// Aspect ratios Veo accepts.
pub const VIDEO_ASPECT_RATIOS: &[&str] = &["16:9", "9:16"];
/// The longest clip Veo makes in one operation (Veo 3: 8 s; 3.1 also 4 and 6 s).
pub const MAX_VIDEO_SECONDS: u32 = 8;

/// List prices in US dollars, used only to report what a call cost ([`Usage::cost_usd`]).
///
/// The defaults are Google's published paid-tier prices for the default models, as seen
/// in 2025 (they change: set the current ones in configuration):
/// - gemini-2.5-flash: $0.30 per million input tokens, $2.50 per million output tokens
///   (thinking tokens are billed as output);
/// - gemini-2.5-flash-image: $0.30 per million input tokens, $30 per million output
///   tokens (one picture is 1290 tokens, about $0.039);
/// - veo-3.0-generate-001: $0.40 per second of video generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub text_input_per_million_tokens: f64,
    pub text_output_per_million_tokens: f64,
    pub image_input_per_million_tokens: f64,
    pub image_output_per_million_tokens: f64,
    pub video_per_second: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            text_input_per_million_tokens: 0.30,
            text_output_per_million_tokens: 2.50,
            image_input_per_million_tokens: 0.30,
            image_output_per_million_tokens: 30.0,
            video_per_second: 0.40,
        }
    }
}

/// How to reach Gemini and how patient to be. [`GeminiConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct GeminiConfig {
    /// Ends in `/` (`https://generativelanguage.googleapis.com/`).
    pub base_url: String,
    pub text_model: String,
    pub image_model: String,
    pub video_model: String,
    pub api_key: SecretString,
    /// For one API request, from connecting to the end of the answer's body.
    pub timeout: Duration,
    /// For one video download, which is much larger than an API answer.
    pub download_timeout: Duration,
    /// Retries after the first attempt, for 429, 5xx and transport failures.
    pub max_retries: u32,
    /// The first retry waits about this long, doubling each time (with jitter).
    pub retry_base_delay: Duration,
    /// No retry waits longer; when Google asks for a longer wait, the call fails with
    /// [`GeminiError::RateLimited`] carrying the wait, for the caller to schedule.
    pub max_retry_delay: Duration,
    /// How long [`GeminiClient::wait_for_video`] waits for an operation to finish.
    pub video_wait_limit: Duration,
    /// The largest generated picture accepted (decoded bytes).
    pub max_image_bytes: usize,
    /// The largest video downloaded.
    pub max_video_bytes: u64,
    pub prices: Prices,
}

impl GeminiConfig {
    /// Google's endpoint, the default models and prices, 60 s per request, 3 retries from
    /// 500 ms, 10 minutes for a video, pictures up to 20 MiB and videos up to 200 MiB.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            text_model: DEFAULT_TEXT_MODEL.to_string(),
            image_model: DEFAULT_IMAGE_MODEL.to_string(),
            video_model: DEFAULT_VIDEO_MODEL.to_string(),
            api_key,
            timeout: Duration::from_secs(60),
            download_timeout: Duration::from_secs(300),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            max_retry_delay: Duration::from_secs(30),
            video_wait_limit: Duration::from_secs(600),
            max_image_bytes: 20 * 1024 * 1024,
            max_video_bytes: 200 * 1024 * 1024,
            prices: Prices::default(),
        }
    }
}

/// What one successful call used: tokens as Gemini counted them, their cost at the
/// configured [`Prices`], and how many HTTP attempts it took (1 = no retry).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    pub prompt_tokens: u64,
    /// Answer tokens, thinking tokens included (they are billed as output).
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum GeminiError {
    /// The client's own settings are unusable (base URL, a key that can't be a header).
    #[error("Gemini client misconfigured: {0}")]
    Config(String),
    /// The caller asked for something this client won't send (unknown aspect ratio, …).
    #[error("invalid Gemini request: {0}")]
    InvalidRequest(String),
    /// 429 on every attempt, or Google asked to wait longer than `max_retry_delay`.
    #[error("Gemini is rate limiting (429) after {attempts} attempt(s)")]
    RateLimited {
        attempts: u32,
        /// How long Google asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// Every attempt ran out of time.
    #[error("Gemini timed out after {attempts} attempt(s)")]
    Timeout { attempts: u32 },
    /// 5xx or no connection on every attempt.
    #[error("Gemini is unavailable after {attempts} attempt(s): {detail}")]
    Unavailable { attempts: u32, detail: String },
    /// A 4xx other than 429: the request is wrong (or the key is), retrying won't help.
    #[error("Gemini rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// Safety or recitation filters stopped the generation; `in_prompt` when the prompt
    /// itself was blocked (`promptFeedback.blockReason`).
    #[error("Gemini blocked the {} ({reason})", if *in_prompt { "prompt" } else { "answer" })]
    Blocked { reason: String, in_prompt: bool },
    /// The answer stopped at the output token limit (`MAX_TOKENS`), so it is incomplete.
    #[error("Gemini's answer was cut at the output token limit")]
    Truncated,
    /// The answer is not what was asked for: not a generateContent answer, not JSON, JSON
    /// that doesn't follow the schema, no picture, bytes that are not a picture.
    #[error("Gemini's answer is malformed: {0}")]
    Malformed(String),
    /// Generated media larger than the configured limit.
    #[error("the generated media is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The video operation finished with an error or without a video.
    #[error("the video generation failed: {0}")]
    VideoFailed(String),
    /// The video operation did not finish within `video_wait_limit`.
    #[error("the video was not ready after {0:?}")]
    VideoTimedOut(Duration),
    /// The caller's cancellation token fired.
    #[error("cancelled")]
    Cancelled,
}

impl GeminiError {
    /// A stable label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::InvalidRequest(_) => "invalid_request",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout { .. } => "timeout",
            Self::Unavailable { .. } => "unavailable",
            Self::Rejected { .. } => "rejected",
            Self::Blocked { .. } => "blocked",
            Self::Truncated => "truncated",
            Self::Malformed(_) => "malformed",
            Self::TooLarge { .. } => "too_large",
            Self::VideoFailed(_) => "video_failed",
            Self::VideoTimedOut(_) => "video_timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the same call may succeed later (rate limits, outages, timeouts): the
    /// caller's cue to requeue rather than report a failure to the creator.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Timeout { .. }
                | Self::Unavailable { .. }
                | Self::VideoTimedOut(_)
        )
    }
}

/// A generated picture, its type read from its bytes (not from Google's label).
#[derive(Clone, PartialEq)]
pub struct GeneratedImage {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for GeneratedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedImage")
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// What to ask Veo for.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// One of [`VIDEO_ASPECT_RATIOS`].
    pub aspect_ratio: String,
    /// 1 to [`MAX_VIDEO_SECONDS`]; the model may support fewer values (Veo 3.0: 8).
    pub duration_seconds: u32,
    /// What the video should not show.
    pub negative_prompt: Option<String>,
}

impl Default for VideoOptions {
    fn default() -> Self {
        Self {
            aspect_ratio: "16:9".to_string(),
            duration_seconds: MAX_VIDEO_SECONDS,
            negative_prompt: None,
        }
    }
}

/// A started Veo generation. Keep `name` (persist it) to poll after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOperation {
    /// `models/{model}/operations/{id}`.
    pub name: String,
    pub duration_seconds: u32,
    /// What the video costs at the configured price per second, once it is made (Veo
    /// reports no usage of its own).
    pub estimated_cost_usd: f64,
    /// HTTP attempts the start took.
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VideoStatus {
    Running,
    Done { video_uri: String },
    Failed(String),
}

/// Reported after each poll that found the video still running.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoProgress {
    pub polls: u32,
    pub elapsed: Duration,
}

/// A Gemini and Veo client; cheap to share (`Arc`) across tasks. Every call's future may
/// be dropped at any point to abandon it.
pub struct GeminiClient {
    http: reqwest::Client,
    config: GeminiConfig,
    base: Url,
    /// The key as a header value marked sensitive, so it never shows in debug output.
    key_header: HeaderValue,
}

impl fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiClient")
            .field("base_url", &self.config.base_url)
            .field("text_model", &self.config.text_model)
            .field("image_model", &self.config.image_model)
            .field("video_model", &self.config.video_model)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed, when another attempt may succeed.
#[derive(Debug)]
enum Transient {
    RateLimited { retry_after: Option<Duration> },
    Timeout,
    Unavailable(String),
}

impl Transient {
    fn into_error(self, attempts: u32) -> GeminiError {
        match self {
            Self::RateLimited { retry_after } => GeminiError::RateLimited {
                attempts,
                retry_after,
            },
            Self::Timeout => GeminiError::Timeout { attempts },
            Self::Unavailable(detail) => GeminiError::Unavailable { attempts, detail },
        }
    }
}

#[derive(Debug)]
enum AttemptError {
    Transient(Transient),
    Final(GeminiError),
}

impl From<Transient> for AttemptError {
    fn from(transient: Transient) -> Self {
        Self::Transient(transient)
    }
}

impl GeminiClient {
    /// Checks the configuration and builds the HTTP client. Needs the process's TLS
    /// crypto provider installed first (`marquee_platform::install_crypto_provider`).
    pub fn new(config: GeminiConfig) -> Result<Self, GeminiError> {
        if !config.base_url.ends_with('/') {
            return Err(GeminiError::Config(format!(
                "the base URL must end in '/': {}",
                config.base_url
            )));
        }
        let base = Url::parse(&config.base_url)
            .map_err(|e| GeminiError::Config(format!("the base URL is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(GeminiError::Config(
                "the base URL must be http or https".into(),
            ));
        }
        for (what, model) in [
            ("text", &config.text_model),
            ("image", &config.image_model),
            ("video", &config.video_model),
        ] {
            if !is_path_safe(model) || model.contains('/') {
                return Err(GeminiError::Config(format!(
                    "the {what} model name is not a plain model id: {model:?}"
                )));
            }
        }
        if config.api_key.expose_secret().trim().is_empty() {
            // No key means no Gemini: the caller uses its local fallbacks instead.
            return Err(GeminiError::Config("the API key is empty".into()));
        }
        let mut key_header =
            HeaderValue::from_str(config.api_key.expose_secret()).map_err(|_| {
                GeminiError::Config("the API key has characters a header can't carry".into())
            })?;
        key_header.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(config.timeout))
            // Redirects are followed by hand, only for downloads, so that the key header
            // never follows a redirect to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GeminiError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            config,
            base,
            key_header,
        })
    }

    pub fn config(&self) -> &GeminiConfig {
        &self.config
    }

    /// Asks the text model for JSON following `schema` (Gemini's OpenAPI-subset schema:
    /// `{"type": "OBJECT", "properties": …, "required": […]}`). The answer is checked
    /// against the schema's types, required properties and enums.
    pub async fn generate_json(
        &self,
        system: &str,
        prompt: &str,
        schema: Value,
        temperature: f32,
    ) -> Result<(Value, Usage), GeminiError> {
        if !(0.0..=2.0).contains(&temperature) {
            return Err(GeminiError::InvalidRequest(format!(
                "temperature must be within 0 to 2, not {temperature}"
            )));
        }
        let mut body = json!({
            "contents": [{ "role": "user", "parts": [{ "text": prompt }] }],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": schema,
                "temperature": temperature,
            }
        });
        if !system.is_empty() {
            body["systemInstruction"] = json!({ "parts": [{ "text": system }] });
        }
        let url = self.model_url(&self.config.text_model, "generateContent")?;
        let (answer, attempts) = self
            .call(Method::POST, url, Some(&body), MAX_JSON_BODY_BYTES)
            .await?;
        let answer = parse_generate_answer(&answer)?;
        let text = answer.text();
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| GeminiError::Malformed(format!("the answer is not JSON: {e}")))?;
        conforms(&value, &body["generationConfig"]["responseSchema"], "$").map_err(|e| {
            GeminiError::Malformed(format!("the JSON doesn't follow the schema: {e}"))
        })?;
        let usage = answer.usage(
            self.config.prices.text_input_per_million_tokens,
            self.config.prices.text_output_per_million_tokens,
            attempts,
        );
        Ok((value, usage))
    }

    /// [`Self::generate_json`] deserialised into `T`; a JSON that doesn't fit `T` is
    /// [`GeminiError::Malformed`].
    pub async fn generate<T: DeserializeOwned>(
        &self,
        system: &str,
        prompt: &str,
        schema: Value,
        temperature: f32,
    ) -> Result<(T, Usage), GeminiError> {
        let (value, usage) = self
            .generate_json(system, prompt, schema, temperature)
            .await?;
        let typed = serde_json::from_value(value)
            .map_err(|e| GeminiError::Malformed(format!("the JSON doesn't fit: {e}")))?;
        Ok((typed, usage))
    }

    /// Asks the image model for one picture. `aspect_ratio` is one of
    /// [`IMAGE_ASPECT_RATIOS`].
    pub async fn generate_image(
        &self,
        prompt: &str,
        aspect_ratio: &str,
    ) -> Result<(GeneratedImage, Usage), GeminiError> {
        if !IMAGE_ASPECT_RATIOS.contains(&aspect_ratio) {
            return Err(GeminiError::InvalidRequest(format!(
                "unsupported image aspect ratio {aspect_ratio:?}"
            )));
        }
        let body = json!({
            "contents": [{ "role": "user", "parts": [{ "text": prompt }] }],
            "generationConfig": {
                "responseModalities": ["IMAGE"],
                "imageConfig": { "aspectRatio": aspect_ratio },
            }
        });
        let url = self.model_url(&self.config.image_model, "generateContent")?;
        // base64 is 4/3 of the bytes; the rest of the answer is small.
        let limit = self.config.max_image_bytes / 3 * 4 + 1024 * 1024;
        let (answer, attempts) = self.call(Method::POST, url, Some(&body), limit).await?;
        let answer = parse_generate_answer(&answer)?;
        let image = answer.image(self.config.max_image_bytes)?;
        let usage = answer.usage(
            self.config.prices.image_input_per_million_tokens,
            self.config.prices.image_output_per_million_tokens,
            attempts,
        );
        Ok((image, usage))
    }

    /// Starts a Veo generation. Veo takes from about a minute to several: poll it with
    /// [`Self::poll_video`] or [`Self::wait_for_video`].
    pub async fn start_video(
        &self,
        prompt: &str,
        options: &VideoOptions,
    ) -> Result<VideoOperation, GeminiError> {
        if prompt.trim().is_empty() {
            return Err(GeminiError::InvalidRequest(
                "the video prompt is empty".into(),
            ));
        }
        if !VIDEO_ASPECT_RATIOS.contains(&options.aspect_ratio.as_str()) {
            return Err(GeminiError::InvalidRequest(format!(
                "unsupported video aspect ratio {:?}",
                options.aspect_ratio
            )));
        }
        if !(1..=MAX_VIDEO_SECONDS).contains(&options.duration_seconds) {
            return Err(GeminiError::InvalidRequest(format!(
                "video duration must be 1 to {MAX_VIDEO_SECONDS} seconds, not {}",
                options.duration_seconds
            )));
        }
        let mut parameters = json!({
            "aspectRatio": options.aspect_ratio,
            "durationSeconds": options.duration_seconds,
        });
        if let Some(negative) = options.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
            parameters["negativePrompt"] = json!(negative);
        }
        let body = json!({ "instances": [{ "prompt": prompt }], "parameters": parameters });
        let url = self.model_url(&self.config.video_model, "predictLongRunning")?;
        let (answer, attempts) = self
            .call(Method::POST, url, Some(&body), MAX_JSON_BODY_BYTES)
            .await?;
        let operation: OperationAnswer = serde_json::from_slice(&answer)
            .map_err(|e| GeminiError::Malformed(format!("not an operation: {e}")))?;
        if !is_operation_name(&operation.name) {
            return Err(GeminiError::Malformed(format!(
                "unexpected operation name {:?}",
                operation.name
            )));
        }
        Ok(VideoOperation {
            name: operation.name,
            duration_seconds: options.duration_seconds,
            estimated_cost_usd: f64::from(options.duration_seconds)
                * self.config.prices.video_per_second,
            attempts,
        })
    }

    /// Asks once how a Veo generation is going.
    pub async fn poll_video(&self, operation: &VideoOperation) -> Result<VideoStatus, GeminiError> {
        // The name comes back from Google and may have been stored: it must stay a path
        // under v1beta, never reach another endpoint or host.
        if !is_operation_name(&operation.name) {
            return Err(GeminiError::InvalidRequest(format!(
                "not an operation name: {:?}",
                operation.name
            )));
        }
        let url = self.url(&format!("v1beta/{}", operation.name))?;
        let (answer, _attempts) = self
            .call(Method::GET, url, None, MAX_JSON_BODY_BYTES)
            .await?;
        let operation: OperationAnswer = serde_json::from_slice(&answer)
            .map_err(|e| GeminiError::Malformed(format!("not an operation: {e}")))?;
        Ok(operation.status())
    }

    /// Polls every `poll_interval` until the video is done (its URI), failed, cancelled
    /// through `cancel`, or not done within `video_wait_limit`. `on_progress` hears of
    /// every poll that found it still running. Cancelling returns at once, even in the
    /// middle of a poll; the generation itself goes on at Google (the API has an
    /// operations cancel method, but Veo does not promise to honour it, so we don't rely
    /// on it) and is billed if it finishes. A poll that still fails after its retries ends
    /// the wait with that error; the operation can be polled again later by its name.
    pub async fn wait_for_video(
        &self,
        operation: &VideoOperation,
        poll_interval: Duration,
        cancel: CancellationToken,
        mut on_progress: impl FnMut(VideoProgress),
    ) -> Result<String, GeminiError> {
        let limit = self.config.video_wait_limit;
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started) + limit;
        let poll_interval = poll_interval.max(MIN_POLL_INTERVAL);
        let mut polls = 0u32;
        loop {
            let status = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(GeminiError::Cancelled),
                () = tokio::time::sleep_until(deadline) => return Err(GeminiError::VideoTimedOut(limit)),
                status = self.poll_video(operation) => status?,
            };
            polls = polls.saturating_add(1);
            match status {
                VideoStatus::Done { video_uri } => return Ok(video_uri),
                VideoStatus::Failed(message) => return Err(GeminiError::VideoFailed(message)),
                VideoStatus::Running => on_progress(VideoProgress {
                    polls,
                    elapsed: started.elapsed(),
                }),
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(GeminiError::Cancelled),
                () = tokio::time::sleep_until(deadline) => return Err(GeminiError::VideoTimedOut(limit)),
                () = tokio::time::sleep(poll_interval) => {}
            }
        }
    }

    /// Downloads a finished video, at most `max_video_bytes`. The key goes only to the
    /// configured Gemini host: a URI or a redirect elsewhere (Google redirects downloads
    /// to storage with a signed URL) is fetched without it.
    pub async fn fetch_video(&self, video_uri: &str) -> Result<Bytes, GeminiError> {
        let start = Url::parse(video_uri)
            .map_err(|e| GeminiError::InvalidRequest(format!("not a video URI: {e}")))?;
        if !matches!(start.scheme(), "http" | "https") {
            return Err(GeminiError::InvalidRequest(
                "the video URI must be http or https".into(),
            ));
        }
        let limit = self.config.max_video_bytes;
        let (bytes, _attempts) = self
            .with_retries(|| {
                let start = start.clone();
                async move {
                    let mut url = start;
                    for _ in 0..=MAX_DOWNLOAD_REDIRECTS {
                        let mut request = self
                            .http
                            .get(url.clone())
                            .timeout(self.config.download_timeout);
                        if same_origin(&url, &self.base) {
                            request = request.header(API_KEY_HEADER, self.key_header.clone());
                        }
                        let response = request.send().await.map_err(transport_error)?;
                        let status = response.status();
                        if status.is_redirection() {
                            url = redirect_target(&url, response.headers())?;
                            continue;
                        }
                        if !status.is_success() {
                            return Err(self.failed_status(response).await);
                        }
                        return read_video(response, limit).await;
                    }
                    Err(AttemptError::Final(GeminiError::Malformed(
                        "too many redirects downloading the video".into(),
                    )))
                }
            })
            .await?;
        Ok(bytes)
    }

    fn url(&self, path: &str) -> Result<Url, GeminiError> {
        self.base
            .join(path)
            .map_err(|e| GeminiError::Config(format!("bad URL for {path}: {e}")))
    }

    fn model_url(&self, model: &str, method: &str) -> Result<Url, GeminiError> {
        self.url(&format!("v1beta/models/{model}:{method}"))
    }

    /// One API call with retries: the answer's body (2xx) and the attempts it took.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        limit: usize,
    ) -> Result<(Vec<u8>, u32), GeminiError> {
        self.with_retries(|| {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.config.timeout)
                .header(API_KEY_HEADER, self.key_header.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            async move {
                let response = request.send().await.map_err(transport_error)?;
                if !response.status().is_success() {
                    return Err(self.failed_status(response).await);
                }
                read_capped(response, limit).await
            }
        })
        .await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent.
    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<(T, u32), GeminiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let max_attempts = self.config.max_retries.saturating_add(1);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let transient = match attempt().await {
                Ok(value) => return Ok((value, attempts)),
                Err(AttemptError::Final(error)) => return Err(error),
                Err(AttemptError::Transient(transient)) => transient,
            };
            if attempts >= max_attempts {
                return Err(transient.into_error(attempts));
            }
            let backoff = self.backoff(attempts);
            let delay = match &transient {
                Transient::RateLimited {
                    retry_after: Some(asked),
                } => {
                    if *asked > self.config.max_retry_delay {
                        // Longer than we hold a call open: the caller reschedules.
                        return Err(transient.into_error(attempts));
                    }
                    backoff.max(*asked)
                }
                _ => backoff,
            };
            tracing::debug!(
                attempt = attempts,
                delay_ms = delay.as_millis() as u64,
                reason = ?transient,
                "retrying Gemini"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Exponential backoff with "equal jitter": half the doubled delay fixed, half random,
    /// capped at `max_retry_delay`, so that clients that failed together don't retry
    /// together.
    fn backoff(&self, failed_attempts: u32) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(20);
        let full = self
            .config
            .retry_base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.config.max_retry_delay);
        let half = full / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// Sorts a non-2xx answer into retryable or not, with Google's message.
    async fn failed_status(&self, response: reqwest::Response) -> AttemptError {
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let body = read_capped(response, MAX_ERROR_BODY_BYTES)
            .await
            .unwrap_or_default();
        let google = parse_google_error(&body);
        let message = self.redact(
            google
                .as_ref()
                .map(|e| e.message.clone())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| {
                    status
                        .canonical_reason()
                        .unwrap_or("no message")
                        .to_string()
                }),
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = google.and_then(|e| e.retry_delay).or(retry_after);
            return Transient::RateLimited { retry_after }.into();
        }
        if status == StatusCode::REQUEST_TIMEOUT {
            return Transient::Timeout.into();
        }
        if status.is_server_error() {
            return Transient::Unavailable(format!("{}: {message}", status.as_u16())).into();
        }
        AttemptError::Final(GeminiError::Rejected {
            status: status.as_u16(),
            message,
        })
    }

    /// Google's messages don't repeat the key, but an error message must never be where
    /// it leaks.
    fn redact(&self, message: String) -> String {
        let key = self.config.api_key.expose_secret();
        if key.len() >= 4 && message.contains(key) {
            message.replace(key, "[redacted]")
        } else {
            message
        }
    }
}

fn transport_error(error: reqwest::Error) -> AttemptError {
    if error.is_timeout() {
        Transient::Timeout.into()
    } else if error.is_builder() {
        AttemptError::Final(GeminiError::InvalidRequest(error.without_url().to_string()))
    } else {
        // Refused, reset, TLS or a cut body: the next attempt may get through.
        Transient::Unavailable(error.without_url().to_string()).into()
    }
}

/// The body of a successful answer, at most `limit` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, AttemptError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(AttemptError::Final(GeminiError::TooLarge {
            limit: limit as u64,
        }));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(AttemptError::Final(GeminiError::TooLarge {
                limit: limit as u64,
            }));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A video's bytes, streamed, at most `limit`.
async fn read_video(mut response: reqwest::Response, limit: u64) -> Result<Bytes, AttemptError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(AttemptError::Final(GeminiError::TooLarge { limit }));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(AttemptError::Final(GeminiError::TooLarge { limit }));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, AttemptError> {
    headers
        .get(LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| from.join(location).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| {
            AttemptError::Final(GeminiError::Malformed(
                "a redirect without a usable Location".into(),
            ))
        })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `Retry-After` in seconds (Google sends seconds; an HTTP date is ignored).
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = value.parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

/// Google's error body: `{"error": {"code", "message", "status", "details": [...]}}`.
struct GoogleError {
    message: String,
    /// From a `google.rpc.RetryInfo` detail (`"retryDelay": "13s"`).
    retry_delay: Option<Duration>,
}

fn parse_google_error(body: &[u8]) -> Option<GoogleError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let message: String = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let retry_delay = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|detail| {
            detail
                .get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|detail| detail.get("retryDelay").and_then(Value::as_str))
        .and_then(parse_proto_duration);
    Some(GoogleError {
        message,
        retry_delay,
    })
}

/// A protobuf JSON duration: `"13s"`, `"0.250s"`.
fn parse_proto_duration(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

/// Characters allowed in model ids and operation names spliced into URL paths.
fn is_path_safe(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 300
        && !text
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// `models/{model}/operations/{id}` (or `operations/{id}`), nothing else.
fn is_operation_name(name: &str) -> bool {
    is_path_safe(name) && {
        let segments: Vec<&str> = name.split('/').collect();
        matches!(
            segments.as_slice(),
            ["models", _, "operations", _] | ["operations", _]
        )
    }
}

/// The bytes' picture type, from their magic numbers.
fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

// ---- generateContent answers ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateAnswer {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    text: Option<String>,
    #[serde(alias = "inline_data")]
    inline_data: Option<InlineData>,
    /// Thought summaries, when a thinking model includes them: not the answer.
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InlineData {
    #[serde(alias = "mime_type", default)]
    mime_type: String,
    data: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
}

/// Finish reasons meaning a filter stopped the answer.
const BLOCKING_FINISH_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

/// A generateContent answer whose first candidate is usable: not blocked, not cut.
struct UsableAnswer {
    parts: Vec<Part>,
    finish_reason: Option<String>,
    usage: UsageMetadata,
}

fn parse_generate_answer(body: &[u8]) -> Result<UsableAnswer, GeminiError> {
    let answer: GenerateAnswer = serde_json::from_slice(body)
        .map_err(|e| GeminiError::Malformed(format!("not a generateContent answer: {e}")))?;
    if let Some(reason) = answer.prompt_feedback.and_then(|f| f.block_reason) {
        return Err(GeminiError::Blocked {
            reason,
            in_prompt: true,
        });
    }
    let candidate = answer
        .candidates
        .into_iter()
        .next()
        .ok_or_else(|| GeminiError::Malformed("the answer has no candidate".into()))?;
    match candidate.finish_reason.as_deref() {
        Some(reason) if BLOCKING_FINISH_REASONS.contains(&reason) => {
            return Err(GeminiError::Blocked {
                reason: reason.to_string(),
                in_prompt: false,
            });
        }
        Some("MAX_TOKENS") => return Err(GeminiError::Truncated),
        _ => {}
    }
    let parts: Vec<Part> = candidate
        .content
        .map(|c| c.parts)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !p.thought)
        .collect();
    if parts.is_empty() {
        return Err(GeminiError::Malformed(format!(
            "the answer has no content (finish reason {})",
            candidate.finish_reason.as_deref().unwrap_or("none")
        )));
    }
    Ok(UsableAnswer {
        parts,
        finish_reason: candidate.finish_reason,
        usage: answer.usage_metadata.unwrap_or_default(),
    })
}

impl UsableAnswer {
    fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| p.text.as_deref())
            .collect()
    }

    fn image(&self, max_bytes: usize) -> Result<GeneratedImage, GeminiError> {
        let inline = self
            .parts
            .iter()
            .filter_map(|p| p.inline_data.as_ref())
            .find(|d| d.mime_type.is_empty() || d.mime_type.starts_with("image/"))
            .ok_or_else(|| {
                let said: String = self.text().chars().take(200).collect();
                GeminiError::Malformed(format!(
                    "no picture in the answer (finish reason {}){}",
                    self.finish_reason.as_deref().unwrap_or("none"),
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(": {said}")
                    }
                ))
            })?;
        // Checked before decoding so an oversized answer costs no allocation.
        if inline.data.len() / 4 * 3 > max_bytes + 3 {
            return Err(GeminiError::TooLarge {
                limit: max_bytes as u64,
            });
        }
        let bytes = STANDARD
            .decode(inline.data.trim())
            .map_err(|e| GeminiError::Malformed(format!("the picture is not base64: {e}")))?;
        if bytes.len() > max_bytes {
            return Err(GeminiError::TooLarge {
                limit: max_bytes as u64,
            });
        }
        let content_type = sniff_image(&bytes).ok_or_else(|| {
            GeminiError::Malformed(format!(
                "the {} part is not a PNG, JPEG, WebP or GIF",
                inline.mime_type
            ))
        })?;
        Ok(GeneratedImage {
            content_type,
            bytes,
        })
    }

    fn usage(&self, input_price: f64, output_price: f64, attempts: u32) -> Usage {
        let prompt_tokens = self.usage.prompt_token_count;
        let output_tokens = self
            .usage
            .candidates_token_count
            .saturating_add(self.usage.thoughts_token_count);
        Usage {
            prompt_tokens,
            output_tokens,
            cost_usd: (prompt_tokens as f64 * input_price + output_tokens as f64 * output_price)
                / 1_000_000.0,
            attempts,
        }
    }
}

// ---- long-running operations ----

#[derive(Deserialize)]
struct OperationAnswer {
    name: String,
    #[serde(default)]
    done: bool,
    error: Option<OperationError>,
    response: Option<OperationResponse>,
}

#[derive(Deserialize)]
struct OperationError {
    #[serde(default)]
    code: i32,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationResponse {
    generate_video_response: Option<GenerateVideoResponse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateVideoResponse {
    #[serde(default)]
    generated_samples: Vec<GeneratedSample>,
    #[serde(default)]
    rai_media_filtered_reasons: Vec<String>,
}

#[derive(Deserialize)]
struct GeneratedSample {
    video: Option<VideoRef>,
}

#[derive(Deserialize)]
struct VideoRef {
    uri: Option<String>,
}

impl OperationAnswer {
    fn status(self) -> VideoStatus {
        if !self.done {
            return VideoStatus::Running;
        }
        if let Some(error) = self.error {
            return VideoStatus::Failed(format!("{} (code {})", error.message, error.code));
        }
        let video = self.response.and_then(|r| r.generate_video_response);
        let uri = video.as_ref().and_then(|v| {
            v.generated_samples
                .iter()
                .find_map(|s| s.video.as_ref()?.uri.clone())
        });
        match (uri, video) {
            (Some(video_uri), _) => VideoStatus::Done { video_uri },
            (None, Some(video)) if !video.rai_media_filtered_reasons.is_empty() => {
                VideoStatus::Failed(format!(
                    "filtered by safety checks: {}",
                    video.rai_media_filtered_reasons.join("; ")
                ))
            }
            (None, _) => VideoStatus::Failed("the operation finished without a video".into()),
        }
    }
}

// ---- response schema check ----

/// Whether `value` follows a Gemini response schema (OpenAPI subset, types upper- or
/// lower-case): types, required properties, enums, array items, nullable. Formats and
/// numeric ranges are left to the caller's own validation.
fn conforms(value: &Value, schema: &Value, path: &str) -> Result<(), String> {
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{path} is not one of the allowed values"));
    }
    let Some(kind) = schema.get("type").and_then(Value::as_str) else {
        return Ok(());
    };
    let fits = match kind.to_ascii_uppercase().as_str() {
        "OBJECT" => {
            let Some(object) = value.as_object() else {
                return Err(format!("{path} is not an object"));
            };
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(required) {
                    return Err(format!("{path}.{required} is missing"));
                }
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    if let Some(field) = object.get(name) {
                        conforms(field, property, &format!("{path}.{name}"))?;
                    }
                }
            }
            true
        }
        "ARRAY" => {
            let Some(items) = value.as_array() else {
                return Err(format!("{path} is not an array"));
            };
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    conforms(item, item_schema, &format!("{path}[{index}]"))?;
                }
            }
            true
        }
        "STRING" => value.is_string(),
        "NUMBER" => value.is_number(),
        "INTEGER" => value.is_i64() || value.is_u64(),
        "BOOLEAN" => value.is_boolean(),
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{path} is not of type {kind}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_testkit::gemini::{
        API_KEY, FakeGemini, PNG_1X1, Reply, SAMPLE_VIDEO, VideoOutcome, VideoPlan, blocked_prompt,
        finished,
    };

    const FAST_TIMEOUT: Duration = Duration::from_millis(400);

    fn config(fake: &FakeGemini) -> GeminiConfig {
        marquee_platform::install_crypto_provider();
        GeminiConfig {
            base_url: fake.base.clone(),
            timeout: FAST_TIMEOUT,
            max_retries: 2,
            retry_base_delay: Duration::from_millis(5),
            max_retry_delay: Duration::from_secs(2),
            ..GeminiConfig::new(SecretString::from(API_KEY))
        }
    }

    fn client(fake: &FakeGemini) -> GeminiClient {
        GeminiClient::new(config(fake)).unwrap()
    }

    fn tags_schema() -> Value {
        json!({
            "type": "OBJECT",
            "properties": {
                "headline": { "type": "STRING" },
                "hashtags": { "type": "ARRAY", "items": { "type": "STRING" } },
                "tone": { "type": "STRING", "enum": ["playful", "calm"] }
            },
            "required": ["headline", "hashtags"]
        })
    }

    const GOOD_JSON: &str = r##"{"headline":"Fresh prints","hashtags":["#art"],"tone":"calm"}"##;

    #[derive(Debug, Deserialize, PartialEq)]
    struct CampaignCopy {
        headline: String,
        hashtags: Vec<String>,
    }

    #[tokio::test]
    async fn json_generation_is_parsed_with_usage_and_cost() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.reply(Reply::Text(GOOD_JSON.into()));
        let (value, usage) = gemini
            .generate_json("You write copy.", "Launch my prints", tags_schema(), 0.7)
            .await
            .unwrap();
        assert_eq!(value["headline"], "Fresh prints");
        assert_eq!(usage.prompt_tokens, 12);
        assert_eq!(usage.output_tokens, 8);
        assert_eq!(usage.attempts, 1);
        let expected = (12.0 * 0.30 + 8.0 * 2.50) / 1_000_000.0;
        assert!(
            (usage.cost_usd - expected).abs() < 1e-12,
            "{}",
            usage.cost_usd
        );

        let sent = &fake.requests()[0];
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
        let config = &sent.body["generationConfig"];
        assert_eq!(config["responseMimeType"], "application/json");
        assert_eq!(config["responseSchema"], tags_schema());
        assert!((config["temperature"].as_f64().unwrap() - 0.7).abs() < 1e-6);
        assert_eq!(
            sent.body["systemInstruction"]["parts"][0]["text"],
            "You write copy."
        );
        assert_eq!(
            sent.body["contents"][0]["parts"][0]["text"],
            "Launch my prints"
        );

        fake.reply(Reply::Text(GOOD_JSON.into()));
        let (copy, _) = gemini
            .generate::<CampaignCopy>("", "again", tags_schema(), 0.2)
            .await
            .unwrap();
        assert_eq!(copy.hashtags, ["#art"]);
        assert!(fake.requests()[1].body.get("systemInstruction").is_none());
        fake.stop().await;
    }

    #[tokio::test]
    async fn the_key_goes_in_the_header_never_the_url_or_errors_or_debug() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.reply(Reply::Text(GOOD_JSON.into()));
        gemini
            .generate_json("", "hi", tags_schema(), 0.0)
            .await
            .unwrap();
        let sent = &fake.requests()[0];
        assert_eq!(sent.api_key.as_deref(), Some(API_KEY));
        assert!(!sent.path.contains(API_KEY) && !sent.query.contains(API_KEY));
        assert!(sent.query.is_empty());

        let debug = format!("{gemini:?} {:?}", gemini.config());
        assert!(!debug.contains(API_KEY), "{debug}");

        // A wrong key: Google's 403, not retried, and the key is in no error text.
        let wrong = GeminiClient::new(GeminiConfig {
            api_key: SecretString::from("wrong-key-123"),
            ..config(&fake)
        })
        .unwrap();
        let before = fake.requests().len();
        let error = wrong
            .generate_json("", "hi", tags_schema(), 0.0)
            .await
            .unwrap_err();
        assert!(
            matches!(error, GeminiError::Rejected { status: 403, .. }),
            "{error:?}"
        );
        assert_eq!(fake.requests().len(), before + 1);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("wrong-key-123"), "{shown}");
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_429_is_retried_after_the_delay_google_asks_for() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.reply(Reply::RateLimited(Duration::from_millis(300)));
        fake.reply(Reply::Text(GOOD_JSON.into()));
        let started = Instant::now();
        let (_, usage) = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap();
        assert_eq!(usage.attempts, 2);
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "waited only {:?}",
            started.elapsed()
        );
        assert_eq!(fake.requests().len(), 2);

        // Asked to wait longer than max_retry_delay: give up at once, saying how long.
        fake.reply(Reply::RateLimited(Duration::from_secs(30)));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        match error {
            GeminiError::RateLimited {
                attempts: 1,
                retry_after: Some(after),
            } => assert_eq!(after, Duration::from_secs(30)),
            other => panic!("{other:?}"),
        }
        assert!(error_is_transient(&fake, &gemini).await);
        fake.stop().await;
    }

    /// 429 on every attempt ends as RateLimited, which callers treat as transient.
    async fn error_is_transient(fake: &FakeGemini, gemini: &GeminiClient) -> bool {
        for _ in 0..3 {
            fake.reply(Reply::Status(429, "Resource has been exhausted"));
        }
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        matches!(error, GeminiError::RateLimited { attempts: 3, .. }) && error.is_transient()
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_the_retries_run_out() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.always(Reply::Status(500, "Internal error encountered."));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        match &error {
            GeminiError::Unavailable { attempts, detail } => {
                assert_eq!(*attempts, 3);
                assert!(detail.contains("Internal error encountered."), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(error.kind(), "unavailable");
        assert_eq!(fake.requests().len(), 3, "1 attempt + max_retries 2");
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_slow_answer_times_out_and_is_retried() {
        let fake = FakeGemini::start().await;
        let gemini = GeminiClient::new(GeminiConfig {
            max_retries: 1,
            ..config(&fake)
        })
        .unwrap();
        fake.always(Reply::Delay(FAST_TIMEOUT * 4, GOOD_JSON.into()));
        let started = Instant::now();
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        assert!(
            matches!(error, GeminiError::Timeout { attempts: 2 }),
            "{error:?}"
        );
        assert!(
            started.elapsed() < FAST_TIMEOUT * 4,
            "{:?}",
            started.elapsed()
        );

        // A timeout then an answer: success on the second attempt.
        fake.always(Reply::Text(GOOD_JSON.into()));
        fake.reply(Reply::Delay(FAST_TIMEOUT * 4, GOOD_JSON.into()));
        let (_, usage) = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap();
        assert_eq!(usage.attempts, 2);
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_400_is_not_retried_and_its_message_is_surfaced() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.reply(Reply::Status(
            400,
            "Invalid JSON payload received. Unknown name \"foo\".",
        ));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        match &error {
            GeminiError::Rejected { status, message } => {
                assert_eq!(*status, 400);
                assert!(message.contains("Unknown name"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!error.is_transient());
        assert_eq!(fake.requests().len(), 1);
        fake.stop().await;
    }

    #[tokio::test]
    async fn malformed_answers_are_errors_not_panics() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        for reply in [
            Reply::Malformed,
            Reply::Text("here are your hashtags: #art".into()),
            Reply::Text(r#"{"headline": 3, "hashtags": []}"#.into()),
            Reply::Text(r#"{"headline": "x"}"#.into()),
            Reply::Text(r#"{"headline": "x", "hashtags": [], "tone": "angry"}"#.into()),
            Reply::Json(json!({"candidates": []})),
            Reply::Json(json!({"candidates": [{"finishReason": "OTHER"}]})),
        ] {
            fake.reply(reply.clone());
            let error = gemini
                .generate_json("", "hi", tags_schema(), 0.2)
                .await
                .unwrap_err();
            assert!(
                matches!(error, GeminiError::Malformed(_)),
                "{reply:?}: {error:?}"
            );
        }
        // Valid JSON that doesn't fit the caller's type.
        fake.reply(Reply::Text(r#"{"headline": "x", "hashtags": [1]}"#.into()));
        let error = gemini
            .generate::<CampaignCopy>("", "hi", json!({"type": "OBJECT"}), 0.2)
            .await
            .unwrap_err();
        assert!(matches!(error, GeminiError::Malformed(_)), "{error:?}");
        assert_eq!(
            fake.requests().len(),
            8,
            "malformed answers are not retried"
        );
        fake.stop().await;
    }

    #[tokio::test]
    async fn blocks_and_cut_answers_are_told_apart() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.reply(Reply::Json(blocked_prompt("SAFETY")));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GeminiError::Blocked { reason, in_prompt: true } if reason == "SAFETY"),
            "{error:?}"
        );
        fake.reply(Reply::Json(finished("SAFETY", "")));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GeminiError::Blocked { reason, in_prompt: false } if reason == "SAFETY"),
            "{error:?}"
        );
        fake.reply(Reply::Json(finished("RECITATION", r#"{"headline": "#)));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GeminiError::Blocked { reason, .. } if reason == "RECITATION"),
            "{error:?}"
        );
        fake.reply(Reply::Json(finished("MAX_TOKENS", r#"{"headline": "Fre"#)));
        let error = gemini
            .generate_json("", "hi", tags_schema(), 0.2)
            .await
            .unwrap_err();
        assert!(matches!(error, GeminiError::Truncated), "{error:?}");
        assert_eq!(fake.requests().len(), 4, "none retried");
        fake.stop().await;
    }

    #[tokio::test]
    async fn image_generation_decodes_the_inline_picture() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.reply(Reply::Image {
            mime_type: "image/png",
            bytes: PNG_1X1.to_vec(),
        });
        let (image, usage) = gemini
            .generate_image("a poster for my print shop", "16:9")
            .await
            .unwrap();
        assert_eq!(image.content_type, "image/png");
        assert_eq!(image.bytes, PNG_1X1);
        assert_eq!(usage.output_tokens, 1290);
        let expected = (9.0 * 0.30 + 1290.0 * 30.0) / 1_000_000.0;
        assert!((usage.cost_usd - expected).abs() < 1e-12);
        let sent = &fake.requests()[0];
        assert_eq!(
            sent.path,
            "/v1beta/models/gemini-2.5-flash-image:generateContent"
        );
        assert_eq!(
            sent.body["generationConfig"]["responseModalities"],
            json!(["IMAGE"])
        );
        assert_eq!(
            sent.body["generationConfig"]["imageConfig"]["aspectRatio"],
            "16:9"
        );

        // Bytes that are not a picture, whatever the label says.
        fake.reply(Reply::Image {
            mime_type: "image/png",
            bytes: b"<html>not a picture</html>".to_vec(),
        });
        let error = gemini.generate_image("x", "1:1").await.unwrap_err();
        assert!(matches!(error, GeminiError::Malformed(_)), "{error:?}");

        // Larger than allowed.
        let small = GeminiClient::new(GeminiConfig {
            max_image_bytes: 1024,
            ..config(&fake)
        })
        .unwrap();
        let mut big = PNG_1X1.to_vec();
        big.resize(64 * 1024, 0);
        fake.reply(Reply::Image {
            mime_type: "image/png",
            bytes: big,
        });
        let error = small.generate_image("x", "1:1").await.unwrap_err();
        assert!(matches!(error, GeminiError::TooLarge { .. }), "{error:?}");

        // A text-only answer (the model declined to draw).
        fake.reply(Reply::Text("I can't draw that.".into()));
        let error = gemini.generate_image("x", "1:1").await.unwrap_err();
        assert!(
            matches!(&error, GeminiError::Malformed(m) if m.contains("I can't draw that")),
            "{error:?}"
        );
        let error = gemini.generate_image("x", "7:3").await.unwrap_err();
        assert!(matches!(error, GeminiError::InvalidRequest(_)), "{error:?}");
        fake.stop().await;
    }

    #[tokio::test]
    async fn veo_runs_as_an_operation_polled_until_done_then_downloaded() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.video(VideoPlan {
            done_after_polls: 2,
            ..VideoPlan::default()
        });
        let options = VideoOptions {
            aspect_ratio: "9:16".into(),
            duration_seconds: 8,
            negative_prompt: Some("text overlays".into()),
        };
        let operation = gemini
            .start_video("a slow pan over handmade mugs", &options)
            .await
            .unwrap();
        assert_eq!(
            operation.name,
            "models/veo-3.0-generate-001/operations/op-1"
        );
        assert!((operation.estimated_cost_usd - 8.0 * 0.40).abs() < 1e-9);
        let sent = &fake.requests()[0];
        assert_eq!(
            sent.path,
            "/v1beta/models/veo-3.0-generate-001:predictLongRunning"
        );
        assert_eq!(
            sent.body,
            json!({
                "instances": [{"prompt": "a slow pan over handmade mugs"}],
                "parameters": {
                    "aspectRatio": "9:16",
                    "durationSeconds": 8,
                    "negativePrompt": "text overlays"
                }
            })
        );

        assert_eq!(
            gemini.poll_video(&operation).await.unwrap(),
            VideoStatus::Running
        );
        let VideoStatus::Done { video_uri } = gemini.poll_video(&operation).await.unwrap() else {
            panic!("done at the second poll");
        };
        let bytes = gemini.fetch_video(&video_uri).await.unwrap();
        assert_eq!(&bytes[..], SAMPLE_VIDEO);
        let requests = fake.requests();
        assert_eq!(requests[1].method, "GET");
        assert_eq!(
            requests[1].path,
            "/v1beta/models/veo-3.0-generate-001/operations/op-1"
        );
        assert!(
            requests
                .iter()
                .all(|r| r.api_key.as_deref() == Some(API_KEY))
        );

        // The same through wait_for_video, with progress reported.
        let operation = gemini.start_video("again", &options).await.unwrap();
        let mut progress = Vec::new();
        let uri = gemini
            .wait_for_video(
                &operation,
                Duration::from_millis(10),
                CancellationToken::new(),
                |p| progress.push(p.polls),
            )
            .await
            .unwrap();
        assert_eq!(progress, [1]);
        assert_eq!(&gemini.fetch_video(&uri).await.unwrap()[..], SAMPLE_VIDEO);

        // Over the size cap.
        let small = GeminiClient::new(GeminiConfig {
            max_video_bytes: 8,
            ..config(&fake)
        })
        .unwrap();
        let error = small.fetch_video(&uri).await.unwrap_err();
        assert!(
            matches!(error, GeminiError::TooLarge { limit: 8 }),
            "{error:?}"
        );
        fake.stop().await;
    }

    #[tokio::test]
    async fn the_key_is_not_sent_to_another_host() {
        let fake = FakeGemini::start().await;
        let elsewhere = FakeGemini::start().await;
        let gemini = client(&fake);
        let error = gemini
            .fetch_video(&format!(
                "{}v1beta/files/x:download?alt=media",
                elsewhere.base
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(error, GeminiError::Rejected { status: 403, .. }),
            "{error:?}"
        );
        let sent = elsewhere.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].api_key, None);
        elsewhere.stop().await;
        fake.stop().await;
    }

    #[tokio::test]
    async fn veo_errors_and_filtered_videos_are_failures() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.video(VideoPlan {
            done_after_polls: 1,
            outcome: VideoOutcome::Error {
                code: 3,
                message: "The prompt could not be processed.".into(),
            },
            ..VideoPlan::default()
        });
        let operation = gemini
            .start_video("x", &VideoOptions::default())
            .await
            .unwrap();
        let error = gemini
            .wait_for_video(
                &operation,
                Duration::from_millis(10),
                CancellationToken::new(),
                |_| {},
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GeminiError::VideoFailed(m) if m.contains("could not be processed")),
            "{error:?}"
        );

        fake.video(VideoPlan {
            outcome: VideoOutcome::Filtered("Audio generation failed.".into()),
            ..VideoPlan::default()
        });
        let operation = gemini
            .start_video("x", &VideoOptions::default())
            .await
            .unwrap();
        let status = gemini.poll_video(&operation).await.unwrap();
        assert!(
            matches!(&status, VideoStatus::Failed(m) if m.contains("Audio generation failed")),
            "{status:?}"
        );

        // Names that would leave the operations path are refused before any request.
        let requests = fake.requests().len();
        for name in [
            "../files/x",
            "models/x/operations/../../y",
            "https://evil/op",
        ] {
            let forged = VideoOperation {
                name: name.into(),
                ..operation.clone()
            };
            assert!(matches!(
                gemini.poll_video(&forged).await,
                Err(GeminiError::InvalidRequest(_))
            ));
        }
        assert_eq!(fake.requests().len(), requests);
        let error = gemini
            .start_video(
                "x",
                &VideoOptions {
                    duration_seconds: 60,
                    ..VideoOptions::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(error, GeminiError::InvalidRequest(_)));
        fake.stop().await;
    }

    #[tokio::test]
    async fn cancelling_while_polling_returns_promptly() {
        let fake = FakeGemini::start().await;
        let gemini = client(&fake);
        fake.video(VideoPlan {
            done_after_polls: u32::MAX,
            ..VideoPlan::default()
        });
        let operation = gemini
            .start_video("x", &VideoOptions::default())
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let canceller = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            canceller.cancel();
        });
        let started = Instant::now();
        let error = gemini
            .wait_for_video(&operation, Duration::from_secs(30), cancel, |_| {})
            .await
            .unwrap_err();
        assert!(matches!(error, GeminiError::Cancelled), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );

        // Also in the middle of a slow poll.
        fake.video(VideoPlan {
            done_after_polls: u32::MAX,
            poll_delay: Duration::from_secs(5),
            ..VideoPlan::default()
        });
        let operation = gemini
            .start_video("x", &VideoOptions::default())
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let canceller = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            canceller.cancel();
        });
        let started = Instant::now();
        let slow = GeminiClient::new(GeminiConfig {
            timeout: Duration::from_secs(10),
            ..config(&fake)
        })
        .unwrap();
        let error = slow
            .wait_for_video(&operation, Duration::from_millis(10), cancel, |_| {})
            .await
            .unwrap_err();
        assert!(matches!(error, GeminiError::Cancelled), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        fake.stop().await;
    }

    #[tokio::test]
    async fn waiting_gives_up_at_the_configured_limit() {
        let fake = FakeGemini::start().await;
        let gemini = GeminiClient::new(GeminiConfig {
            video_wait_limit: Duration::from_millis(200),
            ..config(&fake)
        })
        .unwrap();
        fake.video(VideoPlan {
            done_after_polls: u32::MAX,
            ..VideoPlan::default()
        });
        let operation = gemini
            .start_video("x", &VideoOptions::default())
            .await
            .unwrap();
        let mut polls = 0;
        let error = gemini
            .wait_for_video(
                &operation,
                Duration::from_millis(20),
                CancellationToken::new(),
                |p| polls = p.polls,
            )
            .await
            .unwrap_err();
        assert!(matches!(error, GeminiError::VideoTimedOut(_)), "{error:?}");
        assert!(polls >= 2, "{polls}");
        fake.stop().await;
    }

    #[test]
    fn retry_hints_and_origins_parse() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&headers), None);
        assert_eq!(
            parse_proto_duration("0.250s"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_proto_duration("-1s"), None);
        assert_eq!(parse_proto_duration("13"), None);

        let base = Url::parse("https://generativelanguage.googleapis.com/").unwrap();
        let download =
            Url::parse("https://generativelanguage.googleapis.com/v1beta/files/a:download")
                .unwrap();
        let storage = Url::parse("https://storage.googleapis.com/signed?sig=1").unwrap();
        assert!(same_origin(&download, &base));
        assert!(!same_origin(&storage, &base));
        assert!(!same_origin(
            &Url::parse("http://generativelanguage.googleapis.com/").unwrap(),
            &base
        ));
    }

    #[test]
    fn bad_configuration_is_refused() {
        marquee_platform::install_crypto_provider();
        let key = || SecretString::from(API_KEY);
        let with = |change: fn(&mut GeminiConfig)| {
            let mut config = GeminiConfig::new(key());
            change(&mut config);
            GeminiClient::new(config)
        };
        assert!(with(|_| {}).is_ok());
        assert!(matches!(
            with(|c| c.base_url = "https://generativelanguage.googleapis.com".into()),
            Err(GeminiError::Config(_))
        ));
        assert!(matches!(
            with(|c| c.text_model = "../files".into()),
            Err(GeminiError::Config(_))
        ));
        assert!(matches!(
            with(|c| c.api_key = SecretString::from("bad\nkey")),
            Err(GeminiError::Config(_))
        ));
        assert!(matches!(
            with(|c| c.api_key = SecretString::from(" ")),
            Err(GeminiError::Config(_))
        ));
    }

    #[test]
    fn the_schema_check_follows_types_required_and_enums() {
        let schema = tags_schema();
        assert!(conforms(&serde_json::from_str(GOOD_JSON).unwrap(), &schema, "$").is_ok());
        assert!(conforms(&json!([]), &schema, "$").is_err());
        assert!(
            conforms(
                &json!({"headline": "x", "hashtags": ["a", 2]}),
                &schema,
                "$"
            )
            .is_err()
        );
        let nullable = json!({"type": "STRING", "nullable": true});
        assert!(conforms(&Value::Null, &nullable, "$").is_ok());
        assert!(conforms(&json!(1.5), &json!({"type": "integer"}), "$").is_err());
        assert!(conforms(&json!(2), &json!({"type": "INTEGER"}), "$").is_ok());
    }
}
