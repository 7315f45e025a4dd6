//! The AI port: one trait for every text provider (Gemini, the local model, the rules
//! composer), chosen by configuration. What each call gets and gives is plain data, so
//! the domain never knows which provider answered — except through `provider()`, which
//! is recorded on every output.

use super::analysis::Analysis;
use super::brief::Brief;
use super::campaigns::{ChatMessage, Theme};
use super::{AssetFacts, Page};
use crate::error::Result;
use async_trait::async_trait;
use marquee_social::Platform;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Tokens and money one call cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.output_tokens += other.output_tokens;
        self.cost_usd += other.cost_usd;
    }
}

/// A provider's answer and what it cost.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub usage: Usage,
}

/// What the analysis reads.
#[derive(Debug, Clone)]
pub struct AnalysisInput {
    pub brief: Brief,
    pub pages: Vec<Page>,
    pub assets: Vec<AssetFacts>,
}

/// The analysis as a provider writes it (the domain adds provider, time and sources).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisDraft {
    pub company_name: String,
    pub industry: String,
    pub target_audience: String,
    pub value_propositions: Vec<String>,
    pub brand_voice: String,
    pub competitive_advantages: Vec<String>,
    pub key_messages: Vec<String>,
    pub product_context: String,
}

/// What themes, hashtags and guidance are suggested from.
#[derive(Debug, Clone)]
pub struct SuggestInput {
    pub brief: Brief,
    pub analysis: Analysis,
    /// Tags of the attached assets and the tenant's taxonomy labels, as hints.
    pub hint_tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuggestedTheme {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Suggestions {
    pub themes: Vec<SuggestedTheme>,
    /// Without `#`.
    pub hashtags: Vec<String>,
    pub guidance: String,
}

/// One post to write.
#[derive(Debug, Clone)]
pub struct PostInput {
    pub brief: Brief,
    pub analysis: Analysis,
    pub guidance: String,
    pub platform: Platform,
    /// `text_url`, `text_image` or `text_video`.
    pub kind: String,
    pub theme: Theme,
    /// The campaign's selected hashtags (without `#`).
    pub hashtags: Vec<String>,
    /// The creator's words when regenerating.
    pub instructions: String,
    /// Posts already written for the campaign, so a new one does not repeat them.
    pub avoid: Vec<String>,
    /// 0 on the first try; raised when a post is written again (off topic, too long).
    pub attempt: u32,
}

/// A post as a provider writes it; the platform-rules layer composes the final text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostDraft {
    pub body: String,
    /// Without `#`.
    pub hashtags: Vec<String>,
    /// What an image or video for the post should show (empty for `text_url`).
    pub media_prompt: String,
}

/// A turn of the guidance chat.
#[derive(Debug, Clone)]
pub struct ChatInput {
    pub brief: Brief,
    pub analysis: Option<Analysis>,
    pub guidance: String,
    pub history: Vec<ChatMessage>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatReply {
    /// What the assistant says back.
    pub reply: String,
    /// The guidance, revised.
    pub guidance: String,
}

#[async_trait]
pub trait Writer: Send + Sync {
    /// `gemini`, `local` or `rules`.
    fn provider(&self) -> &'static str;
    async fn analyse(
        &self,
        input: &AnalysisInput,
        cancel: &CancellationToken,
    ) -> Result<Written<AnalysisDraft>>;
    async fn suggest(
        &self,
        input: &SuggestInput,
        cancel: &CancellationToken,
    ) -> Result<Written<Suggestions>>;
    async fn write_post(
        &self,
        input: &PostInput,
        cancel: &CancellationToken,
    ) -> Result<Written<PostDraft>>;
    async fn chat(
        &self,
        input: &ChatInput,
        cancel: &CancellationToken,
    ) -> Result<Written<ChatReply>>;
}

impl super::Studio {
    /// Runs one provider call and records the metrics the chart's canary analysis, the
    /// alerts and the AI dashboard read: `marquee_ai_generations_total{provider,kind,
    /// outcome}` (`success` or the failure kind), `marquee_ai_cost_usd_total{provider}`,
    /// `marquee_ai_tokens_total{provider,direction}` and
    /// `marquee_ai_generation_seconds{provider,kind}`.
    pub(crate) async fn generate<T>(
        &self,
        kind: &'static str,
        call: impl std::future::Future<Output = Result<Written<T>>>,
    ) -> Result<Written<T>> {
        let provider = self.provider();
        let started = std::time::Instant::now();
        let result = call.await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(crate::error::CampaignError::Generation { kind, .. }) => kind,
            Err(crate::error::CampaignError::Cancelled) => "cancelled",
            Err(_) => "error",
        };
        metrics::counter!("marquee_ai_generations_total", "provider" => provider, "kind" => kind, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("marquee_ai_generation_seconds", "provider" => provider, "kind" => kind)
            .record(started.elapsed().as_secs_f64());
        if let Ok(written) = &result {
            let usage = written.usage;
            metrics::counter!("marquee_ai_tokens_total", "provider" => provider, "direction" => "prompt")
                .increment(usage.prompt_tokens);
            metrics::counter!("marquee_ai_tokens_total", "provider" => provider, "direction" => "output")
                .increment(usage.output_tokens);
            // Counters are integers in `metrics`; a gauge only ever increased carries
            // the fractional dollars (increase()/rate() read it the same way).
            metrics::gauge!("marquee_ai_cost_usd_total", "provider" => provider)
                .increment(usage.cost_usd);
        }
        result
    }
}
