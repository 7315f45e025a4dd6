//! Turning token bytes into text: incremental UTF-8 decoding and stop sequences.
//!
//! Pure code, no model: tokens arrive one at a time as byte pieces (a multi-byte
//! character can be split across tokens, and a stop string across several tokens), and
//! the text handed out must never contain a stop string or anything after it.

/// Decodes a stream of byte pieces into `String` text, holding back an incomplete UTF-8
/// sequence at the end of a piece until the next piece completes it. Invalid bytes
/// become U+FFFD.
#[derive(Debug, Default)]
pub(crate) struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Appends the text `bytes` complete to `out`.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut String) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        loop {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(valid) => {
                    out.push_str(valid);
                    self.pending.clear();
                    return;
                }
                Err(error) => {
                    let valid_end = start + error.valid_up_to();
                    // `valid_up_to` guarantees this range is valid UTF-8.
                    out.push_str(&String::from_utf8_lossy(&self.pending[start..valid_end]));
                    match error.error_len() {
                        // Invalid bytes in the middle: replace them and go on.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            start = valid_end + bad;
                        }
                        // An incomplete sequence at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid_end);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Flushes an incomplete trailing sequence (the stream ended) as U+FFFD.
    pub(crate) fn finish(&mut self, out: &mut String) {
        if !self.pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
    }
}

/// Finds the earliest stop string in generated text that grows at its end.
#[derive(Debug)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    /// Longest stop string, in bytes.
    longest: usize,
}

/// What the text looks like after the latest piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A stop string starts at this byte offset: the text ends there.
    Stop(usize),
    /// No stop string yet; the first this many bytes can never become part of one and
    /// may be shown (the rest could be the start of a stop string).
    Settled(usize),
}

impl StopMatcher {
    /// Empty stop strings are ignored (they would match everywhere).
    pub(crate) fn new(stops: &[String]) -> Self {
        let stops: Vec<String> = stops.iter().filter(|s| !s.is_empty()).cloned().collect();
        let longest = stops.iter().map(String::len).max().unwrap_or(0);
        Self { stops, longest }
    }

    /// Scans `text`, of which the first `old_len` bytes were already scanned without a
    /// match. Only the region a new match could touch is searched, so the cost per token
    /// does not grow with the text.
    pub(crate) fn scan(&self, text: &str, old_len: usize) -> Scan {
        if self.stops.is_empty() {
            return Scan::Settled(text.len());
        }
        // A match that was not complete before ends in the new bytes, so it starts at
        // most `longest - 1` bytes before them.
        let from = floor_char_boundary(text, old_len.saturating_sub(self.longest - 1));
        let window = &text[from..];
        let earliest = self
            .stops
            .iter()
            .filter_map(|stop| window.find(stop.as_str()))
            .min();
        if let Some(at) = earliest {
            return Scan::Stop(from + at);
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        let mut settled = text.len();
        let tail_start = floor_char_boundary(text, text.len().saturating_sub(self.longest - 1));
        for (offset, _) in text[tail_start..].char_indices() {
            let suffix = &text[tail_start + offset..];
            if self.stops.iter().any(|stop| stop.starts_with(suffix)) {
                settled = tail_start + offset;
                break;
            }
        }
        Scan::Settled(settled)
    }
}

/// The largest char boundary of `text` at or below `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(stops: &[&str]) -> StopMatcher {
        StopMatcher::new(&stops.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    /// Feeds `pieces` one by one as the generation loop does; returns the cut text when
    /// a stop string is found, else the whole text and how much of it is settled.
    fn run(m: &StopMatcher, pieces: &[&str]) -> (String, Option<usize>) {
        let mut text = String::new();
        let mut last = Scan::Settled(0);
        for piece in pieces {
            let old_len = text.len();
            text.push_str(piece);
            last = m.scan(&text, old_len);
            if let Scan::Stop(at) = last {
                text.truncate(at);
                return (text, None);
            }
        }
        let Scan::Settled(settled) = last else {
            unreachable!()
        };
        (text, Some(settled))
    }

    #[test]
    fn stop_inside_one_piece_cuts_before_it() {
        let m = matcher(&["\n\n"]);
        assert_eq!(
            run(&m, &["Buy now", "!\n\nMore"]),
            ("Buy now!".into(), None)
        );
    }

    #[test]
    fn stop_spanning_pieces_is_found() {
        let m = matcher(&["###"]);
        assert_eq!(
            run(&m, &["Fresh ", "coffee #", "#", "# Product:"]),
            ("Fresh coffee ".into(), None)
        );
        let m = matcher(&["Product:"]);
        assert_eq!(
            run(&m, &["Great mugs.\nPro", "du", "ct", ": x"]),
            ("Great mugs.\n".into(), None)
        );
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        let m = matcher(&["END", "\n"]);
        assert_eq!(run(&m, &["a\nbEND"]), ("a".into(), None));
        assert_eq!(run(&m, &["aEND\nb"]), ("a".into(), None));
        // A stop that is a prefix of another one.
        let m = matcher(&["ab", "abc"]);
        assert_eq!(run(&m, &["xa", "bc"]), ("x".into(), None));
    }

    #[test]
    fn possible_stop_prefix_is_held_back() {
        let m = matcher(&["###"]);
        assert_eq!(run(&m, &["Hello #"]), ("Hello #".into(), Some(6)));
        assert_eq!(run(&m, &["Hello ##"]), ("Hello ##".into(), Some(6)));
        // "#x" can no longer become "###".
        assert_eq!(run(&m, &["Hello #x"]), ("Hello #x".into(), Some(8)));
        assert_eq!(run(&m, &["Hello"]), ("Hello".into(), Some(5)));
    }

    #[test]
    fn no_stops_settles_everything() {
        let m = matcher(&[]);
        assert_eq!(run(&m, &["a", "b"]), ("ab".into(), Some(2)));
        let m = matcher(&[""]);
        assert_eq!(run(&m, &["a", "b"]), ("ab".into(), Some(2)));
    }

    #[test]
    fn multibyte_text_and_stops() {
        let m = matcher(&["—end"]);
        assert_eq!(
            run(&m, &["Café ☕ ", "—", "en", "d more"]),
            ("Café ☕ ".into(), None)
        );
        assert_eq!(
            run(&m, &["Café ☕ —"]),
            ("Café ☕ —".into(), Some("Café ☕ ".len()))
        );
        let m = matcher(&["☕"]);
        assert_eq!(run(&m, &["ééé", "é☕"]), ("éééé".into(), None));
    }

    #[test]
    fn stop_at_the_very_start() {
        let m = matcher(&["\n"]);
        assert_eq!(run(&m, &["\n", "text"]), (String::new(), None));
    }

    #[test]
    fn utf8_split_across_pieces() {
        let bytes = "a☕é!".as_bytes();
        let mut stream = Utf8Stream::default();
        let mut out = String::new();
        for b in bytes {
            stream.push(std::slice::from_ref(b), &mut out);
        }
        stream.finish(&mut out);
        assert_eq!(out, "a☕é!");
    }

    #[test]
    fn utf8_incomplete_sequence_is_held_then_flushed() {
        let mut stream = Utf8Stream::default();
        let mut out = String::new();
        stream.push(&[b'x', 0xE2, 0x98], &mut out);
        assert_eq!(out, "x");
        stream.finish(&mut out);
        assert_eq!(out, "x\u{FFFD}");
    }

    #[test]
    fn utf8_invalid_bytes_become_replacement_characters() {
        let mut stream = Utf8Stream::default();
        let mut out = String::new();
        stream.push(&[b'a', 0xFF, b'b', 0xC3], &mut out);
        stream.push(&[0xA9], &mut out);
        stream.finish(&mut out);
        assert_eq!(out, "a\u{FFFD}bé");
    }
}
