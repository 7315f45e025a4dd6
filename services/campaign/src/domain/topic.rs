//! Staying on the brief's topic: the brief's key terms, and whether a post mentions
//! them. A post must name the business or one of the brief's distinctive words; a
//! post that does neither is written again (and measured in the evaluation).

use std::collections::HashMap;

/// English words that say nothing about a business.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "best",
    "better",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "day",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "good",
    "great",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "like",
    "made",
    "make",
    "makes",
    "many",
    "me",
    "more",
    "most",
    "much",
    "my",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "people",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "time",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "use",
    "very",
    "want",
    "was",
    "way",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "without",
    "would",
    "year",
    "years",
    "you",
    "your",
    "yours",
    "every",
    "everyone",
    "help",
    "helps",
    "today",
    "love",
    "world",
    "first",
    "find",
    "need",
    "needs",
    "work",
    "works",
    "offer",
    "offers",
    "based",
    "company",
    "business",
    "customers",
    "customer",
    "quality",
    "service",
    "services",
];

/// Lower-cased words of at least three letters, in order.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= 3)
        .map(str::to_lowercase)
}

fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word) || word.chars().all(|c| c.is_ascii_digit())
}

/// The `limit` most frequent content words of `text`, most frequent first (ties in order
/// of first appearance).
pub fn key_terms(text: &str, limit: usize) -> Vec<String> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for (position, word) in words(text).enumerate() {
        if is_stopword(&word) {
            continue;
        }
        let entry = counts.entry(word).or_insert((0, position));
        entry.0 += 1;
    }
    let mut terms: Vec<(String, (usize, usize))> = counts.into_iter().collect();
    terms.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    terms
        .into_iter()
        .take(limit)
        .map(|(word, _)| word)
        .collect()
}

/// The terms that mark a post as being about this business: the company's name words
/// and the brief's key terms.
#[derive(Debug, Clone, Default)]
pub struct TopicTerms {
    pub company: Vec<String>,
    pub terms: Vec<String>,
}

impl TopicTerms {
    pub fn new(company_name: &str, brief_text: &str) -> Self {
        Self {
            company: words(company_name).filter(|w| !is_stopword(w)).collect(),
            terms: key_terms(brief_text, 25),
        }
    }

    /// Whether `post` names the company or uses at least one of the brief's key terms
    /// (a word matches a term by a shared stem of five letters, so "roaster" matches
    /// "roasted").
    pub fn is_on_topic(&self, post: &str) -> bool {
        let post_words: Vec<String> = words(post).collect();
        let matches = |term: &String| {
            post_words.iter().any(|word| {
                word == term || stem(word).is_some_and(|stem_word| Some(stem_word) == stem(term))
            })
        };
        self.company.iter().any(matches) || self.terms.iter().any(matches)
    }
}

/// The first five characters of a word of five or more.
fn stem(word: &str) -> Option<&str> {
    word.char_indices()
        .nth(5)
        .map(|(end, _)| &word[..end])
        .or_else(|| (word.chars().count() == 5).then_some(word))
}

/// Sentences of `text` (split after `.`, `!`, `?` and newlines), trimmed, non-empty.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c == '\n' {
            push_sentence(&mut out, &mut current);
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?') {
            push_sentence(&mut out, &mut current);
        }
    }
    push_sentence(&mut out, &mut current);
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let sentence = current.trim();
    if sentence.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
        out.push(sentence.to_string());
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_terms_skip_filler_and_rank_by_frequency() {
        let terms = key_terms(
            "Acme roasts coffee. Our coffee is roasted in Lyon; coffee lovers visit Lyon.",
            3,
        );
        assert_eq!(terms, vec!["coffee", "lyon", "acme"]);
    }

    #[test]
    fn posts_are_on_topic_by_company_or_terms() {
        let topic = TopicTerms::new("Acme Roasters", "Fresh coffee beans roasted in Lyon");
        assert!(topic.is_on_topic("Try ACME today!"));
        assert!(topic.is_on_topic("The best roasted beans in town"));
        assert!(
            topic.is_on_topic("Our roasting lab"),
            "shared five-letter stem"
        );
        assert!(!topic.is_on_topic("Buy cheap sneakers now"));
        assert!(!topic.is_on_topic(""));
        assert!(
            !topic.is_on_topic("ééééééé ñññññ"),
            "non-ASCII stems never split a char"
        );
    }

    #[test]
    fn sentences_split_on_punctuation_and_lines() {
        assert_eq!(
            sentences("One two three. Four five six!\nSeven eight nine"),
            vec!["One two three.", "Four five six!", "Seven eight nine"]
        );
        assert!(sentences("... !!").is_empty());
    }
}
