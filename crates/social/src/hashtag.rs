//! Hashtags: finding them in text as the platforms do, and normalising requested ones.
//!
//! The rules follow X's twitter-text, which the other platforms' parsers resemble: a
//! hashtag is `#` (or the full-width `＃`) at a word boundary, followed by a run of letters,
//! combining marks, decimal digits, `_` and a few joiners used inside words (ZWJ, ZWNJ, the
//! Hebrew geresh and maqaf, the Catalan middle dot, ...), and the run must contain a letter
//! or mark: `#2024` is a number, not a hashtag. A `#` inside a URL starts no hashtag.

use std::ops::Range;

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::clean::nfc;

use crate::url::{self, Scheme};

/// Characters that continue a hashtag though they are neither letters nor digits (from
/// twitter-text: underscore, ZWNJ, ZWJ, and script-specific word joiners).
const WORD_JOINERS: &[char] = &[
    '_', '\u{200C}', '\u{200D}', '\u{A67E}', '\u{05BE}', '\u{05F3}', '\u{05F4}', '\u{FF5E}',
    '\u{301C}', '\u{309B}', '\u{309C}', '\u{30A0}', '\u{30FB}', '\u{3003}', '\u{0F0B}', '\u{0F0C}',
    '\u{00B7}',
];

/// Characters that glue a hashtag to more word characters, so that only its first part
/// would be linked: `#social-media` links `#social`, `#Node.js` links `#Node`.
const CONNECTORS: &[char] = &['-', '\u{2010}', '\u{2011}', '.', '/', '@', '&'];

pub(crate) fn is_hash_sign(c: char) -> bool {
    c == '#' || c == '＃'
}

/// Whether `c` can be part of a hashtag.
pub(crate) fn is_hashtag_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    is_letter_or_mark(c)
        || c.general_category() == unicode_properties::GeneralCategory::DecimalNumber
        || WORD_JOINERS.contains(&c)
}

fn is_letter_or_mark(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark
    )
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// A hashtag as written in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashtagToken {
    /// Byte range of the hash sign.
    pub sign: Range<usize>,
    /// Byte range of the name (after the sign).
    pub name: Range<usize>,
    /// Whether the platforms would link the whole word: `false` for `#social-media`,
    /// `#R&D`, `#one#two`, where only part of it (or nothing) would be linked.
    pub well_formed: bool,
}

impl HashtagToken {
    /// The token as a reader sees it: from the sign to the next whitespace.
    pub fn word<'a>(&self, text: &'a str) -> &'a str {
        let rest = &text[self.sign.start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        &rest[..end]
    }
}

/// Every `#` that starts a hashtag in `text`, in order, well-formed or not.
pub(crate) fn scan(text: &str) -> Vec<HashtagToken> {
    if !text.contains(is_hash_sign) {
        return Vec::new();
    }
    scan_around_urls(text, &url::find_urls(text, Scheme::Optional))
}

/// [`scan`] for a caller that already has the text's URLs (`find_urls` with
/// [`Scheme::Optional`]).
pub(crate) fn scan_around_urls(text: &str, urls: &[Range<usize>]) -> Vec<HashtagToken> {
    let inside_url = |offset: usize| urls.iter().any(|url| url.contains(&offset));

    let mut tokens: Vec<HashtagToken> = Vec::new();
    for (offset, sign) in text.match_indices(is_hash_sign) {
        // The character before the sign decides; right after a hashtag's name it is a name
        // character, so `#one#two` starts one (malformed) hashtag, not two.
        let at_boundary = match text[..offset].chars().next_back() {
            None => true,
            // Text-or-emoji presentation selectors end the emoji before them, not a word.
            Some('\u{FE0E}' | '\u{FE0F}') => true,
            Some(before) => !(is_hashtag_char(before) || before == '&'),
        };
        if !at_boundary || inside_url(offset) {
            continue;
        }
        let name_start = offset + sign.len();
        let rest = &text[name_start..];
        // `#️⃣` is the keycap emoji, not a hashtag.
        if rest.starts_with(['\u{FE0F}', '\u{20E3}']) {
            continue;
        }
        let name_len = rest
            .find(|c: char| !is_hashtag_char(c))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        if !name.chars().any(is_letter_or_mark) {
            continue;
        }
        let after = &rest[name_len..];
        let glued_to_more = after.starts_with(is_hash_sign)
            || after.starts_with("://")
            || after
                .strip_prefix(CONNECTORS)
                .is_some_and(|tail| tail.starts_with(is_hashtag_char));
        tokens.push(HashtagToken {
            sign: offset..name_start,
            name: name_start..name_start + name_len,
            well_formed: !glued_to_more,
        });
    }
    tokens
}

/// The hashtags the platforms would link in `text`, without the `#`, in order, including
/// repeats. Malformed ones (`#social-media`) and `#` inside URLs are left out.
///
/// ```
/// let tags = marquee_social::extract_hashtags("Ship it #RustLang! #2024 #café, see example.com/#top");
/// assert_eq!(tags, ["RustLang", "café"]);
/// ```
pub fn extract_hashtags(text: &str) -> Vec<&str> {
    scan(text)
        .into_iter()
        .filter(|token| token.well_formed)
        .map(|token| &text[token.name])
        .collect()
}

/// Turns a requested hashtag (`"#Social Media"`, `"rust-lang"`, `"＃日本"`) into the name
/// that works everywhere: NFC-normalised, leading `#` signs removed, only letters, marks,
/// digits, `_` and in-word joiners kept. `None` when no letter is left (`"#2024"`, `"!!!"`).
///
/// ```
/// use marquee_social::normalize_hashtag;
/// assert_eq!(normalize_hashtag("#Social Media").as_deref(), Some("SocialMedia"));
/// assert_eq!(normalize_hashtag("rust-lang").as_deref(), Some("rustlang"));
/// assert_eq!(normalize_hashtag("#2024"), None);
/// ```
pub fn normalize_hashtag(raw: &str) -> Option<String> {
    let kept: String = nfc(raw)
        .chars()
        .filter(|&c| is_hashtag_char(c) && !is_variation_selector(c))
        .collect();
    // A name must not start with a combining mark or a joiner: it would attach to the `#`.
    let name = kept
        .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '_')
        .trim_end_matches(['\u{200C}', '\u{200D}']);
    name.chars()
        .any(|c| c.general_category_group() == GeneralCategoryGroup::Letter)
        .then(|| name.to_owned())
}

/// The key under which two hashtags are the same one (`#Rust` and `#rust`).
pub(crate) fn dedup_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hashtags_at_word_boundaries() {
        assert_eq!(extract_hashtags("a #hashtag here"), ["hashtag"]);
        assert_eq!(
            extract_hashtags("#1hashtag and #hashtag1"),
            ["1hashtag", "hashtag1"]
        );
        assert_eq!(
            extract_hashtags("(#one )#two [#three ]#four"),
            ["one", "two", "three", "four"]
        );
        assert_eq!(
            extract_hashtags(":#a ;#b ,#c .#d !#e ?#f"),
            ["a", "b", "c", "d", "e", "f"]
        );
        assert_eq!(
            extract_hashtags("#a: #b; #c, #d. #e! #f?"),
            ["a", "b", "c", "d", "e", "f"]
        );
        assert_eq!(extract_hashtags("#one\ntext\n#two\n"), ["one", "two"]);
        assert!(extract_hashtags("word#glued").is_empty());
        assert!(extract_hashtags("AT&#T").is_empty());
    }

    #[test]
    fn a_hashtag_needs_a_letter() {
        assert!(extract_hashtags("On the #16 bus").is_empty());
        assert!(extract_hashtags("#0 #_ #1_2 #〃").is_empty());
        assert!(extract_hashtags("# spaced").is_empty());
        assert!(extract_hashtags("#").is_empty());
    }

    #[test]
    fn handles_scripts_marks_and_joiners() {
        assert_eq!(extract_hashtags("Working remotely #café"), ["café"]);
        assert_eq!(extract_hashtags("#cafe\u{301} too"), ["cafe\u{301}"]);
        assert_eq!(extract_hashtags("What is #트위터 anyway?"), ["트위터"]);
        assert_eq!(
            extract_hashtags("#日本語ハッシュタグ。"),
            ["日本語ハッシュタグ"]
        );
        assert_eq!(extract_hashtags("できました！＃日本語"), ["日本語"]);
        assert_eq!(
            extract_hashtags("#महात्मा #महात्मा_१२३४ #१२३४"),
            ["महात्मा", "महात्मा_१२३४"]
        );
        assert_eq!(extract_hashtags("#می\u{200C}خواهم"), ["می\u{200C}خواهم"]);
        assert_eq!(
            extract_hashtags("#עַל־יְדֵי #il·lusió"),
            ["עַל־יְדֵי", "il·lusió"]
        );
    }

    #[test]
    fn emoji_before_a_hashtag_is_a_boundary() {
        assert_eq!(extract_hashtags("a ✌#tag"), ["tag"]);
        assert_eq!(extract_hashtags("a ✌\u{FE0F}#tag"), ["tag"]);
        assert_eq!(extract_hashtags("a 👨\u{200D}👩\u{200D}👧#tag"), ["tag"]);
        assert!(extract_hashtags("#\u{FE0F}\u{20E3} keycap").is_empty());
    }

    #[test]
    fn hashtags_glued_to_more_are_malformed() {
        for text in [
            "#social-media",
            "#one#two",
            "#R&D",
            "#Node.js",
            "#AI/ML",
            "#http://x.com",
        ] {
            let tokens = scan(text);
            assert!(!tokens.is_empty(), "{text}");
            assert!(!tokens[0].well_formed, "{text}");
            assert!(extract_hashtags(text).is_empty(), "{text}");
            assert_eq!(tokens[0].word(text), text);
        }
        // Sentence punctuation after a hashtag is fine.
        assert_eq!(extract_hashtags("Love #rust. And #go-"), ["rust", "go"]);
        assert_eq!(extract_hashtags("#Rust's ecosystem"), ["Rust"]);
    }

    #[test]
    fn hashtags_inside_urls_do_not_count() {
        assert!(extract_hashtags("http://twitter.com/#hashtag twitter.com/#hashtag").is_empty());
        assert_eq!(
            extract_hashtags("see https://example.com/#top #real"),
            ["real"]
        );
    }

    #[test]
    fn normalises_requested_hashtags() {
        let normalized = |raw: &str| normalize_hashtag(raw);
        assert_eq!(normalized("#Rust").as_deref(), Some("Rust"));
        assert_eq!(normalized("##Rust").as_deref(), Some("Rust"));
        assert_eq!(normalized("＃日本").as_deref(), Some("日本"));
        assert_eq!(normalized(" social media ").as_deref(), Some("socialmedia"));
        assert_eq!(normalized("cafe\u{301}").as_deref(), Some("café"));
        assert_eq!(normalized("\u{301}abc").as_deref(), Some("abc"));
        assert_eq!(normalized("year_2024").as_deref(), Some("year_2024"));
        assert_eq!(normalized("#2024"), None);
        assert_eq!(normalized("_2024_"), None);
        assert_eq!(normalized("🔥🔥"), None);
        assert_eq!(normalized(""), None);
        assert_eq!(normalized("#"), None);
    }

    #[test]
    fn a_normalised_hashtag_is_found_whole_in_text() {
        for raw in [
            "Rust",
            "café",
            "महात्मा_१२३४",
            "a\u{200D}b",
            "x\u{FE0F}y",
            "_lead",
            "٣abc",
        ] {
            let name = normalize_hashtag(raw).expect("has a letter");
            assert_eq!(
                extract_hashtags(&format!("text #{name}")),
                [name.as_str()],
                "{raw}"
            );
        }
    }
}
