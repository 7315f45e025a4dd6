//! The draft's link: checking it is usable, and the link limit.

use std::collections::HashSet;
use std::ops::Range;

use crate::check::{is_blank_char, is_invalid_char};
use crate::clean::{nfc, tidy_lines, trim_blank};
use crate::hashtag::is_hash_sign;
use crate::url::{self, Scheme};

/// What became of the draft's link.
pub(crate) enum LinkOutcome {
    /// There was none (or only whitespace).
    Absent,
    /// This, tidied, goes into the post.
    Usable(String),
    /// Not something a reader could follow.
    Unusable,
}

/// A link is usable when, tidied, it is one token that starts with a URL as X recognises
/// it (scheme optional), or else a plain `http(s)://` address with a dotted host (whose
/// top-level domain X does not know: it is published as text). Characters URLs may not
/// contain after the host (non-ASCII letters, `"`, `<`, `>`, `` ` ``, `{`, `}`, `\`, `^`)
/// are percent-encoded, as browsers do.
pub(crate) fn prepare_link(raw: &str) -> LinkOutcome {
    let valid: String = raw.chars().filter(|&c| !is_invalid_char(c)).collect();
    let normalized = nfc(&valid);
    let link = trim_blank(&normalized);
    if link.is_empty() {
        return LinkOutcome::Absent;
    }
    if link.chars().any(is_blank_char) {
        return LinkOutcome::Unusable;
    }
    let link = percent_encode_after_host(link);
    match url::find_urls(&link, Scheme::Optional).first() {
        Some(found) if found.start == 0 && !link[found.end..].contains(is_hash_sign) => {
            LinkOutcome::Usable(link)
        }
        _ if is_plain_web_address(&link) => LinkOutcome::Usable(link),
        _ => LinkOutcome::Unusable,
    }
}

/// `http://` or `https://`, a host of dot-separated labels of letters, digits and `-`, an
/// optional port, and no `#` anywhere: unlinked on X, such text could read as a hashtag.
fn is_plain_web_address(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
        .map_or(authority, |(host, _)| host);
    host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && !link.contains(is_hash_sign)
}

fn percent_encode_after_host(link: &str) -> String {
    let authority_start = link.find("://").map_or(0, |at| at + "://".len());
    let path_start = link[authority_start..]
        .find(['/', '?', '#'])
        .map_or(link.len(), |at| authority_start + at);
    let mut encoded = String::with_capacity(link.len());
    encoded.push_str(&link[..path_start]);
    for c in link[path_start..].chars() {
        if c.is_ascii() && !matches!(c, '"' | '<' | '>' | '`' | '{' | '}' | '\\' | '^') {
            encoded.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    encoded
}

/// Removes links from `body` until it and `link` hold at most `max_links` distinct ones,
/// keeping the first; returns how many were removed.
pub(crate) fn remove_links_over_limit(
    body: &mut String,
    link: Option<&str>,
    max_links: usize,
) -> usize {
    let mut removed = 0;
    // Each pass removes at least one link; scanning again catches text that becomes a URL
    // once what surrounded it is gone.
    loop {
        let mut known: HashSet<&str> = link.into_iter().collect();
        let mut excess: Vec<Range<usize>> = Vec::new();
        for range in url::find_urls(body, Scheme::Optional) {
            let found = &body[range.clone()];
            if known.contains(found) {
                continue;
            }
            if known.len() < max_links {
                known.insert(found);
            } else {
                excess.push(range);
            }
        }
        if excess.is_empty() {
            return removed;
        }
        removed += excess.len();
        let mut kept = String::with_capacity(body.len());
        let mut from = 0;
        for range in excess {
            kept.push_str(&body[from..range.start]);
            from = range.end;
        }
        kept.push_str(&body[from..]);
        *body = tidy_lines(&kept);
    }
}
