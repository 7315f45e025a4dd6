//! The one error type of local inference.
//!
//! Cheap to clone (sources behind `Arc`): one failed batch answers every caller whose
//! inputs were in it.

use std::path::PathBuf;
use std::sync::Arc;

/// What can go wrong loading or running the local models.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InferenceError {
    /// A file of the models directory is absent.
    #[error("missing {what}: {} does not exist; run `make models`", path.display())]
    MissingFile { what: &'static str, path: PathBuf },

    /// The ONNX Runtime found is not the one this build of `ort` is made for.
    #[error(
        "ONNX Runtime {found} in {} is not supported (this build needs {expected}); run `make models`",
        path.display()
    )]
    UnsupportedRuntime {
        found: String,
        expected: &'static str,
        path: PathBuf,
    },

    /// The ONNX Runtime library could not be loaded.
    #[error("could not load ONNX Runtime from {}: {message}; run `make models`", path.display())]
    LoadRuntime { path: PathBuf, message: String },

    /// A file could not be read.
    #[error("could not read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A model, label or configuration file is not what the code expects.
    #[error("invalid model files: {0}")]
    InvalidModel(String),

    /// ONNX Runtime failed.
    #[error("ONNX Runtime: {0}")]
    Runtime(#[source] Arc<ort::Error>),

    /// The tokenizer failed (loading or encoding).
    #[error("tokenizer: {0}")]
    Tokenizer(#[source] Arc<dyn std::error::Error + Send + Sync>),

    /// The caller's input cannot be used.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The model's thread could not be started.
    #[error("could not start the {name} inference thread: {source}")]
    Spawn {
        name: &'static str,
        #[source]
        source: Arc<std::io::Error>,
    },

    /// The model's thread has stopped (it panicked or the process is shutting down).
    #[error("the {0} inference thread has stopped")]
    Stopped(&'static str),
}

impl From<ort::Error> for InferenceError {
    fn from(error: ort::Error) -> Self {
        Self::Runtime(Arc::new(error))
    }
}

impl From<ort::Error<ort::session::builder::SessionBuilder>> for InferenceError {
    fn from(error: ort::Error<ort::session::builder::SessionBuilder>) -> Self {
        Self::Runtime(Arc::new(ort::Error::from(error)))
    }
}

impl From<tokenizers::Error> for InferenceError {
    fn from(error: tokenizers::Error) -> Self {
        Self::Tokenizer(Arc::from(error))
    }
}

impl InferenceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            // Callers check for the files they need first; this is the race where one
            // vanished in between, said the same way.
            return Self::MissingFile { what: "file", path };
        }
        Self::Io {
            path,
            source: Arc::new(source),
        }
    }

    /// Whether this error means "the files are not there" rather than "they are broken".
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::MissingFile { .. })
    }
}
