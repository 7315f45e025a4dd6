//! The evaluation set (`data/eval/briefs.json`, 21 briefs over every platform): every post
//! the studio would publish is within its platform's rules (must be 100 %), and on topic.
//! Here with the rules composer (fast, deterministic); `make bench` runs the same set on
//! the local model (examples/campaign_eval.rs) and reports both shares.

use marquee_campaign::domain::analysis::Analysis;
use marquee_campaign::domain::brief::Brief;
use marquee_campaign::domain::campaigns::Theme;
use marquee_campaign::domain::posts::{compose, plan};
use marquee_campaign::domain::writer::{AnalysisInput, PostInput, SuggestInput, Writer};
use marquee_campaign::providers::rules::RulesWriter;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

#[derive(Deserialize)]
pub struct EvalBrief {
    pub name: String,
    pub campaign_type: String,
    pub business_description: String,
    pub platforms: Vec<String>,
    /// Words (or stems) a post on topic mentions at least one of.
    pub topic: Vec<String>,
}

pub fn briefs() -> Vec<EvalBrief> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/eval/briefs.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn on_topic(text: &str, topic: &[String]) -> bool {
    let lower = text.to_lowercase();
    topic.iter().any(|word| lower.contains(word.as_str()))
}

#[tokio::test]
async fn every_post_of_the_evaluation_set_is_within_its_platforms_rules() {
    let set = briefs();
    assert!(set.len() >= 20);
    let cancel = CancellationToken::new();
    let (mut posts, mut within, mut topical) = (0, 0, 0);
    for eval in &set {
        let brief = Brief {
            name: eval.name.clone(),
            objective: String::new(),
            campaign_type: eval.campaign_type.clone(),
            business_description: eval.business_description.clone(),
            urls: vec!["https://example.com/shop".into()],
            asset_ids: vec![],
            target_audience: String::new(),
            platforms: marquee_campaign::domain::brief::parse_platforms(&eval.platforms).unwrap(),
            creativity: 7,
            post_count: 9,
            time_zone: "UTC".into(),
        }
        .checked()
        .unwrap();
        let writer = RulesWriter;
        let draft = writer
            .analyse(
                &AnalysisInput {
                    brief: brief.clone(),
                    pages: vec![],
                    assets: vec![],
                },
                &cancel,
            )
            .await
            .unwrap()
            .value;
        let analysis = Analysis {
            draft,
            provider: "rules".into(),
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
            .await
            .unwrap()
            .value;
        let themes: Vec<Theme> = suggestions
            .themes
            .iter()
            .map(|t| Theme {
                name: t.name.clone(),
                description: t.description.clone(),
                selected: true,
            })
            .collect();
        for slot in plan(&brief.platforms, &themes, brief.post_count, true) {
            let input = PostInput {
                brief: brief.clone(),
                analysis: analysis.clone(),
                guidance: suggestions.guidance.clone(),
                platform: slot.platform,
                kind: slot.kind.into(),
                theme: slot.theme.clone(),
                hashtags: suggestions.hashtags.clone(),
                instructions: String::new(),
                avoid: vec![],
                attempt: 0,
            };
            let draft = writer.write_post(&input, &cancel).await.unwrap().value;
            let post = compose(
                slot.platform,
                slot.kind,
                &draft,
                &suggestions.hashtags,
                brief.urls.first().map(String::as_str),
            )
            .expect("the rules composer always writes something");
            posts += 1;
            if marquee_social::check(slot.platform, &post.text).is_ok() {
                within += 1;
            }
            if on_topic(&post.text, &eval.topic) {
                topical += 1;
            }
        }
    }
    assert_eq!(within, posts, "every post within its platform's rules");
    assert_eq!(topical, posts, "the rules composer is always on topic");
}
