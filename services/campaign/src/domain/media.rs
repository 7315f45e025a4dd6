//! Visuals for posts, as background jobs: an image or a video made by a provider and
//! stored in content as the owner's asset (so it is moderated, tagged and counted
//! against quota like any upload), then attached to the post.
//!
//! Providers: Gemini images and Veo video with an API key; without one, a local
//! template render — a designed card (brand colours, the post's headline, the creator's
//! asset behind it) or an animated card — always labelled `template`, never presented as
//! AI imagery.

use super::jobs::{JobContext, JobParams, kind as job_kind};
use super::posts::Post;
use super::writer::Usage;
use super::{NewAsset, Studio};
use crate::error::{CampaignError, Result};
use crate::store;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use marquee_platform::Principal;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Largest background picture read from content.
const MAX_BACKGROUND_BYTES: u64 = 16 * 1024 * 1024;

/// What a visual is made from.
#[derive(Debug, Clone)]
pub struct VisualRequest {
    pub prompt: String,
    /// A short line from the post, for template renders.
    pub headline: String,
    /// The business, for the card's footer.
    pub brand: String,
    pub brand_colors: Vec<[u8; 3]>,
    /// `1:1` (most platforms) or `16:9` (X, LinkedIn, Facebook link cards), `9:16` video.
    pub aspect_ratio: &'static str,
    pub background: Option<Bytes>,
}

/// A made file.
#[derive(Debug, Clone)]
pub struct Made {
    pub bytes: Bytes,
    /// `png`, `jpg`, `gif` or `mp4`.
    pub extension: &'static str,
    pub usage: Usage,
}

/// Progress of a long render, in percent of its own work.
pub type OnProgress<'a> = &'a (dyn Fn(u32) + Send + Sync);

#[async_trait]
pub trait VisualMaker: Send + Sync {
    /// `gemini`, `veo` or `template`.
    fn provider(&self) -> &'static str;
    /// Whether what it makes is AI-generated (template renders are not).
    fn is_ai(&self) -> bool;
    async fn make(
        &self,
        request: &VisualRequest,
        cancel: &CancellationToken,
        progress: OnProgress<'_>,
    ) -> Result<Made>;
}

/// The image and video makers in use.
#[derive(Clone)]
pub struct Visuals {
    pub image: Arc<dyn VisualMaker>,
    pub video: Arc<dyn VisualMaker>,
}

impl Visuals {
    pub fn image_provider(&self) -> &'static str {
        self.image.provider()
    }

    pub fn video_provider(&self) -> Option<&'static str> {
        Some(self.video.provider())
    }
}

/// Colours for a brand without any: one of a few designed pairs, chosen by its name.
pub fn brand_colors(name: &str) -> Vec<[u8; 3]> {
    const PAIRS: [[[u8; 3]; 2]; 6] = [
        [[0x1F, 0x3A, 0x5F], [0xF4, 0xA2, 0x59]],
        [[0x2D, 0x3A, 0x2E], [0xC9, 0xE4, 0xCA]],
        [[0x5B, 0x21, 0x4E], [0xF7, 0xC5, 0x9F]],
        [[0x0B, 0x3C, 0x49], [0xF2, 0xE8, 0xCF]],
        [[0x3D, 0x0C, 0x11], [0xF5, 0xCA, 0xC3]],
        [[0x22, 0x22, 0x3B], [0xE0, 0xE1, 0xDD]],
    ];
    let hash = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PAIRS[hash as usize % PAIRS.len()].to_vec()
}

/// The post's first sentence without hashtags or links, for a card's headline.
pub fn headline(content: &str) -> String {
    let words: Vec<&str> = content
        .split_whitespace()
        .filter(|w| !w.starts_with('#') && !w.starts_with("http://") && !w.starts_with("https://"))
        .collect();
    let text = words.join(" ");
    let first = super::topic::sentences(&text)
        .into_iter()
        .next()
        .unwrap_or(text);
    if first.chars().count() > 90 {
        let mut cut: String = first.chars().take(89).collect();
        if let Some(space) = cut.rfind(' ') {
            cut.truncate(space);
        }
        cut.push('…');
        cut
    } else {
        first
    }
}

impl Studio {
    /// Makes a post's image or video (a job's work) and attaches it; returns the asset.
    pub(crate) async fn run_media(
        &self,
        owner: &Principal,
        campaign_id: &str,
        post_id: &str,
        media: &str,
        params: &JobParams,
        job: &JobContext,
    ) -> Result<String> {
        let campaign = self.load_campaign(owner, campaign_id).await?;
        let row = store::posts::find(&self.db, &campaign.id, post_id)
            .await?
            .ok_or(CampaignError::NotFound("post"))?;
        let post = Post::from_row(row)?;
        let (maker, limit, amount) = if media == job_kind::VIDEO {
            (self.visuals.video.clone(), "video_seconds", 8)
        } else {
            (self.visuals.image.clone(), "image_generations", 1)
        };
        job.progress(5, "preparing").await?;
        let background = match params.background_asset_id.as_str() {
            "" => None,
            id => Some(self.assets.picture(owner, id, MAX_BACKGROUND_BYTES).await?),
        };
        let brand = campaign
            .analysis
            .as_ref()
            .map(|a| a.draft.company_name.clone())
            .unwrap_or_else(|| campaign.brief.name.clone());
        let request = VisualRequest {
            prompt: if post.media_prompt.trim().is_empty() {
                format!("{brand}: {}", headline(&post.content))
            } else {
                post.media_prompt.clone()
            },
            headline: headline(&post.content),
            brand_colors: brand_colors(&brand),
            brand,
            aspect_ratio: match (media, post.platform) {
                (job_kind::VIDEO, _) => "9:16",
                (_, marquee_social::Platform::X)
                | (_, marquee_social::Platform::LinkedIn)
                | (_, marquee_social::Platform::Facebook) => "16:9",
                _ => "1:1",
            },
            background,
        };
        // AI makers spend the plan's AI quota; template renders are not AI generations
        // (the asset they make still counts against storage in content).
        let hold = if maker.is_ai() {
            Some(
                self.quota
                    .reserve(owner, limit, amount, &format!("job:{}:{media}", job.id))
                    .await?,
            )
        } else {
            None
        };
        job.progress(10, &format!("making the {media}")).await?;
        // The maker reports its own percent; the job's row is updated from it every
        // few hundred milliseconds (10–85 % of the job).
        let current = std::sync::atomic::AtomicU32::new(0);
        let progress = |percent: u32| {
            current.store(percent.min(100), std::sync::atomic::Ordering::Relaxed);
        };
        let made = {
            let started = std::time::Instant::now();
            let making = maker.make(&request, job.cancel(), &progress);
            tokio::pin!(making);
            let made = loop {
                tokio::select! {
                    made = &mut making => break made,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(300)) => {
                        let percent = current.load(std::sync::atomic::Ordering::Relaxed);
                        // A cancelled job surfaces through the maker's own token check.
                        let _ = job.progress(10 + percent * 75 / 100, &format!("making the {media}")).await;
                    }
                }
            };
            let outcome = match &made {
                Ok(_) => "success",
                Err(CampaignError::Generation { kind, .. }) => kind,
                Err(CampaignError::Cancelled) => "cancelled",
                Err(_) => "error",
            };
            if maker.is_ai() {
                metrics::counter!("marquee_ai_generations_total", "provider" => maker.provider(), "kind" => media.to_string(), "outcome" => outcome).increment(1);
                metrics::histogram!("marquee_ai_generation_seconds", "provider" => maker.provider(), "kind" => media.to_string())
                    .record(started.elapsed().as_secs_f64());
                if let Ok(made) = &made {
                    metrics::gauge!("marquee_ai_cost_usd_total", "provider" => maker.provider())
                        .increment(made.usage.cost_usd);
                }
            }
            made
        };
        let made = match made {
            Ok(made) => made,
            Err(error) => {
                self.release_hold(owner, hold.as_ref()).await;
                return Err(error);
            }
        };
        job.progress(85, "storing it in your assets").await?;
        let label = if maker.is_ai() {
            format!("AI-generated {media} ({})", maker.provider())
        } else {
            format!("template render ({media}), not AI imagery")
        };
        let uploaded = self
            .assets
            .upload(
                owner,
                NewAsset {
                    title: super::analysis::clip(
                        &format!(
                            "{} — {} {media}",
                            campaign.brief.name,
                            post.platform.label()
                        ),
                        200,
                    ),
                    description: format!(
                        "Made by the campaign studio for a {} post: {label}.",
                        post.platform.label()
                    ),
                    tags: vec![
                        "campaign".into(),
                        if maker.is_ai() {
                            "ai-generated"
                        } else {
                            "template"
                        }
                        .into(),
                    ],
                    filename: format!("{}-{media}.{}", post.id, made.extension),
                    bytes: made.bytes,
                },
            )
            .await;
        let asset_id = match uploaded {
            Ok(id) => id,
            Err(error) => {
                self.release_hold(owner, hold.as_ref()).await;
                return Err(error);
            }
        };
        store::posts::attach_media(&self.db, &post.id, &asset_id, maker.provider(), Utc::now())
            .await?;
        if let Some(hold) = &hold {
            self.quota.commit(owner, hold).await?;
        }
        Ok(asset_id)
    }

    /// Gives a hold back; a failed release only leaves it to expire.
    async fn release_hold(&self, owner: &Principal, hold: Option<&super::Hold>) {
        if let Some(hold) = hold
            && let Err(release) = self.quota.release(owner, hold).await
        {
            tracing::warn!(%release, "releasing the media hold failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_skip_tags_and_links() {
        assert_eq!(
            headline("Fresh beans daily! Come by. https://acme.example #Coffee"),
            "Fresh beans daily!"
        );
        let long = "word ".repeat(40);
        let h = headline(&long);
        assert!(h.chars().count() <= 90 && h.ends_with('…'));
    }

    #[test]
    fn brand_colours_are_stable() {
        assert_eq!(brand_colors("Acme"), brand_colors("Acme"));
        assert_eq!(brand_colors("Acme").len(), 2);
    }
}
