//! What a picture looks like without a model: its dominant colours (k-means over a
//! downscaled copy), named for people; its orientation and size class.

use image::DynamicImage;
use image::imageops::FilterType;

/// Colours reported at most.
pub const PALETTE_SIZE: usize = 5;
/// Side of the copy the colours are counted on.
const SAMPLE_SIDE: u32 = 64;
const ITERATIONS: usize = 10;

/// A dominant colour and the share of the picture it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct Swatch {
    pub rgb: [u8; 3],
    pub share: f32,
}

impl Swatch {
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.rgb[0], self.rgb[1], self.rgb[2])
    }

    /// The nearest everyday colour name.
    pub fn name(&self) -> &'static str {
        nearest_name(self.rgb)
    }
}

/// Everyday colour names and a representative of each.
const NAMED: &[(&str, [u8; 3])] = &[
    ("black", [20, 20, 20]),
    ("white", [245, 245, 245]),
    ("gray", [128, 128, 128]),
    ("red", [200, 30, 30]),
    ("orange", [240, 130, 20]),
    ("yellow", [240, 220, 40]),
    ("green", [50, 150, 50]),
    ("teal", [0, 128, 128]),
    ("blue", [40, 80, 200]),
    ("navy", [20, 30, 90]),
    ("purple", [120, 50, 160]),
    ("pink", [240, 140, 180]),
    ("brown", [120, 75, 40]),
    ("beige", [220, 200, 160]),
];

fn nearest_name(rgb: [u8; 3]) -> &'static str {
    NAMED
        .iter()
        .min_by_key(|(_, c)| distance(rgb.map(f32::from), c.map(f32::from)) as u32)
        .map(|(name, _)| *name)
        .unwrap_or("gray")
}

fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    // "Redmean" weighting: closer to how people judge colour differences than plain RGB.
    let r = (a[0] + b[0]) / 2.0;
    let (dr, dg, db) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    ((2.0 + r / 256.0) * dr * dr + 4.0 * dg * dg + (2.0 + (255.0 - r) / 256.0) * db * db).sqrt()
}

/// The dominant colours of `image`, most covering first.
pub fn dominant_colours(image: &DynamicImage) -> Vec<Swatch> {
    let small = image
        .resize(SAMPLE_SIDE, SAMPLE_SIDE, FilterType::Triangle)
        .to_rgb8();
    let pixels: Vec<[f32; 3]> = small.pixels().map(|p| p.0.map(f32::from)).collect();
    if pixels.is_empty() {
        return Vec::new();
    }
    // Deterministic seeds: evenly spaced pixels (a random start would make tags flicker
    // between re-taggings of the same picture).
    let k = PALETTE_SIZE.min(pixels.len());
    let mut centres: Vec<[f32; 3]> = (0..k).map(|i| pixels[i * pixels.len() / k]).collect();
    let mut assignment = vec![0usize; pixels.len()];
    for _ in 0..ITERATIONS {
        for (pixel, slot) in pixels.iter().zip(assignment.iter_mut()) {
            *slot = (0..k)
                .min_by(|&a, &b| {
                    distance(*pixel, centres[a]).total_cmp(&distance(*pixel, centres[b]))
                })
                .unwrap_or(0);
        }
        let mut sums = vec![[0.0f32; 3]; k];
        let mut counts = vec![0usize; k];
        for (pixel, &slot) in pixels.iter().zip(&assignment) {
            for c in 0..3 {
                sums[slot][c] += pixel[c];
            }
            counts[slot] += 1;
        }
        for i in 0..k {
            if counts[i] > 0 {
                centres[i] = sums[i].map(|s| s / counts[i] as f32);
            }
        }
    }
    let mut counts = vec![0usize; k];
    assignment.iter().for_each(|&slot| counts[slot] += 1);
    let mut swatches: Vec<Swatch> = centres
        .iter()
        .zip(&counts)
        .filter(|(_, count)| **count > 0)
        .map(|(centre, &count)| Swatch {
            rgb: centre.map(|c| c.round().clamp(0.0, 255.0) as u8),
            share: count as f32 / pixels.len() as f32,
        })
        .collect();
    swatches.sort_by(|a, b| b.share.total_cmp(&a.share));
    swatches
}

/// landscape | portrait | square (within 5%).
pub fn orientation(width: u32, height: u32) -> Option<&'static str> {
    if width == 0 || height == 0 {
        return None;
    }
    let ratio = width as f32 / height as f32;
    Some(if (0.95..=1.05).contains(&ratio) {
        "square"
    } else if ratio > 1.0 {
        "landscape"
    } else {
        "portrait"
    })
}

/// small (< 1 MP) | medium (< 4 MP) | large.
pub fn size_class(width: u32, height: u32) -> Option<&'static str> {
    let pixels = u64::from(width) * u64::from(height);
    match pixels {
        0 => None,
        p if p < 1_000_000 => Some("small"),
        p if p < 4_000_000 => Some("medium"),
        _ => Some("large"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn a_half_red_half_blue_picture_has_those_two_colours() {
        let picture = RgbImage::from_fn(100, 50, |x, _| {
            if x < 50 {
                Rgb([210, 20, 25])
            } else {
                Rgb([30, 70, 210])
            }
        });
        let swatches = dominant_colours(&DynamicImage::ImageRgb8(picture));
        let names: Vec<_> = swatches
            .iter()
            .filter(|s| s.share > 0.3)
            .map(Swatch::name)
            .collect();
        assert_eq!(names.len(), 2);
        assert!(
            names.contains(&"red") && names.contains(&"blue"),
            "{names:?}"
        );
        assert!(swatches[0].hex().starts_with('#') && swatches[0].hex().len() == 7);
    }

    #[test]
    fn shape_and_size() {
        assert_eq!(orientation(1920, 1080), Some("landscape"));
        assert_eq!(orientation(1080, 1920), Some("portrait"));
        assert_eq!(orientation(1000, 1020), Some("square"));
        assert_eq!(orientation(0, 10), None);
        assert_eq!(size_class(640, 480), Some("small"));
        assert_eq!(size_class(1920, 1080), Some("medium"));
        assert_eq!(size_class(6000, 4000), Some("large"));
    }
}
