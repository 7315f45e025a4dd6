//! Recognising emoji: the longest entry of Unicode's emoji list at a position.
//!
//! The list (from the `emojis` crate) holds every emoji Unicode recommends, each skin-tone
//! variant, ZWJ sequences (families, professions), flags, keycaps and tag sequences, and the
//! unqualified and minimally qualified spellings of each (`❤` as well as `❤️`, `1⃣` as well
//! as `1️⃣`). That is how X's counter recognises an emoji: a listed sequence is one emoji,
//! anything else is counted character by character.

use unicode_properties::UnicodeEmoji;

/// The most code points in one listed emoji (kiss/couple sequences with two skin tones).
/// A test checks it against the list.
const MAX_EMOJI_CODE_POINTS: usize = 10;

/// The byte length of the longest listed emoji at the start of `text`, if one starts there.
pub(crate) fn emoji_prefix_len(text: &str) -> Option<usize> {
    let first = text.chars().next()?;
    // Every emoji starts with a character that has the Emoji or Emoji_Component property
    // (in ASCII only `#`, `*` and digits, for keycaps); checking that first keeps ordinary
    // text from costing ten map lookups per character.
    let may_start_emoji = if first.is_ascii() {
        matches!(first, '#' | '*' | '0'..='9')
    } else {
        first.is_emoji_char_or_emoji_component()
    };
    if !may_start_emoji {
        return None;
    }
    let mut ends = [0usize; MAX_EMOJI_CODE_POINTS];
    let mut count = 0;
    for (offset, c) in text.char_indices().take(MAX_EMOJI_CODE_POINTS) {
        ends[count] = offset + c.len_utf8();
        count += 1;
    }
    ends[..count]
        .iter()
        .rev()
        .copied()
        .find(|&end| emojis::get(&text[..end]).is_some())
}

/// Whether `c` can only be part of an emoji (or is one): what Threads counts in UTF-8 bytes
/// even when it stands outside a listed sequence (a stray ZWJ, VS16 or skin-tone modifier).
pub(crate) fn is_emoji_character(c: char) -> bool {
    !c.is_ascii() && c.is_emoji_char_or_emoji_component()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_listed_emoji_is_longer_than_the_lookahead() {
        let longest = emojis::iter()
            .flat_map(|emoji| {
                std::iter::once(emoji).chain(emoji.skin_tones().into_iter().flatten())
            })
            .map(|emoji| emoji.as_str().chars().count())
            .max();
        assert_eq!(longest, Some(MAX_EMOJI_CODE_POINTS));
    }

    #[test]
    fn finds_the_longest_sequence() {
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
        assert_eq!(emoji_prefix_len(&format!("{family}!")), Some(family.len()));
        assert_eq!(emoji_prefix_len("👍🏽x"), Some("👍🏽".len()));
        assert_eq!(emoji_prefix_len("🇫🇷🇩🇪"), Some("🇫🇷".len()));
        assert_eq!(emoji_prefix_len("1\u{FE0F}\u{20E3}"), Some(7));
        assert_eq!(emoji_prefix_len("1\u{20E3}"), Some(4));
        assert_eq!(emoji_prefix_len("❤\u{FE0F}"), Some(6));
        assert_eq!(emoji_prefix_len("❤"), Some(3));
    }

    #[test]
    fn ordinary_text_is_not_emoji() {
        assert_eq!(emoji_prefix_len(""), None);
        assert_eq!(emoji_prefix_len("a👍"), None);
        assert_eq!(emoji_prefix_len("123"), None);
        assert_eq!(emoji_prefix_len("日本"), None);
    }
}
