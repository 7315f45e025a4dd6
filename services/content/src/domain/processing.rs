//! Processing, pure and synchronous (run it on a blocking thread). Images: read the
//! dimensions, render a thumbnail, and re-encode the picture so that no metadata
//! (EXIF with its GPS location, XMP, comments) survives into what is published.
//! Documents: page count and a text excerpt (PDF), a text excerpt (plain text).
//! MP4/QuickTime/M4A: the duration from `moov/mvhd`.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// What processing an image produced.
#[derive(Debug, Clone)]
pub struct ProcessedImage {
    pub width: u32,
    pub height: u32,
    /// JPEG, longest side at most the configured thumbnail size.
    pub thumbnail: Vec<u8>,
    /// The picture re-encoded without metadata, and its file extension; `None` when the
    /// format carries no metadata worth stripping (GIF keeps its animation).
    pub display: Option<(Vec<u8>, &'static str)>,
}

/// Why an image could not be processed: shown to the owner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProcessingFailure(pub String);

pub fn process_image(
    bytes: &[u8],
    thumbnail_size: u32,
    max_pixels: u64,
) -> Result<ProcessedImage, ProcessingFailure> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| ProcessingFailure(format!("unreadable image: {error}")))?;
    let format = reader
        .format()
        .ok_or_else(|| ProcessingFailure("unrecognised image format".into()))?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|error| ProcessingFailure(format!("corrupt image header: {error}")))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ProcessingFailure(format!(
            "image is {width}×{height}, more than {max_pixels} pixels"
        )));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|error| ProcessingFailure(format!("corrupt image: {error}")))?;

    let thumbnail = encode_jpeg(&image.thumbnail(thumbnail_size, thumbnail_size), 80)?;
    let display = match format {
        ImageFormat::Jpeg => Some((encode_jpeg(&image, 90)?, "jpg")),
        ImageFormat::Png => Some((encode(&image, ImageFormat::Png)?, "png")),
        ImageFormat::WebP => Some((encode(&image, ImageFormat::WebP)?, "webp")),
        _ => None,
    };
    Ok(ProcessedImage {
        width,
        height,
        thumbnail,
        display,
    })
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, ProcessingFailure> {
    let mut out = Vec::new();
    let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .map_err(|error| ProcessingFailure(format!("could not encode: {error}")))?;
    Ok(out)
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, ProcessingFailure> {
    let mut out = Cursor::new(Vec::new());
    let image = match format {
        // The WebP encoder takes 8-bit RGB(A) only.
        ImageFormat::WebP => DynamicImage::ImageRgba8(image.to_rgba8()),
        _ => image.clone(),
    };
    image
        .write_to(&mut out, format)
        .map_err(|error| ProcessingFailure(format!("could not encode: {error}")))?;
    Ok(out.into_inner())
}

/// How many characters of a document's text are kept as its excerpt.
pub const TEXT_EXCERPT_CHARS: usize = 2000;

/// Decompressed content read per PDF page at most while extracting text.
const MAX_PDF_PAGE_CONTENT_BYTES: usize = 16 * 1024 * 1024;

/// What a document yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentMetadata {
    pub page_count: Option<u32>,
    pub text_excerpt: Option<String>,
}

/// Reads a PDF: its page count and the first [`TEXT_EXCERPT_CHARS`] characters of its
/// text (whitespace collapsed). A file lopdf cannot open at all (corrupt, or encrypted
/// with a password we do not have) fails with a reason; text that cannot be extracted
/// (a page lopdf cannot decode, an image-only scan) only shortens or drops the excerpt.
pub fn process_pdf(bytes: &[u8]) -> Result<DocumentMetadata, ProcessingFailure> {
    let document = lopdf::Document::load_mem(bytes)
        .map_err(|error| ProcessingFailure(format!("unreadable PDF: {error}")))?;
    let pages = document.get_pages();
    if pages.is_empty() {
        // lopdf opens documents encrypted with an empty user password itself; with any
        // other password it loads nothing.
        let reason = if document.trailer.get(b"Encrypt").is_ok() {
            "unreadable PDF: it is protected by a password"
        } else {
            "unreadable PDF: no pages"
        };
        return Err(ProcessingFailure(reason.into()));
    }
    let mut text = String::new();
    for number in pages.keys() {
        match document.extract_text_with_limit(&[*number], MAX_PDF_PAGE_CONTENT_BYTES) {
            Ok(page) => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&page);
            }
            Err(error) => {
                tracing::debug!(page = number, %error, "PDF page text not extracted");
                break;
            }
        }
        if text.chars().count() > TEXT_EXCERPT_CHARS * 2 {
            break;
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(DocumentMetadata {
        page_count: u32::try_from(pages.len()).ok(),
        text_excerpt: excerpt(&collapsed),
    })
}

/// The excerpt of plain UTF-8 text read from the start of a file (`head`, possibly
/// cut in the middle of a character: the cut character is dropped).
pub fn process_text(head: &[u8]) -> DocumentMetadata {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // `valid_up_to` is a character boundary, so this slice is valid UTF-8.
        Err(error) => std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default(),
    };
    DocumentMetadata {
        page_count: None,
        text_excerpt: excerpt(text.trim()),
    }
}

fn excerpt(text: &str) -> Option<String> {
    let text: String = text.chars().take(TEXT_EXCERPT_CHARS).collect();
    let text = text.trim_end().to_string();
    (!text.is_empty()).then_some(text)
}

/// Whether the media type is read with [`mp4_duration_ms`].
pub fn is_mp4_family(content_type: &str) -> bool {
    matches!(content_type, "video/mp4" | "video/quicktime" | "audio/m4a")
}

/// An ISO-BMFF box header: the box's type and total length (header included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub name: [u8; 4],
    pub size: u64,
}

/// Reads a box header from the first up to 16 bytes at a box's start; `remaining` is
/// how many bytes are left in the file from there (a size of 0 means "to the end").
/// `None` for a header that is truncated or names a size the file cannot hold.
pub fn box_header(head: &[u8], remaining: u64) -> Option<BoxHeader> {
    let size = u64::from(u32::from_be_bytes(head.get(0..4)?.try_into().ok()?));
    let name: [u8; 4] = head.get(4..8)?.try_into().ok()?;
    let (size, header_len) = match size {
        0 => (remaining, 8),
        1 => (u64::from_be_bytes(head.get(8..16)?.try_into().ok()?), 16),
        size => (size, 8),
    };
    (size >= header_len && size <= remaining).then_some(BoxHeader { name, size })
}

/// The duration in milliseconds of an MP4/QuickTime file given its `ftyp` and `moov`
/// boxes (concatenated; the media data is not needed). `None` when the boxes do not
/// parse or declare no duration.
pub fn mp4_duration_ms(boxes: &[u8]) -> Option<u64> {
    let size = u64::try_from(boxes.len()).ok()?;
    let reader = match mp4::Mp4Reader::read_header(Cursor::new(boxes), size) {
        Ok(reader) => reader,
        Err(error) => {
            tracing::debug!(%error, "MP4 header not read");
            return None;
        }
    };
    let mvhd = &reader.moov.mvhd;
    if mvhd.timescale == 0 || mvhd.duration == 0 || mvhd.duration == u64::from(u32::MAX) {
        return None; // unknown duration
    }
    let ms = u128::from(mvhd.duration) * 1000 / u128::from(mvhd.timescale);
    u64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// A JPEG with an APP1 EXIF segment carrying a marker string right after SOI.
    fn jpeg_with_exif() -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(image::RgbImage::new(40, 30));
        let plain = encode_jpeg(&image, 90).unwrap();
        let payload = b"Exif\0\0GPS-SECRET-LOCATION";
        let length = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1, length[0], length[1]]);
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn reads_dimensions_and_renders_a_thumbnail() {
        let processed = process_image(&png(800, 400), 320, 1_000_000).unwrap();
        assert_eq!((processed.width, processed.height), (800, 400));
        let thumbnail = image::load_from_memory(&processed.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
        let (display, ext) = processed.display.unwrap();
        assert_eq!(ext, "png");
        assert_eq!(image::load_from_memory(&display).unwrap().width(), 800);
    }

    #[test]
    fn exif_does_not_survive() {
        let original = jpeg_with_exif();
        let needle = b"GPS-SECRET-LOCATION";
        assert!(original.windows(needle.len()).any(|w| w == needle));
        let processed = process_image(&original, 64, 1_000_000).unwrap();
        let (display, ext) = processed.display.unwrap();
        assert_eq!(ext, "jpg");
        assert!(!display.windows(needle.len()).any(|w| w == needle));
        assert!(!display.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn bad_images_fail_with_a_reason() {
        let mut truncated = png(100, 100);
        truncated.truncate(60);
        let failure = process_image(&truncated, 64, 1_000_000).unwrap_err();
        assert!(failure.0.contains("corrupt"), "{failure}");
        let failure = process_image(&png(100, 100), 64, 1_000).unwrap_err();
        assert!(failure.0.contains("pixels"), "{failure}");
        assert!(process_image(b"not an image", 64, 1_000).is_err());
    }

    /// A PDF with `pages` pages, each saying `Page N: <text>`, built with lopdf's writer.
    fn pdf(pages: u32, text: &str) -> Vec<u8> {
        use lopdf::content::{Content, Operation};
        use lopdf::{Document, Object, Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier",
        });
        let resources_id =
            doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
        let mut kids = Vec::new();
        for number in 1..=pages {
            let content = Content {
                operations: vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 12.into()]),
                    Operation::new("Td", vec![72.into(), 700.into()]),
                    Operation::new(
                        "Tj",
                        vec![Object::string_literal(format!("Page {number}: {text}"))],
                    ),
                    Operation::new("ET", vec![]),
                ],
            };
            let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
            let page_id = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            });
            kids.push(page_id.into());
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Count" => i64::from(pages),
                "Resources" => resources_id,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn reads_pdf_pages_and_text() {
        let metadata = process_pdf(&pdf(3, "hello marquee")).unwrap();
        assert_eq!(metadata.page_count, Some(3));
        let text = metadata.text_excerpt.unwrap();
        assert!(text.starts_with("Page 1: hello marquee"), "{text}");
        assert!(text.contains("Page 3: hello marquee"), "{text}");

        let long = "word ".repeat(300);
        let metadata = process_pdf(&pdf(4, &long)).unwrap();
        assert_eq!(metadata.page_count, Some(4));
        assert_eq!(
            metadata.text_excerpt.unwrap().chars().count(),
            TEXT_EXCERPT_CHARS
        );
    }

    fn encrypted(user_password: &str) -> Vec<u8> {
        use lopdf::{Document, EncryptionState, EncryptionVersion, Permissions};
        let mut doc = Document::load_mem(&pdf(2, "secret plans")).unwrap();
        let id = lopdf::Object::string_literal(b"0123456789abcdef".to_vec());
        doc.trailer.set("ID", vec![id.clone(), id]);
        let state = EncryptionState::try_from(EncryptionVersion::V2 {
            document: &doc,
            owner_password: "owner",
            user_password,
            key_length: 128,
            permissions: Permissions::PRINTABLE,
        })
        .unwrap();
        doc.encrypt(&state).unwrap();
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn encrypted_pdfs() {
        // An owner password only (empty user password): read like any other.
        let metadata = process_pdf(&encrypted("")).unwrap();
        assert_eq!(metadata.page_count, Some(2));
        assert!(
            metadata.text_excerpt.unwrap().contains("secret plans"),
            "decrypted text"
        );
        // A user password we do not have: failed, saying why.
        let failure = process_pdf(&encrypted("user-secret")).unwrap_err();
        assert!(failure.0.contains("password"), "{failure}");
    }

    #[test]
    fn bad_pdfs_fail_with_a_reason() {
        let mut truncated = pdf(2, "cut");
        truncated.truncate(40);
        let failure = process_pdf(&truncated).unwrap_err();
        assert!(failure.0.starts_with("unreadable PDF"), "{failure}");
        assert!(process_pdf(b"%PDF-1.7\nnonsense").is_err());
    }

    #[test]
    fn text_excerpts() {
        let metadata = process_text(b"  hello\nworld\n");
        assert_eq!(metadata.text_excerpt.as_deref(), Some("hello\nworld"));
        assert_eq!(metadata.page_count, None);
        // A multi-byte character cut at the end of the head is dropped.
        let mut head = "é".repeat(3000).into_bytes();
        head.truncate(8191);
        let text = process_text(&head).text_excerpt.unwrap();
        assert_eq!(text.chars().count(), TEXT_EXCERPT_CHARS);
        assert!(text.chars().all(|c| c == 'é'));
        assert_eq!(process_text(b" \n ").text_excerpt, None);
    }

    fn mp4_box(name: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(payload.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(name);
        out.extend_from_slice(payload);
        out
    }

    /// `ftyp` + `moov` holding only a version-0 `mvhd`, written byte by byte.
    fn mp4_header(timescale: u32, duration: u32) -> Vec<u8> {
        let mut ftyp = b"isom".to_vec();
        ftyp.extend_from_slice(&512u32.to_be_bytes());
        ftyp.extend_from_slice(b"isomiso2mp41");
        let mut mvhd = vec![0u8; 4]; // version 0, flags 0
        mvhd.extend_from_slice(&0u32.to_be_bytes()); // creation time
        mvhd.extend_from_slice(&0u32.to_be_bytes()); // modification time
        mvhd.extend_from_slice(&timescale.to_be_bytes());
        mvhd.extend_from_slice(&duration.to_be_bytes());
        mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
        mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
        mvhd.extend_from_slice(&[0; 10]); // reserved
        for value in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
            mvhd.extend_from_slice(&value.to_be_bytes()); // unity matrix
        }
        mvhd.extend_from_slice(&[0; 24]); // pre_defined
        mvhd.extend_from_slice(&2u32.to_be_bytes()); // next track id
        let mut out = mp4_box(b"ftyp", &ftyp);
        out.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
        out
    }

    #[test]
    fn reads_mp4_duration() {
        assert_eq!(mp4_duration_ms(&mp4_header(1000, 12_345)), Some(12_345));
        assert_eq!(mp4_duration_ms(&mp4_header(90_000, 270_000)), Some(3_000));
        assert_eq!(mp4_duration_ms(&mp4_header(0, 100)), None);
        assert_eq!(mp4_duration_ms(&mp4_header(600, 0)), None);
        let mut truncated = mp4_header(1000, 5);
        truncated.truncate(50);
        assert_eq!(mp4_duration_ms(&truncated), None);
        assert_eq!(mp4_duration_ms(b"garbage"), None);
    }

    #[test]
    fn box_headers() {
        let file = mp4_header(1000, 1);
        let ftyp = box_header(&file[..16], file.len() as u64).unwrap();
        assert_eq!(&ftyp.name, b"ftyp");
        let moov = box_header(&file[ftyp.size as usize..], file.len() as u64 - ftyp.size).unwrap();
        assert_eq!(&moov.name, b"moov");
        assert_eq!(ftyp.size + moov.size, file.len() as u64);
        // 64-bit size, size 0 (to the end), and sizes the file cannot hold.
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        large.extend_from_slice(&100u64.to_be_bytes());
        assert_eq!(box_header(&large, 100).unwrap().size, 100);
        assert_eq!(box_header(&large, 99), None);
        assert_eq!(box_header(b"\0\0\0\0moov", 70).unwrap().size, 70);
        assert_eq!(box_header(b"\0\0\0\x04free", 70), None);
        assert_eq!(box_header(b"\0\0", 70), None);
        assert!(is_mp4_family("video/quicktime") && !is_mp4_family("video/webm"));
    }
}
