//! Local template renders, the visuals without an image/video API key: a designed card
//! (`render::card`: brand colours, the post's headline, the creator's picture behind it)
//! and an animated card (a slow zoom over the card, as an animated GIF). Both are labelled
//! `template`: they are layouts, not AI imagery.

use crate::domain::media::{Made, OnProgress, VisualMaker, VisualRequest};
use crate::domain::writer::Usage;
use crate::error::{CampaignError, Result};
use crate::render::card::{CardSpec, render_card, size_for_aspect};
use async_trait::async_trait;
use bytes::Bytes;
use image::{DynamicImage, ImageReader, Limits, RgbaImage};
use std::io::Cursor;
use tokio_util::sync::CancellationToken;

/// A background picture is decoded up to this many pixels and bytes of memory.
const MAX_BACKGROUND_PIXELS: u32 = 8192;
const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;
/// The animated card: frames, size, frame time.
const FRAMES: u32 = 24;
const ANIMATION_WIDTH: u32 = 360;
const ANIMATION_HEIGHT: u32 = 640;
const FRAME_MS: u32 = 90;

/// Decodes the creator's picture within fixed bounds (a small file must not become a
/// huge bitmap).
fn decode_background(bytes: &[u8]) -> Result<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| CampaignError::invalid("background_unreadable", e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_BACKGROUND_PIXELS);
    limits.max_image_height = Some(MAX_BACKGROUND_PIXELS);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| {
        CampaignError::invalid(
            "background_unreadable",
            format!("the background picture cannot be used: {e}"),
        )
    })
}

fn card_spec(request: &VisualRequest, size: (u32, u32)) -> Result<CardSpec> {
    Ok(CardSpec {
        width: size.0,
        height: size.1,
        headline: if request.headline.trim().is_empty() {
            request.brand.clone()
        } else {
            request.headline.clone()
        },
        subline: None,
        brand_colors: request.brand_colors.clone(),
        background: request
            .background
            .as_deref()
            .map(decode_background)
            .transpose()?,
        footer: Some(request.brand.chars().take(80).collect()),
    })
}

fn render(spec: &CardSpec) -> Result<Vec<u8>> {
    render_card(spec)
        .map(|card| card.png)
        .map_err(|e| CampaignError::Internal(format!("rendering the card failed: {e}")))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CampaignError::Internal(format!("a render task failed: {e}")))?
}

/// The designed card, as PNG.
pub struct TemplateImage;

#[async_trait]
impl VisualMaker for TemplateImage {
    fn provider(&self) -> &'static str {
        "template"
    }

    fn is_ai(&self) -> bool {
        false
    }

    async fn make(
        &self,
        request: &VisualRequest,
        cancel: &CancellationToken,
        progress: OnProgress<'_>,
    ) -> Result<Made> {
        let size = size_for_aspect(request.aspect_ratio).unwrap_or((1080, 1080));
        let request = request.clone();
        let png = blocking(move || render(&card_spec(&request, size)?)).await?;
        if cancel.is_cancelled() {
            return Err(CampaignError::Cancelled);
        }
        progress(100);
        Ok(Made {
            bytes: Bytes::from(png),
            extension: "png",
            usage: Usage::default(),
        })
    }
}

/// The animated card: the card rendered once, then a slow zoom over it, frame by frame
/// (cancel is checked between frames), encoded as a looping GIF.
pub struct TemplateVideo;

fn zoom_frame(card: &RgbaImage, index: u32) -> RgbaImage {
    let (w, h) = card.dimensions();
    // From 100 % to 88 % of the card, centred.
    let scale = 1.0 - 0.12 * index as f32 / (FRAMES - 1) as f32;
    let crop_w = ((w as f32 * scale) as u32).max(1);
    let crop_h = ((h as f32 * scale) as u32).max(1);
    let crop = image::imageops::crop_imm(card, (w - crop_w) / 2, (h - crop_h) / 2, crop_w, crop_h)
        .to_image();
    image::imageops::resize(
        &crop,
        ANIMATION_WIDTH,
        ANIMATION_HEIGHT,
        image::imageops::FilterType::Triangle,
    )
}

#[async_trait]
impl VisualMaker for TemplateVideo {
    fn provider(&self) -> &'static str {
        "template"
    }

    fn is_ai(&self) -> bool {
        false
    }

    async fn make(
        &self,
        request: &VisualRequest,
        cancel: &CancellationToken,
        progress: OnProgress<'_>,
    ) -> Result<Made> {
        let spec = {
            let request = request.clone();
            blocking(move || card_spec(&request, (ANIMATION_WIDTH * 2, ANIMATION_HEIGHT * 2)))
                .await?
        };
        let card = blocking(move || {
            let png = render(&spec)?;
            image::load_from_memory(&png)
                .map(|image| image.to_rgba8())
                .map_err(|e| CampaignError::Internal(format!("reading the card back failed: {e}")))
        })
        .await?;
        let card = std::sync::Arc::new(card);
        let mut frames = Vec::with_capacity(FRAMES as usize);
        for index in 0..FRAMES {
            if cancel.is_cancelled() {
                return Err(CampaignError::Cancelled);
            }
            let card = card.clone();
            frames.push(blocking(move || Ok(zoom_frame(&card, index))).await?);
            progress(index * 60 / FRAMES);
        }
        let stop = cancel.clone();
        let gif = blocking(move || {
            let mut out = Vec::new();
            {
                let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 20);
                encoder
                    .set_repeat(image::codecs::gif::Repeat::Infinite)
                    .map_err(|e| CampaignError::Internal(e.to_string()))?;
                for frame in frames {
                    if stop.is_cancelled() {
                        return Err(CampaignError::Cancelled);
                    }
                    let delay = image::Delay::from_numer_denom_ms(FRAME_MS, 1);
                    encoder
                        .encode_frame(image::Frame::from_parts(frame, 0, 0, delay))
                        .map_err(|e| {
                            CampaignError::Internal(format!("encoding the animation failed: {e}"))
                        })?;
                }
            }
            Ok(out)
        })
        .await?;
        progress(100);
        Ok(Made {
            bytes: Bytes::from(gif),
            extension: "gif",
            usage: Usage::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_backgrounds_are_refused_not_decoded() {
        // A PNG header claiming 100000 × 100000 pixels.
        let header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00";
        assert!(decode_background(header).is_err());
        assert!(decode_background(b"not an image").is_err());
    }
}
