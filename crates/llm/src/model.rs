//! [`LocalModel`]: the handle callers use.

use crate::engine;
use crate::error::{LlmError, Result};
use crate::options::{LoadOptions, ModelInfo};
use crate::queue::{self, ProgressFn, Queue};
use crate::request::{GenerateRequest, Generation, Progress};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A loaded model and the thread that runs it.
///
/// Cheap to clone (all clones share one model, one thread and one queue), `Send` and
/// `Sync`. Generation runs on a dedicated OS thread, one request at a time; the others
/// wait in a bounded queue. The thread ends, and the model's memory is freed, when the
/// last clone is dropped (after the request it is running, if any).
#[derive(Clone)]
pub struct LocalModel {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Queue,
    info: ModelInfo,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("info", &self.inner.info)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads a GGUF model and starts its generation thread. Blocks while loading (well
    /// under a second for a small model); from async code prefer [`load_async`](Self::load_async).
    ///
    /// # Errors
    /// [`LlmError::ModelNotFound`] when the file is missing, [`LlmError::NotGguf`] when it
    /// is not a GGUF file, [`LlmError::Load`] when llama.cpp refuses it,
    /// [`LlmError::InvalidOptions`] for unusable options.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let queue = Self::start(path, options, move |ready| {
            let _ = sender.send(ready);
        })?;
        let info = receiver.recv().map_err(|_| LlmError::WorkerStopped)??;
        Ok(Self::from_parts(queue, info))
    }

    /// [`load`](Self::load) without blocking the async runtime: the model is loaded on
    /// its own generation thread and this awaits the outcome.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub async fn load_async(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let queue = Self::start(path.as_ref(), options, move |ready| {
            let _ = sender.send(ready);
        })?;
        let info = receiver.await.map_err(|_| LlmError::WorkerStopped)??;
        Ok(Self::from_parts(queue, info))
    }

    fn start(
        path: &Path,
        options: &LoadOptions,
        ready: impl FnOnce(Result<ModelInfo>) + Send + 'static,
    ) -> Result<Queue> {
        options.validate()?;
        engine::check_model_file(path)?;
        let (queue, worker) = queue::channel(options.queue_capacity);
        engine::spawn(path.to_owned(), options.clone(), worker, ready)?;
        Ok(queue)
    }

    fn from_parts(queue: Queue, info: ModelInfo) -> Self {
        Self {
            inner: Arc::new(Inner { queue, info }),
        }
    }

    /// Generates a continuation of `request.prompt`.
    ///
    /// Waits in the queue behind earlier requests, then runs on the model's thread.
    /// Cancelling `cancel` (or dropping the returned future) takes a waiting request out
    /// of the queue, or stops a running one before its next token; the text generated
    /// until then comes back with [`StopReason::Cancelled`](crate::StopReason::Cancelled).
    ///
    /// # Errors
    /// [`LlmError::Busy`] at once when the queue is full; [`LlmError::InvalidRequest`],
    /// [`LlmError::InvalidGrammar`] or [`LlmError::PromptTooLong`] for a request that
    /// cannot run; [`LlmError::Inference`] when llama.cpp fails.
    pub async fn generate(
        &self,
        request: GenerateRequest,
        cancel: CancellationToken,
    ) -> Result<Generation> {
        self.submit(request, cancel, None)?.wait().await
    }

    /// [`generate`](Self::generate), calling `on_progress` after every generated token
    /// (for progress bars, or to stream the text). The callback runs on the generation
    /// thread between tokens: keep it quick and non-blocking (store a number, send on
    /// a channel with `try_send`, update a `watch`).
    ///
    /// # Errors
    /// As [`generate`](Self::generate).
    pub async fn generate_with_progress(
        &self,
        request: GenerateRequest,
        cancel: CancellationToken,
        on_progress: impl FnMut(Progress<'_>) + Send + 'static,
    ) -> Result<Generation> {
        let callback: ProgressFn = Box::new(on_progress);
        self.submit(request, cancel, Some(callback))?.wait().await
    }

    fn submit(
        &self,
        request: GenerateRequest,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> Result<queue::Pending> {
        request.validate()?;
        self.inner.queue.submit(request, cancel, progress)
    }

    /// What was loaded.
    #[must_use]
    pub fn info(&self) -> &ModelInfo {
        &self.inner.info
    }

    /// Requests waiting behind the running one.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.inner.queue.waiting()
    }
}

/// Where `make models` puts the default model: `$MARQUEE_MODELS_DIR` (else `./models`)
/// joined with [`DEFAULT_MODEL_FILE`](crate::DEFAULT_MODEL_FILE).
#[must_use]
pub fn default_model_path() -> PathBuf {
    let dir = std::env::var_os("MARQUEE_MODELS_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from("models"), PathBuf::from);
    dir.join(crate::DEFAULT_MODEL_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn handle_is_send_sync_and_cheap_to_clone() {
        assert_send_sync::<LocalModel>();
    }

    #[test]
    fn missing_and_non_gguf_files_are_clear_errors() {
        let options = LoadOptions::default();
        let error = LocalModel::load(Path::new("/nonexistent/model.gguf"), &options).unwrap_err();
        assert!(matches!(error, LlmError::ModelNotFound { .. }), "{error}");
        assert!(error.to_string().contains("make models"), "{error}");

        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("model.gguf");
        std::fs::write(&text, b"this is not a model").unwrap();
        let error = LocalModel::load(&text, &options).unwrap_err();
        assert!(matches!(error, LlmError::NotGguf { .. }), "{error}");
        let empty = dir.path().join("empty.gguf");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            LocalModel::load(&empty, &options),
            Err(LlmError::NotGguf { .. })
        ));
        assert!(matches!(
            LocalModel::load(dir.path(), &options),
            Err(LlmError::NotGguf { .. })
        ));
    }

    #[test]
    fn a_truncated_gguf_is_a_load_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.gguf");
        // The magic, version 3, then garbage counts.
        let mut bytes = b"GGUF".to_vec();
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&[0xFF; 32]);
        std::fs::write(&path, bytes).unwrap();
        let error = LocalModel::load(&path, &LoadOptions::default()).unwrap_err();
        assert!(matches!(error, LlmError::Load { .. }), "{error}");
    }

    #[test]
    fn default_path_ends_with_the_model_file() {
        assert!(default_model_path().ends_with(crate::DEFAULT_MODEL_FILE));
    }
}
