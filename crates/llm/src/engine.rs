//! llama.cpp behind the queue: loading a GGUF model on the generation thread and running
//! one request at a time with it.

use crate::error::{LlmError, Result};
use crate::options::{LoadOptions, ModelInfo};
use crate::queue::{Control, Runner, Worker};
use crate::request::{GenerateRequest, Generation, Progress, Sampling, StopReason};
use crate::text::{Scan, StopMatcher, Utf8Stream};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::io::Read;
use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Tokens the repeat penalty looks back over.
const REPEAT_LAST_N: i32 = 64;

/// A prompt longer than this many bytes per token of context cannot fit (real text
/// averages about 4 bytes a token) and is refused without tokenising it.
const MAX_PROMPT_BYTES_PER_TOKEN: usize = 64;

/// llama.cpp's process-wide state: it can be initialised once per process, and is kept
/// for the life of the process (every model shares it).
fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp's own logging goes to `tracing` (target `llama-cpp-2`), not stderr.
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| LlmError::Load {
            path: PathBuf::new(),
            reason: format!("llama.cpp backend: {reason}"),
        })
}

/// Checks the file is there and starts like a GGUF file, so a wrong path gives a clear
/// error instead of whatever llama.cpp would say.
pub(crate) fn check_model_file(path: &Path) -> Result<()> {
    let io = |source| LlmError::Io {
        path: path.to_owned(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LlmError::ModelNotFound {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    if !metadata.is_file() {
        return Err(LlmError::NotGguf {
            path: path.to_owned(),
        });
    }
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(io)?;
    match file.read_exact(&mut magic) {
        Ok(()) if &magic == b"GGUF" => Ok(()),
        Ok(()) => Err(LlmError::NotGguf {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(LlmError::NotGguf {
            path: path.to_owned(),
        }),
        Err(e) => Err(io(e)),
    }
}

/// Starts the generation thread: it loads the model, reports through `ready`, then
/// serves `worker` until the queue closes. Returns once the thread is started.
pub(crate) fn spawn(
    path: PathBuf,
    options: LoadOptions,
    worker: Worker,
    ready: impl FnOnce(Result<ModelInfo>) + Send + 'static,
) -> Result<()> {
    std::thread::Builder::new()
        .name("marquee-llm".into())
        .spawn(move || {
            let mut ready = Some(ready);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                load_and_serve(&path, &options, worker, &mut ready)
            }));
            if let Err(panic) = outcome {
                let reason = format!(
                    "internal error: {}",
                    crate::queue::panic_message(panic.as_ref())
                );
                tracing::error!(%reason, "text generation thread panicked");
                if let Some(ready) = ready.take() {
                    ready(Err(LlmError::Load { path, reason }));
                }
            }
        })
        .map(drop)
        .map_err(|e| LlmError::Load {
            path: PathBuf::new(),
            reason: format!("cannot start the generation thread: {e}"),
        })
}

/// The generation thread's body. `ready` is taken when the outcome of loading is known.
fn load_and_serve<F: FnOnce(Result<ModelInfo>)>(
    path: &Path,
    options: &LoadOptions,
    worker: Worker,
    ready: &mut Option<F>,
) {
    let mut report = |outcome: Result<ModelInfo>| {
        if let Some(ready) = ready.take() {
            ready(outcome);
        }
    };
    let started = Instant::now();
    let backend = match backend() {
        Ok(backend) => backend,
        Err(e) => return report(Err(e)),
    };
    let load_error = |reason: String| LlmError::Load {
        path: path.to_owned(),
        reason,
    };
    let model = match LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()) {
        Ok(model) => model,
        Err(e) => return report(Err(load_error(e.to_string()))),
    };
    let trained = model.n_ctx_train();
    if options.context_size > trained {
        return report(Err(LlmError::InvalidOptions(format!(
            "context_size {} exceeds the {trained} tokens the model was trained with",
            options.context_size
        ))));
    }
    let threads = options.effective_threads();
    let threads_i32 = i32::try_from(threads).unwrap_or(i32::MAX);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(options.context_size))
        .with_n_batch(options.batch_size)
        .with_n_ubatch(options.batch_size)
        .with_n_threads(threads_i32)
        .with_n_threads_batch(threads_i32);
    let context = match model.new_context(backend, params) {
        Ok(context) => context,
        Err(e) => return report(Err(load_error(format!("context: {e}")))),
    };
    let mut engine = Engine::new(&model, context, options);
    let info = ModelInfo {
        path: path.to_owned(),
        name: model.meta_val_str("general.name").ok(),
        parameters: model.n_params(),
        size_bytes: model.size(),
        vocab_size: u32::try_from(model.n_vocab()).unwrap_or(0),
        context_size: options.context_size,
        trained_context_size: trained,
        threads,
        load_time: started.elapsed(),
    };
    tracing::info!(
        path = %info.path.display(),
        name = info.name.as_deref().unwrap_or("?"),
        parameters = info.parameters,
        threads,
        context_size = info.context_size,
        load_ms = u64::try_from(info.load_time.as_millis()).unwrap_or(u64::MAX),
        // Long spinning (the default) is fast on idle cores, ruinous on shared ones (crate docs).
        gomp_spincount = std::env::var("GOMP_SPINCOUNT").as_deref().unwrap_or("unset"),
        omp_wait_policy = std::env::var("OMP_WAIT_POLICY").as_deref().unwrap_or("unset"),
        "local text model loaded"
    );
    report(Ok(info));
    worker.serve(&mut engine);
}

/// One model and its context, used by one thread.
struct Engine<'m> {
    model: &'m LlamaModel,
    context: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    context_size: u32,
    batch_size: usize,
}

impl<'m> Engine<'m> {
    fn new(model: &'m LlamaModel, context: LlamaContext<'m>, options: &LoadOptions) -> Self {
        let batch_size = options.batch_size as usize;
        Self {
            model,
            context,
            batch: LlamaBatch::new(batch_size, 1),
            context_size: options.context_size,
            batch_size,
        }
    }

    fn tokenize(&self, request: &GenerateRequest) -> Result<Vec<LlamaToken>> {
        let too_long = |prompt_tokens: usize| LlmError::PromptTooLong {
            prompt_tokens: u32::try_from(prompt_tokens).unwrap_or(u32::MAX),
            max_tokens: request.max_tokens,
            context_size: self.context_size,
        };
        if request.prompt.len() > self.context_size as usize * MAX_PROMPT_BYTES_PER_TOKEN {
            return Err(too_long(request.prompt.len() / MAX_PROMPT_BYTES_PER_TOKEN));
        }
        // Control-token text in the prompt is plain text unless asked otherwise.
        let tokens =
            self.model
                .vocab()
                .tokenize(request.prompt.as_bytes(), true, request.special_tokens);
        if tokens.is_empty() {
            return Err(LlmError::InvalidRequest("the prompt has no tokens".into()));
        }
        if tokens.len() + request.max_tokens as usize > self.context_size as usize {
            return Err(too_long(tokens.len()));
        }
        Ok(tokens)
    }

    fn sampler(&self, sampling: &Sampling, grammar: Option<&str>) -> Result<LlamaSampler> {
        let mut chain = Vec::new();
        if sampling.repeat_penalty != 1.0 {
            chain.push(LlamaSampler::penalties(
                self.model.n_vocab(),
                REPEAT_LAST_N,
                sampling.repeat_penalty,
                0.0,
                0.0,
            ));
        }
        if let Some(grammar) = grammar {
            let sampler = LlamaSampler::grammar(self.model, grammar, "root")
                .map_err(|e| LlmError::InvalidGrammar(e.to_string()))?;
            chain.push(sampler);
        }
        if sampling.temperature <= 0.0 {
            chain.push(LlamaSampler::greedy());
        } else {
            if sampling.top_k > 0 {
                chain.push(LlamaSampler::top_k(
                    i32::try_from(sampling.top_k).unwrap_or(i32::MAX),
                ));
            }
            if sampling.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(sampling.top_p, 1));
            }
            chain.push(LlamaSampler::temp(sampling.temperature));
            // u32::MAX is llama.cpp's "pick a random seed".
            chain.push(LlamaSampler::dist(sampling.seed.unwrap_or(u32::MAX)));
        }
        Ok(LlamaSampler::chain_simple(chain))
    }

    /// Evaluates `tokens` at positions `start..`, `batch_size` at a time, asking for
    /// the logits of the last one. False when stopped (cancelled) part-way.
    fn evaluate(
        &mut self,
        tokens: &[LlamaToken],
        start: usize,
        control: &Control<'_>,
    ) -> Result<bool> {
        for (index, chunk) in tokens.chunks(self.batch_size).enumerate() {
            if index > 0 && control.should_stop() {
                return Ok(false);
            }
            self.batch.clear();
            let first = start + index * self.batch_size;
            for (offset, token) in chunk.iter().enumerate() {
                let position = i32::try_from(first + offset).unwrap_or(i32::MAX);
                let last = first + offset + 1 == start + tokens.len();
                self.batch
                    .add(*token, position, &[0], last)
                    .map_err(|e| LlmError::Inference(e.to_string()))?;
            }
            self.context
                .decode(&mut self.batch)
                .map_err(|e| LlmError::Inference(format!("decode: {e}")))?;
        }
        Ok(true)
    }

    /// Picks the next token from the logits of the last evaluated token. Done by hand
    /// (apply, then accept) rather than with `llama_sampler_sample`, so that a grammar
    /// failure is an error here and not an abort inside llama.cpp.
    fn sample(&self, sampler: &mut LlamaSampler) -> Result<LlamaToken> {
        let mut candidates = self.context.token_data_array_ith(self.batch.n_tokens() - 1);
        candidates.apply_sampler(sampler);
        let chosen = candidates
            .selected
            .and_then(|index| candidates.data.get(index))
            .ok_or_else(|| LlmError::Inference("the sampler chose no token".into()))?;
        // Only a grammar rules tokens out (logit -inf); when it rules out every one, the
        // pick is meaningless, and accepting it could abort inside llama.cpp.
        if !chosen.logit().is_finite() {
            return Err(LlmError::Inference(
                "no token can continue the text (the grammar allows none)".into(),
            ));
        }
        let token = chosen.id();
        sampler
            .try_accept(token)
            .map_err(|e| LlmError::Inference(format!("sampler: {e}")))?;
        Ok(token)
    }
}

impl Runner for Engine<'_> {
    fn run(&mut self, request: &GenerateRequest, control: &mut Control<'_>) -> Result<Generation> {
        request.validate()?;
        let prompt_started = Instant::now();
        let tokens = self.tokenize(request)?;
        let mut sampler = self.sampler(&request.sampling, request.grammar.as_deref())?;
        let prompt_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        self.context.clear_kv_cache();

        let finish =
            |text: String, completion_tokens: u32, stopped, prompt_time, generation_time| {
                Generation {
                    text,
                    prompt_tokens,
                    completion_tokens,
                    stopped,
                    queue_time: Duration::ZERO,
                    prompt_time,
                    generation_time,
                }
            };
        if !self.evaluate(&tokens, 0, control)? {
            let prompt_time = prompt_started.elapsed();
            return Ok(finish(
                String::new(),
                0,
                StopReason::Cancelled,
                prompt_time,
                Duration::ZERO,
            ));
        }
        let prompt_time = prompt_started.elapsed();

        let generation_started = Instant::now();
        let stops = StopMatcher::new(&request.stop);
        let vocab = self.model.vocab();
        let mut utf8 = Utf8Stream::default();
        let mut piece = Vec::new();
        let mut text = String::new();
        let mut completion_tokens = 0u32;
        let mut position = tokens.len();
        let stopped = loop {
            if completion_tokens >= request.max_tokens {
                break StopReason::MaxTokens;
            }
            if control.should_stop() {
                break StopReason::Cancelled;
            }
            let token = self.sample(&mut sampler)?;
            completion_tokens += 1;
            if vocab.is_eog(token) {
                break StopReason::EndOfText;
            }
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let old_len = text.len();
            utf8.push(&piece, &mut text);
            match stops.scan(&text, old_len) {
                Scan::Stop(at) => {
                    text.truncate(at);
                    break StopReason::Stop;
                }
                Scan::Settled(settled) => control.report(Progress {
                    completion_tokens,
                    max_tokens: request.max_tokens,
                    text: &text[..settled],
                }),
            }
            if completion_tokens >= request.max_tokens {
                break StopReason::MaxTokens;
            }
            self.evaluate(std::slice::from_ref(&token), position, control)?;
            position += 1;
        };
        let mut stopped = stopped;
        if stopped != StopReason::Stop {
            let old_len = text.len();
            utf8.finish(&mut text);
            if let Scan::Stop(at) = stops.scan(&text, old_len) {
                text.truncate(at);
                stopped = StopReason::Stop;
            }
        }
        let generation_time = generation_started.elapsed();
        tracing::debug!(
            prompt_tokens,
            completion_tokens,
            stopped = ?stopped,
            prompt_ms = prompt_time.as_millis() as u64,
            generation_ms = generation_time.as_millis() as u64,
            prompt_tokens_per_s = per_second(prompt_tokens, prompt_time),
            tokens_per_s = per_second(completion_tokens, generation_time),
            "text generated"
        );
        Ok(finish(
            text,
            completion_tokens,
            stopped,
            prompt_time,
            generation_time,
        ))
    }
}

fn per_second(tokens: u32, time: Duration) -> f64 {
    let secs = time.as_secs_f64();
    if secs > 0.0 {
        (f64::from(tokens) / secs * 10.0).round() / 10.0
    } else {
        0.0
    }
}
