//! Local text generation: a GGUF model run by llama.cpp (through `llama-cpp-2`), no API
//! key, no network.
//!
//! The model (Gemma 3 270M base, Q4_K_M, by default) is loaded once into a
//! [`LocalModel`], which owns one dedicated OS thread: inference is CPU-bound and slows
//! down badly when anything else shares the cores, so requests run there one at a time
//! and the rest wait in a bounded queue (a full queue answers [`LlmError::Busy`] at once).
//! Callers `await` the result; cancelling stops a request promptly, whether it waits or
//! runs.
//!
//! ```no_run
//! use marquee_llm::{GenerateRequest, LoadOptions, LocalModel, default_model_path};
//! use tokio_util::sync::CancellationToken;
//!
//! # async fn demo() -> Result<(), marquee_llm::LlmError> {
//! let model = LocalModel::load_async(default_model_path(), &LoadOptions::default()).await?;
//! // A base model: show it examples, then stop where the next one would begin.
//! let prompt = "Product: trail shoes\nTagline: Grip every mile.\n\n\
//!               Product: ceramic mug\nTagline:";
//! let request = GenerateRequest::new(prompt).max_tokens(40).stop("\n");
//! let generation = model.generate(request, CancellationToken::new()).await?;
//! println!("{} ({:?})", generation.text.trim(), generation.stopped);
//! # Ok(()) }
//! ```
//!
//! llama.cpp's own log lines go to `tracing` under the target `llama-cpp-2` (it is chatty
//! at `info` while loading: filter it with e.g. `RUST_LOG=info,llama-cpp-2=warn`); each
//! generation logs its token counts and speeds at `debug`.
//!
//! Threads: with more than one thread llama.cpp's workers meet at a barrier after every
//! operation, and by default OpenMP makes them spin there for a long while. On cores
//! shared with other busy work a descheduled worker stalls the others: on 2 cores,
//! 2 threads make 44 tokens/s idle but fell to 0.5–6 under load. `GOMP_SPINCOUNT=2000` in
//! the process environment (libgomp reads it at start-up; it cannot be set from inside)
//! kept 16–17 under load and the same 44 idle; `threads: 1` makes 25 idle or loaded
//! (prompts at 210 instead of 400 tokens/s); `OMP_WAIT_POLICY=passive` costs a third of
//! the idle speed. The model's load event logs the setting in force.

mod engine;
mod error;
mod model;
mod options;
mod queue;
mod request;
mod text;

pub use error::{LlmError, Result};
pub use model::{LocalModel, default_model_path};
pub use options::{DEFAULT_MODEL_FILE, LoadOptions, ModelInfo};
pub use request::{GenerateRequest, Generation, Progress, Sampling, StopReason};
