//! Finding URLs in text the way X's counter (twitter-text 3) does.
//!
//! X counts every URL it recognises as 23 characters, so recognising exactly what X does
//! matters in both directions: a 100-character URL missed here would be over-counted, and a
//! bare `example.com` missed here would be under-counted (X counts it as 23, not 11). The
//! rules, transcribed from twitter-text's `extractUrl` expression:
//!
//! * a URL starts after a character that is not an ASCII letter or digit, `@`, `$` or `#`
//!   (or at the start of the text);
//! * an optional `http://` or `https://`;
//! * a domain: labels of any characters but punctuation and spaces, joined by dots, ending
//!   in a top-level domain from IANA's list (`data/tlds.txt`) or a punycode label, and not
//!   followed by an ASCII letter, digit, `@`, `+` or `-`; subdomain labels may contain `_`;
//! * an optional `:port`, path and query, whose trailing punctuation is left out;
//! * without a scheme, only the ASCII part of the domain counts (`日本example.com` yields
//!   `example.com`), and not after `-`, `_`, `.` or `/`;
//! * every domain label must fit DNS's 63 characters once punycode-encoded.
//!
//! Mastodon's counter uses the same expression (with a looser path) but only for URLs with
//! a scheme; [`Scheme::Required`] gives that.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

/// Whether a URL must start with `http://` or `https://` to be recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Optional,
    Required,
}

/// The IANA top-level domains, lower case, internationalised ones in Unicode form.
static TLDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/tlds.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// The longest top-level domain, in characters.
static MAX_TLD_CHARS: LazyLock<usize> = LazyLock::new(|| {
    TLDS.iter()
        .map(|tld| tld.chars().count())
        .max()
        .unwrap_or(0)
});

/// DNS allows at most 127 labels; more cannot be a real domain, and the cap keeps a text of
/// endless `a.a.a.a…` linear to scan.
const MAX_DOMAIN_LABELS: usize = 127;
/// A DNS label is at most 63 characters (after punycode encoding).
const MAX_LABEL_LENGTH: usize = 63;
/// twitter-text ignores URLs longer than this (counting a missing scheme as `https://`).
const MAX_URL_LENGTH: usize = 4096;
/// twitter-text ignores t.co links whose slug is longer than this.
const MAX_TCO_SLUG_LENGTH: usize = 40;

/// The byte ranges of the URLs in `text`, in order, not overlapping.
pub(crate) fn find_urls(text: &str, scheme: Scheme) -> Vec<Range<usize>> {
    // Every URL has a dot in its domain.
    if !text.contains('.') {
        return Vec::new();
    }
    Scanner::new(text).find_all(scheme)
}

/// What the URL expression matched at one position, before validation.
struct Candidate {
    /// Char index where the URL starts.
    start: usize,
    /// The character consumed before the URL (`None` at the start of the text).
    preceding: Option<char>,
    /// Char index after `://` when there is a scheme.
    scheme_end: Option<usize>,
    domain: Range<usize>,
    has_path: bool,
    /// Char index after the URL.
    end: usize,
}

struct Scanner<'a> {
    chars: Vec<char>,
    /// Byte offset of each char in the text, plus the text's length.
    offsets: Vec<usize>,
    /// For each char index, the end of the run of domain-label characters starting there.
    label_run_end: Vec<usize>,
    text: &'a str,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        let (offsets, chars): (Vec<usize>, Vec<char>) = text.char_indices().unzip();
        let mut offsets = offsets;
        offsets.push(text.len());
        let mut label_run_end = vec![chars.len(); chars.len() + 1];
        for index in (0..chars.len()).rev() {
            label_run_end[index] = if is_label_char(chars[index]) {
                label_run_end[index + 1]
            } else {
                index
            };
        }
        Scanner {
            chars,
            offsets,
            label_run_end,
            text,
        }
    }

    fn at(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }

    fn find_all(&self, scheme: Scheme) -> Vec<Range<usize>> {
        let mut urls = Vec::new();
        let mut index = 0;
        // Like a global regex search: an attempt at `index` consumes the character there as
        // the one preceding the URL; at the very start the URL may also begin at 0.
        while index < self.chars.len() {
            let mut candidate = None;
            if is_valid_preceding(self.chars[index]) {
                candidate = self.match_at(index + 1, Some(self.chars[index]));
            }
            if candidate.is_none() && index == 0 {
                candidate = self.match_at(0, None);
            }
            match candidate {
                Some(candidate) => {
                    // Like twitter-text, resume after a match even when it is then rejected.
                    index = candidate.end;
                    self.accept(&candidate, scheme, &mut urls);
                }
                None => index += 1,
            }
        }
        urls
    }

    fn match_at(&self, start: usize, preceding: Option<char>) -> Option<Candidate> {
        let scheme_end = self.match_scheme(start);
        let domain_start = scheme_end.unwrap_or(start);
        let domain_end = self.match_domain(domain_start)?;
        let mut end = domain_end;
        if self.at(end) == Some(':') && self.at(end + 1).is_some_and(|c| c.is_ascii_digit()) {
            end += 1;
            while self.at(end).is_some_and(|c| c.is_ascii_digit()) {
                end += 1;
            }
        }
        let has_path = self.at(end) == Some('/');
        if has_path {
            end = self.match_path(end + 1);
        }
        if self.at(end) == Some('?')
            && let Some(query_end) = self.match_query(end + 1)
        {
            end = query_end;
        }
        Some(Candidate {
            start,
            preceding,
            scheme_end,
            domain: domain_start..domain_end,
            has_path,
            end,
        })
    }

    /// `http://` or `https://`, in any case.
    fn match_scheme(&self, start: usize) -> Option<usize> {
        if !self.at(start).is_some_and(|c| c.eq_ignore_ascii_case(&'h')) {
            return None;
        }
        ["http://", "https://"].into_iter().find_map(|scheme| {
            let matches = scheme.chars().enumerate().all(|(k, expected)| {
                self.at(start + k)
                    .is_some_and(|c| c.eq_ignore_ascii_case(&expected))
            });
            matches.then_some(start + scheme.len())
        })
    }

    /// Labels joined by dots and a top-level domain; returns the char index after it.
    /// Prefers the most labels, as the greedy expression does.
    fn match_domain(&self, start: usize) -> Option<usize> {
        // Most positions start no label followed by a dot; say so before allocating.
        let first_run_end = self.label_run_end.get(start).copied().unwrap_or(start);
        if first_run_end == start || self.at(first_run_end) != Some('.') {
            return None;
        }
        let mut labels: Vec<Range<usize>> = Vec::new();
        let mut next = start;
        while labels.len() < MAX_DOMAIN_LABELS {
            let run_end = self.label_run_end.get(next).copied().unwrap_or(next);
            if run_end > next && self.at(run_end) == Some('.') {
                labels.push(next..run_end);
                next = run_end + 1;
            } else {
                break;
            }
        }
        let valid_subdomains = labels
            .iter()
            .take_while(|label| self.is_label(label, true))
            .count();
        (1..=labels.len()).rev().find_map(|count| {
            let name = &labels[count - 1];
            if count - 1 > valid_subdomains || !self.is_label(name, false) {
                return None;
            }
            self.match_tld(name.end + 1, self.chars.len())
        })
    }

    /// A label starts and ends with a domain character; `-` may appear inside, and `_` too
    /// in subdomains.
    fn is_label(&self, label: &Range<usize>, subdomain: bool) -> bool {
        let chars = &self.chars[label.clone()];
        let (Some(&first), Some(&last)) = (chars.first(), chars.last()) else {
            return false;
        };
        is_domain_char(first) && is_domain_char(last) && (subdomain || !chars.contains(&'_'))
    }

    /// A top-level domain at `start` not followed by an ASCII letter, digit, `@`, `+` or `-`
    /// (`limit` stands for the end of the text); or a punycode label.
    fn match_tld(&self, start: usize, limit: usize) -> Option<usize> {
        let mut lowered = String::new();
        let mut ends = Vec::new();
        for index in start..limit.min(start + *MAX_TLD_CHARS) {
            let c = self.chars[index];
            if !(c.is_alphanumeric() || is_mark(c)) {
                break;
            }
            lowered.extend(c.to_lowercase());
            ends.push(lowered.len());
        }
        let followed_well = |end: usize| {
            end == limit
                || !self.chars[end].is_ascii_alphanumeric()
                    && !matches!(self.chars[end], '@' | '+' | '-')
        };
        let listed = (1..=ends.len())
            .rev()
            .find(|&count| {
                TLDS.contains(&lowered[..ends[count - 1]]) && followed_well(start + count)
            })
            .map(|count| start + count);
        listed.or_else(|| self.match_punycode(start, limit))
    }

    /// `xn--` and at least one ASCII letter, digit or `-`.
    fn match_punycode(&self, start: usize, limit: usize) -> Option<usize> {
        let prefix_matches = "xn--".chars().enumerate().all(|(k, expected)| {
            start + k < limit && self.chars[start + k].eq_ignore_ascii_case(&expected)
        });
        if !prefix_matches {
            return None;
        }
        let body_start = start + 4;
        let mut end = body_start;
        while end < limit && (self.chars[end].is_ascii_alphanumeric() || self.chars[end] == '-') {
            end += 1;
        }
        (end > body_start).then_some(end)
    }

    /// A path after its first `/`: path characters and balanced parentheses, up to the last
    /// character a URL may end with.
    fn match_path(&self, start: usize) -> usize {
        let mut index = start;
        let mut end = start;
        while let Some(c) = self.at(index) {
            if is_path_char(c) {
                index += 1;
                if is_path_ending_char(c) {
                    end = index;
                }
            } else if c == '(' {
                match self.match_balanced_parens(index) {
                    Some(after) => {
                        index = after;
                        end = after;
                    }
                    None => break,
                }
            } else {
                break;
            }
        }
        end
    }

    /// `(text)` or `(text(text)text)` of path characters, as in `Primer_(film)`.
    fn match_balanced_parens(&self, open: usize) -> Option<usize> {
        let run = |from: usize| {
            let mut index = from;
            while self.at(index).is_some_and(is_path_char) {
                index += 1;
            }
            index
        };
        let inner_end = run(open + 1);
        match self.at(inner_end) {
            Some(')') if inner_end > open + 1 => Some(inner_end + 1),
            Some('(') => {
                let nested_end = run(inner_end + 1);
                if nested_end == inner_end + 1 || self.at(nested_end) != Some(')') {
                    return None;
                }
                let tail_end = run(nested_end + 1);
                (self.at(tail_end) == Some(')')).then_some(tail_end + 1)
            }
            _ => None,
        }
    }

    /// A query after its `?`, up to the last character a query may end with; `None` when
    /// there is no such character (a bare `?` is punctuation).
    fn match_query(&self, start: usize) -> Option<usize> {
        let mut index = start;
        let mut end = None;
        while let Some(c) = self.at(index).filter(|&c| is_query_char(c)) {
            index += 1;
            if is_query_ending_char(c) {
                end = Some(index);
            }
        }
        end
    }

    /// Validates a candidate and records the URL (or URLs) it yields.
    fn accept(&self, candidate: &Candidate, scheme: Scheme, urls: &mut Vec<Range<usize>>) {
        if !self.has_valid_domain(candidate) {
            return;
        }
        if candidate.scheme_end.is_some() {
            let end = match self.tco_end(candidate) {
                TcoLink::NotTco => candidate.end,
                TcoLink::Slug { end } => end,
                TcoLink::SlugTooLong => return,
            };
            urls.push(self.byte_range(candidate.start..end));
            return;
        }
        if scheme == Scheme::Required || matches!(candidate.preceding, Some('-' | '_' | '.' | '/'))
        {
            return;
        }
        // Without a scheme only ASCII domains count; the last one keeps the path and query.
        let domains = self.ascii_domains(candidate.domain.clone());
        let count = domains.len();
        for (position, domain) in domains.into_iter().enumerate() {
            let end = if position + 1 == count && candidate.has_path {
                candidate.end
            } else {
                domain.end
            };
            urls.push(self.byte_range(domain.start..end));
        }
    }

    /// Every label fits 63 characters once punycode-encoded, a punycode-looking domain is
    /// ASCII, and the URL is not absurdly long.
    fn has_valid_domain(&self, candidate: &Candidate) -> bool {
        let domain = &self.text[self.byte_range(candidate.domain.clone())];
        if domain.starts_with("xn--") && self.ascii_domains(candidate.domain.clone()).is_empty() {
            return false;
        }
        let mut encoded_length = domain.matches('.').count();
        for label in domain.split('.') {
            let label_length = if label.is_ascii() {
                label.len()
            } else {
                match idna::punycode::encode_str(label) {
                    Some(encoded) => "xn--".len() + encoded.len(),
                    None => return false,
                }
            };
            if label_length == 0 || label_length > MAX_LABEL_LENGTH {
                return false;
            }
            encoded_length += label_length;
        }
        let url = &self.text[self.byte_range(candidate.start..candidate.end)];
        // twitter-text adds the scheme's length even when the URL already includes it.
        let scheme_length = candidate
            .scheme_end
            .map_or("https://".len(), |end| end - candidate.start);
        let url_length = url.encode_utf16().count() - domain.encode_utf16().count();
        scheme_length + url_length + encoded_length <= MAX_URL_LENGTH
    }

    fn tco_end(&self, candidate: &Candidate) -> TcoLink {
        let domain = &self.chars[candidate.domain.clone()];
        let is_tco = domain.len() == 4
            && domain
                .iter()
                .zip("t.co".chars())
                .all(|(c, e)| c.eq_ignore_ascii_case(&e))
            && self.at(candidate.domain.end) == Some('/');
        if !is_tco {
            return TcoLink::NotTco;
        }
        let slug_start = candidate.domain.end + 1;
        let mut slug_end = slug_start;
        while self.at(slug_end).is_some_and(|c| c.is_ascii_alphanumeric()) {
            slug_end += 1;
        }
        if slug_end == slug_start {
            return TcoLink::NotTco;
        }
        if slug_end - slug_start > MAX_TCO_SLUG_LENGTH {
            return TcoLink::SlugTooLong;
        }
        let end = match self.at(slug_end) {
            Some('?') => self.match_query(slug_end + 1).unwrap_or(slug_end),
            _ => slug_end,
        };
        TcoLink::Slug { end }
    }

    /// The ASCII domains inside a domain (twitter-text's `validAsciiDomain`): labels of ASCII
    /// letters, digits, `-` and Latin letters with accents, and a top-level domain.
    fn ascii_domains(&self, domain: Range<usize>) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        let mut start = domain.start;
        while start < domain.end {
            let mut tld_starts = Vec::new();
            let mut next = start;
            loop {
                let mut run_end = next;
                while run_end < domain.end && is_ascii_domain_char(self.chars[run_end]) {
                    run_end += 1;
                }
                if run_end > next && run_end < domain.end && self.chars[run_end] == '.' {
                    tld_starts.push(run_end + 1);
                    next = run_end + 1;
                } else {
                    break;
                }
            }
            let matched = tld_starts
                .iter()
                .rev()
                .find_map(|&tld_start| self.match_tld(tld_start, domain.end));
            match matched {
                Some(end) => {
                    found.push(start..end);
                    start = end;
                }
                None => start += 1,
            }
        }
        found
    }

    fn byte_range(&self, chars: Range<usize>) -> Range<usize> {
        self.offsets[chars.start]..self.offsets[chars.end]
    }
}

enum TcoLink {
    NotTco,
    Slug { end: usize },
    SlugTooLong,
}

fn is_mark(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    c.general_category_group() == GeneralCategoryGroup::Mark
}

/// twitter-text's `validUrlPrecedingChars`.
fn is_valid_preceding(c: char) -> bool {
    !(c.is_ascii_alphanumeric()
        || matches!(
            c,
            '@' | '＠' | '$' | '#' | '＃' | '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}'
        ))
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{09}'..='\u{0D}'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{180E}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// twitter-text's `validDomainChars`: anything but ASCII punctuation, spaces, invalid
/// characters and directional marks. Letters of every script, and emoji, are allowed.
fn is_domain_char(c: char) -> bool {
    !((c.is_ascii_punctuation() && c != '"' && c != '`')
        || is_space(c)
        || matches!(
            c,
            '\u{FFFE}'
                | '\u{FEFF}'
                | '\u{FFFF}'
                | '\u{202A}'..='\u{202E}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2066}'..='\u{2069}'
        ))
}

fn is_label_char(c: char) -> bool {
    is_domain_char(c) || c == '-' || c == '_'
}

fn is_latin_accent(c: char) -> bool {
    matches!(
        c,
        '\u{C0}'..='\u{D6}'
            | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{FF}'
            | '\u{100}'..='\u{24F}'
            | '\u{253}'
            | '\u{254}'
            | '\u{256}'
            | '\u{257}'
            | '\u{259}'
            | '\u{25B}'
            | '\u{263}'
            | '\u{268}'
            | '\u{26F}'
            | '\u{272}'
            | '\u{289}'
            | '\u{28B}'
            | '\u{2BB}'
            | '\u{300}'..='\u{36F}'
            | '\u{1E00}'..='\u{1EFF}'
    )
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{4FF}')
}

fn is_ascii_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || is_latin_accent(c)
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || is_cyrillic(c)
        || is_latin_accent(c)
        || "!*';:=+,.$/%#[]-_~@|&\u{2013}".contains(c)
}

fn is_path_ending_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_cyrillic(c) || is_latin_accent(c) || "+-=_#/".contains(c)
}

fn is_query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!?*'@();:&=+$/%#[]-_.,~|".contains(c)
}

fn is_query_ending_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_&=#/".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        find_urls(text, Scheme::Optional)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    #[test]
    fn the_tld_list_is_loaded() {
        assert!(TLDS.len() > 1_000);
        for tld in [
            "com",
            "org",
            "io",
            "co",
            "uk",
            "jp",
            "app",
            "みんな",
            "中国",
            "onion",
        ] {
            assert!(TLDS.contains(tld), "{tld}");
        }
        assert!(!TLDS.contains("js"));
    }

    #[test]
    fn urls_with_a_scheme() {
        assert_eq!(urls("see http://example.com now"), ["http://example.com"]);
        assert_eq!(
            urls("HTTPS://Example.COM/Path"),
            ["HTTPS://Example.COM/Path"]
        );
        assert_eq!(
            urls("at http://host.com:3000/x"),
            ["http://host.com:3000/x"]
        );
        assert_eq!(urls("x http://ああ.com y"), ["http://ああ.com"]);
        assert_eq!(urls("x http://a.b.cd y"), ["http://a.b.cd"]);
        assert_eq!(
            urls("x http://sub_domain-dash.twitter.com"),
            ["http://sub_domain-dash.twitter.com"]
        );
        assert_eq!(urls("(http://twitter.com)"), ["http://twitter.com"]);
    }

    #[test]
    fn paths_queries_and_trailing_punctuation() {
        assert_eq!(
            urls("read http://en.wikipedia.org/wiki/Primer_(film), ok"),
            ["http://en.wikipedia.org/wiki/Primer_(film)"]
        );
        assert_eq!(urls("test http://twitter.com/."), ["http://twitter.com/"]);
        assert_eq!(
            urls("go http://example.com/path........"),
            ["http://example.com/path"]
        );
        assert_eq!(
            urls("go http://example.com/path/!!!!"),
            ["http://example.com/path/"]
        );
        assert_eq!(
            urls("text http://foo.com?#foo text"),
            ["http://foo.com?#foo"]
        );
        assert_eq!(urls("http://example.com/a?"), ["http://example.com/a"]);
        assert_eq!(
            urls("text https://www.youtube.com/watch?v=LOxOAuDHzaw&list=PL_9U- now"),
            ["https://www.youtube.com/watch?v=LOxOAuDHzaw&list=PL_9U-"]
        );
        assert_eq!(
            urls("Go to http://twitter.com/Русские_слова"),
            ["http://twitter.com/Русские_слова"]
        );
        assert_eq!(urls("http://twitter.com/これは"), ["http://twitter.com/"]);
    }

    #[test]
    fn invalid_domains_are_not_urls() {
        for text in [
            "text http://no-tld",
            "text http://tld-too-short.x",
            "text http://domain.com-that-you-should-have-put-a-space-after",
            "test http://-leadingdash.twitter.com",
            "test http://trailingdash-.twitter.com",
            "test http://twitter_underscore.com",
            "test http://twitter.c_o_m",
            "Hello http://xn--はじめよう.com/index.html",
            "long.test.tar.bz2 test.tar.bz2",
            "john.doe.gov@mail.com",
            "$http://twitter.com $twitter.com $TVI.CA",
            "#test.com @test.com #http://test.com @http://test.com",
            "Node.js and e.g. and i.e.",
        ] {
            assert!(urls(text).is_empty(), "{text}: {:?}", urls(text));
        }
    }

    #[test]
    fn urls_without_a_scheme() {
        assert_eq!(
            urls("foo.com foo.net foo.baz foo.co.jp www.foo.co.uk foo.comm foo.jp"),
            ["foo.com", "foo.net", "foo.co.jp", "www.foo.co.uk", "foo.jp"]
        );
        assert_eq!(
            urls("t.co/abcde bit.ly/abcde"),
            ["t.co/abcde", "bit.ly/abcde"]
        );
        assert_eq!(
            urls("Find my page at name.al-lastname.com"),
            ["name.al-lastname.com"]
        );
        assert!(urls("Email name.al-lastname@foo.com or name.al+lastname@foo.com").is_empty());
        assert_eq!(urls("test ELPAÍS.com"), ["ELPAÍS.com"]);
        assert_eq!(
            urls("@user Try http:// example.com/path"),
            ["example.com/path"]
        );
        assert!(urls("a/example.com x_example.com @-example.com").is_empty());
    }

    #[test]
    fn urls_without_a_scheme_inside_other_scripts() {
        assert_eq!(
            urls("これは日本語です。example.com/path/index.html中国語example.com/path한국"),
            ["example.com/path/index.html", "example.com/path"]
        );
        assert_eq!(
            urls("example.comてすとですtwitter.みんなです"),
            ["example.com", "twitter.みんな"]
        );
        assert_eq!(
            urls(
                "http://twitter.com/これは日本語です。example.com中国語http://t.co/abcde한국twitter.comテストexample2.com"
            ),
            [
                "http://twitter.com/",
                "example.com",
                "http://t.co/abcde",
                "twitter.com",
                "example2.com"
            ]
        );
    }

    #[test]
    fn tco_links_end_after_their_slug() {
        assert_eq!(
            urls("I like http://t.co/pbY2NfTZ's site"),
            ["http://t.co/pbY2NfTZ"]
        );
        assert_eq!(
            urls("see http://t.co/FNkPfmii- now"),
            ["http://t.co/FNkPfmii"]
        );
        let long_slug = format!("http://t.co/{}", "a".repeat(41));
        assert!(urls(&long_slug).is_empty());
    }

    #[test]
    fn domain_labels_are_limited_to_63_characters() {
        let label_64 = format!("{}.com", "a".repeat(64));
        assert!(urls(&label_64).is_empty());
        let label_63 = format!("{}.com", "a".repeat(63));
        assert_eq!(urls(&label_63), [label_63.as_str()]);
    }

    #[test]
    fn scheme_can_be_required() {
        let text = "example.com and https://example.org/x";
        let found: Vec<&str> = find_urls(text, Scheme::Required)
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(found, ["https://example.org/x"]);
    }

    #[test]
    fn each_line_is_scanned() {
        assert_eq!(
            urls("http://twitter.com\nhttp://example.com/path\nexample.com/path\nit.so"),
            [
                "http://twitter.com",
                "http://example.com/path",
                "example.com/path",
                "it.so"
            ]
        );
    }
}
