//! Keyword tags, KeyBERT-style: candidate phrases (1–3 words without stop words at their
//! ends) from an asset's text, each embedded and ranked by similarity to the whole
//! document, then picked with maximal marginal relevance so that five near-synonyms
//! don't crowd out everything else.

use super::vector;
use std::collections::HashMap;

/// Candidates embedded per asset at most (the most frequent, then the earliest).
pub const MAX_CANDIDATES: usize = 48;
/// A keyword must be at least this similar to its document.
pub const MIN_SIMILARITY: f32 = 0.3;
/// MMR trade-off: 1.0 is pure relevance, 0.0 pure diversity.
const DIVERSITY_LAMBDA: f32 = 0.7;

const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "could", "did", "do", "does", "doing", "down", "during", "each", "even", "every", "few",
    "for", "from", "further", "get", "got", "had", "has", "have", "having", "he", "her", "here",
    "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "let", "like",
    "made", "make", "many", "me", "more", "most", "much", "my", "new", "no", "nor", "not", "now",
    "of", "off", "on", "once", "one", "only", "or", "other", "our", "ours", "out", "over", "own",
    "per", "please", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "two",
    "under", "until", "up", "us", "use", "used", "using", "very", "via", "was", "we", "well",
    "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
    "within", "without", "would", "you", "your", "yours",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Words of `text`: lower case, letters and digits (inner hyphens and apostrophes
/// kept), with sentence breaks as `None` so phrases don't span them.
fn words(text: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        let ends_sentence = token.ends_with(['.', '!', '?', ';', ':', ',', ')', '(']);
        let word: String = token
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        let clean = word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '\'');
        if word.is_empty() || !clean {
            out.push(None);
        } else {
            out.push(Some(word));
        }
        if ends_sentence {
            out.push(None);
        }
    }
    out
}

/// Candidate phrases of 1–3 words, most frequent first (ties: first seen), at most
/// [`MAX_CANDIDATES`]. Pure numbers and one-letter words are not keywords.
pub fn candidates(text: &str) -> Vec<String> {
    let words = words(text);
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for start in 0..words.len() {
        for len in 1..=3 {
            let Some(window) = words.get(start..start + len) else {
                break;
            };
            let Some(phrase) = window
                .iter()
                .map(Option::as_deref)
                .collect::<Option<Vec<&str>>>()
            else {
                break;
            };
            let (first, last) = (phrase[0], phrase[phrase.len() - 1]);
            if is_stop_word(first) || is_stop_word(last) {
                continue;
            }
            if phrase
                .iter()
                .any(|w| w.chars().count() < 2 || w.chars().all(|c| c.is_ascii_digit()))
            {
                continue;
            }
            let key = phrase.join(" ");
            if key.chars().count() > super::tags::MAX_TAG_CHARS {
                continue;
            }
            let order = counts.len();
            counts.entry(key).or_insert((0, order)).0 += 1;
        }
    }
    let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    ranked.truncate(MAX_CANDIDATES);
    ranked.into_iter().map(|(phrase, _)| phrase).collect()
}

/// Picks up to `max` keywords: (phrase, similarity to the document), by maximal
/// marginal relevance over the candidates' embeddings.
pub fn pick(
    document: &[f32],
    candidates: &[String],
    embeddings: &[Vec<f32>],
    max: usize,
) -> Vec<(String, f32)> {
    let relevance: Vec<f32> = embeddings
        .iter()
        .map(|e| vector::dot(document, e))
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    let mut left: Vec<usize> = (0..candidates.len().min(embeddings.len()))
        .filter(|&i| relevance[i] >= MIN_SIMILARITY)
        .collect();
    while chosen.len() < max && !left.is_empty() {
        let score = |i: usize| {
            let redundancy = chosen
                .iter()
                .map(|&j| vector::dot(&embeddings[i], &embeddings[j]))
                .fold(0.0f32, f32::max);
            DIVERSITY_LAMBDA * relevance[i] - (1.0 - DIVERSITY_LAMBDA) * redundancy
        };
        let (at, _) = left
            .iter()
            .enumerate()
            .max_by(|a, b| score(*a.1).total_cmp(&score(*b.1)))
            .expect("left is not empty");
        chosen.push(left.swap_remove(at));
    }
    chosen
        .into_iter()
        .map(|i| (candidates[i].clone(), relevance[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn candidates_skip_stop_word_edges_numbers_and_sentence_breaks() {
        let found = candidates("A hand-drawn watercolor fox. The fox sits in 2024 snow!");
        assert_eq!(found[0], "fox");
        assert!(found.contains(&"hand-drawn watercolor fox".to_string()));
        assert!(found.contains(&"fox sits".to_string()));
        assert!(!found.iter().any(|c| c.contains("2024")));
        assert!(
            !found
                .iter()
                .any(|c| c.starts_with("the ") || c.ends_with(" in"))
        );
        assert!(
            !found.contains(&"fox the".to_string()),
            "phrases stop at a full stop"
        );
    }

    #[test]
    fn mmr_prefers_a_different_second_keyword_over_a_near_duplicate() {
        let doc = [1.0, 0.0, 0.0];
        let names = vec!["cat".to_string(), "kitty".to_string(), "garden".to_string()];
        let norm = |v: [f32; 3]| {
            let mut v = v.to_vec();
            vector::normalise(&mut v);
            v
        };
        let embeddings = vec![
            norm([0.9, 0.436, 0.0]),
            norm([0.89, 0.456, 0.0]),
            norm([0.8, 0.0, 0.6]),
        ];
        let picked = pick(&doc, &names, &embeddings, 2);
        assert_eq!(picked[0].0, "cat");
        assert_eq!(picked[1].0, "garden");
    }
}
