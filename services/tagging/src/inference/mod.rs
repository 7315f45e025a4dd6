//! Local inference with ONNX Runtime (`ort`, loaded at run time from the models directory
//! that `make models` fills — nothing is downloaded):
//!
//! - sentence embeddings with all-MiniLM-L6-v2, equal to sentence-transformers'
//!   `encode(normalize_embeddings=True)` ([`TextEmbedder`]);
//! - ImageNet labels with EfficientNet-Lite0 ([`ImageClassifier`], optional).
//!
//! Each model lives on one dedicated OS thread (never on the async runtime); callers send
//! jobs over a channel and await a `oneshot`. Under load the thread batches the jobs
//! waiting in its queue together: texts sorted by token count, at most `max_batch` a run,
//! each run padded only to its longest (and a long text does not make short ones pad: it
//! gets a run of its own when that is cheaper).
//!
//! ```text
//! $MARQUEE_MODELS_DIR/
//!   onnxruntime/VERSION, libonnxruntime.so.1.31.<x>
//!   all-MiniLM-L6-v2/model.onnx, tokenizer.json
//!   efficientnet-lite0/model.onnx, labels.txt, preprocess.json
//! ```

mod error;
mod queue;
mod runtime;
mod text;
mod vision;

use std::path::{Path, PathBuf};

pub use self::error::InferenceError;
pub use self::text::{TEXT_MODEL_DIR, TextEmbedder};
pub use self::vision::{IMAGE_MODEL_DIR, ImageClassifier, ImageLabel};

/// Width of the sentence embeddings.
pub const EMBEDDING_DIM: usize = 384;

/// The ONNX Runtime directory under the models directory.
pub const RUNTIME_DIR: &str = "onnxruntime";

/// How the models run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferenceOptions {
    /// ONNX Runtime intra-op threads of each model.
    pub intra_threads: usize,
    /// Inputs in one model run at most.
    pub max_batch: usize,
    /// Tokens per text at most, special tokens included (longer texts are truncated, as
    /// sentence-transformers does at 256).
    pub max_tokens: usize,
    /// Let ONNX Runtime's idle intra-op threads spin before sleeping: a little faster
    /// alone, but burns the CPU the rest of the service needs; off by default.
    pub allow_spinning: bool,
}

impl Default for InferenceOptions {
    fn default() -> Self {
        Self {
            intra_threads: 2,
            max_batch: 32,
            max_tokens: 256,
            allow_spinning: false,
        }
    }
}

/// The loaded models.
#[derive(Debug, Clone)]
pub struct Models {
    pub text: TextEmbedder,
    /// `None` when the EfficientNet files are absent (a warning is logged).
    pub image: Option<ImageClassifier>,
    /// The ONNX Runtime version in use, e.g. `1.31.1`.
    pub onnxruntime_version: String,
}

impl Models {
    /// Loads ONNX Runtime from `dir/onnxruntime` (the versioned library named by its
    /// `VERSION`; only 1.31.x is accepted) and the models, each on its own thread. A
    /// missing file is named in the error with the advice to run `make models`; missing
    /// image-model files only turn image labels off.
    pub fn load(dir: &Path, options: &InferenceOptions) -> Result<Models, InferenceError> {
        if !dir.is_dir() {
            return Err(InferenceError::MissingFile {
                what: "models directory",
                path: dir.to_path_buf(),
            });
        }
        let runtime = runtime::load(&dir.join(RUNTIME_DIR))?;
        let text = TextEmbedder::load(&runtime, &dir.join(TEXT_MODEL_DIR), options)?;
        let image = match ImageClassifier::load(&runtime, &dir.join(IMAGE_MODEL_DIR), options) {
            Ok(classifier) => Some(classifier),
            Err(error) if error.is_missing() => {
                tracing::warn!(%error, "image model missing: image labels are off");
                None
            }
            Err(error) => return Err(error),
        };
        Ok(Models {
            text,
            image,
            onnxruntime_version: runtime.version,
        })
    }
}

/// `dir/name`, or the error naming it.
fn require_file(dir: &Path, name: &str, what: &'static str) -> Result<PathBuf, InferenceError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(InferenceError::MissingFile { what, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_models_directory_is_reported() {
        let error = Models::load(
            Path::new("/nonexistent/marquee-models"),
            &InferenceOptions::default(),
        )
        .unwrap_err();
        assert!(error.is_missing());
        let message = error.to_string();
        assert!(message.contains("/nonexistent/marquee-models"), "{message}");
        assert!(message.contains("run `make models`"), "{message}");
    }

    #[test]
    fn a_missing_model_file_is_named() {
        let dir = std::env::temp_dir();
        let error = require_file(&dir, "surely-not-here.onnx", "MiniLM ONNX model").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("MiniLM ONNX model"), "{message}");
        assert!(message.contains("surely-not-here.onnx"), "{message}");
    }
}
