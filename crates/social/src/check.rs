//! Checking a finished post's text against its platform's rules.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::Platform;
use crate::hashtag;
use crate::length::LengthUnit;
use crate::url::{self, Scheme};

/// One way a text breaks its platform's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// Nothing visible: the text is empty or only whitespace and invisible characters.
    #[error("the post has no visible text")]
    Empty,
    /// Longer than the platform allows, in the platform's own unit.
    #[error("the post is {length} {unit} long; the limit is {limit}")]
    TooLong {
        length: usize,
        limit: usize,
        unit: LengthUnit,
    },
    /// More hashtags than the platform allows.
    #[error("the post has {count} hashtags; the limit is {limit}")]
    TooManyHashtags { count: usize, limit: usize },
    /// A hashtag glued to more word characters, which the platforms would link only in part
    /// or not at all: `#social-media`, `#R&D`, `#one#two`. `hashtag` is the word as written.
    #[error("`{hashtag}` would not be linked as one hashtag")]
    MalformedHashtag { hashtag: String },
    /// A hashtag longer than the platform links (`hashtag` without `#`, length in code
    /// points).
    #[error("hashtag `#{hashtag}` is {length} characters long; the limit is {limit}")]
    HashtagTooLong {
        hashtag: String,
        length: usize,
        limit: usize,
    },
    /// More distinct links than the platform accepts.
    #[error("the post has {count} links; the limit is {limit}")]
    TooManyLinks { count: usize, limit: usize },
    /// A character platforms reject or mangle: a control character other than newline,
    /// carriage return or tab; a byte-order mark; a Unicode noncharacter.
    #[error("the post contains the invalid character U+{:04X}", u32::from(*character))]
    InvalidCharacter { character: char },
}

/// Checks `text`, exactly as it would be published, against `platform`'s rules, and lists
/// every rule it breaks.
///
/// ```
/// use marquee_social::{Platform, Violation, check};
/// assert!(check(Platform::X, "Shipping today! #rust").is_ok());
/// let violations = check(Platform::Threads, "#one #two").unwrap_err();
/// assert_eq!(violations, [Violation::TooManyHashtags { count: 2, limit: 1 }]);
/// ```
pub fn check(platform: Platform, text: &str) -> Result<(), Vec<Violation>> {
    let rules = platform.rules();
    let mut violations = Vec::new();

    if is_blank(text) {
        violations.push(Violation::Empty);
    }

    let length = rules.length_unit.measure(text);
    if length > rules.max_length {
        violations.push(Violation::TooLong {
            length,
            limit: rules.max_length,
            unit: rules.length_unit,
        });
    }
    if let Some(limit) = rules.max_utf8_bytes
        && text.len() > limit
    {
        violations.push(Violation::TooLong {
            length: text.len(),
            limit,
            unit: LengthUnit::Utf8Bytes,
        });
    }

    let mut reported = HashSet::new();
    for character in text.chars().filter(|&c| is_invalid_char(c)) {
        if reported.insert(character) {
            violations.push(Violation::InvalidCharacter { character });
        }
    }

    let tokens = hashtag::scan(text);
    let well_formed = tokens.iter().filter(|token| token.well_formed).count();
    if let Some(limit) = rules.max_hashtags
        && well_formed > limit
    {
        violations.push(Violation::TooManyHashtags {
            count: well_formed,
            limit,
        });
    }
    for token in &tokens {
        if !token.well_formed {
            violations.push(Violation::MalformedHashtag {
                hashtag: token.word(text).to_owned(),
            });
            continue;
        }
        let name = &text[token.name.clone()];
        let name_length = name.chars().count();
        if let Some(limit) = rules.max_hashtag_chars
            && name_length > limit
        {
            violations.push(Violation::HashtagTooLong {
                hashtag: name.to_owned(),
                length: name_length,
                limit,
            });
        }
    }

    if let Some(limit) = rules.max_links {
        let count = distinct_links(text);
        if count > limit {
            violations.push(Violation::TooManyLinks { count, limit });
        }
    }

    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// The number of different URLs in `text` (a URL repeated counts once, as Threads counts).
pub(crate) fn distinct_links(text: &str) -> usize {
    url::find_urls(text, Scheme::Optional)
        .into_iter()
        .map(|range| &text[range])
        .collect::<HashSet<_>>()
        .len()
}

/// Characters no post should contain: controls other than `\n`, `\r` and `\t`, the
/// byte-order mark (which X rejects), and noncharacters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF).
pub(crate) fn is_invalid_char(c: char) -> bool {
    let code = u32::from(c);
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || c == '\u{FEFF}'
        || (0xFDD0..=0xFDEF).contains(&code)
        || code & 0xFFFE == 0xFFFE
}

/// Whether `c` shows nothing by itself: whitespace, controls, format characters (zero-width
/// spaces and joiners, directional marks), variation selectors, and the fillers and blank
/// patterns used to fake empty text.
pub(crate) fn is_blank_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_whitespace() || c.is_ascii_control();
    }
    c.is_whitespace()
        || matches!(
            c.general_category(),
            GeneralCategory::Control | GeneralCategory::Format
        )
        || matches!(
            c,
            '\u{FE00}'..='\u{FE0F}'
                | '\u{E0100}'..='\u{E01EF}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{FFA0}'
                | '\u{2800}'
        )
}

/// Whether `text` shows nothing.
pub(crate) fn is_blank(text: &str) -> bool {
    text.chars().all(is_blank_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_post_passes_everywhere() {
        let text = "We shipped dark mode 🌙 Try it: https://example.com/changelog\n\n#design";
        for platform in Platform::ALL {
            assert_eq!(check(platform, text), Ok(()), "{platform}");
        }
    }

    #[test]
    fn empty_and_invisible_text_is_empty() {
        for text in ["", "   \n\t", "\u{200B}\u{200D}\u{FE0F}", "\u{3164}"] {
            let violations = check(Platform::X, text).expect_err("blank");
            assert!(violations.contains(&Violation::Empty), "{text:?}");
        }
        assert!(check(Platform::X, "\u{301}").is_ok());
        assert!(check(Platform::X, "👍").is_ok());
    }

    #[test]
    fn too_long_reports_the_measured_length_and_limit() {
        assert_eq!(
            check(Platform::X, &"漢".repeat(141)),
            Err(vec![Violation::TooLong {
                length: 282,
                limit: 280,
                unit: LengthUnit::XWeighted
            }])
        );
        assert_eq!(
            check(Platform::Mastodon, &"a".repeat(501)),
            Err(vec![Violation::TooLong {
                length: 501,
                limit: 500,
                unit: LengthUnit::MastodonCharacters
            }])
        );
    }

    #[test]
    fn bluesky_also_limits_bytes() {
        let families = "👨\u{200D}👩\u{200D}👧\u{200D}👦".repeat(200);
        assert_eq!(
            check(Platform::Bluesky, &families),
            Err(vec![Violation::TooLong {
                length: 5_000,
                limit: 3_000,
                unit: LengthUnit::Utf8Bytes
            }])
        );
    }

    #[test]
    fn hashtag_limits() {
        let thirty: String = (0..30).map(|n| format!("#tag{n} ")).collect();
        assert!(check(Platform::Instagram, &thirty).is_ok());
        assert_eq!(
            check(Platform::Instagram, &format!("{thirty}#more")),
            Err(vec![Violation::TooManyHashtags {
                count: 31,
                limit: 30
            }])
        );
        let long_tag = format!("#{}", "a".repeat(65));
        assert_eq!(
            check(Platform::Bluesky, &long_tag),
            Err(vec![Violation::HashtagTooLong {
                hashtag: "a".repeat(65),
                length: 65,
                limit: 64
            }])
        );
        assert!(check(Platform::X, &long_tag).is_ok());
    }

    #[test]
    fn malformed_hashtags_are_reported_as_written() {
        assert_eq!(
            check(Platform::LinkedIn, "Trends in #social-media today"),
            Err(vec![Violation::MalformedHashtag {
                hashtag: "#social-media".to_owned()
            }])
        );
        assert!(check(Platform::LinkedIn, "We're #1 and #2024 was great.").is_ok());
    }

    #[test]
    fn invalid_characters_are_reported_once_each() {
        assert_eq!(
            check(Platform::Facebook, "a\u{0}b\u{0}c\u{FEFF}d"),
            Err(vec![
                Violation::InvalidCharacter { character: '\u{0}' },
                Violation::InvalidCharacter {
                    character: '\u{FEFF}'
                },
            ])
        );
        assert!(check(Platform::Facebook, "line\r\nline\ttab").is_ok());
        assert!(is_invalid_char('\u{FFFE}'));
        assert!(is_invalid_char('\u{1FFFF}'));
        assert!(is_invalid_char('\u{FDD0}'));
        assert!(!is_invalid_char('\u{200D}'));
    }

    #[test]
    fn threads_limits_distinct_links() {
        let five = "a.com b.com c.com d.com e.com a.com";
        assert!(check(Platform::Threads, five).is_ok());
        assert_eq!(
            check(Platform::Threads, &format!("{five} f.com")),
            Err(vec![Violation::TooManyLinks { count: 6, limit: 5 }])
        );
    }

    #[test]
    fn violations_serialise_with_a_kind() {
        let json = serde_json::to_value(Violation::TooManyHashtags { count: 2, limit: 1 })
            .expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"kind": "too_many_hashtags", "count": 2, "limit": 1})
        );
        let message = Violation::InvalidCharacter { character: '\u{0}' }.to_string();
        assert_eq!(message, "the post contains the invalid character U+0000");
    }
}
