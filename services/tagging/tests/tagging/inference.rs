//! Local inference against references computed in Python (sentence-transformers,
//! onnxruntime with PIL preprocessing): needs the files of `make models`, and fails —
//! rather than skips — without them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use marquee_tagging::inference::{EMBEDDING_DIM, InferenceOptions, Models};
use serde::Deserialize;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The models (`crate::load_models`: `MARQUEE_MODELS_DIR` or `<workspace root>/models`),
/// loaded once per test process; missing models fail the test with "run `make models`".
fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(crate::load_models)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[derive(Deserialize)]
struct MiniLmReference {
    sentences: Vec<String>,
    embeddings: Vec<Vec<f32>>,
}

fn minilm_reference() -> MiniLmReference {
    let path = fixtures().join("minilm_reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let reference: MiniLmReference = serde_json::from_str(&text).unwrap();
    assert_eq!(reference.sentences.len(), reference.embeddings.len());
    assert!(reference.sentences.len() >= 10);
    assert!(
        reference
            .embeddings
            .iter()
            .all(|v| v.len() == EMBEDDING_DIM)
    );
    reference
}

/// The smallest cosine between `vectors[i]` and the reference of sentence `indices[i]`.
fn min_cosine(reference: &MiniLmReference, indices: &[usize], vectors: &[Vec<f32>]) -> f32 {
    assert_eq!(indices.len(), vectors.len());
    indices
        .iter()
        .zip(vectors)
        .map(|(&index, vector)| {
            assert_eq!(vector.len(), EMBEDDING_DIM);
            cosine(vector, &reference.embeddings[index])
        })
        .fold(f32::INFINITY, f32::min)
}

/// A fixed permutation of `0..n` (a multiplicative step coprime with `n`).
fn shuffled(n: usize) -> Vec<usize> {
    let step = (1..n)
        .rev()
        .find(|s| gcd(*s, n) == 1 && *s > n / 2)
        .unwrap_or(1);
    (0..n).map(|i| (i * step + 3) % n).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[test]
fn embeddings_equal_sentence_transformers() {
    let models = models();
    let reference = minilm_reference();
    let n = reference.sentences.len();

    let vectors = models.text.embed_blocking(&reference.sentences).unwrap();
    let all: Vec<usize> = (0..n).collect();
    let in_order = min_cosine(&reference, &all, &vectors);
    for (vector, sentence) in vectors.iter().zip(&reference.sentences) {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "not normalised ({norm}): {sentence}"
        );
    }

    // Another order makes other batches (other padding): same vectors, right places.
    let order = shuffled(n);
    assert_ne!(order, all);
    let texts: Vec<String> = order
        .iter()
        .map(|&i| reference.sentences[i].clone())
        .collect();
    let vectors = models.text.embed_blocking(&texts).unwrap();
    let reordered = min_cosine(&reference, &order, &vectors);

    // One at a time: no padding at all.
    let singles: Vec<Vec<f32>> = reference
        .sentences
        .iter()
        .map(|s| {
            models
                .text
                .embed_blocking(std::slice::from_ref(s))
                .unwrap()
                .remove(0)
        })
        .collect();
    let one_by_one = min_cosine(&reference, &all, &singles);

    eprintln!(
        "MiniLM vs sentence-transformers over {n} sentences: min cosine {in_order:.7} \
         (in order), {reordered:.7} (shuffled), {one_by_one:.7} (one by one)"
    );
    for (label, value) in [
        ("in order", in_order),
        ("shuffled", reordered),
        ("one by one", one_by_one),
    ] {
        assert!(value >= 0.9999, "min cosine {value} ({label}) < 0.9999");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_each_get_their_own_vectors() {
    let models = models();
    let reference = minilm_reference();
    let n = reference.sentences.len();
    // 24 callers with different, overlapping slices of the sentences (sizes 1..=7), in
    // different orders, all at once: the thread batches them together.
    let requests: Vec<Vec<usize>> = (0..24)
        .map(|caller| {
            let size = 1 + caller % 7;
            let mut indices: Vec<usize> = (0..size).map(|k| (caller * 5 + k * 3) % n).collect();
            if caller % 2 == 1 {
                indices.reverse();
            }
            indices
        })
        .collect();
    let handles: Vec<_> = requests
        .iter()
        .map(|indices| {
            let text = models.text.clone();
            let texts: Vec<String> = indices
                .iter()
                .map(|&i| reference.sentences[i].clone())
                .collect();
            tokio::spawn(async move { text.embed(texts).await })
        })
        .collect();
    let mut worst = f32::INFINITY;
    for (indices, handle) in requests.iter().zip(handles) {
        let vectors = handle.await.unwrap().unwrap();
        worst = worst.min(min_cosine(&reference, indices, &vectors));
    }
    eprintln!("24 concurrent callers: min cosine {worst:.7}");
    assert!(
        worst >= 0.9999,
        "min cosine {worst} < 0.9999: a caller got wrong vectors"
    );
    assert!(models.text.embed(Vec::new()).await.unwrap().is_empty());
}

#[test]
fn similar_meanings_are_close_and_others_far() {
    let texts: Vec<String> = [
        "red running shoes",
        "athletic footwear",
        "a chocolate cake recipe",
    ]
    .map(String::from)
    .to_vec();
    let vectors = models().text.embed_blocking(&texts).unwrap();
    let shoes_footwear = cosine(&vectors[0], &vectors[1]);
    let shoes_cake = cosine(&vectors[0], &vectors[2]);
    eprintln!("cos(shoes, footwear) = {shoes_footwear:.4}, cos(shoes, cake) = {shoes_cake:.4}");
    assert!(shoes_footwear > 0.5, "{shoes_footwear}");
    assert!(shoes_cake < 0.2, "{shoes_cake}");
}

#[derive(Deserialize)]
struct ImageReference {
    file: String,
    top1_index: usize,
    top1_label: String,
    top5: Vec<(usize, String, f32)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_top1_equals_reference() {
    let models = models();
    let classifier = models
        .image
        .as_ref()
        .expect("the image model did not load: run `make models`");
    let path = fixtures().join("image_reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let references: Vec<ImageReference> = serde_json::from_str(&text).unwrap();
    assert!(!references.is_empty());

    let mut mismatches = Vec::new();
    eprintln!("| photo | reference top-1 | Rust top-1 | Rust p | reference p |");
    for reference in &references {
        let file = fixtures().join("images").join(&reference.file);
        let picture =
            image::open(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        let labels = classifier.classify(picture.clone(), 5).await.unwrap();
        assert_eq!(labels.len(), 5);
        assert!(
            labels
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability)
        );
        let top = &labels[0];
        let reference_p = reference.top5.first().map_or(f32::NAN, |t| t.2);
        eprintln!(
            "| {} | {} {} | {} {} | {:.4} | {:.4} |",
            reference.file,
            reference.top1_index,
            reference.top1_label,
            top.index,
            top.name,
            top.probability,
            reference_p
        );
        if top.index == reference.top1_index {
            assert_eq!(
                top.name, reference.top1_label,
                "labels.txt disagrees with the reference"
            );
        } else {
            mismatches.push(format!(
                "{}: expected {} ({}), got {} ({})",
                reference.file, reference.top1_index, reference.top1_label, top.index, top.name
            ));
        }
        // The blocking path is the same computation.
        let blocking = {
            let classifier = classifier.clone();
            tokio::task::spawn_blocking(move || classifier.classify_blocking(&picture, 1))
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(blocking[0].index, top.index);
    }
    assert!(mismatches.is_empty(), "top-1 differs: {mismatches:?}");
}

#[test]
fn a_missing_models_directory_asks_for_make_models() {
    let empty = tempfile::tempdir().unwrap();
    let error = Models::load(empty.path(), &InferenceOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("run `make models`"), "{message}");
    assert!(message.contains("onnxruntime"), "{message}");
}
