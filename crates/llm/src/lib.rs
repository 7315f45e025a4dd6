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
//! operation, and by default (OpenMP's active wait policy) they spin there. On cores
//! shared with other busy work a descheduled worker stalls the others: measured on 2
//! cores under load, 2 threads fell from ~38 to 2–6 tokens/s, while 1 thread or
//! `OMP_WAIT_POLICY=passive` in the process environment (read by libgomp at start-up; it
//! cannot be set from inside) kept 15–24. Where the cores are shared, set that variable
//! or use `threads: 1`.

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
