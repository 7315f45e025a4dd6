//! Automatic moderation rules: blocked terms flag an asset for a moderator.

/// Flags for `texts` (title, description, tags): one `blocked_term:<term>` per blocked
/// term found as a whole word, case-insensitively.
pub fn blocked_term_flags<'a>(
    blocked_terms: &[String],
    texts: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let words: std::collections::BTreeSet<String> = texts
        .into_iter()
        .flat_map(|text| {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut flags: Vec<String> = blocked_terms
        .iter()
        .map(|term| term.trim().to_lowercase())
        .filter(|term| !term.is_empty() && words.contains(term))
        .map(|term| format!("blocked_term:{term}"))
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_case_insensitive() {
        let terms = vec!["Scam".to_string(), "spam".to_string()];
        assert_eq!(
            blocked_term_flags(&terms, ["Great SCAM here", "no spamming"]),
            vec!["blocked_term:scam"]
        );
        assert!(blocked_term_flags(&terms, ["clean"]).is_empty());
        assert!(blocked_term_flags(&[], ["scam"]).is_empty());
    }
}
