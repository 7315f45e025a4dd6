//! Gemini as the campaign's writer (JSON answers to a schema) and Gemini/Veo as its
//! image and video makers, over `clients::gemini`.

use super::prompts;
use crate::clients::gemini::{GeminiClient, GeminiError, Usage as GeminiUsage, VideoOptions};
use crate::domain::media::{Made, OnProgress, VisualMaker, VisualRequest};
use crate::domain::writer::{
    AnalysisDraft, AnalysisInput, ChatInput, ChatReply, PostDraft, PostInput, SuggestInput,
    Suggestions, Usage, Writer, Written,
};
use crate::error::{CampaignError, Result};
use async_trait::async_trait;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a Veo operation is polled.
const VIDEO_POLL: Duration = Duration::from_secs(5);
const VIDEO_SECONDS: u32 = 8;

fn usage(u: GeminiUsage) -> Usage {
    Usage {
        prompt_tokens: u.prompt_tokens,
        output_tokens: u.output_tokens,
        cost_usd: u.cost_usd,
    }
}

fn failure(error: GeminiError) -> CampaignError {
    match error {
        GeminiError::Cancelled => CampaignError::Cancelled,
        other => CampaignError::generation(other.kind(), other.to_string()),
    }
}

fn strings() -> Value {
    json!({"type": "ARRAY", "items": {"type": "STRING"}})
}

fn analysis_schema() -> Value {
    json!({
        "type": "OBJECT",
        "properties": {
            "company_name": {"type": "STRING"},
            "industry": {"type": "STRING"},
            "target_audience": {"type": "STRING"},
            "value_propositions": strings(),
            "brand_voice": {"type": "STRING"},
            "competitive_advantages": strings(),
            "key_messages": strings(),
            "product_context": {"type": "STRING"}
        },
        "required": ["company_name", "industry", "target_audience", "value_propositions",
                     "brand_voice", "competitive_advantages", "key_messages", "product_context"]
    })
}

fn suggestions_schema() -> Value {
    json!({
        "type": "OBJECT",
        "properties": {
            "themes": {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {
                "name": {"type": "STRING"}, "description": {"type": "STRING"}},
                "required": ["name", "description"]}},
            "hashtags": strings(),
            "guidance": {"type": "STRING"}
        },
        "required": ["themes", "hashtags", "guidance"]
    })
}

fn post_schema() -> Value {
    json!({
        "type": "OBJECT",
        "properties": {
            "body": {"type": "STRING"},
            "hashtags": strings(),
            "media_prompt": {"type": "STRING"}
        },
        "required": ["body", "hashtags", "media_prompt"]
    })
}

fn chat_schema() -> Value {
    json!({
        "type": "OBJECT",
        "properties": {"reply": {"type": "STRING"}, "guidance": {"type": "STRING"}},
        "required": ["reply", "guidance"]
    })
}

pub struct GeminiWriter {
    client: Arc<GeminiClient>,
}

impl GeminiWriter {
    pub fn new(client: Arc<GeminiClient>) -> Self {
        Self { client }
    }

    async fn ask<T: DeserializeOwned>(
        &self,
        prompt: String,
        schema: Value,
        temperature: f32,
        cancel: &CancellationToken,
    ) -> Result<Written<T>> {
        tokio::select! {
            _ = cancel.cancelled() => Err(CampaignError::Cancelled),
            answer = self.client.generate::<T>(prompts::SYSTEM, &prompt, schema, temperature) => {
                let (value, used) = answer.map_err(failure)?;
                Ok(Written { value, usage: usage(used) })
            }
        }
    }
}

#[async_trait]
impl Writer for GeminiWriter {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    async fn analyse(
        &self,
        input: &AnalysisInput,
        cancel: &CancellationToken,
    ) -> Result<Written<AnalysisDraft>> {
        let mut prompt = format!(
            "Analyse this business for a social-media campaign.\n\n{}\n",
            prompts::brief_block(&input.brief)
        );
        for page in &input.pages {
            prompt.push_str(&format!(
                "\nWebsite {} — {}\n{}\n{}\n",
                page.url,
                page.title,
                page.description,
                prompts::excerpt(&page.text, 8000)
            ));
        }
        for asset in &input.assets {
            prompt.push_str(&format!(
                "\nAttached asset \"{}\" ({}; tags: {}): {} {}\n",
                asset.title,
                asset.kind,
                asset.tags.join(", "),
                asset.description,
                prompts::excerpt(&asset.text_excerpt, 2000)
            ));
        }
        self.ask(prompt, analysis_schema(), 0.3, cancel).await
    }

    async fn suggest(
        &self,
        input: &SuggestInput,
        cancel: &CancellationToken,
    ) -> Result<Written<Suggestions>> {
        let prompt = format!(
            "Suggest 4 to 6 campaign themes (name and one-line description), 8 to 15 hashtags \
             (without #) and short writing guidance for this campaign.\n\n{}\n\nAnalysis: {}\n\
             Hint tags from the creator's assets and catalogue (use the relevant ones): {}",
            prompts::brief_block(&input.brief),
            serde_json::to_string(&input.analysis.draft).unwrap_or_default(),
            input.hint_tags.join(", ")
        );
        self.ask(prompt, suggestions_schema(), 0.7, cancel).await
    }

    async fn write_post(
        &self,
        input: &PostInput,
        cancel: &CancellationToken,
    ) -> Result<Written<PostDraft>> {
        let rules = input.platform.rules();
        let prompt = format!(
            "Write one {platform} post ({kind}) for this campaign. Theme: {theme} — {theme_description}.\n\
             Platform style: {style}. Keep the text (without hashtags) well under {limit} characters; \
             give at most {tags} hashtags (without #), preferring these: {selected}.\n\
             {media}\nGuidance: {guidance}\n{instructions}\n\
             Do not repeat these earlier posts: {avoid}\n\n{brief}\n\nAnalysis: {analysis}",
            platform = input.platform.label(),
            kind = input.kind,
            theme = input.theme.name,
            theme_description = input.theme.description,
            style = rules.style,
            limit = rules.max_length,
            tags = rules.recommended_hashtags.end(),
            selected = input.hashtags.join(", "),
            media = if input.kind == "text_url" {
                "media_prompt: empty (a link post)."
            } else {
                "media_prompt: describe the image or short video to go with it."
            },
            guidance = input.guidance,
            instructions = if input.instructions.is_empty() {
                String::new()
            } else {
                format!("The creator asks: {}", input.instructions)
            },
            avoid = input
                .avoid
                .iter()
                .rev()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(" | "),
            brief = prompts::brief_block(&input.brief),
            analysis = serde_json::to_string(&input.analysis.draft).unwrap_or_default(),
        );
        let temperature = prompts::temperature(input.brief.creativity);
        self.ask(prompt, post_schema(), temperature, cancel).await
    }

    async fn chat(
        &self,
        input: &ChatInput,
        cancel: &CancellationToken,
    ) -> Result<Written<ChatReply>> {
        let history: Vec<String> = input
            .history
            .iter()
            .rev()
            .take(10)
            .rev()
            .map(|m| format!("{}: {}", m.role, m.text))
            .collect();
        let prompt = format!(
            "You help a creator refine the writing guidance of a campaign. Answer their message \
             briefly in `reply` and give the full revised guidance in `guidance`.\n\n{}\n\n\
             Current guidance: {}\nConversation so far:\n{}\nCreator: {}",
            prompts::brief_block(&input.brief),
            input.guidance,
            history.join("\n"),
            input.message
        );
        self.ask(prompt, chat_schema(), 0.5, cancel).await
    }
}

/// Gemini image generation.
pub struct GeminiImages {
    client: Arc<GeminiClient>,
}

impl GeminiImages {
    pub fn new(client: Arc<GeminiClient>) -> Self {
        Self { client }
    }
}

#[async_trait]
impl VisualMaker for GeminiImages {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    fn is_ai(&self) -> bool {
        true
    }

    async fn make(
        &self,
        request: &VisualRequest,
        cancel: &CancellationToken,
        progress: OnProgress<'_>,
    ) -> Result<Made> {
        progress(10);
        let prompt = format!(
            "{} Marketing image for {}. No text in the image.",
            request.prompt, request.brand
        );
        let (image, used) = tokio::select! {
            _ = cancel.cancelled() => return Err(CampaignError::Cancelled),
            made = self.client.generate_image(&prompt, request.aspect_ratio) => made.map_err(failure)?,
        };
        progress(100);
        Ok(Made {
            extension: if image.content_type == "image/jpeg" {
                "jpg"
            } else {
                "png"
            },
            bytes: Bytes::from(image.bytes),
            usage: usage(used),
        })
    }
}

/// Veo video through its long-running operation: start, poll, fetch.
pub struct VeoVideo {
    client: Arc<GeminiClient>,
}

impl VeoVideo {
    pub fn new(client: Arc<GeminiClient>) -> Self {
        Self { client }
    }
}

#[async_trait]
impl VisualMaker for VeoVideo {
    fn provider(&self) -> &'static str {
        "veo"
    }

    fn is_ai(&self) -> bool {
        true
    }

    async fn make(
        &self,
        request: &VisualRequest,
        cancel: &CancellationToken,
        progress: OnProgress<'_>,
    ) -> Result<Made> {
        let options = VideoOptions {
            aspect_ratio: request.aspect_ratio.to_string(),
            duration_seconds: VIDEO_SECONDS,
            negative_prompt: None,
        };
        let operation = tokio::select! {
            _ = cancel.cancelled() => return Err(CampaignError::Cancelled),
            started = self.client.start_video(&request.prompt, &options) => started.map_err(failure)?,
        };
        progress(10);
        let limit = self.client.config().video_wait_limit.as_secs_f64().max(1.0);
        let uri = self
            .client
            .wait_for_video(&operation, VIDEO_POLL, cancel.clone(), |p| {
                progress(10 + ((p.elapsed.as_secs_f64() / limit) * 80.0).min(80.0) as u32);
            })
            .await
            .map_err(failure)?;
        progress(90);
        let bytes = tokio::select! {
            _ = cancel.cancelled() => return Err(CampaignError::Cancelled),
            fetched = self.client.fetch_video(&uri) => fetched.map_err(failure)?,
        };
        progress(100);
        Ok(Made {
            bytes,
            extension: "mp4",
            usage: Usage {
                prompt_tokens: 0,
                output_tokens: 0,
                cost_usd: operation.estimated_cost_usd,
            },
        })
    }
}
