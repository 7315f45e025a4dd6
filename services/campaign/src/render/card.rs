//! Social cards rendered locally from a template, for campaigns made without an image
//! API key: a brand-colour gradient (or the creator's own picture, cover-fitted and
//! darkened for legibility), an accent bar, the headline, an optional subline and footer.
//! This is a template render, not AI imagery, and must be labelled as such wherever it is
//! shown ([`RENDERER`]).
//!
//! Text is drawn with Noto Sans (SIL Open Font License 1.1, bundled in
//! `assets/fonts/` with its licence) through ab_glyph's outline rasterizer. The headline
//! wraps at spaces and shrinks until it fits the card; at the smallest size it is cut with
//! an ellipsis. Limits of this renderer: no text shaping (no ligatures, no right-to-left
//! or complex scripts), and Noto Sans covers Latin, Greek and Cyrillic only: other
//! characters the font lacks are drawn as the font's "missing" box, counted in
//! [`RenderedCard::missing_glyphs`], except emoji and invisible marks, which are left out.
//! Output is deterministic: the same spec gives the same bytes.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::fmt;
use std::io::Cursor;

/// What produced a card, for labels and metadata: never an AI model.
pub const RENDERER: &str = "marquee-card-template";

const FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");
const FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");

/// Sides are clamped to this range: smaller cards can't hold a legible layout, larger
/// ones cost memory and time for no social network's benefit.
pub const MIN_SIDE: u32 = 200;
pub const MAX_SIDE: u32 = 2048;
/// Characters kept of each text; the rest is cut with an ellipsis.
pub const MAX_HEADLINE_CHARS: usize = 200;
pub const MAX_SUBLINE_CHARS: usize = 280;
pub const MAX_FOOTER_CHARS: usize = 80;
/// Brand colours used: the gradient's two ends and the accent.
pub const MAX_BRAND_COLORS: usize = 3;
/// When the creator has no brand colours: deep indigo to violet, amber accent.
pub const DEFAULT_BRAND_COLORS: [[u8; 3]; 3] =
    [[0x1e, 0x1b, 0x4b], [0x6d, 0x28, 0xd9], [0xf5, 0x9e, 0x0b]];

/// The card's size for a post's aspect ratio (`"1:1"`, `"16:9"`, `"9:16"`, `"4:5"`).
pub fn size_for_aspect(aspect_ratio: &str) -> Option<(u32, u32)> {
    match aspect_ratio {
        "1:1" => Some((1080, 1080)),
        "16:9" => Some((1200, 675)),
        "9:16" => Some((1080, 1920)),
        "4:5" => Some((1080, 1350)),
        _ => None,
    }
}

/// What to draw.
#[derive(Clone)]
pub struct CardSpec {
    /// Clamped to [`MIN_SIDE`]..=[`MAX_SIDE`].
    pub width: u32,
    pub height: u32,
    /// Required. `\n` starts a new line; other control characters are dropped.
    pub headline: String,
    pub subline: Option<String>,
    /// One to three colours; the first [`MAX_BRAND_COLORS`] are used, the defaults when
    /// empty.
    pub brand_colors: Vec<[u8; 3]>,
    /// A picture the creator chose, shown behind the text instead of the gradient.
    pub background: Option<DynamicImage>,
    /// A brand name or URL along the bottom.
    pub footer: Option<String>,
}

impl fmt::Debug for CardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardSpec")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("headline", &self.headline)
            .field("subline", &self.subline)
            .field("brand_colors", &self.brand_colors)
            .field(
                "background",
                &self.background.as_ref().map(|b| (b.width(), b.height())),
            )
            .field("footer", &self.footer)
            .finish()
    }
}

/// A rendered card: PNG bytes and the size actually drawn (after clamping).
#[derive(Clone, PartialEq)]
pub struct RenderedCard {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Characters drawn as the font's "missing" box (scripts Noto Sans lacks): the caller
    /// may warn the creator that the card can't show their text as written.
    pub missing_glyphs: usize,
}

impl fmt::Debug for RenderedCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderedCard")
            .field("png", &self.png.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("missing_glyphs", &self.missing_glyphs)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the card needs a headline")]
    EmptyHeadline,
    /// The bundled font can't be read: a build defect, not the caller's.
    #[error("the bundled font is unreadable: {0}")]
    Font(String),
    #[error("encoding the card as PNG failed: {0}")]
    Encode(String),
}

/// Renders the card. CPU-bound (tens of milliseconds at 1080×1080): call it from a
/// blocking task in async code.
pub fn render_card(spec: &CardSpec) -> Result<RenderedCard, CardError> {
    let width = spec.width.clamp(MIN_SIDE, MAX_SIDE);
    let height = spec.height.clamp(MIN_SIDE, MAX_SIDE);
    let fonts = Fonts::load()?;
    // Emoji and the like are dropped before spaces are collapsed, so "Sale 🔥 today"
    // doesn't keep a double space.
    let headline = clean_text(
        &without_droppable(&fonts.bold, &spec.headline),
        MAX_HEADLINE_CHARS,
        true,
    );
    if headline.is_empty() {
        return Err(CardError::EmptyHeadline);
    }
    let subline = spec
        .subline
        .as_deref()
        .map(|s| {
            clean_text(
                &without_droppable(&fonts.regular, s),
                MAX_SUBLINE_CHARS,
                true,
            )
        })
        .filter(|s| !s.is_empty());
    let footer = spec
        .footer
        .as_deref()
        .map(|s| {
            clean_text(
                &without_droppable(&fonts.regular, s),
                MAX_FOOTER_CHARS,
                false,
            )
        })
        .filter(|s| !s.is_empty());
    let palette = Palette::new(&spec.brand_colors, spec.background.is_some());
    let mut canvas = paint_background(width, height, &palette, spec.background.as_ref());
    let layout = lay_out(
        &fonts,
        width,
        height,
        &headline,
        subline.as_deref(),
        footer.as_deref(),
        spec.background.is_some(),
    );
    let missing_glyphs = draw_layout(&mut canvas, &fonts, &layout, &palette);
    let mut png = Vec::new();
    canvas
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| CardError::Encode(e.to_string()))?;
    Ok(RenderedCard {
        png,
        width,
        height,
        missing_glyphs,
    })
}

struct Fonts {
    bold: FontRef<'static>,
    regular: FontRef<'static>,
}

impl Fonts {
    fn load() -> Result<Self, CardError> {
        Ok(Self {
            bold: FontRef::try_from_slice(FONT_BOLD).map_err(|e| CardError::Font(e.to_string()))?,
            regular: FontRef::try_from_slice(FONT_REGULAR)
                .map_err(|e| CardError::Font(e.to_string()))?,
        })
    }

    fn get(&self, weight: Weight) -> &FontRef<'static> {
        match weight {
            Weight::Bold => &self.bold,
            Weight::Regular => &self.regular,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Weight {
    Bold,
    Regular,
}

// ---- text ----

/// Control characters dropped, whitespace runs made one space (newlines kept when
/// `keep_newlines`), trimmed, cut to `max_chars` with an ellipsis.
fn clean_text(text: &str, max_chars: usize, keep_newlines: bool) -> String {
    let mut out = String::new();
    let mut kept = 0;
    let mut cut = false;
    for c in text.chars() {
        let c = match c {
            '\n' if keep_newlines => '\n',
            c if c.is_whitespace() => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        if c == ' ' && (out.is_empty() || out.ends_with([' ', '\n'])) {
            continue;
        }
        if c == '\n' {
            let trimmed = out.trim_end_matches(' ').len();
            out.truncate(trimmed);
            if out.is_empty() || out.ends_with('\n') {
                continue;
            }
        }
        if kept == max_chars {
            cut = true;
            break;
        }
        out.push(c);
        kept += 1;
    }
    let mut out = out.trim_end().to_string();
    if cut {
        out.push('…');
    }
    out
}

/// Emoji, variation selectors, joiners and other marks with no glyph of their own in a
/// text font: left out when the font lacks them, rather than drawn as boxes.
fn is_droppable(c: char) -> bool {
    matches!(c as u32,
        0x200B..=0x200F // zero-width spaces and joiners, direction marks
        | 0x202A..=0x202E // direction embeddings and overrides
        | 0x2060..=0x206F // invisible operators
        | 0xFE00..=0xFE0F // variation selectors
        | 0xFEFF // byte order mark
        | 0x2600..=0x27BF // miscellaneous symbols and dingbats
        | 0x2B00..=0x2BFF // arrows and symbols (⭐)
        | 0x1F000..=0x1FAFF // emoji blocks
        | 0xE0000..=0xE007F // tags (flag sequences)
        | 0xE0100..=0xE01EF) // variation selectors supplement
}

/// `text` without the droppable characters `font` lacks.
fn without_droppable(font: &FontRef<'_>, text: &str) -> String {
    text.chars()
        .filter(|&c| !is_droppable(c) || font.glyph_id(c).0 != 0)
        .collect()
}

/// Scripts written without spaces between words, where a line may break between any two
/// characters.
fn breaks_anywhere(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF // CJK radicals, kana, ideographs
        | 0xAC00..=0xD7AF // Hangul
        | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF // full-width forms
        | 0x20000..=0x3FFFF)
}

/// The glyphs for `text`: the font's glyph, the font's "missing" box (id 0) for a
/// character it lacks, nothing for a droppable one the font lacks.
fn glyph_ids(font: &FontRef<'_>, text: &str) -> Vec<GlyphId> {
    text.chars()
        .filter_map(|c| {
            let id = font.glyph_id(c);
            (id.0 != 0 || !is_droppable(c)).then_some(id)
        })
        .collect()
}

/// The pen advance of `text` at `px`, kerning included.
fn text_width(font: &FontRef<'_>, px: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(px));
    let mut width = 0.0;
    let mut previous: Option<GlyphId> = None;
    for id in glyph_ids(font, text) {
        if let Some(previous) = previous {
            width += scaled.kern(previous, id);
        }
        width += scaled.h_advance(id);
        previous = Some(id);
    }
    width
}

/// Lines of `text` no wider than `max_width`, breaking at spaces (and between CJK
/// characters); a word too long for a line is broken between letters, which is reported
/// so the caller can try a smaller size first.
fn wrap(font: &FontRef<'_>, px: f32, text: &str, max_width: f32) -> (Vec<String>, bool) {
    let fits = |line: &str| text_width(font, px, line) <= max_width;
    let mut lines = Vec::new();
    let mut broke_a_word = false;
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let joined = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if fits(&joined) {
                line = joined;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if fits(word) {
                line = word.to_string();
                continue;
            }
            let mut previous: Option<char> = None;
            for c in word.chars() {
                let mut longer = line.clone();
                longer.push(c);
                if line.is_empty() || fits(&longer) {
                    line = longer;
                } else {
                    if !previous.is_some_and(breaks_anywhere) && !breaks_anywhere(c) {
                        broke_a_word = true;
                    }
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
                previous = Some(c);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    (lines, broke_a_word)
}

/// `line` shortened until it fits with an ellipsis after it.
fn ellipsize(font: &FontRef<'_>, px: f32, line: &str, max_width: f32) -> String {
    let mut kept: Vec<char> = line.chars().collect();
    loop {
        let head: String = kept.iter().collect();
        let candidate = format!("{}…", head.trim_end());
        if kept.is_empty() || text_width(font, px, &candidate) <= max_width {
            return candidate;
        }
        kept.pop();
    }
}

// ---- layout ----

#[derive(Debug, Clone, Copy, PartialEq)]
struct Area {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl Area {
    fn width(&self) -> f32 {
        self.x1 - self.x0
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Line {
    text: String,
    weight: Weight,
    px: f32,
    x: f32,
    baseline: f32,
    /// Opacity of the text colour: the subline and footer are a step quieter.
    opacity: f32,
}

#[derive(Debug, Clone, PartialEq)]
struct Layout {
    /// Nothing is drawn outside it: the margins stay background.
    content: Area,
    accent_bar: Area,
    headline_px: f32,
    lines: Vec<Line>,
    /// Text over a picture gets a soft shadow.
    shadow: bool,
}

/// A block of lines at one size.
struct Block {
    lines: Vec<String>,
    px: f32,
    line_advance: f32,
    ascent: f32,
    descent: f32,
}

impl Block {
    fn new(font: &FontRef<'_>, px: f32, lines: Vec<String>, line_spacing: f32) -> Self {
        let scaled = font.as_scaled(PxScale::from(px));
        Self {
            lines,
            px,
            line_advance: px * line_spacing,
            ascent: scaled.ascent(),
            descent: -scaled.descent(),
        }
    }

    /// Height from the first line's ascent to the last line's descent.
    fn height(&self) -> f32 {
        Self::height_of(
            self.lines.len(),
            self.line_advance,
            self.ascent,
            self.descent,
        )
    }

    fn height_of(lines: usize, line_advance: f32, ascent: f32, descent: f32) -> f32 {
        if lines == 0 {
            0.0
        } else {
            (lines - 1) as f32 * line_advance + ascent + descent
        }
    }

    /// As many lines as fit in `max_height` (at least one), the last cut with an
    /// ellipsis when any were dropped.
    fn limit_height(&mut self, font: &FontRef<'_>, max_height: f32, max_width: f32) {
        let mut keep = self.lines.len();
        while keep > 1
            && Self::height_of(keep, self.line_advance, self.ascent, self.descent) > max_height
        {
            keep -= 1;
        }
        self.limit_lines(font, keep, max_width);
    }

    fn limit_lines(&mut self, font: &FontRef<'_>, keep: usize, max_width: f32) {
        if self.lines.len() > keep {
            self.lines.truncate(keep);
            if let Some(last) = self.lines.last_mut() {
                *last = ellipsize(font, self.px, last, max_width);
            }
        }
    }
}

const HEADLINE_LINE_SPACING: f32 = 1.12;
const BODY_LINE_SPACING: f32 = 1.3;
const MAX_SUBLINE_LINES: usize = 3;
/// Each step down in headline size is this much smaller.
const SHRINK_STEP: f32 = 0.93;

/// Where everything goes. Sizes follow the card's shorter side so that every format gets
/// the same proportions.
fn lay_out(
    fonts: &Fonts,
    width: u32,
    height: u32,
    headline: &str,
    subline: Option<&str>,
    footer: Option<&str>,
    over_picture: bool,
) -> Layout {
    let side = width.min(height) as f32;
    let margin = (side * 0.075).round();
    let content = Area {
        x0: margin,
        y0: margin,
        x1: width as f32 - margin,
        y1: height as f32 - margin,
    };
    let max_width = content.width();
    let mut lines = Vec::new();

    // The footer: one line along the bottom.
    let mut bottom = content.y1;
    if let Some(footer) = footer {
        let px = side * 0.03;
        let scaled = fonts.regular.as_scaled(PxScale::from(px));
        let (ascent, descent) = (scaled.ascent(), -scaled.descent());
        let text = if text_width(&fonts.regular, px, footer) > max_width {
            ellipsize(&fonts.regular, px, footer, max_width)
        } else {
            footer.to_string()
        };
        lines.push(Line {
            text,
            weight: Weight::Regular,
            px,
            x: content.x0,
            baseline: content.y1 - descent,
            opacity: 0.8,
        });
        bottom = content.y1 - ascent - descent - side * 0.04;
    }

    let accent_height = (side * 0.01).max(3.0).round();
    let accent_gap = (side * 0.035).round();
    let available = (bottom - content.y0 - accent_height - accent_gap).max(0.0);

    // The subline: a fixed size, at most three lines and a third of the room.
    let subline_gap = side * 0.035;
    let subline = subline.map(|text| {
        let px = side * 0.042;
        let (wrapped, _) = wrap(&fonts.regular, px, text, max_width);
        let mut block = Block::new(&fonts.regular, px, wrapped, BODY_LINE_SPACING);
        block.limit_lines(&fonts.regular, MAX_SUBLINE_LINES, max_width);
        block.limit_height(&fonts.regular, available * 0.34, max_width);
        block
    });
    let subline_room = subline.as_ref().map_or(0.0, |b| b.height() + subline_gap);

    // The headline: the largest size at which it fits without breaking a word.
    let headline_room = (available - subline_room).max(0.0);
    let max_px = side * 0.12;
    let min_px = side * 0.045;
    let mut px = max_px;
    let headline_block = loop {
        let (wrapped, broke_a_word) = wrap(&fonts.bold, px, headline, max_width);
        let mut block = Block::new(&fonts.bold, px, wrapped, HEADLINE_LINE_SPACING);
        let fits = block.height() <= headline_room && !broke_a_word;
        if fits {
            break block;
        }
        if px <= min_px {
            block.limit_height(&fonts.bold, headline_room, max_width);
            break block;
        }
        px = (px * SHRINK_STEP).max(min_px);
    };

    // The block — accent bar, headline, subline — centred on a gradient, low on a picture
    // (where the overlay is darkest).
    let block_height = accent_height + accent_gap + headline_block.height() + subline_room;
    let top = if over_picture {
        (bottom - block_height).max(content.y0)
    } else {
        (content.y0 + (bottom - content.y0 - block_height) / 2.0).max(content.y0)
    };
    let accent_bar = Area {
        x0: content.x0,
        y0: top,
        x1: content.x0 + (side * 0.1).round(),
        y1: top + accent_height,
    };
    let mut baseline = accent_bar.y1 + accent_gap + headline_block.ascent;
    for text in &headline_block.lines {
        lines.push(Line {
            text: text.clone(),
            weight: Weight::Bold,
            px: headline_block.px,
            x: content.x0,
            baseline,
            opacity: 1.0,
        });
        baseline += headline_block.line_advance;
    }
    if let Some(subline) = subline {
        let mut baseline =
            accent_bar.y1 + accent_gap + headline_block.height() + subline_gap + subline.ascent;
        for text in subline.lines {
            lines.push(Line {
                text,
                weight: Weight::Regular,
                px: subline.px,
                x: content.x0,
                baseline,
                opacity: 0.88,
            });
            baseline += subline.line_advance;
        }
    }
    Layout {
        content,
        accent_bar,
        headline_px: headline_block.px,
        lines,
        shadow: over_picture,
    }
}

// ---- colour and pixels ----

#[derive(Debug, Clone, Copy, PartialEq)]
struct Palette {
    start: [u8; 3],
    end: [u8; 3],
    accent: [u8; 3],
    text: [u8; 3],
}

const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [17, 17, 22];

impl Palette {
    fn new(brand_colors: &[[u8; 3]], over_picture: bool) -> Self {
        let colors: &[[u8; 3]] = if brand_colors.is_empty() {
            &DEFAULT_BRAND_COLORS
        } else {
            &brand_colors[..brand_colors.len().min(MAX_BRAND_COLORS)]
        };
        let start = colors[0];
        let end = match colors.get(1) {
            Some(end) => *end,
            // One colour: a gradient to a deeper shade of it (or a lighter one, from black).
            None if luminance(start) < 0.03 => mix(start, WHITE, 0.22),
            None => mix(start, [0, 0, 0], 0.45),
        };
        // Over a picture the overlay makes the background dark: white text. On a gradient,
        // whichever of white and ink contrasts more with its middle.
        let text = if over_picture {
            WHITE
        } else {
            let middle = mix(start, end, 0.5);
            if contrast(WHITE, middle) >= contrast(INK, middle) {
                WHITE
            } else {
                INK
            }
        };
        let middle = mix(start, end, 0.5);
        let accent = colors
            .get(2)
            .copied()
            .filter(|accent| over_picture || contrast(*accent, middle) >= 1.8)
            .unwrap_or(text);
        Self {
            start,
            end,
            accent,
            text,
        }
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let channel =
        |i: usize| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t).round() as u8;
    [channel(0), channel(1), channel(2)]
}

/// WCAG relative luminance.
fn luminance(color: [u8; 3]) -> f32 {
    let linear = |c: u8| {
        let c = f32::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(color[0]) + 0.7152 * linear(color[1]) + 0.0722 * linear(color[2])
}

/// WCAG contrast ratio, 1 to 21.
fn contrast(a: [u8; 3], b: [u8; 3]) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn blend(pixel: &mut Rgb<u8>, color: [u8; 3], alpha: f32) {
    let alpha = alpha.clamp(0.0, 1.0);
    for (channel, target) in pixel.0.iter_mut().zip(color) {
        *channel =
            (f32::from(*channel) + (f32::from(target) - f32::from(*channel)) * alpha).round() as u8;
    }
}

/// The background alone: the creator's picture cover-fitted under a darkening gradient,
/// or the brand gradient with two soft circles.
fn paint_background(
    width: u32,
    height: u32,
    palette: &Palette,
    picture: Option<&DynamicImage>,
) -> RgbImage {
    if let Some(picture) = picture.filter(|p| p.width() > 0 && p.height() > 0) {
        let mut canvas = picture
            .resize_to_fill(width, height, FilterType::Triangle)
            .to_rgb8();
        // Darker towards the bottom, tinted a little with the brand, so white text reads
        // on any picture.
        let shade = mix([0, 0, 0], palette.start, 0.25);
        for (_, y, pixel) in canvas.enumerate_pixels_mut() {
            let alpha = 0.3 + 0.45 * (y as f32 / height as f32);
            blend(pixel, shade, alpha);
        }
        return canvas;
    }
    let diagonal = (width + height) as f32;
    let mut canvas = RgbImage::from_fn(width, height, |x, y| {
        Rgb(mix(palette.start, palette.end, (x + y) as f32 / diagonal))
    });
    let side = width.min(height) as f32;
    soft_circle(
        &mut canvas,
        width as f32 * 0.9,
        height as f32 * 0.1,
        side * 0.38,
        palette.accent,
        0.14,
    );
    soft_circle(
        &mut canvas,
        width as f32 * 0.04,
        height as f32 * 0.98,
        side * 0.26,
        palette.text,
        0.06,
    );
    canvas
}

/// A filled circle with an anti-aliased edge, blended at `alpha`.
fn soft_circle(canvas: &mut RgbImage, cx: f32, cy: f32, radius: f32, color: [u8; 3], alpha: f32) {
    let (width, height) = canvas.dimensions();
    let x_range =
        (cx - radius - 1.0).max(0.0) as u32..((cx + radius + 1.0).max(0.0) as u32).min(width);
    let y_range =
        (cy - radius - 1.0).max(0.0) as u32..((cy + radius + 1.0).max(0.0) as u32).min(height);
    for y in y_range {
        for x in x_range.clone() {
            let distance = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let coverage = (radius - distance + 0.5).clamp(0.0, 1.0);
            if coverage > 0.0 {
                blend(canvas.get_pixel_mut(x, y), color, alpha * coverage);
            }
        }
    }
}

/// Draws the accent bar and the lines, clipped to the content area; returns how many
/// glyphs were the font's "missing" box.
fn draw_layout(canvas: &mut RgbImage, fonts: &Fonts, layout: &Layout, palette: &Palette) -> usize {
    let clip = layout.content;
    let bar = layout.accent_bar;
    for y in bar.y0 as u32..bar.y1 as u32 {
        for x in bar.x0 as u32..bar.x1 as u32 {
            if let Some(pixel) = canvas.get_pixel_mut_checked(x, y) {
                *pixel = Rgb(palette.accent);
            }
        }
    }
    let mut missing = 0;
    for line in &layout.lines {
        let font = fonts.get(line.weight);
        if layout.shadow {
            let offset = (line.px * 0.04).max(1.0);
            draw_text(
                canvas,
                font,
                line,
                offset,
                [0, 0, 0],
                0.45 * line.opacity,
                clip,
            );
        }
        missing += draw_text(canvas, font, line, 0.0, palette.text, line.opacity, clip);
    }
    missing
}

fn draw_text(
    canvas: &mut RgbImage,
    font: &FontRef<'_>,
    line: &Line,
    offset: f32,
    color: [u8; 3],
    opacity: f32,
    clip: Area,
) -> usize {
    let scale = PxScale::from(line.px);
    let scaled = font.as_scaled(scale);
    let mut pen = line.x + offset;
    let mut previous: Option<GlyphId> = None;
    let mut missing = 0;
    for id in glyph_ids(font, &line.text) {
        if let Some(previous) = previous {
            pen += scaled.kern(previous, id);
        }
        if id.0 == 0 {
            missing += 1;
        }
        let glyph = id.with_scale_and_position(scale, point(pen, line.baseline + offset));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                let x = bounds.min.x + gx as f32;
                let y = bounds.min.y + gy as f32;
                if x < clip.x0 || y < clip.y0 || x >= clip.x1 || y >= clip.y1 {
                    return;
                }
                if let Some(pixel) = canvas.get_pixel_mut_checked(x as u32, y as u32) {
                    blend(pixel, color, coverage * opacity);
                }
            });
        }
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(headline: &str) -> CardSpec {
        CardSpec {
            width: 1080,
            height: 1080,
            headline: headline.to_string(),
            subline: Some("Hand-printed, signed, shipped in a week".into()),
            brand_colors: vec![[0x12, 0x3a, 0x5c]],
            background: None,
            footer: Some("studio-ada.example".into()),
        }
    }

    fn decode(card: &RenderedCard) -> RgbImage {
        image::load_from_memory_with_format(&card.png, ImageFormat::Png)
            .unwrap()
            .to_rgb8()
    }

    const LONG_HEADLINE: &str = "Every print in the autumn collection is twenty percent off \
        this weekend only, including the limited riso editions, the oversized botanical \
        posters and the hand-bound zines nobody else stocks";

    #[test]
    fn renders_a_png_of_the_requested_size() {
        for (aspect, expected) in [
            ("1:1", (1080, 1080)),
            ("16:9", (1200, 675)),
            ("9:16", (1080, 1920)),
        ] {
            let (width, height) = size_for_aspect(aspect).unwrap();
            assert_eq!((width, height), expected);
            let card = render_card(&CardSpec {
                width,
                height,
                ..spec("Autumn prints are here")
            })
            .unwrap();
            assert_eq!((card.width, card.height), expected);
            let decoded = decode(&card);
            assert_eq!(decoded.dimensions(), expected);
            assert_eq!(card.missing_glyphs, 0);
        }
        // Sizes are clamped.
        let card = render_card(&CardSpec {
            width: 100_000,
            height: 0,
            ..spec("Clamped")
        })
        .unwrap();
        assert_eq!((card.width, card.height), (MAX_SIDE, MIN_SIDE));
        assert_eq!(decode(&card).dimensions(), (MAX_SIDE, MIN_SIDE));
        assert!(matches!(
            render_card(&spec(" \n\t ")),
            Err(CardError::EmptyHeadline)
        ));
    }

    #[test]
    fn a_long_headline_shrinks_and_stays_inside_the_margins() {
        let fonts = Fonts::load().unwrap();
        let short = lay_out(
            &fonts,
            1080,
            1080,
            "Autumn prints",
            Some("sub"),
            Some("foot"),
            false,
        );
        let long = lay_out(
            &fonts,
            1080,
            1080,
            LONG_HEADLINE,
            Some("sub"),
            Some("foot"),
            false,
        );
        assert!(
            long.headline_px < short.headline_px,
            "{} vs {}",
            long.headline_px,
            short.headline_px
        );
        for line in &long.lines {
            let font = fonts.get(line.weight);
            let width = text_width(font, line.px, &line.text);
            assert!(
                line.x + width <= long.content.x1 + 0.5,
                "{line:?} is {width} wide"
            );
            let scaled = font.as_scaled(PxScale::from(line.px));
            assert!(
                line.baseline - scaled.ascent() >= long.content.y0 - 0.5,
                "{line:?}"
            );
            assert!(
                line.baseline - scaled.descent() <= long.content.y1 + 0.5,
                "{line:?}"
            );
        }

        // In the picture: the margins are the background alone, the content area isn't.
        let spec = spec(LONG_HEADLINE);
        let card = render_card(&spec).unwrap();
        let drawn = decode(&card);
        let palette = Palette::new(&spec.brand_colors, false);
        let background = paint_background(1080, 1080, &palette, None);
        let content = long.content;
        let mut text_pixels = 0;
        for (x, y, pixel) in drawn.enumerate_pixels() {
            let inside = (x as f32) >= content.x0
                && (y as f32) >= content.y0
                && (x as f32) < content.x1
                && (y as f32) < content.y1;
            if !inside {
                assert_eq!(
                    pixel,
                    background.get_pixel(x, y),
                    "text in the margin at {x},{y}"
                );
            } else if pixel != background.get_pixel(x, y) {
                text_pixels += 1;
            }
        }
        assert!(text_pixels > 20_000, "{text_pixels}");
    }

    #[test]
    fn a_headline_too_long_for_any_size_ends_with_an_ellipsis() {
        let fonts = Fonts::load().unwrap();
        // Sixty forced line breaks can't fit at any size: the last line kept says so.
        let endless = clean_text(&"Line\n".repeat(60), MAX_HEADLINE_CHARS, true);
        let layout = lay_out(&fonts, 1200, 675, &endless, None, None, false);
        let headline: Vec<&Line> = layout
            .lines
            .iter()
            .filter(|l| l.weight == Weight::Bold)
            .collect();
        assert!(
            (layout.headline_px - 675.0 * 0.045).abs() < 1e-3,
            "{}",
            layout.headline_px
        );
        assert!(headline.len() < 60);
        let last = headline.last().unwrap();
        let scaled = fonts.bold.as_scaled(PxScale::from(last.px));
        assert!(last.baseline - scaled.descent() <= layout.content.y1 + 0.5);
        assert!(headline.last().unwrap().text.ends_with('…'));
        // A single unbreakable word is broken between letters rather than overflowing.
        let (lines, broke) = wrap(&fonts.bold, 100.0, &"W".repeat(60), 800.0);
        assert!(broke && lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| text_width(&fonts.bold, 100.0, l) <= 800.0)
        );
    }

    #[test]
    fn the_background_picture_is_used() {
        let picture = DynamicImage::ImageRgb8(RgbImage::from_fn(640, 480, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 200])
        }));
        let plain = decode(&render_card(&spec("Studio sale")).unwrap());
        let with_picture = decode(
            &render_card(&CardSpec {
                background: Some(picture),
                ..spec("Studio sale")
            })
            .unwrap(),
        );
        let differing = plain
            .pixels()
            .zip(with_picture.pixels())
            .filter(|(a, b)| a != b)
            .count();
        assert!(differing > 1080 * 1080 / 2, "{differing}");
        // Darkened for legibility: the bottom-left corner is darker than the picture's.
        let corner = with_picture.get_pixel(5, 1074);
        assert!(corner.0.iter().all(|&c| c < 120), "{corner:?}");
    }

    #[test]
    fn any_unicode_renders_without_panicking() {
        for headline in [
            "夏のセール 全品20%オフ 今だけ",
            "🔥🔥🔥 Drop day 👩‍🎨✨🇫🇷",
            "Z̷̢̛a̴l̸g̶o̵ t̸e̷x̶t̴ ̵a̷n̸d\u{200b} \u{202e}mixed direction",
            "مرحبا بالعالم — שלום עולם — Привет, мир",
            "\u{0}\u{1}\u{7f} controls \r\n\r\n and blank lines",
            "𝕱𝖗𝖆𝖐𝖙𝖚𝖗 𝓼𝓬𝓻𝓲𝓹𝓽 and a very very very very very very very very long line",
            "한국어 텍스트도 괜찮습니다",
        ] {
            let card = render_card(&CardSpec {
                width: 480,
                height: 480,
                subline: Some(headline.to_string()),
                footer: Some(headline.to_string()),
                ..spec(headline)
            })
            .unwrap();
            assert_eq!(decode(&card).dimensions(), (480, 480));
        }
        // Emoji are left out (with the space they leave), CJK drawn as boxes and counted.
        let emoji = render_card(&spec("Sale 🔥 today")).unwrap();
        assert_eq!(emoji.missing_glyphs, 0);
        assert_eq!(emoji, render_card(&spec("Sale today")).unwrap());
        assert!(matches!(
            render_card(&spec("🔥🔥")),
            Err(CardError::EmptyHeadline)
        ));
        let cjk = render_card(&CardSpec {
            subline: None,
            footer: None,
            ..spec("夏のセール")
        })
        .unwrap();
        assert_eq!(cjk.missing_glyphs, 5);
    }

    #[test]
    fn the_same_spec_renders_the_same_bytes() {
        let picture = DynamicImage::ImageRgb8(RgbImage::from_fn(300, 900, |x, y| {
            Rgb([x as u8, y as u8, 90])
        }));
        let spec = CardSpec {
            background: Some(picture),
            brand_colors: vec![[250, 240, 200], [255, 200, 120], [20, 20, 20]],
            ..spec("Open studio Saturday")
        };
        assert_eq!(render_card(&spec).unwrap(), render_card(&spec).unwrap());
        let plain = CardSpec {
            background: None,
            ..spec.clone()
        };
        assert_eq!(render_card(&plain).unwrap(), render_card(&plain).unwrap());
    }

    #[test]
    fn text_colour_contrasts_with_the_brand() {
        assert_eq!(Palette::new(&[[250, 240, 200]], false).text, INK);
        assert_eq!(Palette::new(&[[20, 30, 90]], false).text, WHITE);
        assert_eq!(Palette::new(&[[250, 240, 200]], true).text, WHITE);
        // An accent too close to the background gives way to the text colour.
        let palette = Palette::new(&[[20, 30, 90], [30, 40, 100], [25, 35, 95]], false);
        assert_eq!(palette.accent, palette.text);
        assert_eq!(Palette::new(&[], false).start, DEFAULT_BRAND_COLORS[0]);
    }

    #[test]
    fn text_is_cleaned_and_capped() {
        assert_eq!(
            clean_text("  a \t b\u{0}c \n\n\n d  ", 100, true),
            "a bc\nd"
        );
        assert_eq!(clean_text("a\nb", 100, false), "a b");
        assert_eq!(clean_text("abcdef", 3, true), "abc…");
        assert_eq!(
            clean_text(&"é".repeat(500), MAX_HEADLINE_CHARS, true)
                .chars()
                .count(),
            MAX_HEADLINE_CHARS + 1
        );
    }
}
