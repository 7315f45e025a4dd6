//! How a model is loaded, and what was loaded.

use crate::error::{LlmError, Result};
use std::path::PathBuf;
use std::time::Duration;

/// The file name `make models` gives the default generation model (Gemma 3 270M base,
/// Q4_K_M), inside `MARQUEE_MODELS_DIR`.
pub const DEFAULT_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// How to load a model. `LoadOptions::default()` suits a small model on a small machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// CPU threads llama.cpp uses for one generation; 0 = the available cores, at most 4.
    pub threads: usize,
    /// Context window in tokens: prompt plus generated tokens must fit in it.
    pub context_size: u32,
    /// Prompt tokens evaluated per step. Cancellation is checked between steps, so a
    /// smaller batch stops sooner while reading a long prompt, a larger one reads a bit
    /// faster.
    pub batch_size: u32,
    /// Requests that may wait behind the running one; more are refused with
    /// [`LlmError::Busy`].
    pub queue_capacity: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            context_size: 2048,
            batch_size: 128,
            queue_capacity: 16,
        }
    }
}

impl LoadOptions {
    /// The thread count to use: `threads`, or the available cores (at most 4) for 0.
    #[must_use]
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(LlmError::InvalidOptions(what));
        if self.threads > 256 {
            return bad(format!("threads {} is too many", self.threads));
        }
        if !(16..=1 << 20).contains(&self.context_size) {
            return bad(format!(
                "context_size {} is not within 16–1048576",
                self.context_size
            ));
        }
        if self.batch_size == 0 || self.batch_size > self.context_size {
            return bad(format!(
                "batch_size {} must be within 1–context_size ({})",
                self.batch_size, self.context_size
            ));
        }
        if self.queue_capacity > 1 << 16 {
            return bad(format!(
                "queue_capacity {} is too large",
                self.queue_capacity
            ));
        }
        Ok(())
    }
}

/// What was loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// `general.name` from the GGUF metadata, when present.
    pub name: Option<String>,
    /// Parameters in the model.
    pub parameters: u64,
    /// Size of the weights in bytes.
    pub size_bytes: u64,
    /// Tokens in the vocabulary.
    pub vocab_size: u32,
    /// The context window in use (prompt plus generated tokens).
    pub context_size: u32,
    /// The context length the model was trained with.
    pub trained_context_size: u32,
    pub threads: usize,
    /// How long loading took.
    pub load_time: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        let options = LoadOptions::default();
        assert!(options.validate().is_ok());
        assert!((1..=4).contains(&options.effective_threads()));
        assert_eq!(
            LoadOptions {
                threads: 3,
                ..options.clone()
            }
            .effective_threads(),
            3
        );
        for bad in [
            LoadOptions {
                context_size: 0,
                ..options.clone()
            },
            LoadOptions {
                batch_size: 0,
                ..options.clone()
            },
            LoadOptions {
                batch_size: 4096,
                ..options.clone()
            },
            LoadOptions {
                threads: 10_000,
                ..options.clone()
            },
        ] {
            assert_eq!(bad.validate().unwrap_err().code(), "invalid_options");
        }
    }
}
