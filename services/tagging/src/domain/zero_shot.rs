//! Zero-shot topics: an asset's embedding against each taxonomy label's, turned into
//! confidences with a softmax over the cosines (the temperature spreads MiniLM's narrow
//! cosine range over 0–1).

use super::vector;

/// Softmax temperature over cosines: a label 0.1 more similar than another is about
/// e^(0.1/0.03) ≈ 28× as likely.
pub const TEMPERATURE: f32 = 0.03;
/// Below this cosine no label is taken, however it ranks: the asset is about none of
/// them.
pub const MIN_COSINE: f32 = 0.15;

/// A label and its confidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    pub label: usize,
    pub cosine: f32,
    pub confidence: f32,
}

/// All labels ranked for `document`, best first, with softmax confidences.
pub fn rank(document: &[f32], labels: &[Vec<f32>]) -> Vec<Topic> {
    let cosines: Vec<f32> = labels.iter().map(|l| vector::dot(document, l)).collect();
    let max = cosines.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = cosines
        .iter()
        .map(|c| ((c - max) / TEMPERATURE).exp())
        .collect();
    let total: f32 = weights.iter().sum();
    let mut topics: Vec<Topic> = cosines
        .iter()
        .zip(&weights)
        .enumerate()
        .map(|(label, (&cosine, &w))| Topic {
            label,
            cosine,
            confidence: if total > 0.0 { w / total } else { 0.0 },
        })
        .collect();
    topics.sort_by(|a, b| b.cosine.total_cmp(&a.cosine));
    topics
}

/// The topics to tag with: the best one when it is similar enough at all, then any
/// further ones above `min_confidence`, at most `max`.
pub fn choose(ranked: &[Topic], max: usize, min_confidence: f32) -> Vec<Topic> {
    ranked
        .iter()
        .enumerate()
        .take_while(|(i, _)| *i < max)
        .filter(|(i, t)| t.cosine >= MIN_COSINE && (*i == 0 || t.confidence >= min_confidence))
        .map(|(_, t)| t.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_label_ranks_first_and_confidences_sum_to_one() {
        let labels = vec![vec![1.0, 0.0], vec![0.8, 0.6], vec![0.0, 1.0]];
        let ranked = rank(&[0.8, 0.6], &labels);
        assert_eq!(ranked[0].label, 1);
        let total: f32 = ranked.iter().map(|t| t.confidence).sum();
        assert!((total - 1.0).abs() < 1e-5);
        let chosen = choose(&ranked, 3, 0.2);
        assert_eq!(chosen[0].label, 1);
        assert!(chosen.iter().all(|t| t.label != 2));
    }

    #[test]
    fn nothing_similar_means_no_topic() {
        let ranked = rank(&[1.0, 0.0], &[vec![0.0, 1.0]]);
        assert!(choose(&ranked, 3, 0.0).is_empty());
    }
}
