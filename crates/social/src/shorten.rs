//! Shortening a body to fit: where to cut, and how.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::check::is_blank;
use crate::compose::Boundary;
use crate::hashtag;
use crate::platform::Rules;
use crate::url::{self, Scheme};

/// A kept sentence must be at least this share (in percent) of the longest text that fits;
/// otherwise cutting between words keeps more.
const SENTENCE_CUT_MIN_PERCENT: usize = 60;
/// Likewise for cutting between words rather than inside a long word.
const WORD_CUT_MIN_PERCENT: usize = 50;
const ELLIPSIS: &str = "…";
/// Characters that read badly right before an ellipsis: `Hello, …` becomes `Hello…`.
pub(crate) const WEAK_TRAILING: &[char] = &[
    ',', ';', ':', '-', '–', '—', '(', '[', '{', '/', '&', '"', '\'', '“', '‘', '«', '„',
];

/// A shortened body.
pub(crate) struct Shortened {
    pub body: String,
    pub boundary: Boundary,
    /// Bytes of the original body the shortened one starts with.
    pub kept: usize,
}

/// The longest start of `body` for which `passes` holds, cut as described on
/// [`compose`](crate::compose); `None` when no non-empty start passes.
pub(crate) fn shorten(
    body: &str,
    rules: &Rules,
    passes: impl Fn(&str) -> bool,
) -> Option<Shortened> {
    let cuts = CutPoints::new(body, rules);
    let with_ellipsis = |cut: usize| {
        let head = cuts.trim_for_ellipsis(body, cut);
        (!head.is_empty()).then(|| format!("{head}{ELLIPSIS}"))
    };
    let ellipsis_passes = |cut: usize| with_ellipsis(cut).is_some_and(|text| passes(&text));

    let hard = last_passing(&cuts.graphemes, ellipsis_passes)?;
    let hard_chars = body[..hard].chars().count();
    let keeps_enough =
        |cut: usize, percent: usize| body[..cut].chars().count() * 100 >= hard_chars * percent;

    let sentence_text = |cut: usize| trim_trailing_blank(&body[..cut]);
    if let Some(cut) = last_passing(&cuts.sentences, |cut| passes(sentence_text(cut)))
        && keeps_enough(cut, SENTENCE_CUT_MIN_PERCENT)
    {
        return Some(Shortened {
            body: sentence_text(cut).to_owned(),
            boundary: Boundary::Sentence,
            kept: cut,
        });
    }

    let words_up_to_hard = &cuts.words[..cuts.words.partition_point(|&cut| cut <= hard)];
    if let Some(cut) = last_passing(words_up_to_hard, ellipsis_passes)
        && keeps_enough(cut, WORD_CUT_MIN_PERCENT)
        && let Some(text) = with_ellipsis(cut)
    {
        return Some(Shortened {
            body: text,
            boundary: Boundary::Word,
            kept: cut,
        });
    }

    with_ellipsis(hard).map(|text| Shortened {
        body: text,
        boundary: Boundary::Grapheme,
        kept: hard,
    })
}

/// Where a body may be cut, ascending: between grapheme clusters, and among those, between
/// words (Unicode word boundaries, so between CJK characters too) and after sentences (or
/// paragraphs) that do not end in a comma, colon or the like. Never inside a URL or a
/// hashtag, never at the very start or end, and never so far that the start alone must be
/// too long (each grapheme outside a URL counts at least 1 in every unit, each URL at
/// least 1): a 10,000-character draft for a 280-character post is searched among about
/// 280 cuts.
struct CutPoints {
    graphemes: Vec<usize>,
    words: Vec<usize>,
    sentences: Vec<usize>,
    /// Ends of the URLs and hashtags: trimming before an ellipsis never goes past one.
    protected_ends: Vec<usize>,
}

impl CutPoints {
    fn new(body: &str, rules: &Rules) -> Self {
        let urls = url::find_urls(body, Scheme::Optional);
        let mut protected: Vec<Range<usize>> = urls.clone();
        protected.extend(
            hashtag::scan_around_urls(body, &urls)
                .into_iter()
                .map(|token| token.sign.start..token.name.end),
        );
        // URLs and hashtags do not overlap (hashtags inside URLs are not hashtags), so
        // sorted by start they are also sorted by end.
        protected.sort_unstable_by_key(|span| span.start);

        let mut graphemes = Vec::new();
        let mut least_length = 0;
        let mut next_url = urls.iter().peekable();
        let mut next_protected = protected.iter().peekable();
        // How far cuts are looked for; word and sentence boundaries are only needed there.
        let mut searched_end = body.len();
        for (offset, grapheme) in body.grapheme_indices(true) {
            let end = offset + grapheme.len();
            while next_url.next_if(|url| url.end <= offset).is_some() {}
            let continues_url = next_url.peek().is_some_and(|url| url.start < offset);
            if !continues_url {
                least_length += 1;
            }
            if least_length > rules.max_length || rules.max_utf8_bytes.is_some_and(|max| end > max)
            {
                searched_end = end;
                break;
            }
            while next_protected.next_if(|span| span.end <= end).is_some() {}
            let inside_protected = next_protected.peek().is_some_and(|span| span.start < end);
            if end < body.len() && !inside_protected {
                graphemes.push(end);
            }
        }
        // The ellipsis needs something before it: not only punctuation or spaces.
        let first_solid = body
            .grapheme_indices(true)
            .find(|(_, grapheme)| !is_weak_or_blank(grapheme))
            .map_or(body.len(), |(offset, grapheme)| offset + grapheme.len());
        graphemes.retain(|&cut| cut >= first_solid);

        // Segmenting only the searched start may misplace a boundary near its end; that is
        // harmless, as every boundary used must also be a valid grapheme cut.
        let searched = &body[..searched_end];
        let on_grapheme_cut = |cut: &usize| graphemes.binary_search(cut).is_ok();
        let words: Vec<usize> = searched
            .split_word_bound_indices()
            .map(|(offset, _)| offset)
            .filter(on_grapheme_cut)
            .collect();
        let ends_well = |cut: &usize| {
            trim_trailing_blank(&body[..*cut])
                .graphemes(true)
                .next_back()
                .is_some_and(|last| !is_weak_or_blank(last))
        };
        let sentences: Vec<usize> = searched
            .split_sentence_bound_indices()
            .map(|(offset, _)| offset)
            .filter(on_grapheme_cut)
            .filter(ends_well)
            .collect();
        let mut protected_ends: Vec<usize> = protected.iter().map(|span| span.end).collect();
        protected_ends.sort_unstable();
        CutPoints {
            graphemes,
            words,
            sentences,
            protected_ends,
        }
    }

    /// `body[..cut]` without trailing spaces and punctuation that read badly before `…`,
    /// keeping URLs and hashtags whole.
    fn trim_for_ellipsis<'a>(&self, body: &'a str, cut: usize) -> &'a str {
        let floor = self
            .protected_ends
            .iter()
            .copied()
            .filter(|&end| end <= cut)
            .max()
            .unwrap_or(0);
        let mut head = &body[..cut];
        while let Some(last) = head.graphemes(true).next_back() {
            if head.len() - last.len() < floor || !is_weak_or_blank(last) {
                break;
            }
            head = &head[..head.len() - last.len()];
        }
        head
    }
}

fn is_weak_or_blank(grapheme: &str) -> bool {
    is_blank(grapheme) || (grapheme.chars().count() == 1 && grapheme.starts_with(WEAK_TRAILING))
}

fn trim_trailing_blank(text: &str) -> &str {
    let mut head = text;
    while let Some(last) = head
        .graphemes(true)
        .next_back()
        .filter(|last| is_blank(last))
    {
        head = &head[..head.len() - last.len()];
    }
    head
}

/// The last of `candidates` for which `passes` holds. Shorter candidates come first, and a
/// shorter text is never longer, so `passes` holds for a prefix of them and a binary search
/// finds the boundary; should that ever not hold, the candidates before it are tried one by
/// one, so the result always passes.
fn last_passing(candidates: &[usize], passes: impl Fn(usize) -> bool) -> Option<usize> {
    let boundary = candidates.partition_point(|&candidate| passes(candidate));
    candidates[..boundary]
        .iter()
        .rev()
        .copied()
        .find(|&candidate| passes(candidate))
}
