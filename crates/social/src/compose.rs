//! Composing a publishable post from a draft, repairing whatever breaks the platform's rules.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

use crate::check::{check, is_blank_char};
use crate::clean::clean_text;
use crate::emoji;
use crate::hashtag::{
    self, dedup_key, extract_hashtags, is_hash_sign, is_hashtag_char, normalize_hashtag,
};
use crate::link::{LinkOutcome, prepare_link, remove_links_over_limit};
use crate::platform::{Platform, Rules};
use crate::shorten::{WEAK_TRAILING, shorten};
use crate::url::{self, Scheme};

/// What a model (or a person) wrote for a post, before the platform's rules are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The post's text. May already contain hashtags and links.
    pub body: String,
    /// Hashtags to add, with or without `#`.
    pub hashtags: Vec<String>,
    /// A link to add after the body.
    pub link: Option<String>,
}

/// A post ready to publish: `text` passes [`check`] for the platform it was composed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// The exact text to publish: the body, then the link, then the hashtags on a line of
    /// their own, separated by blank lines.
    pub text: String,
    /// Every hashtag in `text` (those kept in the body and those added), without `#`.
    pub hashtags: Vec<String>,
    /// What had to change, in the order it was done; empty when the draft was published as
    /// written, up to layout: tidied whitespace, NFC, a trailing line of hashtags moved to
    /// the hashtag line, a link the body already shows not repeated.
    pub repairs: Vec<Repair>,
}

/// Where a shortened body was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// After a whole sentence; no ellipsis is added.
    Sentence,
    /// Between words, with `…` added.
    Word,
    /// Between two characters of a long word (or of text without spaces), with `…` added.
    Grapheme,
}

/// One change [`compose`] made to a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Repair {
    /// Control characters, byte-order marks or noncharacters were removed from the body.
    InvalidCharactersRemoved { count: usize },
    /// Requested hashtags that cannot be hashtags were left out: no letter once
    /// normalised (`#2024`, `#!!!`), or longer than the platform links.
    InvalidHashtagsDropped { count: usize },
    /// Hashtags in the body lost their `#` and now read as plain words: ones the platform
    /// would not link as written (`#social-media`), ones too long for it, and ones past its
    /// hashtag limit.
    BodyHashtagsUnmarked { count: usize },
    /// Requested hashtags past the platform's hashtag limit were left out (the last ones).
    HashtagsOverLimitDropped { count: usize },
    /// Links in the body past the platform's link limit were removed.
    LinksRemoved { count: usize },
    /// The draft's link is not a usable URL (it has spaces, or no recognisable domain) and
    /// was left out.
    InvalidLinkDropped,
    /// The link was left out: even alone it is longer than the platform allows.
    LinkDroppedToFit,
    /// Hashtags were left out to fit the length limit (each was kept, in order, if it
    /// still fit; when the body has to be shortened, none is kept).
    HashtagsDroppedToFit { count: usize },
    /// The body was shortened to fit the length limit.
    Truncated { boundary: Boundary },
    /// Nothing of the body fits beside the link; only the link (and hashtags) remain.
    BodyDropped,
}

impl Repair {
    /// Whether something the draft asked for is missing from the post: text, a valid
    /// hashtag or a link. Removing invalid characters, dropping hashtags that could never be
    /// hashtags, and unmarking body hashtags lose nothing a reader would see.
    pub fn is_lossy(&self) -> bool {
        !matches!(
            self,
            Repair::InvalidCharactersRemoved { .. }
                | Repair::InvalidHashtagsDropped { .. }
                | Repair::BodyHashtagsUnmarked { .. }
        )
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repair::InvalidCharactersRemoved { count } => {
                write!(f, "removed {count} invalid characters")
            }
            Repair::InvalidHashtagsDropped { count } => {
                write!(f, "left out {count} hashtags that cannot be hashtags")
            }
            Repair::BodyHashtagsUnmarked { count } => {
                write!(f, "turned {count} hashtags in the text into plain words")
            }
            Repair::HashtagsOverLimitDropped { count } => {
                write!(f, "left out {count} hashtags over the platform's limit")
            }
            Repair::LinksRemoved { count } => {
                write!(f, "removed {count} links over the platform's limit")
            }
            Repair::InvalidLinkDropped => f.write_str("left out the link: it is not a usable URL"),
            Repair::LinkDroppedToFit => f.write_str("left out the link: it is too long alone"),
            Repair::HashtagsDroppedToFit { count } => {
                write!(f, "left out {count} hashtags to fit the length limit")
            }
            Repair::Truncated { boundary } => {
                let at = match boundary {
                    Boundary::Sentence => "at a sentence end",
                    Boundary::Word => "at a word boundary",
                    Boundary::Grapheme => "inside a long word",
                };
                write!(f, "shortened the text {at}")
            }
            Repair::BodyDropped => f.write_str("left out the text: nothing of it fits"),
        }
    }
}

/// Why a draft could not become a post.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// The draft has no visible text, no valid hashtag and no usable link, or none of them
    /// fits the platform even alone (say, a body that is one URL longer than the limit).
    #[error("the draft has nothing that can be published on this platform")]
    NothingToPublish,
}

/// Composes `draft` into a post that passes [`check`] for `platform`, whatever the draft
/// holds, repairing it as little as needed and listing every repair:
///
/// 1. The body is tidied (line breaks, whitespace, invalid characters, NFC); lines at its end
///    that hold only hashtags join the requested hashtags.
/// 2. Links in the body beyond the platform's link limit are removed.
/// 3. Body hashtags the platform would not link as written, or beyond its limit, lose their
///    `#`; requested hashtags are normalised ([`normalize_hashtag`]), deduplicated ignoring
///    case (also against the body's), and cut to the room the limit leaves.
/// 4. The link is kept unless it is not a usable URL or does not fit even alone.
/// 5. If the post is too long, hashtags are kept, in order, only while they fit; if it is
///    too long even without any, the body is shortened: after a sentence when that keeps
///    most of what fits, else between words, else between characters, adding `…`, never
///    inside a grapheme cluster, a URL or a hashtag.
///
/// Fails only when nothing publishable is left.
///
/// ```
/// use marquee_social::{Draft, Platform, compose};
/// let draft = Draft {
///     body: "Our spring collection is here.".to_owned(),
///     hashtags: vec!["#Fashion".to_owned(), "spring style".to_owned()],
///     link: Some("https://shop.example.com/spring".to_owned()),
/// };
/// let post = compose(Platform::X, &draft).unwrap();
/// assert_eq!(
///     post.text,
///     "Our spring collection is here.\n\nhttps://shop.example.com/spring\n\n#Fashion #springstyle"
/// );
/// assert!(post.repairs.is_empty());
/// ```
pub fn compose(platform: Platform, draft: &Draft) -> Result<Post, ComposeError> {
    let rules = platform.rules();
    let prepared = prepare(rules, draft);
    if prepared.body.is_empty() && prepared.link.is_none() && prepared.hashtags.is_empty() {
        return Err(ComposeError::NothingToPublish);
    }
    // Length is all that `prepare` leaves to break, and it is cheap to measure, so fitting
    // measures only length; the full check then confirms the result. Should it ever fail,
    // fitting again against the full check keeps the promise that the post passes it.
    let passes_check = |text: &str| check(platform, text).is_ok();
    let fitted = fit(&prepared, rules, |text| within_length_limits(rules, text))
        .filter(|fitted| passes_check(&fitted.text))
        .or_else(|| fit(&prepared, rules, passes_check))
        .ok_or(ComposeError::NothingToPublish)?;
    debug_assert!(
        is_grapheme_boundary(&prepared.body, fitted.body_kept),
        "cut inside a grapheme cluster"
    );
    debug_assert!(
        fitted.text.starts_with(
            prepared.body[..fitted.body_kept]
                .trim_end_matches(|c: char| is_blank_char(c) || WEAK_TRAILING.contains(&c))
        ),
        "the post does not start with the part of the body it kept"
    );

    let mut repairs = prepared.repairs;
    repairs.extend(fitted.repairs);
    Ok(Post {
        hashtags: extract_hashtags(&fitted.text)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        text: fitted.text,
        repairs,
    })
}

fn is_grapheme_boundary(text: &str, offset: usize) -> bool {
    text.is_char_boundary(offset)
        && GraphemeCursor::new(offset, text.len(), true)
            .is_boundary(text, 0)
            .unwrap_or(false)
}

/// Whether `draft` can be published on `platform` without losing anything it asks for (see
/// [`Repair::is_lossy`]); when it cannot, a caller may prefer asking the model again to
/// letting [`compose`] shorten it.
pub fn fits(platform: Platform, draft: &Draft) -> bool {
    compose(platform, draft).is_ok_and(|post| !post.repairs.iter().any(Repair::is_lossy))
}

fn within_length_limits(rules: &Rules, text: &str) -> bool {
    rules.max_utf8_bytes.is_none_or(|max| text.len() <= max)
        && rules.length_unit.measure(text) <= rules.max_length
}

/// A prepared draft laid out so that `passes` holds for its text.
struct Fitted {
    text: String,
    /// Bytes of the prepared body the text starts with (before trimming and the ellipsis).
    body_kept: usize,
    repairs: Vec<Repair>,
}

/// Keeps the link unless it fails alone, then leaves out hashtags, then shortens the body,
/// until `passes` holds; `None` when nothing passes (only empty text would be left).
fn fit(prepared: &Prepared, rules: &Rules, passes: impl Fn(&str) -> bool) -> Option<Fitted> {
    let Prepared { body, hashtags, .. } = prepared;
    let mut repairs = Vec::new();
    let link = prepared.link.as_deref().filter(|link| {
        let fits_alone = passes(link);
        if !fits_alone {
            repairs.push(Repair::LinkDroppedToFit);
        }
        fits_alone
    });
    let done = |text: String, body_kept: usize, repairs: Vec<Repair>| {
        (!text.is_empty()).then_some(Fitted {
            text,
            body_kept,
            repairs,
        })
    };

    let full = layout(body, link, hashtags);
    if passes(&full) {
        return done(full, body.len(), repairs);
    }

    // If the body and link fit without hashtags, keep the hashtags that fit; otherwise none
    // can, and the body must be shortened.
    if !hashtags.is_empty() && passes(&layout(body, link, &[])) {
        let kept = hashtags_that_fit(body, link, hashtags, rules, &passes);
        repairs.push(Repair::HashtagsDroppedToFit {
            count: hashtags.len() - kept.len(),
        });
        return done(layout(body, link, &kept), body.len(), repairs);
    }

    if let Some(shortened) = shorten(body, rules, |candidate| {
        passes(&layout(candidate, link, &[]))
    }) {
        if !hashtags.is_empty() {
            repairs.push(Repair::HashtagsDroppedToFit {
                count: hashtags.len(),
            });
        }
        repairs.push(Repair::Truncated {
            boundary: shortened.boundary,
        });
        return done(layout(&shortened.body, link, &[]), shortened.kept, repairs);
    }

    // Not even the start of the body fits beside the link: publish the link and whatever
    // hashtags fit with it.
    if !body.is_empty() {
        repairs.push(Repair::BodyDropped);
    }
    let kept = hashtags_that_fit("", link, hashtags, rules, &passes);
    if kept.len() < hashtags.len() {
        repairs.push(Repair::HashtagsDroppedToFit {
            count: hashtags.len() - kept.len(),
        });
    }
    done(layout("", link, &kept), 0, repairs)
}

/// The hashtags, in order, that fit after `body` and `link`: each is kept if the text
/// still passes with it, so one long hashtag does not push out the shorter ones after it.
fn hashtags_that_fit(
    body: &str,
    link: Option<&str>,
    hashtags: &[String],
    rules: &Rules,
    passes: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(hashtags.len());
    let start = layout(body, link, &kept);
    let mut length = rules.length_unit.measure(&start);
    let mut empty = start.is_empty();
    for name in hashtags {
        // Adding `#name` adds at least the separator before it (if anything precedes), the
        // sign and one per grapheme, in every unit; skipping what cannot fit saves measuring
        // the whole text again.
        let least_added = usize::from(!empty) + 1 + name.graphemes(true).count();
        if length + least_added > rules.max_length {
            continue;
        }
        kept.push(name.clone());
        let text = layout(body, link, &kept);
        if passes(&text) {
            length = rules.length_unit.measure(&text);
            empty = false;
        } else {
            kept.pop();
        }
    }
    kept
}

/// A draft after every repair that does not depend on the length limit.
struct Prepared {
    body: String,
    link: Option<String>,
    /// Hashtags to add after the body, normalised, without `#`.
    hashtags: Vec<String>,
    repairs: Vec<Repair>,
}

fn prepare(rules: &Rules, draft: &Draft) -> Prepared {
    let mut repairs = Vec::new();

    let cleaned = clean_text(&draft.body);
    if cleaned.removed > 0 {
        repairs.push(Repair::InvalidCharactersRemoved {
            count: cleaned.removed,
        });
    }
    let (mut body, trailing_hashtags) = split_trailing_hashtags(&cleaned.text);

    let link = match draft.link.as_deref().map(prepare_link) {
        None | Some(LinkOutcome::Absent) => None,
        Some(LinkOutcome::Unusable) => {
            repairs.push(Repair::InvalidLinkDropped);
            None
        }
        Some(LinkOutcome::Usable(link)) => Some(link),
    };

    if let Some(max_links) = rules.max_links {
        let removed = remove_links_over_limit(&mut body, link.as_deref(), max_links);
        if removed > 0 {
            repairs.push(Repair::LinksRemoved { count: removed });
        }
    }

    let (unmarked, body_hashtags) = unmark_body_hashtags(&mut body, rules);
    if unmarked > 0 {
        repairs.push(Repair::BodyHashtagsUnmarked { count: unmarked });
    }

    let mut seen: HashSet<String> = body_hashtags.iter().map(|name| dedup_key(name)).collect();
    let mut hashtags = Vec::new();
    let mut invalid = 0;
    for raw in trailing_hashtags.iter().chain(&draft.hashtags) {
        let usable = normalize_hashtag(raw).filter(|name| {
            rules
                .max_hashtag_chars
                .is_none_or(|max| name.chars().count() <= max)
        });
        match usable {
            Some(name) => {
                if seen.insert(dedup_key(&name)) {
                    hashtags.push(name);
                }
            }
            None => invalid += 1,
        }
    }
    if invalid > 0 {
        repairs.push(Repair::InvalidHashtagsDropped { count: invalid });
    }
    if let Some(max) = rules.max_hashtags {
        let room = max.saturating_sub(body_hashtags.len());
        if hashtags.len() > room {
            repairs.push(Repair::HashtagsOverLimitDropped {
                count: hashtags.len() - room,
            });
            hashtags.truncate(room);
        }
    }

    // A link the body already shows is not repeated.
    let link = link.filter(|link| {
        !url::find_urls(&body, Scheme::Optional)
            .into_iter()
            .any(|range| body[range] == *link)
    });

    Prepared {
        body,
        link,
        hashtags,
        repairs,
    }
}

/// The published layout: body, link and hashtags, each present one separated from the
/// next by a blank line.
fn layout(body: &str, link: Option<&str>, hashtags: &[String]) -> String {
    let hashtag_line = hashtags
        .iter()
        .map(|name| format!("#{name}"))
        .collect::<Vec<_>>()
        .join(" ");
    [body, link.unwrap_or_default(), &hashtag_line]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Splits off the hashtags a body ends with, which belong with the requested ones: lines
/// at its end that hold nothing but `#words`, and `#words` after the last sentence of the
/// last line (`Try it today! #AI #tools`). Hashtags that are part of a sentence
/// (`We love #rust`) stay where they are.
fn split_trailing_hashtags(body: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = body.split('\n').collect();
    let is_hashtag_line = |line: &str| {
        let mut words = line.split_whitespace().peekable();
        words.peek().is_some() && words.all(is_hashtag_word)
    };
    let mut kept_lines = lines.len();
    while kept_lines > 0
        && (lines[kept_lines - 1].is_empty() || is_hashtag_line(lines[kept_lines - 1]))
    {
        kept_lines -= 1;
    }
    let mut hashtags: Vec<String> = Vec::new();
    let mut last_line = lines[..kept_lines].last().copied().unwrap_or_default();
    let mut words_at_end: Vec<&str> = Vec::new();
    let mut rest = last_line.trim_end();
    while let Some((start, word)) = last_word(rest).filter(|&(_, word)| is_hashtag_word(word)) {
        words_at_end.insert(0, word);
        rest = rest[..start].trim_end();
    }
    if !words_at_end.is_empty() && ends_sentence(rest) {
        hashtags.extend(words_at_end.into_iter().map(str::to_owned));
        last_line = rest;
    }
    hashtags.extend(
        lines[kept_lines..]
            .iter()
            .flat_map(|line| line.split_whitespace())
            .map(str::to_owned),
    );
    let mut body_lines = lines[..kept_lines.saturating_sub(1)].to_vec();
    if kept_lines > 0 {
        body_lines.push(last_line);
    }
    (body_lines.join("\n"), hashtags)
}

/// `#word`, `#two-words` or `#word,`; not `#` alone, nor a URL or other text after `#`.
fn is_hashtag_word(word: &str) -> bool {
    let name = word
        .trim_start_matches(is_hash_sign)
        .trim_end_matches([',', '.', ';', '!', '?']);
    word.starts_with(is_hash_sign)
        && !name.is_empty()
        && name
            .chars()
            .all(|c| is_hashtag_char(c) || matches!(c, '-' | '\u{2010}' | '\u{2011}'))
}

/// The last whitespace-separated word of `text` (which has no trailing whitespace), with
/// the byte offset where it starts.
fn last_word(text: &str) -> Option<(usize, &str)> {
    let start = text
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(at, c)| at + c.len_utf8());
    (start < text.len()).then(|| (start, &text[start..]))
}

/// Whether `text` ends a sentence: with terminal punctuation or an emoji.
fn ends_sentence(text: &str) -> bool {
    text.graphemes(true).next_back().is_some_and(|last| {
        last.starts_with(['.', '!', '?', '…', '。', '！', '？', '‼', '⁉'])
            || emoji::emoji_prefix_len(last) == Some(last.len())
    })
}

/// Removes the `#` of body hashtags the platform would not link as written, that are too
/// long for it, or that come after its limit; returns how many, and the names of the
/// hashtags left.
fn unmark_body_hashtags(body: &mut String, rules: &Rules) -> (usize, Vec<String>) {
    let mut unmarked = 0;
    // Unmarking can expose a new hashtag (`##tag-x` → `#tag-x`), so repeat until stable;
    // every pass removes at least one `#`.
    loop {
        let tokens = hashtag::scan(body);
        let mut well_formed_kept = 0;
        let signs: Vec<Range<usize>> = tokens
            .iter()
            .filter(|token| {
                let too_long = rules
                    .max_hashtag_chars
                    .is_some_and(|max| body[token.name.clone()].chars().count() > max);
                if !token.well_formed || too_long {
                    return true;
                }
                well_formed_kept += 1;
                rules.max_hashtags.is_some_and(|max| well_formed_kept > max)
            })
            .map(|token| token.sign.clone())
            .collect();
        if signs.is_empty() {
            let names = tokens
                .into_iter()
                .map(|token| body[token.name].to_owned())
                .collect();
            return (unmarked, names);
        }
        unmarked += signs.len();
        for sign in signs.into_iter().rev() {
            body.replace_range(sign, "");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::length;
    use proptest::prelude::*;

    fn draft(body: &str, hashtags: &[&str], link: Option<&str>) -> Draft {
        Draft {
            body: body.to_owned(),
            hashtags: hashtags.iter().map(|tag| (*tag).to_owned()).collect(),
            link: link.map(str::to_owned),
        }
    }

    fn composed(platform: Platform, draft: &Draft) -> Post {
        let post = compose(platform, draft).expect("composes");
        assert_eq!(
            check(platform, &post.text),
            Ok(()),
            "{platform}: {:?}",
            post.text
        );
        post
    }

    #[test]
    fn lays_out_body_link_and_hashtags() {
        let post = composed(
            Platform::LinkedIn,
            &draft(
                "We're hiring!\n\n\n\nJoin the team.",
                &["#Hiring", "careers", "hiring", "remote-work"],
                Some("https://jobs.example.com"),
            ),
        );
        assert_eq!(
            post.text,
            "We're hiring!\n\nJoin the team.\n\nhttps://jobs.example.com\n\n#Hiring #careers #remotework"
        );
        assert_eq!(post.hashtags, ["Hiring", "careers", "remotework"]);
        assert!(post.repairs.is_empty());
    }

    #[test]
    fn hashtag_lines_at_the_end_of_the_body_join_the_hashtags() {
        let post = composed(
            Platform::Instagram,
            &draft(
                "New drop 🔥\n\n#streetwear #ootd\n#style",
                &["OOTD", "fashion"],
                None,
            ),
        );
        assert_eq!(
            post.text,
            "New drop 🔥\n\n#streetwear #ootd #style #fashion"
        );
    }

    #[test]
    fn hashtags_after_the_last_sentence_join_the_hashtags() {
        let post = composed(
            Platform::Threads,
            &draft("Try it today! #AI #Creators #creator-economy", &[], None),
        );
        assert_eq!(post.text, "Try it today!\n\n#AI");
        assert_eq!(
            post.repairs,
            [Repair::HashtagsOverLimitDropped { count: 2 }]
        );
        let post = composed(Platform::X, &draft("Shipped 🚀 #launch", &["rust"], None));
        assert_eq!(post.text, "Shipped 🚀\n\n#launch #rust");
        // Hashtags that are part of the sentence stay in it.
        let post = composed(Platform::X, &draft("We love #rust", &["code"], None));
        assert_eq!(post.text, "We love #rust\n\n#code");
    }

    #[test]
    fn body_hashtags_count_against_the_limit() {
        let post = composed(
            Platform::Threads,
            &draft("Loving #rust and #go today", &["programming"], None),
        );
        assert_eq!(post.text, "Loving #rust and go today");
        assert_eq!(
            post.repairs,
            [
                Repair::BodyHashtagsUnmarked { count: 1 },
                Repair::HashtagsOverLimitDropped { count: 1 }
            ]
        );
    }

    #[test]
    fn instagram_keeps_at_most_30_hashtags() {
        let many: Vec<String> = (0..80).map(|n| format!("tag{n}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let post = composed(Platform::Instagram, &draft("Summer #sale", &many, None));
        assert_eq!(post.hashtags.len(), 30);
        assert_eq!(post.hashtags[0], "sale");
        assert!(
            post.repairs
                .contains(&Repair::HashtagsOverLimitDropped { count: 51 })
        );
    }

    #[test]
    fn a_hashtag_too_long_to_fit_does_not_push_out_the_others() {
        let huge = "a".repeat(300);
        let post = composed(
            Platform::X,
            &draft("Hello", &[huge.as_str(), "rust", "go"], None),
        );
        assert_eq!(post.text, "Hello\n\n#rust #go");
        assert_eq!(post.repairs, [Repair::HashtagsDroppedToFit { count: 1 }]);
    }

    #[test]
    fn only_hashtag_like_last_lines_move_to_the_hashtags() {
        // A URL glued to a `#` is text, not a hashtag line (found by the property test).
        let body = format!("#aAAAhttps://example.com/#frag{}", "a".repeat(300));
        let post = composed(Platform::X, &draft(&body, &["rust"], None));
        assert_eq!(post.text, "aAAAhttps://example.com…");
        let post = composed(Platform::X, &draft("Hi\n#one, #two-three", &[], None));
        assert_eq!(post.text, "Hi\n\n#one #twothree");
    }

    #[test]
    fn malformed_body_hashtags_become_words() {
        let post = composed(
            Platform::X,
            &draft("Trends in #social-media and #R&D", &[], None),
        );
        assert_eq!(post.text, "Trends in social-media and R&D");
        assert_eq!(post.repairs, [Repair::BodyHashtagsUnmarked { count: 2 }]);
    }

    #[test]
    fn invalid_hashtags_are_dropped() {
        let post = composed(Platform::X, &draft("Hi", &["#2024", "", "!!!", "ok"], None));
        assert_eq!(post.text, "Hi\n\n#ok");
        assert_eq!(post.repairs, [Repair::InvalidHashtagsDropped { count: 3 }]);
    }

    #[test]
    fn a_long_body_is_cut_after_a_sentence_when_one_is_close() {
        let sentence = "This sentence is about fifty characters long, ok. ";
        let body = sentence.repeat(100);
        let post = composed(
            Platform::X,
            &draft(&body, &["launch"], Some("https://example.com/launch")),
        );
        assert!(post.text.starts_with(sentence.trim_end()));
        assert!(
            post.text.ends_with("ok.\n\nhttps://example.com/launch"),
            "{}",
            post.text
        );
        assert_eq!(
            post.repairs,
            [
                Repair::HashtagsDroppedToFit { count: 1 },
                Repair::Truncated {
                    boundary: Boundary::Sentence
                }
            ]
        );
        assert!(length(Platform::X, &post.text) > 200);
    }

    #[test]
    fn a_long_sentence_is_cut_between_words() {
        let body = "word ".repeat(2_000);
        let post = composed(Platform::Bluesky, &draft(&body, &[], None));
        assert!(post.text.ends_with("word…"), "{}", post.text);
        assert_eq!(length(Platform::Bluesky, &post.text), 300);
        assert_eq!(
            post.repairs,
            [Repair::Truncated {
                boundary: Boundary::Word
            }]
        );
    }

    #[test]
    fn text_without_spaces_is_cut_between_characters() {
        let post = composed(Platform::X, &draft(&"a".repeat(5_000), &[], None));
        assert_eq!(post.text, format!("{}…", "a".repeat(278)));
        assert_eq!(
            post.repairs,
            [Repair::Truncated {
                boundary: Boundary::Grapheme
            }]
        );
        // CJK has a word boundary between ideographs.
        let post = composed(Platform::X, &draft(&"漢字".repeat(1_000), &[], None));
        assert_eq!(post.text, format!("{}漢…", "漢字".repeat(69)));
        assert_eq!(
            post.repairs,
            [Repair::Truncated {
                boundary: Boundary::Word
            }]
        );
    }

    #[test]
    fn cuts_never_split_emoji_urls_or_hashtags() {
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
        let post = composed(Platform::Threads, &draft(&family.repeat(100), &[], None));
        assert!(
            post.text
                .trim_end_matches('…')
                .split(family)
                .all(str::is_empty)
        );

        let url = format!("https://example.com/{}", "p".repeat(300));
        let body = format!("{} {url} end", "a".repeat(280));
        let post = composed(Platform::Bluesky, &draft(&body, &[], None));
        assert_eq!(post.text, format!("{}…", "a".repeat(280)));

        let body = format!("{} #hashtagthatislong end", "b".repeat(285));
        let post = composed(Platform::Bluesky, &draft(&body, &[], None));
        assert_eq!(post.text, format!("{}…", "b".repeat(285)));
    }

    #[test]
    fn the_link_is_kept_and_counted_as_x_counts_it() {
        let link = format!("https://example.com/{}", "x".repeat(200));
        let post = composed(Platform::X, &draft(&"word ".repeat(100), &[], Some(&link)));
        assert!(
            post.text.ends_with(&format!("word…\n\n{link}")),
            "{}",
            post.text
        );
        assert!(length(Platform::X, &post.text) > 270);
    }

    #[test]
    fn a_link_too_long_alone_is_dropped() {
        let link = format!("https://example.com/{}", "x".repeat(400));
        let post = composed(Platform::Bluesky, &draft("Hello", &["news"], Some(&link)));
        assert_eq!(post.text, "Hello\n\n#news");
        assert_eq!(post.repairs, [Repair::LinkDroppedToFit]);
    }

    #[test]
    fn unusable_links_are_dropped_and_others_encoded() {
        let post = composed(Platform::X, &draft("Hi", &[], Some("not a link")));
        assert_eq!(post.repairs, [Repair::InvalidLinkDropped]);
        let post = composed(
            Platform::X,
            &draft("Hi", &[], Some("http://localhost:3000")),
        );
        assert_eq!(post.repairs, [Repair::InvalidLinkDropped]);
        let post = composed(
            Platform::X,
            &draft("Hi", &[], Some(" https://example.com/café?q=\"x\" ")),
        );
        assert_eq!(post.text, "Hi\n\nhttps://example.com/caf%C3%A9?q=%22x%22");
        assert!(post.repairs.is_empty());
        // X would not link an unknown top-level domain, but the address is published.
        let post = composed(
            Platform::X,
            &draft("Hi", &[], Some("https://marquee.example/blog")),
        );
        assert_eq!(post.text, "Hi\n\nhttps://marquee.example/blog");
        let post = composed(
            Platform::X,
            &draft("Hi", &[], Some("https://marquee.example/#top")),
        );
        assert_eq!(post.repairs, [Repair::InvalidLinkDropped]);
    }

    #[test]
    fn a_link_already_in_the_body_is_not_repeated() {
        let post = composed(
            Platform::X,
            &draft(
                "Read https://example.com/a now",
                &[],
                Some("https://example.com/a"),
            ),
        );
        assert_eq!(post.text, "Read https://example.com/a now");
    }

    #[test]
    fn threads_keeps_five_links() {
        let body = "a.com b.com c.com d.com e.com f.com g.com";
        let post = composed(Platform::Threads, &draft(body, &[], Some("https://x.com")));
        assert_eq!(post.text, "a.com b.com c.com d.com\n\nhttps://x.com");
        assert_eq!(post.repairs, [Repair::LinksRemoved { count: 3 }]);
    }

    #[test]
    fn control_characters_and_weird_whitespace_are_cleaned() {
        let post = composed(
            Platform::Facebook,
            &draft("\u{0}Hello\u{7}\r\n\r\n\r\n\tworld\u{FEFF}  ", &[], None),
        );
        assert_eq!(post.text, "Hello\n\nworld");
        assert_eq!(
            post.repairs,
            [Repair::InvalidCharactersRemoved { count: 3 }]
        );
    }

    #[test]
    fn emoji_only_and_hashtag_only_posts_are_fine() {
        let post = composed(Platform::X, &draft("🎉🎉🎉", &[], None));
        assert_eq!(post.text, "🎉🎉🎉");
        let post = composed(Platform::X, &draft("", &["launch"], None));
        assert_eq!(post.text, "#launch");
        let post = composed(Platform::X, &draft(" \n ", &[], Some("example.com")));
        assert_eq!(post.text, "example.com");
    }

    #[test]
    fn nothing_to_publish_is_an_error() {
        for draft in [
            Draft::default(),
            draft(" \u{200B}\n\t", &["#123", ""], None),
            draft("\u{0}\u{1}", &[], Some("   ")),
        ] {
            assert_eq!(
                compose(Platform::X, &draft),
                Err(ComposeError::NothingToPublish)
            );
        }
    }

    #[test]
    fn fits_tells_whether_anything_would_be_lost() {
        assert!(fits(
            Platform::X,
            &draft("Short and sweet", &["rust"], None)
        ));
        assert!(fits(Platform::X, &draft("Tidy   me\u{0}", &["#123"], None)));
        assert!(!fits(Platform::X, &draft(&"long ".repeat(100), &[], None)));
        assert!(!fits(
            Platform::Threads,
            &draft("Hi", &["one", "two"], None)
        ));
        assert!(!fits(Platform::X, &Draft::default()));
    }

    #[test]
    fn repairs_serialise_with_a_kind() {
        let json = serde_json::to_value(Repair::Truncated {
            boundary: Boundary::Word,
        })
        .expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"kind": "truncated", "boundary": "word"})
        );
        assert_eq!(
            Repair::HashtagsDroppedToFit { count: 2 }.to_string(),
            "left out 2 hashtags to fit the length limit"
        );
    }

    fn body_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => any::<char>().prop_map(String::from),
            4 => "[a-zA-Z]{1,12}",
            3 => prop::sample::select(vec![
                " ", "  ", "\n", "\n\n\n", "\t", "\r\n", ". ", "! ", "? ", "。", "…", ",", "-",
                "#", "＃", "@", "/", ":", "(", ")",
            ])
            .prop_map(str::to_owned),
            2 => prop::sample::select(vec![
                "é", "e\u{301}", "日本語", "👍", "👍🏽", "👨\u{200D}👩\u{200D}👧\u{200D}👦", "🇫🇷",
                "1\u{FE0F}\u{20E3}", "\u{200D}", "\u{FE0F}", "\u{0}", "\u{FEFF}", "\u{202E}",
                "\u{200B}", "\u{3000}", "\u{A0}", "©", "𝐁", "\u{0301}\u{0301}",
            ])
            .prop_map(str::to_owned),
            1 => prop::sample::select(vec![
                "https://example.com/a/b?c=d", "example.com", "http://x.co", "t.co/abc",
                "#tag", "#123", "#social-media", "##x", "#a#b", "https://example.com/#frag",
                "Node.js", "e.g.",
            ])
            .prop_map(str::to_owned),
            1 => "[a-z]{50,300}",
        ]
    }

    fn arbitrary_draft() -> impl Strategy<Value = Draft> {
        // Mostly post-sized bodies; now and then one of up to about 10,000 characters.
        let body = prop_oneof![
            15 => prop::collection::vec(body_piece(), 0..40).prop_map(|pieces| pieces.concat()),
            1 => prop::collection::vec(body_piece(), 0..700).prop_map(|pieces| pieces.concat()),
        ];
        let hashtag = prop_oneof![
            ".{0,20}",
            "#{0,2}[a-zA-Z0-9_ -]{0,40}",
            prop::sample::select(vec![
                "#Rust".to_owned(),
                "rust".to_owned(),
                "日本".to_owned(),
                "#".to_owned(),
                String::new(),
                "a".repeat(70),
            ]),
        ];
        let link = prop::option::of(prop_oneof![
            "https://example\\.com/[a-z/]{0,200}",
            ".{0,40}",
            prop::sample::select(vec![
                "example.com",
                "https://example.com/a)#x",
                "https://例子.测试/路径",
                "https://exa mple.com",
                "ftp://files.example.com",
            ])
            .prop_map(str::to_owned),
        ]);
        (body, prop::collection::vec(hashtag, 0..100), link).prop_map(|(body, hashtags, link)| {
            Draft {
                body,
                hashtags,
                link,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn composed_posts_always_pass_their_platform_check(draft in arbitrary_draft()) {
            for platform in Platform::ALL {
                // `compose` itself asserts (in debug builds) that it cut the body between
                // grapheme clusters.
                match compose(platform, &draft) {
                    Ok(post) => {
                        prop_assert_eq!(check(platform, &post.text), Ok(()), "{}: {:?}", platform, post.text);
                    }
                    Err(ComposeError::NothingToPublish) => {
                        // Any hashtag fits alone, so a draft fails only when it has none left.
                        let prepared = prepare(platform.rules(), &draft);
                        prop_assert!(
                            prepared.hashtags.iter().all(|name| check(platform, &format!("#{name}")).is_err()),
                            "{}: {:?}", platform, draft
                        );
                    }
                }
            }
        }

        #[test]
        fn normalised_hashtags_are_found_whole(raw in ".{0,30}") {
            if let Some(name) = normalize_hashtag(&raw) {
                let text = format!("x #{name}");
                prop_assert_eq!(extract_hashtags(&text), vec![name.as_str()]);
            }
        }
    }
}
