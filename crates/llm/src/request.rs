//! What a caller asks for and what it gets back.

use crate::error::{LlmError, Result};
use std::time::Duration;

/// One text generation: a prompt continued by the model.
///
/// The model is a base model: write few-shot prompts (a few examples, then the start of
/// the one to write) and put the marker that starts the next example in [`stop`](Self::stop),
/// or it will go on inventing examples.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    /// The text to continue. Special tokens written in it (`<start_of_turn>`…) are
    /// plain text, not control tokens, unless `special_tokens` is set.
    pub prompt: String,
    /// At most this many tokens are generated (≥ 1).
    pub max_tokens: u32,
    /// Generation stops at the first of these strings, which is not part of the text
    /// (nor is anything after it). Empty strings are ignored.
    pub stop: Vec<String>,
    pub sampling: Sampling,
    /// A GBNF grammar (root rule `root`) the output must follow, e.g.
    /// `root ::= ("yes" | "no")`. The output stops when the grammar is complete.
    pub grammar: Option<String>,
    /// Read control tokens written in the prompt as such (`<start_of_turn>`,
    /// `<|im_start|>`…), as the chat template of an instruction-tuned model needs.
    /// Off by default, so that text pasted into a prompt cannot forge turns; when on,
    /// keep untrusted text out of the prompt or strip such markers from it.
    pub special_tokens: bool,
}

impl GenerateRequest {
    /// A request with 256 tokens at most, no stop strings, default sampling, no grammar.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            max_tokens: 256,
            stop: Vec::new(),
            sampling: Sampling::default(),
            grammar: None,
            special_tokens: false,
        }
    }

    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Adds a stop string.
    #[must_use]
    pub fn stop(mut self, stop: impl Into<String>) -> Self {
        self.stop.push(stop.into());
        self
    }

    #[must_use]
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    #[must_use]
    pub fn grammar(mut self, gbnf: impl Into<String>) -> Self {
        self.grammar = Some(gbnf.into());
        self
    }

    /// Sets the `special_tokens` field.
    #[must_use]
    pub fn special_tokens(mut self, parse: bool) -> Self {
        self.special_tokens = parse;
        self
    }

    /// Checks what can be checked without the model.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.prompt.is_empty() {
            return Err(LlmError::InvalidRequest("the prompt is empty".into()));
        }
        if self.max_tokens == 0 {
            return Err(LlmError::InvalidRequest(
                "max_tokens must be at least 1".into(),
            ));
        }
        self.sampling.validate()
    }
}

/// How the next token is picked. The defaults are the ones that worked for marketing
/// copy with Gemma 3 270M: temperature 0.7, top-k 64, top-p 0.95, repeat penalty 1.1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// 0 picks the most likely token every time (greedy, deterministic); higher is more
    /// varied. Range 0–2.
    pub temperature: f32,
    /// Only the `top_k` most likely tokens are candidates; 0 = no limit.
    pub top_k: u32,
    /// Only the most likely tokens whose probabilities add up to `top_p` are candidates;
    /// 1 = no limit. Range (0, 1].
    pub top_p: f32,
    /// Penalty for tokens among the last 64 (1 = none). Range [1, 2].
    pub repeat_penalty: f32,
    /// Seed of the random choice: the same seed, prompt and settings give the same text.
    /// `None` picks a new seed for every request.
    pub seed: Option<u32>,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_k: 64,
            top_p: 0.95,
            repeat_penalty: 1.1,
            seed: None,
        }
    }
}

impl Sampling {
    /// Greedy decoding: always the most likely token (no randomness).
    #[must_use]
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            repeat_penalty: 1.0,
            seed: None,
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(LlmError::InvalidRequest(what));
        if !(0.0..=2.0).contains(&self.temperature) {
            return bad(format!(
                "temperature {} is not within 0–2",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top_p {} is not within (0, 1]", self.top_p));
        }
        if !(1.0..=2.0).contains(&self.repeat_penalty) {
            return bad(format!(
                "repeat_penalty {} is not within 1–2",
                self.repeat_penalty
            ));
        }
        if self.top_k > 1_000_000 {
            return bad(format!("top_k {} is too large", self.top_k));
        }
        Ok(())
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// A stop string was produced (it is not part of the text).
    Stop,
    /// The model ended the text itself (end-of-text token, or the grammar is complete).
    EndOfText,
    /// `max_tokens` tokens were generated.
    MaxTokens,
    /// The cancellation token fired, or the caller went away. The text is what was
    /// generated until then (empty when the request never started).
    Cancelled,
}

/// The generated text and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The continuation of the prompt (without the prompt, cut before any stop string).
    pub text: String,
    /// Tokens in the prompt (0 when cancelled before it was read).
    pub prompt_tokens: u32,
    /// Tokens generated, including those of a stop string the text was cut at.
    pub completion_tokens: u32,
    pub stopped: StopReason,
    /// Time spent waiting for earlier requests.
    pub queue_time: Duration,
    /// Time spent reading the prompt (tokenising and evaluating it).
    pub prompt_time: Duration,
    /// Time spent generating the completion tokens.
    pub generation_time: Duration,
}

impl Generation {
    pub(crate) fn cancelled_before_start(queue_time: Duration) -> Self {
        Self {
            text: String::new(),
            prompt_tokens: 0,
            completion_tokens: 0,
            stopped: StopReason::Cancelled,
            queue_time,
            prompt_time: Duration::ZERO,
            generation_time: Duration::ZERO,
        }
    }
}

/// Reported to a progress callback after every generated token.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Tokens generated so far.
    pub completion_tokens: u32,
    /// The request's `max_tokens`: `completion_tokens / max_tokens` is an upper bound on
    /// the share done (generation often stops earlier, at a stop string).
    pub max_tokens: u32,
    /// The text so far, without anything that may still turn out to be a stop string.
    pub text: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_validation() {
        let request = GenerateRequest::new("Hi").max_tokens(5).stop("\n");
        assert_eq!(request.stop, vec!["\n".to_owned()]);
        assert!(request.validate().is_ok());
        assert!(GenerateRequest::new("").validate().is_err());
        assert!(GenerateRequest::new("x").max_tokens(0).validate().is_err());
        for sampling in [
            Sampling {
                temperature: -1.0,
                ..Sampling::default()
            },
            Sampling {
                temperature: f32::NAN,
                ..Sampling::default()
            },
            Sampling {
                top_p: 0.0,
                ..Sampling::default()
            },
            Sampling {
                top_p: f32::NAN,
                ..Sampling::default()
            },
            Sampling {
                repeat_penalty: 0.5,
                ..Sampling::default()
            },
        ] {
            let error = GenerateRequest::new("x")
                .sampling(sampling)
                .validate()
                .unwrap_err();
            assert!(error.is_invalid_request(), "{error}");
        }
        assert!(
            GenerateRequest::new("x")
                .sampling(Sampling::greedy())
                .validate()
                .is_ok()
        );
    }
}
