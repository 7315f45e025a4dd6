//! Image processing, pure and synchronous (run it on a blocking thread): read the
//! dimensions, render a thumbnail, and re-encode the picture so that no metadata
//! (EXIF with its GPS location, XMP, comments) survives into what is published.

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
}
