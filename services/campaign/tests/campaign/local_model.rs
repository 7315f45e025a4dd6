//! The local model (Gemma 3 270M through llama.cpp) as the studio's writer: real
//! generations, parsed and composed within the platforms' rules. A missing model fails
//! the test (run `make models`), never skips it.

use marquee_campaign::domain::analysis::Analysis;
use marquee_campaign::domain::brief::Brief;
use marquee_campaign::domain::campaigns::Theme;
use marquee_campaign::domain::posts::{compose, kind};
use marquee_campaign::domain::topic::TopicTerms;
use marquee_campaign::domain::writer::{AnalysisInput, PostInput, Writer};
use marquee_campaign::providers::local::LocalWriter;
use marquee_llm::{LoadOptions, LocalModel};
use marquee_social::Platform;
use tokio_util::sync::CancellationToken;

fn brief() -> Brief {
    Brief {
        name: "Spring roast".into(),
        objective: "More subscribers".into(),
        campaign_type: "product".into(),
        business_description: "Acme Roasters roasts organic single-origin coffee beans every morning in Lyon and delivers them to subscribers within 48 hours.".into(),
        urls: vec![],
        asset_ids: vec![],
        target_audience: "Coffee lovers in France".into(),
        platforms: vec![Platform::X, Platform::LinkedIn, Platform::Bluesky],
        creativity: 5,
        post_count: 3,
        time_zone: "UTC".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_model_analyses_and_writes_posts_that_fit() {
    let path = super::models_dir().join(marquee_llm::DEFAULT_MODEL_FILE);
    // One thread: tests run side by side, and one thread does not collapse under load.
    let options = LoadOptions {
        threads: 1,
        ..LoadOptions::default()
    };
    let model = LocalModel::load_async(&path, &options)
        .await
        .unwrap_or_else(|e| panic!("{}: {e} — run `make models`", path.display()));
    // A fixed seed: the same text every run, so the test cannot flake.
    let writer = LocalWriter::new(model).with_seed(7);
    let cancel = CancellationToken::new();
    let brief = brief();
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
        .unwrap();
    assert!(
        draft.usage.output_tokens > 0,
        "the model wrote the analysis"
    );
    assert!(!draft.value.company_name.is_empty());
    let analysis = Analysis {
        draft: draft.value,
        provider: "local".into(),
        created_at: chrono::Utc::now(),
        sources: vec!["description".into()],
    };
    let topic = TopicTerms::new(&analysis.draft.company_name, &brief.business_description);
    let mut on_topic = 0;
    for platform in [Platform::X, Platform::LinkedIn, Platform::Bluesky] {
        let input = PostInput {
            brief: brief.clone(),
            analysis: analysis.clone(),
            guidance: "Warm and concrete.".into(),
            platform,
            kind: kind::TEXT_IMAGE.into(),
            theme: Theme {
                name: "Fresh every morning".into(),
                description: String::new(),
                selected: true,
            },
            hashtags: vec!["Coffee".into()],
            instructions: String::new(),
            avoid: vec![],
            attempt: 0,
        };
        let written = writer.write_post(&input, &cancel).await.unwrap();
        assert!(written.usage.output_tokens > 0);
        if let Some(post) = compose(
            platform,
            kind::TEXT_IMAGE,
            &written.value,
            &input.hashtags,
            None,
        ) {
            assert!(
                marquee_social::check(platform, &post.text).is_ok(),
                "{platform}: {}",
                post.text
            );
            if topic.is_on_topic(&written.value.body) {
                on_topic += 1;
            }
        }
    }
    // The studio writes off-topic posts again (then falls back to the rules composer), so
    // a first try may miss; the share over the evaluation set is in docs/benchmarks.md.
    // The seed makes this count fixed: a model that drifts off the brief every time fails.
    assert!(
        on_topic >= 1,
        "{on_topic} of 3 posts on topic at the first try"
    );

    // Cancelled before it starts: no text, the Cancelled error.
    let cancelled = CancellationToken::new();
    cancelled.cancel();
    let result = writer
        .analyse(
            &AnalysisInput {
                brief,
                pages: vec![],
                assets: vec![],
            },
            &cancelled,
        )
        .await;
    assert!(
        matches!(
            result,
            Err(marquee_campaign::error::CampaignError::Cancelled)
        ),
        "{result:?}"
    );
}
