//! Gemini as a tagger, against a local server speaking its REST format: its tags join the
//! local ones (`provider: gemini`) with the picture sent inline and a JSON response
//! schema; a 429, a timeout or a malformed answer leaves the local models' tags standing.

use super::load_models;
use marquee_platform::SecretString;
use marquee_tagging::clients::gemini::Gemini;
use marquee_tagging::domain::tagger::{AssetText, EmbeddedTaxonomy, Tagger, TaggerOptions};
use marquee_tagging::domain::taxonomy;
use marquee_testkit::gemini::{API_KEY, FakeGemini, Reply};
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

fn photo() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images/coffee.jpg"),
    )
    .unwrap()
}

fn providers(tags: &[marquee_tagging::domain::tags::Tag]) -> Vec<&str> {
    tags.iter().map(|t| t.provider.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_tags_join_the_local_ones_and_failures_fall_back() {
    marquee_platform::install_crypto_provider();
    let fake = FakeGemini::start().await;
    let models = load_models();
    let gemini = Gemini::new(
        &fake.base,
        "gemini-2.5-flash",
        SecretString::from(API_KEY),
        TIMEOUT,
    )
    .unwrap();
    let tagger = Tagger {
        text: models.text.clone(),
        image: models.image.clone(),
        remote: Some(Arc::new(gemini)),
        options: TaggerOptions {
            topic_tags: 3,
            topic_min_confidence: 0.2,
            keyword_tags: 5,
            image_tags: 3,
            image_min_probability: 0.1,
            max_image_pixels: 40_000_000,
        },
    };
    let labels = taxonomy::default_labels();
    let taxonomy = EmbeddedTaxonomy {
        names: labels.iter().map(|l| l.name.clone()).collect(),
        vectors: models
            .text
            .embed(labels.iter().map(taxonomy::Label::prompt).collect())
            .await
            .unwrap(),
    };
    let asset = AssetText {
        title: "Morning cup".into(),
        kind: "image".into(),
        ..AssetText::default()
    };

    fake.reply(Reply::Text(
        r#"{"tags":[{"name":"Latte Art","confidence":0.92},{"name":"cafe","confidence":0.7}]}"#
            .into(),
    ));
    let result = tagger.tag(&asset, Some(photo()), &taxonomy).await.unwrap();
    let gemini: Vec<(&str, f32)> = result
        .tags
        .iter()
        .filter(|t| t.provider == "gemini")
        .map(|t| (t.name.as_str(), t.confidence))
        .collect();
    assert_eq!(gemini, [("latte art", 0.92), ("cafe", 0.7)]);
    assert!(
        providers(&result.tags).contains(&"efficientnet-lite0"),
        "local tags too"
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.api_key.as_deref(), Some(API_KEY));
    assert_eq!(
        sent.body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(sent.body["generationConfig"]["responseSchema"]["properties"]["tags"].is_object());
    let parts = sent.body["contents"][0]["parts"].as_array().unwrap();
    assert_eq!(parts[1]["inline_data"]["mime_type"], "image/jpeg");
    assert!(parts[0]["text"].as_str().unwrap().contains("Morning cup"));

    // Each failure: the local models' tags alone, never an error, never a made-up tag.
    for failure in [
        Reply::Status(429, "Resource has been exhausted (e.g. check quota)."),
        Reply::Status(500, "Internal error"),
        Reply::Delay(
            TIMEOUT * 3,
            r#"{"tags":[{"name":"late","confidence":1}]}"#.into(),
        ),
        Reply::Malformed,
        Reply::Text("these are not JSON tags".into()),
    ] {
        fake.reply(failure.clone());
        let result = tagger.tag(&asset, Some(photo()), &taxonomy).await.unwrap();
        let providers = providers(&result.tags);
        assert!(!providers.contains(&"gemini"), "{failure:?}: {providers:?}");
        assert!(
            providers.contains(&"efficientnet-lite0"),
            "{failure:?}: {providers:?}"
        );
        assert!(!result.embedding.is_empty());
    }
    fake.stop().await;
}
