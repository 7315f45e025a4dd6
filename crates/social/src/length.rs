//! How each platform measures a post's length.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::Platform;
use crate::clean::nfc;
use crate::emoji;
use crate::url::{self, Scheme};

/// What a platform counts when it measures a post against its length limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    /// X's weighted count (twitter-text configuration v3): the text is NFC-normalised;
    /// every URL X recognises counts 23 whatever its length; every emoji counts 2, however
    /// many code points it has (ZWJ sequences, flags, keycaps, skin tones); any other code
    /// point counts 1 in the ranges U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and
    /// U+2032–U+2037 (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic, general punctuation)
    /// and 2 elsewhere (CJK, most symbols).
    XWeighted,
    /// UTF-16 code units, what schedulers publishing to LinkedIn, Meta's platforms and
    /// TikTok count to avoid rejections: code points count 1, except those outside the Basic
    /// Multilingual Plane (most emoji, the "bold" and "italic" math letters), which count 2.
    /// It is never less than the number of code points, so text within it is within a
    /// code-point limit too.
    Utf16CodeUnits,
    /// Threads' count: each emoji counts its UTF-8 bytes (Meta documents this: 😀 counts 4,
    /// 👍🏽 counts 8), other characters count their UTF-16 code units.
    ThreadsCharacters,
    /// Extended grapheme clusters, what a reader sees as one character (Bluesky): `é`
    /// written as `e` + combining accent, 👨‍👩‍👧‍👦 and 🇫🇷 each count 1.
    Graphemes,
    /// Mastodon's count: code points, with every `http://` or `https://` URL counting 23
    /// whatever its length.
    MastodonCharacters,
    /// UTF-8 bytes (Bluesky's second limit).
    Utf8Bytes,
}

/// What X and Mastodon count a URL as.
const URL_LENGTH: usize = 23;
/// What X counts an emoji as.
const X_EMOJI_WEIGHT: usize = 2;

impl LengthUnit {
    /// The length of `text` in this unit.
    pub fn measure(self, text: &str) -> usize {
        match self {
            LengthUnit::XWeighted => x_weighted_length(text),
            LengthUnit::Utf16CodeUnits => text.encode_utf16().count(),
            LengthUnit::ThreadsCharacters => threads_length(text),
            LengthUnit::Graphemes => text.graphemes(true).count(),
            LengthUnit::MastodonCharacters => mastodon_length(text),
            LengthUnit::Utf8Bytes => text.len(),
        }
    }
}

impl fmt::Display for LengthUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LengthUnit::XWeighted => "weighted characters",
            LengthUnit::Utf16CodeUnits => "UTF-16 code units",
            LengthUnit::ThreadsCharacters => "characters (emoji by UTF-8 bytes)",
            LengthUnit::Graphemes => "graphemes",
            LengthUnit::MastodonCharacters => "characters (URLs as 23)",
            LengthUnit::Utf8Bytes => "bytes",
        })
    }
}

/// The length of `text` as `platform` counts it against [`Rules::max_length`].
///
/// [`Rules::max_length`]: crate::Rules::max_length
///
/// ```
/// use marquee_social::{Platform, length};
/// assert_eq!(length(Platform::X, "日本"), 4);
/// assert_eq!(length(Platform::X, "see https://example.com/a/very/long/path/indeed"), 27);
/// assert_eq!(length(Platform::Bluesky, "👨‍👩‍👧‍👦"), 1);
/// ```
pub fn length(platform: Platform, text: &str) -> usize {
    platform.rules().length_unit.measure(text)
}

fn x_weighted_length(text: &str) -> usize {
    let text = nfc(text);
    let urls = url::find_urls(&text, Scheme::Optional);
    let mut urls = urls.iter().peekable();
    let mut length = 0;
    let mut position = 0;
    while let Some(rest) = text.get(position..).filter(|rest| !rest.is_empty()) {
        let next_url_start = urls.peek().map_or(text.len(), |url| url.start);
        if next_url_start == position {
            if let Some(url) = urls.next() {
                length += URL_LENGTH;
                position = url.end;
            }
            continue;
        }
        if let Some(emoji_len) = x_emoji_len(rest).filter(|&len| position + len <= next_url_start) {
            length += X_EMOJI_WEIGHT;
            position += emoji_len;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        length += x_char_weight(c);
        position += c.len_utf8();
    }
    length
}

/// An emoji as X counts one. © and ® are emoji only with the emoji variation selector
/// (`©️`); alone they are text and weigh 1 (X's parser follows Twemoji here).
fn x_emoji_len(text: &str) -> Option<usize> {
    let len = emoji::emoji_prefix_len(text)?;
    let mut chars = text[..len].chars();
    match (chars.next(), chars.next()) {
        (Some(only), None) if u32::from(only) < 0x1100 => None,
        _ => Some(len),
    }
}

fn x_char_weight(c: char) -> usize {
    match u32::from(c) {
        0..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

fn threads_length(text: &str) -> usize {
    let mut length = 0;
    let mut position = 0;
    while let Some(rest) = text.get(position..).filter(|rest| !rest.is_empty()) {
        if let Some(emoji_len) = emoji::emoji_prefix_len(rest) {
            length += emoji_len;
            position += emoji_len;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        length += if emoji::is_emoji_character(c) {
            c.len_utf8()
        } else {
            c.len_utf16()
        };
        position += c.len_utf8();
    }
    length
}

fn mastodon_length(text: &str) -> usize {
    let urls = url::find_urls(text, Scheme::Required);
    let url_chars: usize = urls
        .iter()
        .map(|url| text[url.clone()].chars().count())
        .sum();
    text.chars().count() - url_chars + URL_LENGTH * urls.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(text: &str) -> usize {
        length(Platform::X, text)
    }

    #[test]
    fn x_counts_latin_as_one_and_the_limit_is_280() {
        assert_eq!(x(&"a".repeat(280)), 280);
        assert!(crate::check(Platform::X, &"a".repeat(280)).is_ok());
        assert_eq!(x(&"a".repeat(281)), 281);
        assert!(crate::check(Platform::X, &"a".repeat(281)).is_err());
        assert_eq!(x("Ünïcödé Ελληνικά Кириллица עברית العربية हिन्दी"), 47);
    }

    #[test]
    fn x_counts_cjk_as_two() {
        let cjk = "漢".repeat(140);
        assert_eq!(x(&cjk), 280);
        assert!(crate::check(Platform::X, &cjk).is_ok());
        assert!(crate::check(Platform::X, &format!("{cjk}a")).is_err());
        assert_eq!(x("the故人西辞黄鹤楼"), 3 + 14);
        assert_eq!(x("こんにちは"), 10);
    }

    #[test]
    fn x_counts_every_url_as_23() {
        let long_url = format!("https://example.com/{}", "p".repeat(80));
        assert_eq!(long_url.len(), 100);
        assert_eq!(x(&long_url), 23);
        assert_eq!(x("Hi http://test.co"), 26);
        assert_eq!(x("example.com"), 23);
        assert_eq!(x("https://www.twitter.com/aloha ".repeat(10).as_str()), 240);
        // Not URLs: counted character by character.
        assert_eq!(x("Node.js"), 7);
        assert_eq!(x("http://localhost:8080"), 21);
    }

    #[test]
    fn x_counts_each_emoji_as_two() {
        assert_eq!(x("👨\u{200D}👩\u{200D}👧\u{200D}👦"), 2);
        assert_eq!(x("H🐱☺👨\u{200D}👩\u{200D}👧\u{200D}👦"), 7);
        assert_eq!(x("😷👾😡🔥💩"), 10);
        assert_eq!(x("🙋🏽👨\u{200D}🎤"), 4);
        assert_eq!(x("🇫🇷"), 2);
        assert_eq!(x("1\u{FE0F}\u{20E3}"), 2);
        assert_eq!(x("1\u{20E3}"), 2);
        assert_eq!(
            x("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"),
            2
        );
        assert_eq!(x(&"👨\u{200D}👩\u{200D}👧\u{200D}👦".repeat(140)), 280);
        assert_eq!(
            x(
                "Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"
            ),
            34
        );
    }

    #[test]
    fn x_counts_copyright_and_registered_as_text_unless_emoji_styled() {
        assert_eq!(x("©"), 1);
        assert_eq!(x("®"), 1);
        assert_eq!(x("©\u{FE0F}"), 2);
        assert_eq!(x("™"), 2);
    }

    #[test]
    fn x_normalises_to_nfc_first() {
        assert_eq!(x("e\u{301}"), 1);
        assert_eq!(x("A\u{301}B"), 2);
        // Hebrew with dagesh and shin dot has no composed form: three code points stay.
        assert_eq!(x("A\u{5E9}\u{5BC}\u{5C1}"), 4);
    }

    #[test]
    fn x_weighs_general_punctuation_as_one() {
        let text = "This is a tweet with general punctuation characters: \u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200A}\u{200B}\u{200C}\u{200D} ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷";
        assert_eq!(x(text), 112);
        // Directional isolates and embeddings are outside the light ranges.
        assert_eq!(
            x("\u{2066}\u{202A}http://foobar.پاکستان/\u{202C}\u{2069}"),
            31
        );
    }

    #[test]
    fn x_ignores_urls_with_overlong_labels() {
        let label = "a".repeat(64);
        assert_eq!(x(&format!("{label}.com")), 68);
        // 53 of these kana encode to 64 punycode characters, 52 to 63.
        let kana: String = "あいうえおかきくけこ".chars().cycle().take(53).collect();
        assert_eq!(x(&format!("http://{kana}.com")), 7 + 53 * 2 + 4);
        let kana: String = kana.chars().take(52).collect();
        assert_eq!(x(&format!("http://{kana}.com")), 23);
    }

    #[test]
    fn bluesky_counts_graphemes() {
        let thumbs = "👍🏽".repeat(300);
        assert_eq!(length(Platform::Bluesky, &thumbs), 300);
        assert!(crate::check(Platform::Bluesky, &thumbs).is_ok());
        assert!(crate::check(Platform::Bluesky, &format!("{thumbs}!")).is_err());
        assert_eq!(
            length(Platform::Bluesky, "e\u{301}🇫🇷👨\u{200D}👩\u{200D}👧"),
            3
        );
    }

    #[test]
    fn mastodon_counts_code_points_and_urls_as_23() {
        let long_url = format!("https://example.com/{}", "p".repeat(80));
        assert_eq!(length(Platform::Mastodon, &long_url), 23);
        assert_eq!(
            length(Platform::Mastodon, &format!("Read {long_url} now")),
            5 + 23 + 4
        );
        assert_eq!(length(Platform::Mastodon, "http://x.co"), 23);
        // Only URLs with a scheme get the fixed length.
        assert_eq!(length(Platform::Mastodon, "example.com"), 11);
        assert_eq!(length(Platform::Mastodon, "日本👍🏽"), 4);
    }

    #[test]
    fn utf16_counts_astral_characters_as_two() {
        assert_eq!(length(Platform::LinkedIn, "abc"), 3);
        assert_eq!(length(Platform::LinkedIn, "é日"), 2);
        assert_eq!(length(Platform::LinkedIn, "😀"), 2);
        assert_eq!(length(Platform::Instagram, "𝐁𝐨𝐥𝐝"), 8);
    }

    #[test]
    fn threads_counts_emoji_by_their_bytes() {
        assert_eq!(length(Platform::Threads, "hello"), 5);
        assert_eq!(length(Platform::Threads, "😀"), 4);
        assert_eq!(length(Platform::Threads, "👍🏽"), 8);
        assert_eq!(length(Platform::Threads, "❤\u{FE0F}"), 6);
        assert_eq!(length(Platform::Threads, "日本"), 2);
        assert_eq!(length(Platform::Threads, "\u{200D}"), 3);
    }

    #[test]
    fn empty_text_has_no_length() {
        for platform in Platform::ALL {
            assert_eq!(length(platform, ""), 0, "{platform}");
        }
    }
}
