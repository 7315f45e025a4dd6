//! Business analysis: read the brief, the websites and the attached assets, have the
//! provider write a structured analysis, then suggest themes, hashtags and guidance
//! (fed by the attached assets' tags and the tenant's taxonomy when tagging is there).

use super::campaigns::{Campaign, Hashtag, Theme, normalise_hashtag, status};
use super::jobs::JobContext;
use super::writer::{AnalysisDraft, AnalysisInput, SuggestInput};
use super::{AssetFacts, Page, Studio};
use crate::error::{CampaignError, Result};
use crate::store;
use chrono::{DateTime, Utc};
use marquee_platform::Principal;
use serde::{Deserialize, Serialize};

/// Themes and hashtags selected by default after an analysis.
const SELECTED_THEMES: usize = 3;
const SELECTED_HASHTAGS: usize = 6;
const MAX_SUGGESTED_HASHTAGS: usize = 20;
/// Taxonomy labels offered as hashtag hints (the ones closest to the brief's words).
const TAXONOMY_HINTS: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    #[serde(flatten)]
    pub draft: AnalysisDraft,
    pub provider: String,
    pub created_at: DateTime<Utc>,
    /// `description`, `url:<url>`, `asset:<id>`.
    pub sources: Vec<String>,
}

impl Studio {
    /// Runs the analysis of a campaign (a job's work) and saves it with suggested themes,
    /// hashtags and (unless the creator wrote some) guidance.
    pub(crate) async fn run_analysis(
        &self,
        owner: &Principal,
        campaign_id: &str,
        job: &JobContext,
    ) -> Result<Campaign> {
        let mut campaign = self.load_campaign(owner, campaign_id).await?;
        store::campaigns::set_status(&self.db, &campaign.id, status::ANALYSING).await?;
        let result = self.analyse(owner, &mut campaign, job).await;
        let outcome = if result.is_ok() {
            status::ANALYSED
        } else if campaign.analysis.is_some() {
            // A failed re-analysis leaves the previous one in place.
            status::ANALYSED
        } else {
            status::FAILED
        };
        store::campaigns::set_status(&self.db, &campaign.id, outcome).await?;
        result?;
        campaign.status = outcome.into();
        Ok(campaign)
    }

    async fn analyse(
        &self,
        owner: &Principal,
        campaign: &mut Campaign,
        job: &JobContext,
    ) -> Result<()> {
        let brief = campaign.brief.clone();
        let mut sources = Vec::new();
        if !brief.business_description.trim().is_empty() {
            sources.push("description".to_string());
        }
        let mut pages: Vec<Page> = Vec::new();
        for url in &brief.urls {
            job.progress(5, &format!("reading {url}")).await?;
            pages.push(self.web.fetch(url).await?);
            sources.push(format!("url:{url}"));
        }
        let mut assets: Vec<AssetFacts> = Vec::new();
        for id in &brief.asset_ids {
            job.progress(15, "reading the attached assets").await?;
            assets.push(self.assets.facts(owner, id).await?);
            sources.push(format!("asset:{id}"));
        }
        job.progress(20, "analysing the business").await?;
        let hold = self
            .quota
            .reserve(
                owner,
                "ai_text_generations",
                2,
                &format!("job:{}:analysis", job.id),
            )
            .await?;
        let written = async {
            let draft = self
                .generate(
                    "analysis",
                    self.writer.analyse(
                        &AnalysisInput {
                            brief: brief.clone(),
                            pages,
                            assets: assets.clone(),
                        },
                        job.cancel(),
                    ),
                )
                .await?;
            let analysis = Analysis {
                draft: clean_draft(draft.value, &brief.name),
                provider: self.provider().into(),
                created_at: Utc::now(),
                sources,
            };
            job.progress(60, "suggesting themes and hashtags").await?;
            let hints = self.hint_tags(owner, &assets, &analysis).await;
            let suggestions = self
                .generate(
                    "themes",
                    self.writer.suggest(
                        &SuggestInput {
                            brief: brief.clone(),
                            analysis: analysis.clone(),
                            hint_tags: hints.iter().map(|(tag, _)| tag.clone()).collect(),
                        },
                        job.cancel(),
                    ),
                )
                .await?;
            Ok::<_, CampaignError>((analysis, suggestions.value, hints))
        }
        .await;
        let (analysis, suggestions, hints) = match written {
            Ok(done) => {
                self.quota.commit(owner, &hold).await?;
                done
            }
            Err(error) => {
                // The failure is what the caller sees; a failed release only leaves the
                // hold to expire.
                if let Err(release) = self.quota.release(owner, &hold).await {
                    tracing::warn!(%release, "releasing the analysis hold failed");
                }
                return Err(error);
            }
        };
        campaign.themes = suggestions
            .themes
            .into_iter()
            .filter(|t| !t.name.trim().is_empty())
            .take(marquee_platform::input::fields::campaign::MAX_THEMES)
            .enumerate()
            .map(|(i, t)| Theme {
                name: clip(&t.name, 80),
                description: clip(&t.description, 500),
                selected: i < SELECTED_THEMES,
            })
            .collect();
        campaign.hashtags = merge_hashtags(&suggestions.hashtags, &hints);
        if campaign.guidance.trim().is_empty() {
            campaign.guidance = clip(&suggestions.guidance, 5000);
        }
        campaign.analysis = Some(analysis);
        campaign.updated_at = Utc::now();
        store::campaigns::save(&self.db, campaign.to_row(None)).await?;
        job.progress(100, "analysis done").await?;
        Ok(())
    }

    /// Hashtag hints: the attached assets' tags, then the taxonomy labels closest to the
    /// analysis' words. Tagging being down only means fewer hints.
    async fn hint_tags(
        &self,
        owner: &Principal,
        assets: &[AssetFacts],
        analysis: &Analysis,
    ) -> Vec<(String, &'static str)> {
        let mut hints: Vec<(String, &'static str)> = Vec::new();
        for tag in assets.iter().flat_map(|a| a.tags.iter()) {
            hints.push((tag.clone(), "asset"));
        }
        match self.taxonomy.labels(owner).await {
            Ok(labels) => {
                let words: Vec<String> = super::topic::words(&format!(
                    "{} {} {}",
                    analysis.draft.industry,
                    analysis.draft.product_context,
                    analysis.draft.key_messages.join(" ")
                ))
                .collect();
                let mut scored: Vec<(usize, String)> = labels
                    .into_iter()
                    .map(|label| {
                        let score = super::topic::words(&label)
                            .filter(|w| words.contains(w))
                            .count();
                        (score, label)
                    })
                    .filter(|(score, _)| *score > 0)
                    .collect();
                scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
                hints.extend(
                    scored
                        .into_iter()
                        .take(TAXONOMY_HINTS)
                        .map(|(_, label)| (label, "taxonomy")),
                );
            }
            Err(error) => tracing::debug!(%error, "no taxonomy hints"),
        }
        hints
    }
}

/// Trims the provider's fields, drops empty list items, and names the company after the
/// campaign when the provider could not.
fn clean_draft(mut draft: AnalysisDraft, campaign_name: &str) -> AnalysisDraft {
    let tidy = |s: &mut String, max: usize| *s = clip(s.trim(), max);
    tidy(&mut draft.company_name, 120);
    if draft.company_name.is_empty() {
        draft.company_name = clip(campaign_name, 120);
    }
    tidy(&mut draft.industry, 120);
    tidy(&mut draft.target_audience, 1000);
    tidy(&mut draft.brand_voice, 500);
    tidy(&mut draft.product_context, 2000);
    for list in [
        &mut draft.value_propositions,
        &mut draft.competitive_advantages,
        &mut draft.key_messages,
    ] {
        list.iter_mut()
            .for_each(|item| *item = clip(item.trim(), 300));
        list.retain(|item| !item.is_empty());
        list.dedup();
        list.truncate(8);
    }
    draft
}

/// Suggested hashtags first (marked `asset`/`taxonomy` when they came from a hint), then
/// the hints themselves as hashtags; the first few selected.
fn merge_hashtags(suggested: &[String], hints: &[(String, &'static str)]) -> Vec<Hashtag> {
    let hint_tags: Vec<(String, &'static str)> = hints
        .iter()
        .filter_map(|(tag, source)| Some((hashtag_of(tag)?, *source)))
        .collect();
    let mut out: Vec<Hashtag> = Vec::new();
    let candidates = suggested
        .iter()
        .filter_map(|tag| normalise_hashtag(tag).ok())
        .map(|tag| {
            let source = hint_tags
                .iter()
                .find(|(hint, _)| hint.eq_ignore_ascii_case(&tag))
                .map_or("analysis", |(_, source)| *source);
            (tag, source)
        })
        .chain(hint_tags.iter().cloned());
    for (name, source) in candidates {
        if out.len() >= MAX_SUGGESTED_HASHTAGS {
            break;
        }
        if out.iter().any(|h| h.name.eq_ignore_ascii_case(&name)) {
            continue;
        }
        out.push(Hashtag {
            selected: out.len() < SELECTED_HASHTAGS,
            name,
            source: source.into(),
        });
    }
    out
}

/// A tag or label as a hashtag: words joined in CamelCase ("food photography" →
/// "FoodPhotography").
pub fn hashtag_of(tag: &str) -> Option<String> {
    let joined: String = tag
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect();
    normalise_hashtag(&joined).ok()
}

/// At most `max` characters.
pub fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_merge_with_hints_and_keep_their_sources() {
        let hints = vec![
            ("latte art".to_string(), "asset"),
            ("food photography".to_string(), "taxonomy"),
        ];
        let merged = merge_hashtags(
            &[
                "#Coffee".into(),
                "LatteArt".into(),
                "bad tag!".into(),
                "coffee".into(),
            ],
            &hints,
        );
        let names: Vec<(&str, &str, bool)> = merged
            .iter()
            .map(|h| (h.name.as_str(), h.source.as_str(), h.selected))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Coffee", "analysis", true),
                ("LatteArt", "asset", true),
                ("FoodPhotography", "taxonomy", true),
            ]
        );
    }

    #[test]
    fn drafts_are_tidied() {
        let draft = clean_draft(
            AnalysisDraft {
                key_messages: vec![" a ".into(), "".into(), "a".into()],
                ..AnalysisDraft::default()
            },
            "Launch",
        );
        assert_eq!(draft.company_name, "Launch");
        assert_eq!(draft.key_messages, vec!["a"]);
    }
}
