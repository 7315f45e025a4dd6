//! The rules composer: analysis, themes and posts put together from the brief's own
//! sentences and fixed templates, with no model. Used only when no model is available
//! (and in fast tests); every output says `provider: rules`.

use crate::domain::analysis::{Analysis, clip};
use crate::domain::brief::Brief;
use crate::domain::campaigns::Theme;
use crate::domain::posts::kind;
use crate::domain::topic::{key_terms, sentences};
use crate::domain::writer::{
    AnalysisDraft, AnalysisInput, ChatInput, ChatReply, PostDraft, PostInput, SuggestInput,
    SuggestedTheme, Suggestions, Usage, Writer, Written,
};
use crate::error::Result;
use async_trait::async_trait;
use marquee_social::Platform;
use tokio_util::sync::CancellationToken;

pub struct RulesWriter;

fn written<T>(value: T) -> Result<Written<T>> {
    Ok(Written {
        value,
        usage: Usage::default(),
    })
}

/// Industries recognised by their words.
const INDUSTRIES: &[(&str, &[&str])] = &[
    (
        "Food & beverage",
        &[
            "coffee",
            "bakery",
            "restaurant",
            "food",
            "tea",
            "wine",
            "beer",
            "cafe",
            "kitchen",
            "chocolate",
            "bread",
        ],
    ),
    (
        "Fashion & apparel",
        &[
            "fashion", "clothing", "apparel", "shoes", "sneakers", "jewelry", "wear",
        ],
    ),
    (
        "Software & technology",
        &[
            "software",
            "app",
            "saas",
            "platform",
            "cloud",
            "api",
            "developer",
            "ai",
            "data",
        ],
    ),
    (
        "Health & fitness",
        &[
            "fitness", "gym", "yoga", "health", "wellness", "clinic", "training",
        ],
    ),
    (
        "Travel & hospitality",
        &["travel", "hotel", "tour", "trip", "booking", "resort"],
    ),
    (
        "Education",
        &[
            "course",
            "school",
            "learning",
            "education",
            "classes",
            "tutoring",
        ],
    ),
    (
        "Home & garden",
        &["furniture", "garden", "interior", "decor", "plants"],
    ),
    (
        "Beauty & personal care",
        &["beauty", "skincare", "cosmetics", "salon", "hair"],
    ),
    (
        "Arts & events",
        &[
            "festival", "concert", "art", "gallery", "event", "music", "theatre",
        ],
    ),
];

fn industry_of(text: &str) -> String {
    let words: Vec<String> = crate::domain::topic::words(text).collect();
    INDUSTRIES
        .iter()
        .map(|(name, cues)| {
            (
                name,
                cues.iter()
                    .filter(|c| words.iter().any(|w| w == *c))
                    .count(),
            )
        })
        .filter(|(_, hits)| *hits > 0)
        // The first industry listed wins a tie.
        .rev()
        .max_by_key(|(_, hits)| *hits)
        .map_or_else(
            || "General business".to_string(),
            |(name, _)| name.to_string(),
        )
}

fn voice_for(creativity: u32) -> &'static str {
    match creativity {
        1..=3 => "Clear, factual and reassuring",
        4..=7 => "Warm, confident and friendly",
        _ => "Bold, playful and surprising",
    }
}

/// Everything the brief and its sources say, as one text.
fn all_text(input: &AnalysisInput) -> String {
    let mut text = input.brief.business_description.clone();
    for page in &input.pages {
        text.push('\n');
        text.push_str(&page.title);
        text.push('\n');
        text.push_str(&page.description);
        text.push('\n');
        text.push_str(&page.text.chars().take(4000).collect::<String>());
    }
    for asset in &input.assets {
        text.push('\n');
        text.push_str(&asset.title);
        text.push('\n');
        text.push_str(&asset.description);
        text.push('\n');
        text.push_str(&asset.text_excerpt);
    }
    text
}

/// The company's name: the first page's title before its separator, else the brief's
/// name.
fn company_of(input: &AnalysisInput) -> String {
    input
        .pages
        .iter()
        .map(|p| {
            p.title
                .split(['|', '-', '–', '—', ':'])
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .find(|t| !t.is_empty() && t.chars().count() <= 60)
        .unwrap_or_else(|| input.brief.name.clone())
}

impl RulesWriter {
    pub fn analysis(input: &AnalysisInput) -> AnalysisDraft {
        let text = all_text(input);
        let lines = sentences(&text);
        let benefit_words = [
            "help", "save", "fresh", "best", "free", "fast", "easy", "quality", "local",
            "handmade", "organic", "premium", "new", "award",
        ];
        let benefits: Vec<String> = lines
            .iter()
            .filter(|s| {
                let lower = s.to_lowercase();
                benefit_words.iter().any(|w| lower.contains(w))
            })
            .take(4)
            .map(|s| clip(s, 200))
            .collect();
        let key: Vec<String> = lines.iter().take(3).map(|s| clip(s, 200)).collect();
        let terms = key_terms(&text, 6);
        AnalysisDraft {
            company_name: company_of(input),
            industry: industry_of(&text),
            target_audience: if input.brief.target_audience.trim().is_empty() {
                format!(
                    "People interested in {}",
                    terms.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                )
            } else {
                input.brief.target_audience.clone()
            },
            value_propositions: if benefits.is_empty() {
                key.clone()
            } else {
                benefits
            },
            brand_voice: voice_for(input.brief.creativity).into(),
            competitive_advantages: terms
                .iter()
                .take(3)
                .map(|t| format!("Known for {t}"))
                .collect(),
            key_messages: key,
            product_context: clip(lines.first().map_or("", String::as_str), 500),
        }
    }

    pub fn suggestions(input: &SuggestInput) -> Suggestions {
        let a = &input.analysis.draft;
        let terms = key_terms(
            &format!(
                "{} {} {}",
                input.brief.business_description,
                a.product_context,
                a.key_messages.join(" ")
            ),
            8,
        );
        let mut themes = vec![
            SuggestedTheme {
                name: format!("Meet {}", a.company_name),
                description: "Who the business is and what it stands for".into(),
            },
            SuggestedTheme {
                name: "Why customers choose us".into(),
                description: a.value_propositions.first().cloned().unwrap_or_default(),
            },
            SuggestedTheme {
                name: "Behind the scenes".into(),
                description: format!(
                    "How the {} gets made",
                    terms.first().cloned().unwrap_or_else(|| "work".into())
                ),
            },
        ];
        if input.brief.campaign_type == "event" {
            themes.push(SuggestedTheme {
                name: "Save the date".into(),
                description: "Dates, place and how to join".into(),
            });
        } else {
            themes.push(SuggestedTheme {
                name: "Special offer".into(),
                description: "A reason to act now".into(),
            });
        }
        let mut hashtags: Vec<String> = terms
            .iter()
            .take(5)
            .filter_map(|t| crate::domain::analysis::hashtag_of(t))
            .collect();
        if let Some(name) = crate::domain::analysis::hashtag_of(&a.company_name) {
            hashtags.insert(0, name);
        }
        hashtags.extend(
            input
                .hint_tags
                .iter()
                .take(4)
                .filter_map(|t| crate::domain::analysis::hashtag_of(t)),
        );
        Suggestions {
            themes,
            hashtags,
            guidance: format!(
                "Voice: {}. Speak to {}. Lead with: {}.",
                a.brand_voice,
                a.target_audience,
                a.key_messages
                    .first()
                    .cloned()
                    .unwrap_or_else(|| a.company_name.clone())
            ),
        }
    }

    /// A post from templates, varied by `variant` (the post's place in the campaign).
    pub fn post_for(
        brief: &Brief,
        analysis: &Analysis,
        platform: Platform,
        post_kind: &str,
        theme: &Theme,
        hashtags: &[String],
        variant: usize,
    ) -> PostDraft {
        let a = &analysis.draft;
        let company = &a.company_name;
        let message = a
            .value_propositions
            .get(variant % a.value_propositions.len().max(1))
            .or(a.key_messages.first())
            .cloned()
            .unwrap_or_else(|| brief.business_description.chars().take(200).collect());
        let call = match (brief.campaign_type.as_str(), post_kind) {
            ("event", _) => "Save your spot today.",
            (_, k) if k == kind::TEXT_URL => "Find out more at the link.",
            (_, k) if k == kind::TEXT_VIDEO => "Watch and tell us what you think!",
            _ => "Come and see for yourself.",
        };
        let openers = [
            format!("{}: {}", theme.name, message),
            format!("{company} — {message}"),
            format!("Why {company}? {message}"),
        ];
        let mut body = format!("{} {call}", openers[variant % openers.len()]);
        if matches!(platform, Platform::LinkedIn | Platform::Facebook)
            && !theme.description.is_empty()
        {
            body = format!("{body}\n\n{}", theme.description);
        }
        PostDraft {
            body,
            hashtags: hashtags.to_vec(),
            media_prompt: if post_kind == kind::TEXT_URL {
                String::new()
            } else {
                format!("{company}: {}", theme.name)
            },
        }
    }
}

#[async_trait]
impl Writer for RulesWriter {
    fn provider(&self) -> &'static str {
        "rules"
    }

    async fn analyse(
        &self,
        input: &AnalysisInput,
        _: &CancellationToken,
    ) -> Result<Written<AnalysisDraft>> {
        written(Self::analysis(input))
    }

    async fn suggest(
        &self,
        input: &SuggestInput,
        _: &CancellationToken,
    ) -> Result<Written<Suggestions>> {
        written(Self::suggestions(input))
    }

    async fn write_post(
        &self,
        input: &PostInput,
        _: &CancellationToken,
    ) -> Result<Written<PostDraft>> {
        written(Self::post_for(
            &input.brief,
            &input.analysis,
            input.platform,
            &input.kind,
            &input.theme,
            &input.hashtags,
            input.avoid.len() + input.attempt as usize,
        ))
    }

    async fn chat(&self, input: &ChatInput, _: &CancellationToken) -> Result<Written<ChatReply>> {
        // Without a model the composer can only take the creator's words as guidance.
        let guidance = if input.guidance.trim().is_empty() {
            input.message.clone()
        } else {
            format!("{}\n{}", input.guidance.trim(), input.message.trim())
        };
        written(ChatReply {
            reply: "Noted: I added that to the guidance (no AI model is configured, so I cannot discuss it).".into(),
            guidance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Page;

    #[test]
    fn industries_and_names_come_from_the_sources() {
        let brief = crate::domain::brief::Brief {
            name: "Spring".into(),
            objective: String::new(),
            campaign_type: "product".into(),
            business_description: "We roast organic coffee beans in Lyon. Fresh every morning."
                .into(),
            urls: vec![],
            asset_ids: vec![],
            target_audience: String::new(),
            platforms: vec![Platform::X],
            creativity: 5,
            post_count: 3,
            time_zone: "UTC".into(),
        };
        let input = AnalysisInput {
            brief,
            pages: vec![Page {
                title: "Acme Roasters | Home".into(),
                ..Page::default()
            }],
            assets: vec![],
        };
        let draft = RulesWriter::analysis(&input);
        assert_eq!(draft.company_name, "Acme Roasters");
        assert_eq!(draft.industry, "Food & beverage");
        assert!(!draft.value_propositions.is_empty());
    }
}
