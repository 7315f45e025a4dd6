//! The evaluation set (`data/eval/`): zero-shot topic accuracy over the hand-written
//! item descriptions and search recall over paraphrased queries, with the real model,
//! through the same functions the service uses. The floors sit a little under the
//! figures reported in docs/benchmarks.md: a change that makes tagging or search
//! worse fails here.

use super::load_models;
use chrono::Utc;
use marquee_tagging::domain::index::{ExactIndex, Filter, IndexedAsset};
use marquee_tagging::domain::tagger::{AssetText, document_text};
use marquee_tagging::domain::{search, taxonomy, zero_shot};
use marquee_tagging::inference::EMBEDDING_DIM;
use serde::Deserialize;

const TOP1_FLOOR: f64 = 0.75;
const TOP3_FLOOR: f64 = 0.88;
const RECALL3_FLOOR: f64 = 0.93;

#[derive(Deserialize)]
struct Item {
    id: String,
    title: String,
    description: String,
    labels: Vec<String>,
}

#[derive(Deserialize)]
struct Query {
    query: String,
    expected: String,
}

fn jsonl<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/eval")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn zero_shot_accuracy_and_search_recall_meet_their_floors() {
    let models = load_models();
    let labels = taxonomy::default_labels();
    let prompts: Vec<String> = labels.iter().map(taxonomy::Label::prompt).collect();
    let label_vectors = models.text.embed_blocking(&prompts).unwrap();
    let items: Vec<Item> = jsonl("items.jsonl");
    let queries: Vec<Query> = jsonl("queries.jsonl");
    assert!(items.len() >= 200 && queries.len() >= 40);

    let documents: Vec<String> = items
        .iter()
        .map(|item| {
            let text = AssetText {
                title: item.title.clone(),
                description: item.description.clone(),
                ..AssetText::default()
            };
            document_text(&text, &[])
        })
        .collect();
    let vectors = models.text.embed_blocking(&documents).unwrap();
    let index = ExactIndex::new(EMBEDDING_DIM);
    let (mut top1, mut top1_any, mut top3) = (0usize, 0usize, 0usize);
    for (item, vector) in items.iter().zip(&vectors) {
        let ranked = zero_shot::rank(vector, &label_vectors);
        let name = |rank: usize| labels[ranked[rank].label].name.as_str();
        top1 += usize::from(name(0) == item.labels[0]);
        top1_any += usize::from(item.labels.iter().any(|l| l == name(0)));
        top3 += usize::from((0..3).any(|r| name(r) == item.labels[0]));
        // Indexed with the topic tags the service would give it.
        let tags = zero_shot::choose(&ranked, 3, 0.2)
            .into_iter()
            .map(|t| labels[t.label].name.clone())
            .collect();
        index.upsert(
            IndexedAsset {
                asset_id: item.id.clone(),
                tenant_id: "eval".into(),
                owner_id: "creator".into(),
                visible: true,
                kind: "image".into(),
                title: item.title.clone(),
                tags,
                has_thumbnail: false,
                created_at: Utc::now(),
                view_count: 0,
            },
            Some(vector),
        );
    }
    let filter = Filter {
        tenant_id: "eval".into(),
        viewer: "buyer".into(),
        ..Filter::default()
    };
    let query_texts: Vec<String> = queries.iter().map(|q| q.query.clone()).collect();
    let query_vectors = models.text.embed_blocking(&query_texts).unwrap();
    let (mut recall1, mut recall3) = (0usize, 0usize);
    for (query, vector) in queries.iter().zip(&query_vectors) {
        let hits = search::rerank(
            index.nearest(vector, &filter, search::MAX_RESULTS),
            &query.query,
        );
        let position = hits
            .iter()
            .take(3)
            .position(|h| h.asset.asset_id == query.expected);
        recall1 += usize::from(position == Some(0));
        recall3 += usize::from(position.is_some());
    }
    let share = |n: usize, of: usize| n as f64 / of as f64;
    let report = serde_json::json!({
        "items": items.len(),
        "labels": labels.len(),
        "queries": queries.len(),
        "zero_shot_top1": share(top1, items.len()),
        "zero_shot_top1_any_label": share(top1_any, items.len()),
        "zero_shot_top3": share(top3, items.len()),
        "search_recall_at_1": share(recall1, queries.len()),
        "search_recall_at_3": share(recall3, queries.len()),
    });
    println!("eval: {report}");
    assert!(share(top1, items.len()) >= TOP1_FLOOR, "{report}");
    assert!(share(top3, items.len()) >= TOP3_FLOOR, "{report}");
    assert!(share(recall3, queries.len()) >= RECALL3_FLOOR, "{report}");
}
