//! Sentence embeddings: all-MiniLM-L6-v2 as ONNX, the way sentence-transformers computes
//! them — tokenise with special tokens (truncated at 256 tokens, padded to the longest of
//! the batch), run the encoder, mean-pool over the attention mask, L2-normalise.

use std::fmt;
use std::path::Path;

use ndarray::{Array2, ArrayView2, ArrayView3, Ix3};
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::queue::{Engine, Queue};
use super::runtime::Runtime;
use super::{EMBEDDING_DIM, InferenceError, InferenceOptions, require_file};

/// The model's directory under the models directory.
pub const TEXT_MODEL_DIR: &str = "all-MiniLM-L6-v2";

/// A handle on the text model's thread; clones are cheap and share it.
#[derive(Clone)]
pub struct TextEmbedder {
    queue: Queue<TextEngine>,
}

impl fmt::Debug for TextEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextEmbedder").finish_non_exhaustive()
    }
}

impl TextEmbedder {
    /// Loads `dir/model.onnx` and `dir/tokenizer.json`, checks the model with one text and
    /// starts its thread.
    pub(crate) fn load(
        runtime: &Runtime,
        dir: &Path,
        options: &InferenceOptions,
    ) -> Result<Self, InferenceError> {
        let model = require_file(dir, "model.onnx", "MiniLM ONNX model")?;
        let tokenizer = require_file(dir, "tokenizer.json", "MiniLM tokenizer")?;
        let mut engine = TextEngine::new(
            super::runtime::session(runtime, &model, options)?,
            load_tokenizer(&tokenizer, options.max_tokens)?,
        )?;
        // One text through the whole path: a model that answers another width fails
        // here rather than on the first request (and the first request is not slow).
        let probe = engine
            .prepare(vec!["warm-up".to_owned()])
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let vectors = engine.run(&probe.iter().collect::<Vec<_>>())?;
        if vectors.first().map(Vec::len) != Some(EMBEDDING_DIM) {
            return Err(InferenceError::InvalidModel(format!(
                "{} does not produce {EMBEDDING_DIM}-dimensional embeddings",
                model.display()
            )));
        }
        Ok(Self {
            queue: Queue::start(engine, "text", options.max_batch)?,
        })
    }

    /// L2-normalised mean-pooled sentence embeddings, one per text, in input order — equal
    /// to sentence-transformers' `encode(normalize_embeddings=True)`. Runs on the model's
    /// thread, batched with other callers' texts.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, InferenceError> {
        self.queue.submit(texts).await
    }

    /// [`embed`](Self::embed) for threads outside an async runtime (benchmarks, tests):
    /// same thread and batching, blocks until done. Panics inside an async runtime.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, InferenceError> {
        self.queue.submit_blocking(texts.to_vec())
    }
}

/// tokenizer.json with sentence-transformers' settings instead of its own fixed 128
/// padding: no padding here (batches are padded to their longest when they are built),
/// truncation at `max_tokens` including the special tokens.
pub(crate) fn load_tokenizer(path: &Path, max_tokens: usize) -> Result<Tokenizer, InferenceError> {
    let mut tokenizer = Tokenizer::from_file(path)?;
    tokenizer.with_padding(None);
    tokenizer.with_truncation(Some(TruncationParams {
        direction: TruncationDirection::Right,
        max_length: max_tokens.max(2),
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
    }))?;
    Ok(tokenizer)
}

/// The model's inputs this code can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextInput {
    Ids,
    Mask,
    TypeIds,
}

pub(crate) struct TextEngine {
    session: Session,
    tokenizer: Tokenizer,
    pad_id: i64,
    inputs: Vec<(String, TextInput)>,
    output: String,
}

/// One tokenised text.
pub(crate) struct Tokens {
    ids: Vec<i64>,
    type_ids: Vec<i64>,
}

impl TextEngine {
    fn new(session: Session, tokenizer: Tokenizer) -> Result<Self, InferenceError> {
        let mut inputs = Vec::new();
        for input in session.inputs() {
            let kind = match input.name() {
                "input_ids" => TextInput::Ids,
                "attention_mask" => TextInput::Mask,
                "token_type_ids" => TextInput::TypeIds,
                other => {
                    return Err(InferenceError::InvalidModel(format!(
                        "the text model has an unexpected input `{other}`"
                    )));
                }
            };
            inputs.push((input.name().to_owned(), kind));
        }
        for needed in [TextInput::Ids, TextInput::Mask] {
            if !inputs.iter().any(|(_, kind)| *kind == needed) {
                return Err(InferenceError::InvalidModel(format!(
                    "the text model has no {needed:?} input"
                )));
            }
        }
        let outputs = session.outputs();
        let output = outputs
            .iter()
            .find(|output| output.name() == "last_hidden_state")
            .or_else(|| outputs.first())
            .map(|output| output.name().to_owned())
            .ok_or_else(|| {
                InferenceError::InvalidModel("the text model has no output".to_owned())
            })?;
        let pad_id = tokenizer
            .get_padding()
            .map(|padding| padding.pad_id)
            .or_else(|| tokenizer.token_to_id("[PAD]"))
            .unwrap_or(0);
        Ok(Self {
            session,
            tokenizer,
            pad_id: i64::from(pad_id),
            inputs,
            output,
        })
    }

    fn tokens(encoding: &tokenizers::Encoding) -> Tokens {
        Tokens {
            ids: encoding.get_ids().iter().map(|&id| i64::from(id)).collect(),
            type_ids: encoding
                .get_type_ids()
                .iter()
                .map(|&id| i64::from(id))
                .collect(),
        }
    }
}

impl Engine for TextEngine {
    type Input = String;
    type Prepared = Tokens;
    type Output = Vec<f32>;

    fn prepare(&mut self, texts: Vec<String>) -> Vec<Result<Tokens, InferenceError>> {
        let borrowed: Vec<&str> = texts.iter().map(String::as_str).collect();
        match self.tokenizer.encode_batch_fast(borrowed, true) {
            Ok(encodings) => encodings
                .iter()
                .map(|encoding| Ok(Self::tokens(encoding)))
                .collect(),
            // One bad text must not fail the others: encode one by one to find it.
            Err(_) => texts
                .iter()
                .map(|text| {
                    self.tokenizer
                        .encode_fast(text.as_str(), true)
                        .map(|encoding| Self::tokens(&encoding))
                        .map_err(InferenceError::from)
                })
                .collect(),
        }
    }

    fn cost(tokens: &Tokens) -> usize {
        tokens.ids.len()
    }

    /// One MiniLM run costs about as much as 15–20 tokens more of batch on 2 cores
    /// (measured: 4.5 ms for one 14-token text, 1.8 ms a text in runs of 32); rounded up
    /// to favour full runs.
    const RUN_OVERHEAD: usize = 32;

    fn run(&mut self, batch: &[&Tokens]) -> Result<Vec<Vec<f32>>, InferenceError> {
        let (ids, mask, type_ids) = pad_batch(batch, self.pad_id);
        let mut inputs: Vec<(String, SessionInputValue<'_>)> =
            Vec::with_capacity(self.inputs.len());
        for (name, kind) in &self.inputs {
            let array = match kind {
                TextInput::Ids => &ids,
                TextInput::Mask => &mask,
                TextInput::TypeIds => &type_ids,
            };
            inputs.push((name.clone(), TensorRef::from_array_view(array)?.into()));
        }
        let outputs = self.session.run(inputs)?;
        let hidden = outputs[self.output.as_str()].try_extract_array::<f32>()?;
        let hidden = hidden.into_dimensionality::<Ix3>().map_err(|error| {
            InferenceError::InvalidModel(format!(
                "text model output is not [batch, tokens, dim]: {error}"
            ))
        })?;
        if hidden.shape()[..2] != [batch.len(), ids.ncols()] {
            return Err(InferenceError::InvalidModel(format!(
                "text model output has shape {:?} for input {:?}",
                hidden.shape(),
                ids.shape()
            )));
        }
        Ok(mean_pool_normalize(hidden, mask.view()))
    }
}

/// `[batch, longest]` ids, attention mask and token types, right-padded.
fn pad_batch(batch: &[&Tokens], pad_id: i64) -> (Array2<i64>, Array2<i64>, Array2<i64>) {
    let longest = batch
        .iter()
        .map(|tokens| tokens.ids.len())
        .max()
        .unwrap_or(0);
    let mut ids = Array2::from_elem((batch.len(), longest), pad_id);
    let mut mask = Array2::zeros((batch.len(), longest));
    let mut type_ids = Array2::zeros((batch.len(), longest));
    for (row, tokens) in batch.iter().enumerate() {
        for (column, (&id, &type_id)) in tokens.ids.iter().zip(&tokens.type_ids).enumerate() {
            ids[[row, column]] = id;
            mask[[row, column]] = 1;
            type_ids[[row, column]] = type_id;
        }
    }
    (ids, mask, type_ids)
}

/// Mean of the token vectors where the mask is set (sentence-transformers' `Pooling`
/// with `pooling_mode_mean_tokens`), each result L2-normalised.
pub(crate) fn mean_pool_normalize(
    hidden: ArrayView3<'_, f32>,
    mask: ArrayView2<'_, i64>,
) -> Vec<Vec<f32>> {
    let dim = hidden.shape()[2];
    hidden
        .outer_iter()
        .zip(mask.outer_iter())
        .map(|(tokens, mask)| {
            let mut sum = vec![0.0f32; dim];
            let mut count = 0.0f32;
            for (token, &weight) in tokens.outer_iter().zip(mask.iter()) {
                if weight == 0 {
                    continue;
                }
                let weight = weight as f32;
                count += weight;
                for (total, &value) in sum.iter_mut().zip(token.iter()) {
                    *total += value * weight;
                }
            }
            let count = count.max(1e-9);
            sum.iter_mut().for_each(|value| *value /= count);
            l2_normalize(&mut sum);
            sum
        })
        .collect()
}

/// Divides by the Euclidean norm (floored at 1e-12, as `torch.nn.functional.normalize`).
pub(crate) fn l2_normalize(vector: &mut [f32]) {
    let norm = vector
        .iter()
        .map(|value| value * value)
        .sum::<f32>()
        .sqrt()
        .max(1e-12);
    vector.iter_mut().for_each(|value| *value /= norm);
}

#[cfg(test)]
mod tests {
    use ndarray::{Array3, array};

    use super::*;

    #[test]
    fn mean_pooling_ignores_padding_and_normalises() {
        // Two texts, three token slots, dim 2; the second text has one padded slot whose
        // (huge) vector must not count.
        let hidden = Array3::from_shape_vec(
            (2, 3, 2),
            vec![
                1.0, 0.0, 3.0, 0.0, 2.0, 0.0, //
                0.0, 2.0, 0.0, 4.0, 1000.0, 1000.0,
            ],
        )
        .unwrap();
        let mask = array![[1i64, 1, 1], [1, 1, 0]];
        let pooled = mean_pool_normalize(hidden.view(), mask.view());
        assert_eq!(pooled, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);

        let hidden = Array3::from_shape_vec((1, 2, 2), vec![3.0, 0.0, 3.0, 8.0]).unwrap();
        let pooled = mean_pool_normalize(hidden.view(), array![[1i64, 1]].view());
        // mean (3, 4) → (0.6, 0.8)
        assert!((pooled[0][0] - 0.6).abs() < 1e-6 && (pooled[0][1] - 0.8).abs() < 1e-6);
        let norm: f32 = pooled[0].iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-6);
    }

    #[test]
    fn an_all_zero_vector_stays_finite() {
        let mut zero = vec![0.0f32; 4];
        l2_normalize(&mut zero);
        assert!(zero.iter().all(|v| *v == 0.0));
        let hidden = Array3::<f32>::zeros((1, 2, 3));
        let pooled = mean_pool_normalize(hidden.view(), array![[0i64, 0]].view());
        assert!(pooled[0].iter().all(|v| v.is_finite()));
    }

    #[test]
    fn batches_are_padded_to_their_longest() {
        let short = Tokens {
            ids: vec![101, 7, 102],
            type_ids: vec![0, 0, 0],
        };
        let long = Tokens {
            ids: vec![101, 5, 6, 8, 102],
            type_ids: vec![0; 5],
        };
        let (ids, mask, types) = pad_batch(&[&short, &long], 0);
        assert_eq!(ids, array![[101, 7, 102, 0, 0], [101, 5, 6, 8, 102]]);
        assert_eq!(mask, array![[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]);
        assert_eq!(types, Array2::<i64>::zeros((2, 5)));
    }
}
