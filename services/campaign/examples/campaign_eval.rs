//! The evaluation set on the local model: for each of the 21 briefs, an analysis, themes
//! and 9 posts over its 3 platforms, written and composed exactly as the studio does
//! (on-topic retries, then the rules composer). Prints the share of posts within their
//! platform's rules (must be 100 %), the share on topic at the first try and in the end,
//! the share that fell back to the rules composer, and the time per campaign.
//!
//! `cargo run --release -p marquee-campaign --example campaign_eval -- [models_dir] [briefs]`

use marquee_campaign::domain::analysis::Analysis;
use marquee_campaign::domain::brief::{Brief, parse_platforms};
use marquee_campaign::domain::campaigns::Theme;
use marquee_campaign::domain::posts::{compose, plan};
use marquee_campaign::domain::topic::TopicTerms;
use marquee_campaign::domain::writer::{AnalysisInput, PostInput, SuggestInput, Writer};
use marquee_campaign::providers::local::LocalWriter;
use marquee_campaign::providers::rules::RulesWriter;
use serde::Deserialize;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Deserialize)]
struct EvalBrief {
    name: String,
    campaign_type: String,
    business_description: String,
    platforms: Vec<String>,
    topic: Vec<String>,
}

fn on_topic(text: &str, topic: &[String]) -> bool {
    let lower = text.to_lowercase();
    topic.iter().any(|word| lower.contains(word.as_str()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let models = args.next().unwrap_or_else(|| "models".into());
    let limit: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let set: Vec<EvalBrief> = serde_json::from_str(&std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/eval/briefs.json"),
    )?)?;
    let model = marquee_llm::LocalModel::load_async(
        std::path::Path::new(&models).join(marquee_llm::DEFAULT_MODEL_FILE),
        &marquee_llm::LoadOptions::default(),
    )
    .await?;
    let writer = LocalWriter::new(model).with_seed(1);
    let cancel = CancellationToken::new();
    let (mut posts, mut within, mut first_try, mut topical, mut fallbacks) = (0, 0, 0, 0, 0);
    let mut seconds = Vec::new();
    for eval in set.iter().take(limit) {
        let started = Instant::now();
        let brief = Brief {
            name: eval.name.clone(),
            objective: String::new(),
            campaign_type: eval.campaign_type.clone(),
            business_description: eval.business_description.clone(),
            urls: vec!["https://example.com/".into()],
            asset_ids: vec![],
            target_audience: String::new(),
            platforms: parse_platforms(&eval.platforms)?,
            creativity: 6,
            post_count: 9,
            time_zone: "UTC".into(),
        }
        .checked()?;
        let draft = writer
            .analyse(
                &AnalysisInput {
                    brief: brief.clone(),
                    pages: vec![],
                    assets: vec![],
                },
                &cancel,
            )
            .await?
            .value;
        let analysis = Analysis {
            draft,
            provider: "local".into(),
            created_at: chrono::Utc::now(),
            sources: vec![],
        };
        let suggestions = writer
            .suggest(
                &SuggestInput {
                    brief: brief.clone(),
                    analysis: analysis.clone(),
                    hint_tags: vec![],
                },
                &cancel,
            )
            .await?
            .value;
        let themes: Vec<Theme> = suggestions
            .themes
            .iter()
            .take(3)
            .map(|t| Theme {
                name: t.name.clone(),
                description: t.description.clone(),
                selected: true,
            })
            .collect();
        let terms = TopicTerms::new(
            &analysis.draft.company_name,
            &format!("{} {}", brief.name, brief.business_description),
        );
        let link = brief.urls.first().map(String::as_str);
        for slot in plan(&brief.platforms, &themes, brief.post_count, true) {
            let mut chosen = None;
            for attempt in 0..3 {
                let input = PostInput {
                    brief: brief.clone(),
                    analysis: analysis.clone(),
                    guidance: suggestions.guidance.clone(),
                    platform: slot.platform,
                    kind: slot.kind.into(),
                    theme: slot.theme.clone(),
                    hashtags: vec![],
                    instructions: String::new(),
                    avoid: vec![],
                    attempt,
                };
                let draft = writer.write_post(&input, &cancel).await?.value;
                if let Some(post) = compose(slot.platform, slot.kind, &draft, &[], link)
                    && terms.is_on_topic(&draft.body)
                {
                    if attempt == 0 {
                        first_try += 1;
                    }
                    chosen = Some(post);
                    break;
                }
            }
            let post = match chosen {
                Some(post) => post,
                None => {
                    fallbacks += 1;
                    let draft = RulesWriter::post_for(
                        &brief,
                        &analysis,
                        slot.platform,
                        slot.kind,
                        &slot.theme,
                        &[],
                        posts,
                    );
                    compose(slot.platform, slot.kind, &draft, &[], link)
                        .expect("rules write something")
                }
            };
            posts += 1;
            within += usize::from(marquee_social::check(slot.platform, &post.text).is_ok());
            topical += usize::from(on_topic(&post.text, &eval.topic));
        }
        seconds.push(started.elapsed().as_secs_f64());
        eprintln!(
            "{:<16} {:>5.1} s",
            eval.name,
            started.elapsed().as_secs_f64()
        );
    }
    let pct = |n: usize| 100.0 * n as f64 / posts.max(1) as f64;
    seconds.sort_by(f64::total_cmp);
    println!("campaigns: {}  posts: {posts}", seconds.len());
    println!(
        "within platform rules: {within}/{posts} ({:.1} %)",
        pct(within)
    );
    println!(
        "on topic (the brief's words): {topical}/{posts} ({:.1} %)",
        pct(topical)
    );
    println!(
        "on topic at the first try: {first_try}/{posts} ({:.1} %)",
        pct(first_try)
    );
    println!(
        "written by the rules composer after 3 off-topic tries: {fallbacks}/{posts} ({:.1} %)",
        pct(fallbacks)
    );
    println!(
        "seconds per 9-post campaign (analysis + themes + posts): median {:.1}, max {:.1}",
        seconds[seconds.len() / 2],
        seconds[seconds.len() - 1]
    );
    Ok(())
}
