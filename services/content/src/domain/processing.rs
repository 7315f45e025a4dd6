//! Processing, pure and synchronous (run it on a blocking thread). Images: read the
//! dimensions, render a thumbnail, and re-encode the picture so that no metadata
//! (EXIF with its GPS location, XMP, comments) survives into what is published.
//! Documents: page count and a text excerpt (PDF), a text excerpt (plain text).
//! MP4/QuickTime/M4A: the duration from `moov/mvhd`.
//!
//! Everything here reads files anyone can upload, so every decode is bounded before it
//! starts (see "Processing limits" in `docs/content.md`): an image's header is read
//! first and a picture over [`ImageLimits`] is refused without decoding it; the decoder
//! itself may not allocate more than the largest allowed picture at 8-bit RGBA; a PDF's
//! streams are expanded under [`PdfLimits`] with bounded readers.

use image::codecs::jpeg::JpegEncoder;
use image::error::LimitErrorKind;
use image::{DynamicImage, ImageBuffer, ImageError, ImageFormat, ImageReader, Limits};
use lopdf::{DecompressError, Dictionary, Document, Encoding, Object, ObjectId, Stream};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Cursor, Read};

/// Default [`ImageLimits::max_pixels`]: 40 megapixels (a 7,800 × 5,200 photograph).
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 40_000_000;

/// Default [`ImageLimits::max_side`].
pub const DEFAULT_MAX_IMAGE_SIDE: u32 = 20_000;

/// Default [`ImageLimits::max_display_side`].
pub const DEFAULT_MAX_DISPLAY_SIDE: u32 = 4096;

/// What a decoder may allocate on top of the decoded picture (row buffers, palettes,
/// its parsing state).
pub const DECODE_SLACK_BYTES: u64 = 16 * 1024 * 1024;

const MIB: u64 = 1024 * 1024;

/// The bounds of processing one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Longest side of the thumbnail.
    pub thumbnail_size: u32,
    /// Largest width × height decoded; a bigger picture fails without being decoded.
    pub max_pixels: u64,
    /// Longest side decoded.
    pub max_side: u32,
    /// Longest side of the published copy: a bigger picture is scaled down to it.
    pub max_display_side: u32,
}

impl ImageLimits {
    /// `thumbnail_size` and `max_pixels` with the default side bounds.
    pub fn new(thumbnail_size: u32, max_pixels: u64) -> Self {
        Self {
            thumbnail_size,
            max_pixels,
            max_side: DEFAULT_MAX_IMAGE_SIDE,
            max_display_side: DEFAULT_MAX_DISPLAY_SIDE,
        }
    }

    /// What the decoder may allocate: the largest allowed picture at 8-bit RGBA, plus
    /// [`DECODE_SLACK_BYTES`].
    pub fn decode_budget(&self) -> u64 {
        self.max_pixels
            .saturating_mul(4)
            .saturating_add(DECODE_SLACK_BYTES)
    }
}

/// What processing an image produced.
#[derive(Debug, Clone)]
pub struct ProcessedImage {
    pub width: u32,
    pub height: u32,
    /// JPEG, longest side at most the configured thumbnail size.
    pub thumbnail: Vec<u8>,
    /// The picture re-encoded without metadata (8 bits per channel, longest side at
    /// most [`ImageLimits::max_display_side`]), and its file extension; `None` when the
    /// format carries no metadata worth stripping (GIF keeps its animation).
    pub display: Option<(Vec<u8>, &'static str)>,
}

/// Why a file could not be processed: shown to the owner. Always final: the same file
/// fails the same way again, so the asset becomes `failed` rather than being retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProcessingFailure(pub String);

/// [`process_image_with`] with the default side bounds.
pub fn process_image(
    bytes: &[u8],
    thumbnail_size: u32,
    max_pixels: u64,
) -> Result<ProcessedImage, ProcessingFailure> {
    process_image_with(bytes, &ImageLimits::new(thumbnail_size, max_pixels))
}

/// Reads the header, refuses a picture over `limits` without decoding it, decodes the
/// rest (to 8 bits per channel, under [`ImageLimits::decode_budget`]), and renders the
/// thumbnail and the published copy — scaled down first when it is larger than
/// [`ImageLimits::max_display_side`]. Peak memory: the decoded picture (at most
/// `max_pixels` × 4 bytes) plus the scaled copy and the encoded outputs.
pub fn process_image_with(
    bytes: &[u8],
    limits: &ImageLimits,
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
    check_dimensions(width, height, limits)?;

    let image = match format {
        ImageFormat::Png => decode_png(bytes, width, height, limits)?,
        _ => decode_with_limits(bytes, format, width, height, limits)?,
    };
    let image = to_8_bit(image);

    let size = limits.thumbnail_size;
    let thumbnail = encode_jpeg(&image.thumbnail(size, size), 80)?;
    let display = match format {
        ImageFormat::Jpeg => Some("jpg"),
        ImageFormat::Png => Some("png"),
        ImageFormat::WebP => Some("webp"),
        _ => None,
    };
    let display = match display {
        Some(ext) => {
            let side = limits.max_display_side.max(1);
            let bytes = if image.width().max(image.height()) > side {
                let smaller = image.thumbnail(side, side);
                drop(image); // the full-size picture is not needed any more
                encode_display(&smaller, format)?
            } else {
                encode_display(&image, format)?
            };
            Some((bytes, ext))
        }
        None => None,
    };
    Ok(ProcessedImage {
        width,
        height,
        thumbnail,
        display,
    })
}

fn check_dimensions(
    width: u32,
    height: u32,
    limits: &ImageLimits,
) -> Result<(), ProcessingFailure> {
    if width > limits.max_side || height > limits.max_side {
        return Err(ProcessingFailure(format!(
            "image too large: {width}×{height} exceeds the maximum side of {} pixels",
            limits.max_side
        )));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ProcessingFailure(format!(
            "image too large: {width}×{height} exceeds {}",
            pixel_count(limits.max_pixels)
        )));
    }
    Ok(())
}

/// `40 megapixels`, `2.5 megapixels`, `1000 pixels`.
fn pixel_count(pixels: u64) -> String {
    if pixels >= 1_000_000 && pixels.is_multiple_of(1_000_000) {
        format!("{} megapixels", pixels / 1_000_000)
    } else if pixels >= 1_000_000 {
        format!("{:.1} megapixels", pixels as f64 / 1e6)
    } else {
        format!("{pixels} pixels")
    }
}

fn too_much_memory(budget: u64) -> ProcessingFailure {
    ProcessingFailure(format!(
        "image too large: decoding it needs more than {} MiB",
        budget.div_ceil(MIB)
    ))
}

/// JPEG, GIF, WebP: `image`'s decoder under `Limits` (sides and allocation). No scaling
/// on decode: the `jpeg` decoder of image 0.25 (zune-jpeg) has none, so the pixel budget
/// is what bounds a JPEG.
fn decode_with_limits(
    bytes: &[u8],
    format: ImageFormat,
    width: u32,
    height: u32,
    limits: &ImageLimits,
) -> Result<DynamicImage, ProcessingFailure> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    decode_limits.max_alloc = Some(limits.decode_budget());
    reader.limits(decode_limits);
    reader.decode().map_err(|error| match error {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::DimensionError => ProcessingFailure(format!(
                "image too large: {width}×{height} exceeds the maximum side of {} pixels",
                limits.max_side
            )),
            _ => too_much_memory(limits.decode_budget()),
        },
        error => ProcessingFailure(format!("corrupt image: {error}")),
    })
}

/// PNG with the `png` crate directly, so that 16-bit samples are stripped to 8 bits
/// while rows are decoded (`image`'s PNG decoder keeps them: twice the memory, then a
/// conversion copy) and the output buffer is allocated by us, checked against the
/// budget first.
fn decode_png(
    bytes: &[u8],
    width: u32,
    height: u32,
    limits: &ImageLimits,
) -> Result<DynamicImage, ProcessingFailure> {
    let budget = limits.decode_budget();
    let png_limits = png::Limits {
        bytes: usize::try_from(budget).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png_limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    let png_failure = |error: png::DecodingError| match error {
        png::DecodingError::LimitsExceeded => too_much_memory(budget),
        error => ProcessingFailure(format!("corrupt image: {error}")),
    };
    let mut reader = decoder.read_info().map_err(png_failure)?;
    if reader.info().size() != (width, height) {
        return Err(ProcessingFailure(
            "corrupt image: inconsistent header".into(),
        ));
    }
    let size = reader
        .output_buffer_size()
        .filter(|size| u64::try_from(*size).is_ok_and(|size| size <= budget))
        .ok_or_else(|| too_much_memory(budget))?;
    let mut buffer = Vec::new();
    buffer
        .try_reserve_exact(size)
        .map_err(|_| too_much_memory(budget))?;
    buffer.resize(size, 0);
    let frame = reader.next_frame(&mut buffer).map_err(png_failure)?;
    buffer.truncate(frame.buffer_size());
    let (w, h) = (frame.width, frame.height);
    let image = match (frame.color_type, frame.bit_depth) {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => {
            ImageBuffer::from_raw(w, h, buffer).map(DynamicImage::ImageLuma8)
        }
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => {
            ImageBuffer::from_raw(w, h, buffer).map(DynamicImage::ImageLumaA8)
        }
        (png::ColorType::Rgb, png::BitDepth::Eight) => {
            ImageBuffer::from_raw(w, h, buffer).map(DynamicImage::ImageRgb8)
        }
        (png::ColorType::Rgba, png::BitDepth::Eight) => {
            ImageBuffer::from_raw(w, h, buffer).map(DynamicImage::ImageRgba8)
        }
        // `normalize_to_color8` expands palettes and strips 16-bit samples.
        _ => None,
    };
    image.ok_or_else(|| ProcessingFailure("corrupt image: unexpected PNG layout".into()))
}

/// 16-bit and floating-point pictures as 8 bits per channel (none of the enabled
/// decoders produces them today; PNG is stripped while decoding).
fn to_8_bit(image: DynamicImage) -> DynamicImage {
    use image::ColorType;
    match image.color() {
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8 => image,
        ColorType::L16 => DynamicImage::ImageLuma8(image.to_luma8()),
        ColorType::La16 => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        ColorType::Rgb16 | ColorType::Rgb32F => DynamicImage::ImageRgb8(image.to_rgb8()),
        _ => DynamicImage::ImageRgba8(image.to_rgba8()),
    }
}

fn encode_display(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, ProcessingFailure> {
    match format {
        ImageFormat::Jpeg => encode_jpeg(image, 90),
        // The WebP encoder takes 8-bit RGB(A) only; the published WebP is RGBA.
        ImageFormat::WebP if !matches!(image, DynamicImage::ImageRgba8(_)) => {
            encode(&DynamicImage::ImageRgba8(image.to_rgba8()), format)
        }
        _ => encode(image, format),
    }
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, ProcessingFailure> {
    let mut out = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut out, quality);
    let written = match image {
        DynamicImage::ImageRgb8(rgb) => rgb.write_with_encoder(encoder),
        other => DynamicImage::ImageRgb8(other.to_rgb8()).write_with_encoder(encoder),
    };
    written.map_err(|error| ProcessingFailure(format!("could not encode: {error}")))?;
    Ok(out)
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, ProcessingFailure> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .map_err(|error| ProcessingFailure(format!("could not encode: {error}")))?;
    Ok(out.into_inner())
}

/// How many characters of a document's text are kept as its excerpt.
pub const TEXT_EXCERPT_CHARS: usize = 2000;

/// Default largest PDF read at all (`max_pdf_bytes`; the pipeline checks it).
pub const DEFAULT_MAX_PDF_BYTES: u64 = 32 * MIB;

/// Default [`PdfLimits::max_expanded_bytes`].
pub const DEFAULT_MAX_PDF_EXPANDED_BYTES: u64 = 64 * MIB;

/// Default [`PdfLimits::max_text_pages`].
pub const DEFAULT_MAX_PDF_TEXT_PAGES: u32 = 50;

/// Default [`PdfLimits::max_objects`]: lopdf's loader holds every number, name, string,
/// array and dictionary of a PDF as a 120-byte `Object`, so a million of them is about
/// 120 MB however small the file (a 24 MiB file of `0 0 0 …` took 1.5 GB).
pub const DEFAULT_MAX_PDF_OBJECTS: u64 = 1_000_000;

/// The bounds of reading one PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfLimits {
    /// Decompressed bytes: the most any one object or cross-reference stream may
    /// expand to while the document loads (more fails the PDF), and the most all page
    /// content streams together are expanded to while extracting text (more ends the
    /// excerpt where the budget ran out).
    pub max_expanded_bytes: u64,
    /// Pages whose text is read, from the first.
    pub max_text_pages: u32,
    /// Objects (numbers, names, strings, arrays, dictionaries) the document may hold,
    /// counted by a pre-scan of the file and of its object streams before lopdf loads
    /// it: a PDF with more is not read.
    pub max_objects: u64,
}

impl Default for PdfLimits {
    fn default() -> Self {
        Self {
            max_expanded_bytes: DEFAULT_MAX_PDF_EXPANDED_BYTES,
            max_text_pages: DEFAULT_MAX_PDF_TEXT_PAGES,
            max_objects: DEFAULT_MAX_PDF_OBJECTS,
        }
    }
}

/// What a document yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentMetadata {
    pub page_count: Option<u32>,
    pub text_excerpt: Option<String>,
}

/// [`process_pdf_with`] under the default [`PdfLimits`].
pub fn process_pdf(bytes: &[u8]) -> Result<DocumentMetadata, ProcessingFailure> {
    process_pdf_with(bytes, &PdfLimits::default())
}

/// Reads a PDF: its page count and the first [`TEXT_EXCERPT_CHARS`] characters of its
/// text (whitespace collapsed). A file lopdf cannot open at all (corrupt, encrypted
/// with a password we do not have, or with a stream expanding past the limit while it
/// loads) fails with a reason; text that cannot be extracted (a font lopdf cannot
/// decode, an image-only scan) or that lies past the limits only shortens or drops the
/// excerpt.
///
/// Text is read from the first [`PdfLimits::max_text_pages`] pages, their content
/// streams expanded through bounded readers (at most [`PdfLimits::max_expanded_bytes`]
/// in all) and tokenised as they stream: only the operands of the operation at hand are
/// held, so a FlateDecode bomb costs time up to the budget, never memory.
pub fn process_pdf_with(
    bytes: &[u8],
    limits: &PdfLimits,
) -> Result<DocumentMetadata, ProcessingFailure> {
    // Like a PDF over `max_pdf_bytes`, one with too many objects is a document, just
    // not one we read.
    let not_read = |reason: &str| {
        tracing::info!(reason, "PDF not read; processed without page count or text");
        Ok(DocumentMetadata::default())
    };
    let census = count_pdf_objects(bytes, limits);
    if census.objects > limits.max_objects {
        return not_read("more than max_pdf_objects objects");
    }
    // Object streams the census could not inflate (encrypted ones: lopdf decrypts them
    // while loading) share what is left of the object budget, at two bytes an object
    // at least (`0 `).
    let room = (limits.max_objects - census.objects).saturating_mul(2);
    let per_stream = match room.checked_div(census.unread_object_streams) {
        Some(share) => share.min(limits.max_expanded_bytes),
        None => limits.max_expanded_bytes,
    };
    let max_expanded = usize::try_from(per_stream).unwrap_or(usize::MAX);
    let options = lopdf::LoadOptions::with_max_decompressed_size(max_expanded);
    let document = match Document::load_mem_with_options(bytes, options) {
        Ok(document) => document,
        Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }))
            if per_stream < limits.max_expanded_bytes =>
        {
            return not_read("its encrypted object streams could hold more than max_pdf_objects");
        }
        Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
            return Err(ProcessingFailure(format!(
                "PDF too large to read: a stream expands to more than {} MiB",
                limits.max_expanded_bytes.div_ceil(MIB)
            )));
        }
        Err(error) => return Err(ProcessingFailure(format!("unreadable PDF: {error}"))),
    };
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

    let mut excerpt = Excerpt::default();
    let mut budget = limits.max_expanded_bytes;
    let max_pages = usize::try_from(limits.max_text_pages).unwrap_or(usize::MAX);
    for (number, page_id) in pages.iter().take(max_pages) {
        if excerpt.is_full() {
            break;
        }
        if budget == 0 {
            tracing::debug!(
                page = number,
                limit = limits.max_expanded_bytes,
                "PDF text budget spent; excerpt ends here"
            );
            break;
        }
        excerpt.push_str(" ");
        PageText::new(&document, *page_id, &mut excerpt).read(&mut budget);
    }
    Ok(DocumentMetadata {
        page_count: u32::try_from(pages.len()).ok(),
        text_excerpt: excerpt.finish(),
    })
}

/// Counts the objects lopdf's loader would build from `bytes`, without building them
/// (stopping a little past `max_objects`): the objects written outside stream data
/// and cross-reference tables, plus those inside object streams (`/Type /ObjStm`),
/// which the loader expands — inflated here through a bounded reader, under
/// `max_expanded_bytes` in all. Dictionary keys count as objects (an entry costs about
/// as much); `N G R` counts once. Conservative: unreferenced objects count too.
fn count_pdf_objects(bytes: &[u8], limits: &PdfLimits) -> PdfCensus {
    let mut unread_object_streams = 0u64;
    let mut count = 0u64;
    let mut budget = limits.max_expanded_bytes;
    let (mut object_stream, mut flate, mut filtered) = (false, false, false);
    let mut input = Input::new(bytes);
    while count <= limits.max_objects {
        let Some(token) = next_token(&mut input) else {
            break;
        };
        match token {
            Token::Name(name) => {
                count += 1;
                match &name[..] {
                    b"ObjStm" => object_stream = true,
                    b"FlateDecode" => flate = true,
                    b"Filter" => filtered = true,
                    _ => {}
                }
            }
            // `N G R` is one reference; `N G obj` and `endobj` are no object at all.
            Token::Keyword(keyword) if keyword == b"R" => count = count.saturating_sub(1),
            Token::Keyword(keyword) if keyword == b"obj" || keyword == b"endobj" => {
                if keyword == b"obj" {
                    count = count.saturating_sub(2);
                }
                (object_stream, flate, filtered) = (false, false, false);
            }
            Token::Keyword(keyword) if keyword == b"xref" => {
                // A cross-reference table: 20 bytes an entry, read into a compact map.
                let rest = input.buffer();
                let end = rest
                    .windows(b"trailer".len())
                    .position(|window| window == b"trailer")
                    .unwrap_or(rest.len());
                input.reader.consume(end);
            }
            Token::Keyword(keyword) if keyword == b"stream" => {
                // The data starts after the end of line and runs to `endstream`.
                match input.peek() {
                    Some(b'\r') => {
                        input.bump();
                        if input.peek() == Some(b'\n') {
                            input.bump();
                        }
                    }
                    Some(b'\n') => input.bump(),
                    _ => {}
                }
                let rest = input.buffer();
                let end = rest
                    .windows(b"endstream".len())
                    .position(|window| window == b"endstream")
                    .unwrap_or(rest.len());
                let data = &rest[..end];
                if object_stream && budget > 0 {
                    let reader: Option<Box<dyn Read>> = match (flate, filtered) {
                        (true, _) => Some(Box::new(flate2::read::ZlibDecoder::new(data))),
                        (false, false) => Some(Box::new(data)),
                        // Another filter: lopdf decodes it under the per-stream limit.
                        (false, true) => None,
                    };
                    match reader {
                        Some(reader) => {
                            let mut limited = reader.take(budget);
                            let mut inner =
                                Input::new(BufReader::with_capacity(64 * 1024, &mut limited));
                            while count <= limits.max_objects && next_token(&mut inner).is_some() {
                                count += 1;
                            }
                            if inner.failed {
                                unread_object_streams += 1; // encrypted, or corrupt
                            }
                            drop(inner);
                            budget = limited.limit();
                        }
                        None => unread_object_streams += 1,
                    }
                } else if object_stream {
                    unread_object_streams += 1; // the budget is spent
                }
                let skip = (end + b"endstream".len()).min(rest.len());
                input.reader.consume(skip);
                (object_stream, flate, filtered) = (false, false, false);
            }
            Token::Keyword(_) | Token::Other => count += 1,
        }
    }
    PdfCensus {
        objects: count,
        unread_object_streams,
    }
}

/// What [`count_pdf_objects`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PdfCensus {
    /// Objects counted (stops a little past the limit).
    objects: u64,
    /// Object streams whose content could not be counted.
    unread_object_streams: u64,
}

/// A token of PDF syntax, as [`count_pdf_objects`] needs it.
enum Token {
    /// A name, its first 32 bytes (`#xx` escapes left as they are).
    Name(Vec<u8>),
    /// A number or a keyword, its first 32 bytes.
    Keyword(Vec<u8>),
    /// A string, or the start of an array or a dictionary.
    Other,
}

/// The next token, skipping white space, comments and the closing `]`, `>>`, `)`.
fn next_token(input: &mut Input<impl BufRead>) -> Option<Token> {
    loop {
        input.skip_while(is_white_space);
        match input.peek()? {
            b'%' => input.skip_while(|b| b != b'\n' && b != b'\r'),
            b'(' => {
                input.bump();
                let mut depth = 1usize;
                while let Some(byte) = input.next() {
                    match byte {
                        b'\\' => {
                            input.next();
                        }
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                return Some(Token::Other);
            }
            b'<' => {
                input.bump();
                if input.peek() == Some(b'<') {
                    input.bump();
                } else {
                    input.skip_while(|b| b != b'>');
                    input.next();
                }
                return Some(Token::Other);
            }
            b'[' => {
                input.bump();
                return Some(Token::Other);
            }
            b'/' => {
                input.bump();
                let mut name = Vec::new();
                input.take_while(is_regular, &mut name, 32);
                return Some(Token::Name(name));
            }
            b']' | b'>' | b')' | b'{' | b'}' => input.bump(),
            _ => {
                let mut keyword = Vec::new();
                input.take_while(is_regular, &mut keyword, 32);
                return Some(Token::Keyword(keyword));
            }
        }
    }
}

/// The excerpt as it is collected: whitespace runs collapsed to one space (none
/// leading), and nothing kept past [`TEXT_EXCERPT_CHARS`] characters.
#[derive(Debug, Default)]
struct Excerpt {
    text: String,
    chars: usize,
    space: bool,
}

impl Excerpt {
    fn is_full(&self) -> bool {
        self.chars >= TEXT_EXCERPT_CHARS
    }

    fn push_str(&mut self, text: &str) {
        for c in text.chars() {
            if self.is_full() {
                return;
            }
            if c.is_whitespace() {
                self.space = self.chars > 0;
                continue;
            }
            if self.space {
                self.space = false;
                self.text.push(' ');
                self.chars += 1;
                if self.is_full() {
                    return;
                }
            }
            self.text.push(c);
            self.chars += 1;
        }
    }

    fn finish(self) -> Option<String> {
        let text = self.text.trim_end();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// Operands kept for one operation: the first ones, up to this many.
const MAX_OPERANDS: usize = 64;
/// String bytes and array items kept for one operation (more are read and dropped).
const MAX_OPERAND_BYTES: usize = 64 * 1024;
const MAX_OPERAND_ITEMS: usize = 16 * 1024;
/// Array nesting kept.
const MAX_ARRAY_DEPTH: usize = 8;
/// Fonts whose encodings are decoded per page, and the most one `/ToUnicode` map may
/// expand to: a font past either shows no text.
const MAX_FONTS_PER_PAGE: usize = 32;
const MAX_FONT_MAP_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug)]
enum Operand {
    Text(Vec<u8>),
    Integer(i64),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    Other,
}

/// Collects the text one page shows — what lopdf's `extract_text` collects (`Tj`, `TJ`,
/// `'`, `"` in the current font's encoding; a line break at `T*`, `'`, `"` and `ET`; a
/// space after a `TJ` array and for a kerning below -100) — by tokenising its content
/// streams as they are expanded instead of parsing them whole.
struct PageText<'d, 'e> {
    document: &'d Document,
    page_id: ObjectId,
    fonts: Option<BTreeMap<Vec<u8>, &'d Dictionary>>,
    encodings: HashMap<Vec<u8>, Option<Encoding<'d>>>,
    font: Option<Vec<u8>>,
    excerpt: &'e mut Excerpt,
    operands: Vec<Operand>,
    arrays: Vec<Vec<Operand>>,
    /// Arrays opened past [`MAX_ARRAY_DEPTH`] and not closed yet.
    ignored_depth: usize,
    kept_bytes: usize,
    kept_items: usize,
}

impl<'d, 'e> PageText<'d, 'e> {
    fn new(document: &'d Document, page_id: ObjectId, excerpt: &'e mut Excerpt) -> Self {
        Self {
            document,
            page_id,
            fonts: None,
            encodings: HashMap::new(),
            font: None,
            excerpt,
            operands: Vec::new(),
            arrays: Vec::new(),
            ignored_depth: 0,
            kept_bytes: 0,
            kept_items: 0,
        }
    }

    /// Reads the page's content streams in order, spending `budget` (expanded bytes).
    fn read(mut self, budget: &mut u64) {
        for id in self.document.get_page_contents(self.page_id) {
            if *budget == 0 || self.excerpt.is_full() {
                return;
            }
            let Ok(stream) = self.document.get_object(id).and_then(Object::as_stream) else {
                continue;
            };
            match content_reader(stream, *budget) {
                Expanded::Reader(reader) => {
                    let mut limited = reader.take(*budget);
                    let mut input = Input::new(BufReader::with_capacity(64 * 1024, &mut limited));
                    self.scan(&mut input);
                    drop(input);
                    *budget = limited.limit();
                }
                Expanded::Undecodable => {}
                Expanded::OverBudget => *budget = 0,
            }
        }
    }

    fn scan(&mut self, input: &mut Input<impl BufRead>) {
        while !self.excerpt.is_full() {
            input.skip_while(is_white_space);
            let Some(byte) = input.peek() else {
                return;
            };
            match byte {
                b'%' => input.skip_while(|b| b != b'\n' && b != b'\r'),
                b'(' => {
                    input.bump();
                    let text = self.literal_string(input);
                    self.push(Operand::Text(text));
                }
                b'<' => {
                    input.bump();
                    if input.peek() == Some(b'<') {
                        input.bump(); // a dictionary (marked content): its entries are dropped
                    } else {
                        let text = self.hex_string(input);
                        self.push(Operand::Text(text));
                    }
                }
                b'[' => {
                    input.bump();
                    if self.arrays.len() < MAX_ARRAY_DEPTH && self.ignored_depth == 0 {
                        self.arrays.push(Vec::new());
                    } else {
                        self.ignored_depth += 1;
                    }
                }
                b']' => {
                    input.bump();
                    if self.ignored_depth > 0 {
                        self.ignored_depth -= 1;
                    } else if let Some(array) = self.arrays.pop() {
                        self.push(Operand::Array(array));
                    }
                }
                b'/' => {
                    input.bump();
                    let mut name = Vec::new();
                    input.take_while(is_regular, &mut name, 256);
                    self.push(Operand::Name(decode_name(&name)));
                }
                b'>' | b')' | b'{' | b'}' => input.bump(),
                _ => {
                    let mut token = Vec::new();
                    input.take_while(is_regular, &mut token, 32);
                    if matches!(token[0], b'0'..=b'9' | b'+' | b'-' | b'.') {
                        let number = std::str::from_utf8(&token)
                            .ok()
                            .and_then(|text| text.parse::<i64>().ok());
                        self.push(number.map_or(Operand::Other, Operand::Integer));
                    } else if matches!(&token[..], b"true" | b"false" | b"null") {
                        self.push(Operand::Other);
                    } else if token == b"ID" {
                        skip_inline_image(input);
                        self.end_operation();
                    } else {
                        self.operator(&token);
                    }
                }
            }
        }
    }

    fn push(&mut self, operand: Operand) {
        if self.ignored_depth > 0 || self.kept_items >= MAX_OPERAND_ITEMS {
            return;
        }
        match self.arrays.last_mut() {
            Some(array) => array.push(operand),
            None if self.operands.len() < MAX_OPERANDS => self.operands.push(operand),
            None => return,
        }
        self.kept_items += 1;
    }

    fn keep(&mut self, out: &mut Vec<u8>, byte: u8) {
        if self.kept_bytes < MAX_OPERAND_BYTES {
            out.push(byte);
            self.kept_bytes += 1;
        }
    }

    /// After `(`: up to the matching `)`, escapes resolved.
    fn literal_string(&mut self, input: &mut Input<impl BufRead>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(byte) = input.next() {
            let byte = match byte {
                b'\\' => match input.next() {
                    None => break,
                    Some(b'n') => b'\n',
                    Some(b'r') => b'\r',
                    Some(b't') => b'\t',
                    Some(b'b') => 0x08,
                    Some(b'f') => 0x0C,
                    Some(digit @ b'0'..=b'7') => {
                        let mut value = u32::from(digit - b'0');
                        for _ in 0..2 {
                            match input.peek() {
                                Some(digit @ b'0'..=b'7') => {
                                    input.bump();
                                    value = value * 8 + u32::from(digit - b'0');
                                }
                                _ => break,
                            }
                        }
                        (value & 0xFF) as u8
                    }
                    Some(b'\r') => {
                        if input.peek() == Some(b'\n') {
                            input.bump();
                        }
                        continue; // a line continuation
                    }
                    Some(b'\n') => continue,
                    Some(other) => other,
                },
                b'(' => {
                    depth += 1;
                    b'('
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    b')'
                }
                other => other,
            };
            self.keep(&mut out, byte);
        }
        out
    }

    /// After `<`: hexadecimal digits up to `>` (white space skipped; an odd last digit
    /// is followed by 0).
    fn hex_string(&mut self, input: &mut Input<impl BufRead>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high = None;
        while let Some(byte) = input.next() {
            if byte == b'>' {
                break;
            }
            let Some(nibble) = (byte as char).to_digit(16) else {
                continue;
            };
            let nibble = nibble as u8;
            match high.take() {
                Some(high) => self.keep(&mut out, (high << 4) | nibble),
                None => high = Some(nibble),
            }
        }
        if let Some(high) = high {
            self.keep(&mut out, high << 4);
        }
        out
    }

    fn operator(&mut self, operator: &[u8]) {
        // An operator ends any array left open (malformed content).
        self.arrays.clear();
        self.ignored_depth = 0;
        match operator {
            b"Tf" => {
                self.font = match self.operands.first() {
                    Some(Operand::Name(name)) => Some(name.clone()),
                    _ => None,
                };
            }
            b"Tj" | b"TJ" => self.show(None),
            b"'" => {
                self.excerpt.push_str("\n");
                self.show(None);
            }
            b"\"" => {
                self.excerpt.push_str("\n");
                self.show(Some(2));
            }
            b"T*" | b"ET" => self.excerpt.push_str("\n"),
            _ => {}
        }
        self.end_operation();
    }

    fn end_operation(&mut self) {
        self.operands.clear();
        self.arrays.clear();
        self.ignored_depth = 0;
        self.kept_bytes = 0;
        self.kept_items = 0;
    }

    /// Shows the operands (or only the one at `only`) in the current font.
    fn show(&mut self, only: Option<usize>) {
        let Some(font) = self.font.clone() else {
            return;
        };
        if !self.encodings.contains_key(&font) {
            let encoding = self.decode_font(&font);
            self.encodings.insert(font.clone(), encoding);
        }
        let Some(Some(encoding)) = self.encodings.get(&font) else {
            return;
        };
        let operands = match only {
            Some(index) => self.operands.get(index..=index).unwrap_or_default(),
            None => &self.operands[..],
        };
        collect_text(self.excerpt, encoding, operands);
    }

    fn decode_font(&mut self, name: &[u8]) -> Option<Encoding<'d>> {
        if self.encodings.len() >= MAX_FONTS_PER_PAGE {
            return None;
        }
        let document = self.document;
        let fonts = self
            .fonts
            .get_or_insert_with(|| document.get_page_fonts(self.page_id).unwrap_or_default());
        let font = *fonts.get(name)?;
        match font.get_font_encoding_with_limit(document, MAX_FONT_MAP_BYTES) {
            Ok(encoding) => Some(encoding),
            Err(error) => {
                tracing::debug!(%error, "PDF font encoding not read");
                None
            }
        }
    }
}

fn collect_text(excerpt: &mut Excerpt, encoding: &Encoding<'_>, operands: &[Operand]) {
    for operand in operands {
        match operand {
            Operand::Text(bytes) => {
                let mut text = String::new();
                // A string the encoding cannot map shows what it could.
                let _ = encoding.write_to_string(bytes, &mut text);
                excerpt.push_str(&text);
            }
            Operand::Array(items) => {
                collect_text(excerpt, encoding, items);
                excerpt.push_str(" ");
            }
            Operand::Integer(kerning) if *kerning < -100 => excerpt.push_str(" "),
            _ => {}
        }
    }
}

/// A content stream, ready to be expanded.
enum Expanded<'s> {
    Reader(Box<dyn Read + 's>),
    /// A filter chain lopdf cannot decode: skipped.
    Undecodable,
    /// A filter chain (not FlateDecode) that expands past the budget.
    OverBudget,
}

/// The expanded bytes of a content stream: FlateDecode (the usual filter) and
/// unfiltered streams stream through without a buffer; any other filter chain is
/// decoded by lopdf into a buffer of at most `budget` bytes.
fn content_reader(stream: &Stream, budget: u64) -> Expanded<'_> {
    let content = stream.content.as_slice();
    if stream.dict.get(b"Filter").is_err() {
        return Expanded::Reader(Box::new(content));
    }
    let predictor = match stream.dict.get(b"DecodeParms") {
        Ok(Object::Dictionary(params)) => params
            .get(b"Predictor")
            .and_then(Object::as_i64)
            .is_ok_and(|predictor| predictor > 1),
        Ok(_) => true, // an array of parameters, or a reference: let lopdf decide
        Err(_) => false,
    };
    match stream.filters().as_deref() {
        Err(_) => Expanded::Undecodable,
        Ok([]) => Expanded::Reader(Box::new(content)),
        Ok([b"FlateDecode"]) if !predictor => {
            Expanded::Reader(Box::new(flate2::read::ZlibDecoder::new(content)))
        }
        Ok(_) => {
            let limit = usize::try_from(budget).unwrap_or(usize::MAX);
            match stream.decompressed_content_with_limit(limit) {
                Ok(data) => Expanded::Reader(Box::new(Cursor::new(data))),
                Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                    Expanded::OverBudget
                }
                Err(error) => {
                    tracing::debug!(%error, "PDF content stream not decoded");
                    Expanded::Undecodable
                }
            }
        }
    }
}

/// After the `ID` operator: skips an inline image's data, up to `EI` preceded by white
/// space and followed by white space, a delimiter or the end.
fn skip_inline_image(input: &mut Input<impl BufRead>) {
    input.next(); // the one white-space byte after ID
    let mut previous = b' ';
    let mut e_after_space = false;
    while let Some(byte) = input.next() {
        if e_after_space
            && byte == b'I'
            && input
                .peek()
                .is_none_or(|next| is_white_space(next) || is_delimiter(next))
        {
            return;
        }
        e_after_space = byte == b'E' && is_white_space(previous);
        previous = byte;
    }
}

/// `/A#20B` → `A B`.
fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        let hex = raw
            .get(index + 1..index + 3)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match (raw[index], hex) {
            (b'#', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    out
}

fn is_white_space(byte: u8) -> bool {
    matches!(byte, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(byte: u8) -> bool {
    !is_white_space(byte) && !is_delimiter(byte)
}

/// Bytes read one at a time or in runs from a buffered reader; a read error (a corrupt
/// compressed stream) ends the input.
struct Input<R> {
    reader: R,
    failed: bool,
}

impl<R: BufRead> Input<R> {
    fn new(reader: R) -> Self {
        Self {
            reader,
            failed: false,
        }
    }

    fn buffer(&mut self) -> &[u8] {
        if self.failed {
            return &[];
        }
        loop {
            match self.reader.fill_buf() {
                // Re-borrowed: returning `buffer` from inside the loop does not compile.
                Ok(_) => break,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    tracing::debug!(%error, "PDF content stream ends early");
                    self.failed = true;
                    return &[];
                }
            }
        }
        self.reader.fill_buf().unwrap_or_default()
    }

    fn peek(&mut self) -> Option<u8> {
        self.buffer().first().copied()
    }

    fn bump(&mut self) {
        self.reader.consume(1);
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.bump();
        Some(byte)
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        loop {
            let buffer = self.buffer();
            if buffer.is_empty() {
                return;
            }
            let run = buffer.iter().position(|b| !keep(*b));
            let length = run.unwrap_or(buffer.len());
            self.reader.consume(length);
            if run.is_some() {
                return;
            }
        }
    }

    /// Appends bytes while `keep` holds, keeping at most `cap` of them in `out`.
    fn take_while(&mut self, keep: impl Fn(u8) -> bool, out: &mut Vec<u8>, cap: usize) {
        loop {
            let buffer = self.buffer();
            if buffer.is_empty() {
                return;
            }
            let run = buffer.iter().position(|b| !keep(*b));
            let length = run.unwrap_or(buffer.len());
            let room = cap.saturating_sub(out.len()).min(length);
            out.extend_from_slice(&buffer[..room]);
            self.reader.consume(length);
            if run.is_some() {
                return;
            }
        }
    }
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
/// boxes (concatenated; the media data is not needed), from `moov`'s `mvhd`. `None` when
/// the boxes do not parse or declare no duration.
///
/// Read here rather than with the `mp4` crate: its reader loops for ever on a child box
/// whose size field is 0 (found by the `mp4_headers_never_panic_and_fit_the_file`
/// property), and only two numbers are needed. Every step moves forward by a box size
/// [`box_header`] has checked (at least its header, at most what is left), so any input
/// ends.
pub fn mp4_duration_ms(boxes: &[u8]) -> Option<u64> {
    let moov = child_box(boxes, b"moov")?;
    let mvhd = child_box(moov, b"mvhd")?;
    // A full box: version (1 byte), flags (3), then the times, in 32 or 64 bits.
    let (timescale, duration) = match *mvhd.first()? {
        0 => (be_u32(mvhd, 12)?, u64::from(be_u32(mvhd, 16)?)),
        1 => (be_u32(mvhd, 20)?, be_u64(mvhd, 24)?),
        _ => return None,
    };
    let unknown = duration == u64::from(u32::MAX) || duration == u64::MAX;
    if timescale == 0 || duration == 0 || unknown {
        return None;
    }
    let ms = u128::from(duration) * 1000 / u128::from(timescale);
    u64::try_from(ms).ok()
}

/// The payload (what follows the header) of the first box named `name` among the boxes
/// that fill `data`.
fn child_box<'a>(data: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    let mut rest = data;
    while !rest.is_empty() {
        let header = box_header(rest, u64::try_from(rest.len()).ok()?)?;
        let header_len = if be_u32(rest, 0)? == 1 { 16 } else { 8 };
        let size = usize::try_from(header.size).ok()?;
        if &header.name == name {
            return rest.get(header_len..size);
        }
        rest = rest.get(size..)?;
    }
    None
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
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
        use lopdf::{Object, Stream, dictionary};
        let contents = (1..=pages)
            .map(|number| {
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
                vec![Stream::new(dictionary! {}, content.encode().unwrap())]
            })
            .collect();
        pdf_with_contents(contents)
    }

    /// A PDF whose pages have these content streams (font `F1`: Courier).
    fn pdf_with_contents(pages: Vec<Vec<lopdf::Stream>>) -> Vec<u8> {
        use lopdf::{Document, Object, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier",
        });
        let resources_id =
            doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
        let count = i64::try_from(pages.len()).unwrap();
        let mut kids = Vec::new();
        for streams in pages {
            let ids: Vec<Object> = streams
                .into_iter()
                .map(|stream| doc.add_object(stream).into())
                .collect();
            let contents = match <[Object; 1]>::try_from(ids) {
                Ok([id]) => id,
                Err(ids) => Object::Array(ids),
            };
            let page_id = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => contents,
            });
            kids.push(page_id.into());
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Count" => count,
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

    /// Regression (found by the MP4 property): a `moov` whose child box says size 0 put
    /// the `mp4` crate's reader in an endless loop; a crafted upload would pin a core.
    #[test]
    fn a_zero_size_child_box_ends_the_read() {
        let mut moov = mp4_box(b"free", b"");
        moov[..4].copy_from_slice(&0u32.to_be_bytes());
        let mut file = mp4_box(b"ftyp", b"isom\0\0\x02\0");
        file.extend(mp4_box(b"moov", &moov));
        assert_eq!(mp4_duration_ms(&file), None);
        let mut inner = mp4_box(b"mvhd", &[0; 4]);
        inner[..4].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(mp4_duration_ms(&mp4_box(b"moov", &inner)), None);
    }

    /// Version-1 `mvhd` (64-bit times), after another box in `moov`.
    #[test]
    fn reads_a_version_1_mvhd() {
        let mut mvhd = vec![1u8, 0, 0, 0];
        mvhd.extend_from_slice(&0u64.to_be_bytes()); // creation time
        mvhd.extend_from_slice(&0u64.to_be_bytes()); // modification time
        mvhd.extend_from_slice(&48_000u32.to_be_bytes());
        mvhd.extend_from_slice(&(48_000u64 * 7_200).to_be_bytes());
        let mut moov = mp4_box(b"udta", b"anything");
        moov.extend(mp4_box(b"mvhd", &mvhd));
        assert_eq!(mp4_duration_ms(&mp4_box(b"moov", &moov)), Some(7_200_000));
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

    // Decompression bombs, generated here (no binary fixtures).

    /// A zlib stream of `prefix` then `(repeats + 1) * chunk` zero bytes, made without
    /// compressing all of it: one sync-flushed deflate segment of `chunk` zeros,
    /// compressed after `chunk` zeros (so it only refers back to zeros), is repeated.
    fn zeros_zlib(prefix: &[u8], chunk: usize, repeats: usize) -> Vec<u8> {
        use std::io::Write;
        assert!(
            chunk >= 64 * 1024,
            "the segment must cover the deflate window"
        );
        let zeros = vec![0u8; chunk];
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(prefix).unwrap();
        encoder.write_all(&zeros).unwrap();
        encoder.flush().unwrap();
        let head = encoder.get_ref().len();
        encoder.write_all(&zeros).unwrap();
        encoder.flush().unwrap();
        let segment = encoder.get_ref().len();
        let deflate = encoder.finish().unwrap();
        let mut out = vec![0x78, 0xDA];
        out.extend_from_slice(&deflate[..head]);
        for _ in 0..repeats {
            out.extend_from_slice(&deflate[head..segment]);
        }
        out.extend_from_slice(&deflate[segment..]);
        // Adler-32: a zero byte leaves `a` as it is and adds `a` to `b`.
        const MOD: u64 = 65521;
        let (mut a, mut b) = (1u64, 0u64);
        for byte in prefix {
            a = (a + u64::from(*byte)) % MOD;
            b = (b + a) % MOD;
        }
        let zero_count = (chunk as u64) * (repeats as u64 + 1);
        b = (b + (zero_count % MOD) * a) % MOD;
        out.extend_from_slice(&u32::try_from((b << 16) | a).unwrap().to_be_bytes());
        out
    }

    fn png_chunk(out: &mut Vec<u8>, name: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(name);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }

    /// A PNG with this header (`color`: 0 gray, 2 RGB, 6 RGBA) and this IDAT.
    fn png_file(width: u32, height: u32, depth: u8, color: u8, idat: &[u8]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
        png_chunk(&mut out, b"IHDR", &ihdr);
        png_chunk(&mut out, b"IDAT", idat);
        png_chunk(&mut out, b"IEND", &[]);
        out
    }

    /// `width` × `height` 16-bit RGBA zeros: every row (filter byte + 8 bytes a pixel)
    /// is zeros, so the IDAT is [`zeros_zlib`] of 10-row segments.
    fn png_bomb(width: u32, height: u32) -> Vec<u8> {
        assert_eq!(height % 10, 0);
        let row = 1 + width as usize * 8;
        let idat = zeros_zlib(&[], row * 10, height as usize / 10 - 1);
        png_file(width, height, 16, 6, &idat)
    }

    #[test]
    fn png_bomb_is_refused_from_its_header() {
        // The file from the incident: 9,990 × 9,990, 16-bit RGBA, all zeros — 798 MB
        // of samples in well under a megabyte.
        let bomb = png_bomb(9990, 9990);
        assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
        let header = ImageReader::new(Cursor::new(&bomb))
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap();
        assert_eq!(header, (9990, 9990));

        let started = std::time::Instant::now();
        let limits = ImageLimits::new(320, DEFAULT_MAX_IMAGE_PIXELS);
        let failure = process_image_with(&bomb, &limits).unwrap_err();
        assert_eq!(
            failure.0,
            "image too large: 9990×9990 exceeds 40 megapixels"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn huge_headers_with_tiny_data_are_refused() {
        let limits = ImageLimits::new(320, DEFAULT_MAX_IMAGE_PIXELS);
        let tiny_idat = zeros_zlib(&[], 64 * 1024, 0);
        assert!(tiny_idat.len() < 1024);

        let wide = png_file(100_000, 100_000, 8, 0, &tiny_idat);
        let failure = process_image_with(&wide, &limits).unwrap_err();
        assert_eq!(
            failure.0,
            "image too large: 100000×100000 exceeds the maximum side of 20000 pixels"
        );
        let square = png_file(20_000, 20_000, 8, 6, &tiny_idat);
        let failure = process_image_with(&square, &limits).unwrap_err();
        assert_eq!(
            failure.0,
            "image too large: 20000×20000 exceeds 40 megapixels"
        );

        // Within the budget but missing its data: decoding starts and fails, quickly.
        let hollow = png_file(3000, 3000, 8, 6, &tiny_idat);
        let failure = process_image_with(&hollow, &limits).unwrap_err();
        assert!(failure.0.starts_with("corrupt image"), "{failure}");

        // JPEG: the frame header patched to claim 30,000 × 30,000, then 8,000 × 8,000.
        let mut jpeg =
            encode_jpeg(&DynamicImage::ImageRgb8(image::RgbImage::new(16, 16)), 90).unwrap();
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
        let failure = process_image_with(&jpeg, &limits).unwrap_err();
        assert!(failure.0.contains("maximum side of 20000"), "{failure}");
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x1F, 0x40, 0x1F, 0x40]);
        let failure = process_image_with(&jpeg, &limits).unwrap_err();
        assert_eq!(
            failure.0,
            "image too large: 8000×8000 exceeds 40 megapixels"
        );
    }

    #[test]
    fn the_decoder_allocates_within_its_budget() {
        // 5,000 × 5,000 RGBA needs 100 MB; a budget of 10 pixels allows 16 MiB of slack.
        let header_only = png_file(5000, 5000, 8, 6, &zeros_zlib(&[], 64 * 1024, 0));
        let limits = ImageLimits::new(320, 10);
        assert_eq!(limits.decode_budget(), 40 + DECODE_SLACK_BYTES);
        let failure = decode_png(&header_only, 5000, 5000, &limits).unwrap_err();
        assert_eq!(
            failure.0,
            "image too large: decoding it needs more than 17 MiB"
        );
        assert_eq!(
            ImageLimits::new(320, DEFAULT_MAX_IMAGE_PIXELS).decode_budget(),
            160_000_000 + DECODE_SLACK_BYTES
        );
    }

    #[test]
    fn sixteen_bit_pictures_are_published_at_eight_bits() {
        let deep = image::ImageBuffer::from_fn(64, 32, |x, y| {
            image::Rgba([x as u16 * 1000, y as u16 * 2000, 40_000, 65_535])
        });
        let mut bytes = Cursor::new(Vec::new());
        DynamicImage::ImageRgba16(deep)
            .write_to(&mut bytes, ImageFormat::Png)
            .unwrap();
        let processed = process_image(&bytes.into_inner(), 16, 1_000_000).unwrap();
        assert_eq!((processed.width, processed.height), (64, 32));
        let (display, ext) = processed.display.unwrap();
        assert_eq!(ext, "png");
        let display = image::load_from_memory(&display).unwrap();
        assert_eq!(display.color(), image::ColorType::Rgba8);
        assert_eq!(display.to_rgba8().get_pixel(10, 3).0, [39, 23, 156, 255]);
        let thumbnail = image::load_from_memory(&processed.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (16, 8));
    }

    #[test]
    fn large_pictures_are_scaled_down_for_display() {
        let limits = ImageLimits {
            max_display_side: 200,
            ..ImageLimits::new(64, 1_000_000)
        };
        let processed = process_image_with(&png(800, 400), &limits).unwrap();
        assert_eq!((processed.width, processed.height), (800, 400));
        let (display, _) = processed.display.unwrap();
        let display = image::load_from_memory(&display).unwrap();
        assert_eq!((display.width(), display.height()), (200, 100));
        let thumbnail = image::load_from_memory(&processed.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (64, 32));
    }

    /// A content stream saying `text` in F1, then `zeros` of zero bytes (white space),
    /// FlateDecode-compressed by [`zeros_zlib`].
    fn flate_bomb(text: &str, zeros_mib: usize) -> lopdf::Stream {
        let prefix = format!("BT /F1 12 Tf 72 700 Td ({text}) Tj ET\n");
        let compressed = zeros_zlib(prefix.as_bytes(), 1024 * 1024, zeros_mib - 1);
        lopdf::Stream::new(lopdf::dictionary! { "Filter" => "FlateDecode" }, compressed)
    }

    fn plain_stream(content: &str) -> lopdf::Stream {
        lopdf::Stream::new(lopdf::dictionary! {}, content.as_bytes().to_vec())
    }

    #[test]
    fn pdf_flate_bomb_ends_the_excerpt_within_the_budget() {
        // 200 MiB of zeros behind a line of text, in about 200 kB.
        let bomb = pdf_with_contents(vec![
            vec![flate_bomb("Before the bomb", 200)],
            vec![plain_stream("BT /F1 12 Tf (After the bomb) Tj ET")],
        ]);
        assert!(bomb.len() < 400 * 1024, "{} bytes", bomb.len());
        let started = std::time::Instant::now();
        let limits = PdfLimits {
            max_expanded_bytes: 4 * 1024 * 1024,
            ..PdfLimits::default()
        };
        let metadata = process_pdf_with(&bomb, &limits).unwrap();
        assert_eq!(metadata.page_count, Some(2));
        // The budget ran out in page 1: page 2 is not read.
        assert_eq!(metadata.text_excerpt.as_deref(), Some("Before the bomb"));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));

        // A budget larger than the bomb reads past it.
        let limits = PdfLimits {
            max_expanded_bytes: 256 * 1024 * 1024,
            ..PdfLimits::default()
        };
        let small = pdf_with_contents(vec![
            vec![flate_bomb("Before the bomb", 2)],
            vec![plain_stream("BT /F1 12 Tf (After the bomb) Tj ET")],
        ]);
        let metadata = process_pdf_with(&small, &limits).unwrap();
        assert_eq!(
            metadata.text_excerpt.as_deref(),
            Some("Before the bomb After the bomb")
        );
    }

    #[test]
    fn pdf_bomb_behind_a_filter_chain_is_refused_within_the_budget() {
        use std::io::Write;
        // [/FlateDecode /FlateDecode]: lopdf decodes the chain, each layer bounded.
        let inner = zeros_zlib(b"", 1024 * 1024, 199);
        let mut outer = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        outer.write_all(&inner).unwrap();
        let stream = lopdf::Stream::new(
            lopdf::dictionary! { "Filter" => vec!["FlateDecode".into(), "FlateDecode".into()] },
            outer.finish().unwrap(),
        );
        let pdf = pdf_with_contents(vec![vec![
            plain_stream("BT /F1 12 Tf (Kept) Tj ET"),
            stream,
            plain_stream("BT /F1 12 Tf (Not reached) Tj ET"),
        ]]);
        let limits = PdfLimits {
            max_expanded_bytes: 4 * 1024 * 1024,
            ..PdfLimits::default()
        };
        let metadata = process_pdf_with(&pdf, &limits).unwrap();
        assert_eq!(metadata.text_excerpt.as_deref(), Some("Kept"));
    }

    #[test]
    fn pdf_text_comes_from_the_first_pages_only() {
        let limits = PdfLimits {
            max_text_pages: 2,
            ..PdfLimits::default()
        };
        let metadata = process_pdf_with(&pdf(3, "capped"), &limits).unwrap();
        assert_eq!(metadata.page_count, Some(3));
        let text = metadata.text_excerpt.unwrap();
        assert_eq!(text, "Page 1: capped Page 2: capped");
    }

    #[test]
    fn pdf_text_matches_lopdf_extraction() {
        // Escapes, kerning, arrays, hex strings, `'` and `"`, comments, a dictionary
        // operand, two content streams: what lopdf's `extract_text` yields, collapsed.
        let first = "BT /F1 12 Tf 72 700 Td (Hello \\(world\\)) Tj T* \
                     [(Kern)-50(ing) -200 (gap)] TJ (Line\\040two) ' 1 2 (Three) \" \
                     % (a comment) Tj\n<48657820737472696E67> Tj ET";
        let second = "/Span << /ActualText (x) >> BDC BT /F1 9 Tf (Second\\\nstream) Tj \
                      (oct\\101l) Tj ET EMC";
        let bytes = pdf_with_contents(vec![vec![plain_stream(first), plain_stream(second)]]);
        let document = Document::load_mem(&bytes).unwrap();
        let lopdf_text = document.extract_text(&[1]).unwrap();
        let expected = lopdf_text.split_whitespace().collect::<Vec<_>>().join(" ");
        let metadata = process_pdf(&bytes).unwrap();
        assert_eq!(metadata.text_excerpt.unwrap(), expected);
        assert!(expected.starts_with("Hello (world)"), "{expected}");
        assert!(expected.contains("Kerning gap"), "{expected}");
        assert!(expected.contains("Hex string"), "{expected}");
        assert!(!expected.contains("comment"), "{expected}");
    }

    #[test]
    fn pdf_inline_images_are_skipped() {
        let content = "BT /F1 12 Tf (Before) Tj ET BI /W 4 /H 1 /BPC 8 /CS /G ID \x01(Tj)E\x02 EI \
                       BT /F1 12 Tf (after) Tj ET";
        let bytes = pdf_with_contents(vec![vec![plain_stream(content)]]);
        let metadata = process_pdf(&bytes).unwrap();
        assert_eq!(metadata.text_excerpt.as_deref(), Some("Before after"));
    }

    /// A PDF written by hand whose catalog also references `junk` (an object's text).
    fn pdf_with_junk(junk: &[u8]) -> Vec<u8> {
        let content = b"BT /F1 12 Tf (Hi) Tj ET";
        let mut pdf = b"%PDF-1.5\n".to_vec();
        let mut offsets = Vec::new();
        let mut object = |pdf: &mut Vec<u8>, body: &[u8]| {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
            pdf.extend_from_slice(body);
            pdf.extend_from_slice(b"\nendobj\n");
        };
        object(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R /Junk 5 0 R >>");
        object(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        object(
            &mut pdf,
            b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /MediaBox [0 0 595 842] \
              /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Courier >> >> >> >>",
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b"\nendstream");
        object(&mut pdf, &stream);
        object(&mut pdf, junk);
        let xref = pdf.len();
        let size = offsets.len() + 1;
        pdf.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
        for offset in &offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Root 1 0 R /Size {size} >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        pdf
    }

    #[test]
    fn pdfs_with_too_many_objects_are_not_loaded() {
        // Within the limit: read as usual, and counted about right.
        let small = pdf_with_junk(b"[1 2 3]");
        let limits = PdfLimits::default();
        let census = count_pdf_objects(&small, &limits);
        assert!((40..80).contains(&census.objects), "{census:?}");
        assert_eq!(census.unread_object_streams, 0);
        let metadata = process_pdf_with(&small, &limits).unwrap();
        assert_eq!(metadata.page_count, Some(1));
        assert_eq!(metadata.text_excerpt.as_deref(), Some("Hi"));

        // 1.2 million zeros in 2.4 MB (lopdf would hold 144 MB of them): not loaded.
        let mut flood = b"[".to_vec();
        flood.extend_from_slice(&b"0 ".repeat(1_200_000));
        flood.push(b']');
        let started = std::time::Instant::now();
        let metadata = process_pdf_with(&pdf_with_junk(&flood), &limits).unwrap();
        assert_eq!(metadata, DocumentMetadata::default());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));

        // The same inside a compressed object stream counts too.
        let mut zeros = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut zeros, &b"0 ".repeat(1_200_000)).unwrap();
        let mut object_stream =
            b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n".to_vec();
        object_stream.extend_from_slice(&zeros.finish().unwrap());
        object_stream.extend_from_slice(b"\nendstream");
        let packed = pdf_with_junk(&object_stream);
        assert!(packed.len() < 100 * 1024);
        assert!(count_pdf_objects(&packed, &limits).objects > limits.max_objects);

        // Encrypted (here: not zlib at all), it cannot be counted before lopdf loads it:
        // the loader may then expand it to twice the objects left, no more.
        let mut scrambled =
            b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n".to_vec();
        scrambled.extend_from_slice(&[0x5A; 64]);
        scrambled.extend_from_slice(b"\nendstream");
        let census = count_pdf_objects(&pdf_with_junk(&scrambled), &limits);
        assert_eq!(census.unread_object_streams, 1);
        assert!(census.objects < 100, "{census:?}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// `file` with a few bytes overwritten and perhaps cut short: files that get past
        /// the format's signature and fail (or not) deeper in.
        fn mutated(file: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
            (
                proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
                prop::option::of(any::<prop::sample::Index>()),
            )
                .prop_map(move |(edits, cut)| {
                    let mut bytes = file.clone();
                    for (at, value) in edits {
                        let at = at.index(bytes.len());
                        bytes[at] = value;
                    }
                    if let Some(cut) = cut {
                        bytes.truncate(cut.index(bytes.len() + 1));
                    }
                    bytes
                })
        }

        fn limits() -> ImageLimits {
            ImageLimits {
                thumbnail_size: 32,
                max_pixels: 250_000,
                max_side: 2000,
                max_display_side: 256,
            }
        }

        fn check_image(bytes: &[u8]) -> Result<(), TestCaseError> {
            let limits = limits();
            if let Ok(processed) = process_image_with(bytes, &limits) {
                prop_assert!(
                    u64::from(processed.width) * u64::from(processed.height) <= limits.max_pixels
                );
                let thumbnail = image::load_from_memory(&processed.thumbnail).unwrap();
                prop_assert!(thumbnail.width().max(thumbnail.height()) <= limits.thumbnail_size);
            }
            Ok(())
        }

        fn check_document(metadata: &DocumentMetadata) -> Result<(), TestCaseError> {
            if let Some(excerpt) = &metadata.text_excerpt {
                prop_assert!(!excerpt.is_empty());
                prop_assert!(excerpt.chars().count() <= TEXT_EXCERPT_CHARS);
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn images_never_panic_and_stay_within_the_limits(
                bytes in prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..200),
                    mutated(png(40, 30)),
                    mutated(jpeg_with_exif()),
                ],
            ) {
                check_image(&bytes)?;
            }

            /// Whatever EXIF a JPEG carries, the published copy has none of it.
            #[test]
            fn exif_never_survives(secret in "[A-Z]{12,24}") {
                let image = DynamicImage::ImageRgb8(image::RgbImage::new(20, 10));
                let plain = encode_jpeg(&image, 90).unwrap();
                let payload = format!("Exif\0\0{secret}");
                let length = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
                let mut original = plain[..2].to_vec();
                original.extend_from_slice(&[0xFF, 0xE1, length[0], length[1]]);
                original.extend_from_slice(payload.as_bytes());
                original.extend_from_slice(&plain[2..]);
                let processed = process_image_with(&original, &limits()).unwrap();
                let (display, _) = processed.display.unwrap();
                prop_assert!(!display.windows(secret.len()).any(|w| w == secret.as_bytes()));
                prop_assert!(!display.windows(4).any(|w| w == b"Exif"));
            }

            #[test]
            fn pdfs_never_panic_and_excerpts_are_bounded(
                bytes in prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..200),
                    mutated(pdf(2, "hello world")),
                    mutated(pdf_with_junk(b"<< /Length 5 >>")),
                ],
            ) {
                if let Ok(metadata) = process_pdf_with(&bytes, &PdfLimits::default()) {
                    check_document(&metadata)?;
                }
            }

            /// Plain text: the excerpt is the start of the valid UTF-8, trimmed, bounded.
            #[test]
            fn text_excerpts_are_bounded_prefixes(head in proptest::collection::vec(any::<u8>(), 0..3000)) {
                let metadata = process_text(&head);
                check_document(&metadata)?;
                prop_assert_eq!(metadata.page_count, None);
                if let Some(excerpt) = metadata.text_excerpt {
                    let valid = match std::str::from_utf8(&head) {
                        Ok(text) => text,
                        Err(error) => std::str::from_utf8(&head[..error.valid_up_to()]).unwrap(),
                    };
                    prop_assert!(valid.trim().starts_with(&excerpt));
                }
            }

            /// MP4 box headers lie within the file; the duration reader takes any bytes.
            #[test]
            fn mp4_headers_never_panic_and_fit_the_file(
                head in proptest::collection::vec(any::<u8>(), 0..24),
                remaining in any::<u64>(),
                boxes in prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..300),
                    mutated(mp4_header(1000, 1)),
                ],
            ) {
                if let Some(header) = box_header(&head, remaining) {
                    prop_assert!(header.size >= 8 && header.size <= remaining);
                }
                let _ = mp4_duration_ms(&boxes);
            }
        }
    }
}
