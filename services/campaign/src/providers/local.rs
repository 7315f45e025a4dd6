//! The local model (Gemma 3 270M through llama.cpp, `marquee_llm`): real AI with no API
//! key, the embedded default. Few-shot prompts (`prompts`), one generation at a time on
//! the model's own thread; the answers are parsed from the examples' layout, and what the
//! small model leaves out is filled by the rules composer (the domain then makes every
//! post fit its platform and stay on topic).

use super::prompts::{self, END};
use super::rules::RulesWriter;
use crate::domain::writer::{
    AnalysisDraft, AnalysisInput, ChatInput, ChatReply, PostDraft, PostInput, SuggestInput,
    SuggestedTheme, Suggestions, Usage, Writer, Written,
};
use crate::error::{CampaignError, Result};
use async_trait::async_trait;
use marquee_llm::{GenerateRequest, LlmError, LocalModel, Sampling, StopReason};
use tokio_util::sync::CancellationToken;

pub struct LocalWriter {
    model: LocalModel,
    /// Fixed for reproducible runs (tests, the evaluation); `None` varies every time.
    seed: Option<u32>,
}

impl LocalWriter {
    pub fn new(model: LocalModel) -> Self {
        Self { model, seed: None }
    }

    /// The same prompt gives the same text (tests, the evaluation, benchmarks).
    #[must_use]
    pub fn with_seed(mut self, seed: u32) -> Self {
        self.seed = Some(seed);
        self
    }

    async fn complete(
        &self,
        prompt: String,
        max_tokens: u32,
        temperature: f32,
        stops: &[&str],
        cancel: &CancellationToken,
    ) -> Result<(String, Usage)> {
        let mut request = GenerateRequest::new(prompt)
            .max_tokens(max_tokens)
            .sampling(Sampling {
                temperature,
                seed: self.seed,
                ..Sampling::default()
            })
            .stop(END);
        for stop in stops {
            request = request.stop(*stop);
        }
        let generation = self
            .model
            .generate(request, cancel.clone())
            .await
            .map_err(generation_error)?;
        if generation.stopped == StopReason::Cancelled {
            return Err(CampaignError::Cancelled);
        }
        tracing::debug!(
            prompt_tokens = generation.prompt_tokens,
            completion_tokens = generation.completion_tokens,
            prompt_ms = generation.prompt_time.as_millis() as u64,
            generation_ms = generation.generation_time.as_millis() as u64,
            "local generation"
        );
        Ok((
            generation.text,
            Usage {
                prompt_tokens: u64::from(generation.prompt_tokens),
                output_tokens: u64::from(generation.completion_tokens),
                cost_usd: 0.0,
            },
        ))
    }
}

fn generation_error(error: LlmError) -> CampaignError {
    CampaignError::generation(error.code(), error.to_string())
}

/// `Key: value` lines of an answer laid out like the examples.
fn fields(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let key = key.trim().to_lowercase();
            (!key.is_empty() && key.len() <= 20).then(|| (key, value.trim().to_string()))
        })
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(';')
                .map(|item| item.trim().trim_end_matches('.').to_string())
                .filter(|item| item.chars().count() >= 3)
                .collect()
        })
        .unwrap_or_default()
}

/// Hashtags written anywhere in `text` (without `#`).
fn hashtags_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|word| word.strip_prefix('#'))
        .map(|tag| {
            tag.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_')
                .to_string()
        })
        .filter(|tag| !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect()
}

/// The body without the run of hashtags it ends with (they become the post's hashtags).
fn without_trailing_hashtags(text: &str) -> String {
    let mut words: Vec<&str> = text.split(' ').collect();
    while words
        .last()
        .is_some_and(|w| w.trim().starts_with('#') || w.trim().is_empty())
    {
        words.pop();
    }
    words.join(" ").trim().to_string()
}

/// What the analysis reads, as one description for the prompt.
fn description(input: &AnalysisInput) -> String {
    let mut text = input.brief.business_description.clone();
    for page in &input.pages {
        text.push_str(&format!(
            " {}. {} {}",
            page.title, page.description, page.text
        ));
    }
    for asset in &input.assets {
        text.push_str(&format!(
            " {}. {} {}",
            asset.title, asset.description, asset.text_excerpt
        ));
    }
    text
}

pub(crate) fn parse_analysis(answer: &str, fallback: AnalysisDraft) -> AnalysisDraft {
    let f = fields(&format!("Company:{answer}"));
    let text = |key: &str, fallback: String| field(&f, key).map_or(fallback, str::to_string);
    let items = |key: &str, fallback: Vec<String>| {
        let found = list(field(&f, key));
        if found.is_empty() { fallback } else { found }
    };
    AnalysisDraft {
        company_name: text("company", fallback.company_name),
        industry: text("industry", fallback.industry),
        target_audience: text("audience", fallback.target_audience),
        value_propositions: items("value", fallback.value_propositions),
        brand_voice: text("voice", fallback.brand_voice),
        competitive_advantages: items("advantages", fallback.competitive_advantages),
        key_messages: items("messages", fallback.key_messages),
        product_context: text("product", fallback.product_context),
    }
}

pub(crate) fn parse_suggestions(answer: &str, fallback: Suggestions) -> Suggestions {
    let f = fields(&format!("Themes:{answer}"));
    let themes: Vec<SuggestedTheme> = field(&f, "themes")
        .map(|v| {
            v.split('|')
                .map(str::trim)
                .filter(|t| t.chars().count() >= 3)
                .map(|name| SuggestedTheme {
                    name: name.to_string(),
                    description: String::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    let hashtags = field(&f, "hashtags").map(hashtags_in).unwrap_or_default();
    Suggestions {
        themes: if themes.len() >= 2 {
            themes
        } else {
            fallback.themes
        },
        hashtags: if hashtags.is_empty() {
            fallback.hashtags
        } else {
            hashtags
        },
        guidance: field(&f, "guidance").map_or(fallback.guidance, str::to_string),
    }
}

pub(crate) fn parse_post(answer: &str) -> PostDraft {
    let (post, image) = match answer.split_once("\nImage:") {
        Some((post, image)) => (post, image.lines().next().unwrap_or_default()),
        None => (answer, ""),
    };
    let post = post.lines().next().unwrap_or_default().trim();
    PostDraft {
        body: without_trailing_hashtags(post),
        hashtags: hashtags_in(post),
        media_prompt: image.trim().to_string(),
    }
}

#[async_trait]
impl Writer for LocalWriter {
    fn provider(&self) -> &'static str {
        "local"
    }

    async fn analyse(
        &self,
        input: &AnalysisInput,
        cancel: &CancellationToken,
    ) -> Result<Written<AnalysisDraft>> {
        let (answer, usage) = self
            .complete(
                prompts::analysis(&description(input)),
                220,
                0.4,
                &["\nDescription:"],
                cancel,
            )
            .await?;
        Ok(Written {
            value: parse_analysis(&answer, RulesWriter::analysis(input)),
            usage,
        })
    }

    async fn suggest(
        &self,
        input: &SuggestInput,
        cancel: &CancellationToken,
    ) -> Result<Written<Suggestions>> {
        let (answer, usage) = self
            .complete(prompts::themes(input), 120, 0.6, &["\nCompany:"], cancel)
            .await?;
        Ok(Written {
            value: parse_suggestions(&answer, RulesWriter::suggestions(input)),
            usage,
        })
    }

    async fn write_post(
        &self,
        input: &PostInput,
        cancel: &CancellationToken,
    ) -> Result<Written<PostDraft>> {
        let temperature = prompts::temperature(input.brief.creativity) + input.attempt as f32 * 0.1;
        let (answer, usage) = self
            .complete(
                prompts::post(input),
                prompts::post_tokens(input.platform),
                temperature.min(1.2),
                &["\nCompany:", "\nPlatform:"],
                cancel,
            )
            .await?;
        Ok(Written {
            value: parse_post(&answer),
            usage,
        })
    }

    async fn chat(
        &self,
        input: &ChatInput,
        cancel: &CancellationToken,
    ) -> Result<Written<ChatReply>> {
        let (answer, usage) = self
            .complete(
                prompts::chat(input),
                120,
                0.5,
                &["\nGuidance:", "\nRequest:"],
                cancel,
            )
            .await?;
        let f = fields(&format!("Reply:{answer}"));
        let reply = field(&f, "reply").unwrap_or("Noted.").to_string();
        let guidance = field(&f, "new guidance")
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!("{} {}", input.guidance.trim(), input.message.trim())
                    .trim()
                    .to_string()
            });
        Ok(Written {
            value: ChatReply { reply, guidance },
            usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyses_are_read_from_the_layout_and_gaps_filled() {
        let answer = " Acme Roasters\nIndustry: Coffee\nValue: Fresh beans; Roasted daily; ok\nVoice: Warm\n";
        let fallback = AnalysisDraft {
            target_audience: "Coffee lovers".into(),
            ..AnalysisDraft::default()
        };
        let draft = parse_analysis(answer, fallback);
        assert_eq!(draft.company_name, "Acme Roasters");
        assert_eq!(draft.industry, "Coffee");
        assert_eq!(
            draft.value_propositions,
            vec!["Fresh beans", "Roasted daily"]
        );
        assert_eq!(
            draft.target_audience, "Coffee lovers",
            "missing: from the fallback"
        );
    }

    #[test]
    fn posts_split_into_body_hashtags_and_image() {
        let draft = parse_post(
            " Fresh beans, roasted daily in Lyon ☕ Visit us! #Coffee #Lyon\nImage: Beans in a sack",
        );
        assert_eq!(
            draft.body,
            "Fresh beans, roasted daily in Lyon ☕ Visit us!"
        );
        assert_eq!(draft.hashtags, vec!["Coffee", "Lyon"]);
        assert_eq!(draft.media_prompt, "Beans in a sack");
        let bare = parse_post(" Just text");
        assert_eq!(bare.body, "Just text");
        assert!(bare.media_prompt.is_empty());
    }

    #[test]
    fn suggestions_need_two_themes_or_fall_back() {
        let fallback = Suggestions {
            themes: vec![SuggestedTheme {
                name: "Fallback".into(),
                description: String::new(),
            }],
            hashtags: vec!["X".into()],
            guidance: "G".into(),
        };
        let parsed = parse_suggestions(
            " A one | B two\nHashtags: #Coffee #Lyon\n",
            fallback.clone(),
        );
        assert_eq!(parsed.themes.len(), 2);
        assert_eq!(parsed.hashtags, vec!["Coffee", "Lyon"]);
        assert_eq!(parsed.guidance, "G");
        let thin = parse_suggestions(" Only", fallback.clone());
        assert_eq!(thin.themes, fallback.themes);
    }
}
