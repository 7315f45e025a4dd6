//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong loading a model or generating text.
///
/// The caller's faults (a bad request, a prompt too long, a full queue) are apart from
/// the engine's own; [`LlmError::code`] gives a stable label for logs and metrics.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The model file does not exist (run `make models`).
    #[error("model file {path} not found (run `make models`)")]
    ModelNotFound { path: PathBuf },
    /// The file exists but is not a GGUF model.
    #[error("{path} is not a GGUF model file")]
    NotGguf { path: PathBuf },
    /// The file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// llama.cpp refused the model or could not set up its context.
    #[error("cannot load model {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    /// The load options are unusable.
    #[error("invalid load options: {0}")]
    InvalidOptions(String),
    /// The request is unusable (empty prompt, `max_tokens` 0, sampling out of range…).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The GBNF grammar does not parse.
    #[error("invalid grammar: {0}")]
    InvalidGrammar(String),
    /// The prompt and the tokens to generate do not fit in the context window.
    #[error(
        "prompt too long: {prompt_tokens} prompt tokens + {max_tokens} to generate exceed the \
         context of {context_size} tokens"
    )]
    PromptTooLong {
        /// Tokens in the prompt (an estimate when a huge prompt was refused unread).
        prompt_tokens: u32,
        max_tokens: u32,
        context_size: u32,
    },
    /// The queue of waiting requests is full; try again later.
    #[error("the text generation queue is full ({capacity} requests waiting)")]
    Busy { capacity: usize },
    /// The generation thread is gone (it stopped after an internal failure).
    #[error("the text generation thread has stopped")]
    WorkerStopped,
    /// llama.cpp failed while generating.
    #[error("text generation failed: {0}")]
    Inference(String),
}

impl LlmError {
    /// A stable, lower-case code for logs and metric labels.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::ModelNotFound { .. } => "model_not_found",
            Self::NotGguf { .. } => "not_gguf",
            Self::Io { .. } => "io",
            Self::Load { .. } => "load",
            Self::InvalidOptions(_) => "invalid_options",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidGrammar(_) => "invalid_grammar",
            Self::PromptTooLong { .. } => "prompt_too_long",
            Self::Busy { .. } => "busy",
            Self::WorkerStopped => "worker_stopped",
            Self::Inference(_) => "inference",
        }
    }

    /// True when the request itself is at fault (retrying it unchanged cannot help).
    #[must_use]
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest(_) | Self::InvalidGrammar(_) | Self::PromptTooLong { .. }
        )
    }
}

/// `Result` with [`LlmError`].
pub type Result<T, E = LlmError> = std::result::Result<T, E>;
