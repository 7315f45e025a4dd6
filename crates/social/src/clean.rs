//! Tidying text a model wrote before it is measured and published.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_segmentation::UnicodeSegmentation;

use crate::check::{is_blank, is_invalid_char};

/// Text after [`clean_text`], with the number of characters removed as invalid.
pub(crate) struct Cleaned {
    pub text: String,
    pub removed: usize,
}

/// Makes `raw` safe and tidy to publish, without changing what it says:
///
/// * every line break becomes `\n` (`\r\n`, `\r`, vertical tab, form feed, NEL, U+2028,
///   U+2029) and a tab becomes a space;
/// * characters platforms reject are removed (other controls, byte-order marks,
///   noncharacters) and counted;
/// * the text is NFC-normalised (X counts it so, and it is never longer);
/// * on each line, runs of whitespace become one space and invisible characters are
///   trimmed from both ends; at most one empty line separates paragraphs, and there are
///   none at the start or the end.
pub(crate) fn clean_text(raw: &str) -> Cleaned {
    let mut removed = 0;
    let mut mapped = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                mapped.push('\n');
            }
            '\n' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => mapped.push('\n'),
            '\t' => mapped.push(' '),
            c if is_invalid_char(c) => removed += 1,
            c => mapped.push(c),
        }
    }
    Cleaned {
        text: tidy_lines(&nfc(&mapped)),
        removed,
    }
}

/// `text` in Unicode Normalization Form C, copied only when it is not already (most text
/// is, and the quick check is much cheaper than normalising).
pub(crate) fn nfc(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(text.nfc().collect()),
    }
}

/// The line-level part of [`clean_text`], for text that is already clean otherwise.
pub(crate) fn tidy_lines(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut blank_line_pending = false;
    for line in text.split('\n') {
        let line = collapse_whitespace(line);
        let line = trim_blank(&line);
        if line.is_empty() {
            blank_line_pending = !tidy.is_empty();
            continue;
        }
        if !tidy.is_empty() {
            tidy.push('\n');
            if blank_line_pending {
                tidy.push('\n');
            }
        }
        tidy.push_str(line);
        blank_line_pending = false;
    }
    tidy
}

/// Runs of two or more whitespace characters become one space; a single one (a no-break
/// space, say) is kept as it is.
fn collapse_whitespace(line: &str) -> String {
    let mut collapsed = String::with_capacity(line.len());
    let mut run: Option<(char, usize)> = None;
    for c in line.chars() {
        if c.is_whitespace() {
            run = Some(match run {
                Some((first, length)) => (first, length + 1),
                None => (c, 1),
            });
            continue;
        }
        if let Some((first, length)) = run.take() {
            collapsed.push(if length == 1 { first } else { ' ' });
        }
        collapsed.push(c);
    }
    if let Some((first, length)) = run {
        collapsed.push(if length == 1 { first } else { ' ' });
    }
    collapsed
}

/// `text` without the grapheme clusters at either end that show nothing. Works on whole
/// clusters so that an emoji's trailing variation selector or joiner stays with it.
pub(crate) fn trim_blank(text: &str) -> &str {
    let start = text
        .grapheme_indices(true)
        .find(|(_, grapheme)| !is_blank(grapheme))
        .map_or(text.len(), |(offset, _)| offset);
    let end = text
        .grapheme_indices(true)
        .rev()
        .find(|(_, grapheme)| !is_blank(grapheme))
        .map_or(start, |(offset, grapheme)| offset + grapheme.len());
    &text[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(raw: &str) -> String {
        clean_text(raw).text
    }

    #[test]
    fn line_breaks_are_unified_and_blank_lines_collapsed() {
        assert_eq!(clean("a\r\nb\rc\u{2028}d"), "a\nb\nc\nd");
        assert_eq!(
            clean("\n\n\npara one\n\n\n\n\npara two\n\n"),
            "para one\n\npara two"
        );
        assert_eq!(clean("one\n   \n\u{200B}\ntwo"), "one\n\ntwo");
    }

    #[test]
    fn whitespace_runs_collapse_and_lines_are_trimmed() {
        assert_eq!(clean("  a \t  b\u{3000}\u{3000}c  "), "a b c");
        assert_eq!(clean("prix\u{A0}: 10\u{A0}€"), "prix\u{A0}: 10\u{A0}€");
        assert_eq!(clean("\u{200B}\u{FEFF}hello\u{200B}"), "hello");
    }

    #[test]
    fn invalid_characters_are_removed_and_counted() {
        let cleaned = clean_text("a\u{0}b\u{7}c\u{FEFF}d\u{FFFF}");
        assert_eq!(cleaned.text, "abcd");
        assert_eq!(cleaned.removed, 4);
    }

    #[test]
    fn text_is_nfc_normalised() {
        assert_eq!(clean("cafe\u{301}"), "café");
    }

    #[test]
    fn emoji_keep_their_invisible_parts() {
        assert_eq!(clean(" ❤\u{FE0F} "), "❤\u{FE0F}");
        assert_eq!(clean("👨\u{200D}👩\u{200D}👧"), "👨\u{200D}👩\u{200D}👧");
    }
}
