//! What a file is, decided from its first bytes (never from the client's word).

/// How many leading bytes are read before deciding.
pub const SNIFF_WINDOW: usize = 8192;

/// The broad class of an asset, used for filtering and processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Video,
    Audio,
    Document,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Image, Kind::Video, Kind::Audio, Kind::Document];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

/// A supported file: its media type and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub kind: Kind,
}

/// Media types we accept, by what `infer` detects.
const ACCEPTED: &[(&str, Kind)] = &[
    ("image/jpeg", Kind::Image),
    ("image/png", Kind::Image),
    ("image/gif", Kind::Image),
    ("image/webp", Kind::Image),
    ("video/mp4", Kind::Video),
    ("video/webm", Kind::Video),
    ("video/quicktime", Kind::Video),
    ("video/x-matroska", Kind::Video),
    ("audio/mpeg", Kind::Audio),
    ("audio/ogg", Kind::Audio),
    ("audio/x-wav", Kind::Audio),
    ("audio/x-flac", Kind::Audio),
    ("audio/m4a", Kind::Audio),
    ("application/pdf", Kind::Document),
];

/// Detects the type of a file from its first bytes (`head`, up to [`SNIFF_WINDOW`]).
/// Plain UTF-8 text without NUL bytes is a `text/plain` document. `Err` names what was
/// found (or `unknown`) for the caller's message.
pub fn sniff(head: &[u8]) -> Result<Sniffed, String> {
    if let Some(found) = infer::get(head) {
        let mime = found.mime_type();
        return ACCEPTED
            .iter()
            .find(|(accepted, _)| *accepted == mime)
            .map(|(content_type, kind)| Sniffed {
                content_type,
                kind: *kind,
            })
            .ok_or_else(|| mime.to_string());
    }
    if is_text(head) {
        return Ok(Sniffed {
            content_type: "text/plain",
            kind: Kind::Document,
        });
    }
    Err("unknown".into())
}

fn is_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the window is still text.
        Err(error) => error.error_len().is_none() && head.len() - error.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_from_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).unwrap().content_type, "image/png");
        assert_eq!(sniff(png).unwrap().kind, Kind::Image);
        assert_eq!(sniff(b"%PDF-1.7\n").unwrap().kind, Kind::Document);
        assert_eq!(sniff(b"hello, world\n").unwrap().content_type, "text/plain");
        assert_eq!(
            sniff("caf\u{e9}".as_bytes()).unwrap().content_type,
            "text/plain"
        );
        // A zip archive is recognised and refused.
        assert_eq!(
            sniff(b"PK\x03\x04\x14\0\0\0\x08\0").unwrap_err(),
            "application/zip"
        );
        assert_eq!(sniff(&[0, 1, 2, 3, 0xff]).unwrap_err(), "unknown");
        assert!(sniff(b"").is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("exe"), None);
    }
}
