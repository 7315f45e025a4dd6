//! The tagging pipeline: from what an asset says and shows to its AI tags and embedding.
//!
//! Text (title, description, the creator's tags, a document's excerpt, and the labels the
//! image model sees) is embedded once; zero-shot topics compare that embedding with the
//! tenant's taxonomy, keywords are the asset's own phrases closest to it, and images add
//! their visual labels, colours, orientation and size. With Gemini configured its tags
//! join the local ones; when it fails the local models' tags stand alone.

use super::keywords;
use super::palette;
use super::tags::{Tag, provider};
use super::vector;
use super::zero_shot;
use crate::error::{Result, TaggingError};
use crate::inference::{ImageClassifier, ImageLabel, TextEmbedder};
use async_trait::async_trait;
use image::DynamicImage;
use std::sync::Arc;

/// What an asset says about itself.
#[derive(Clone, Debug, Default)]
pub struct AssetText {
    pub title: String,
    pub description: String,
    pub creator_tags: Vec<String>,
    pub kind: String,
    pub text_excerpt: String,
}

/// Where an image's pixels come from (the content service).
#[async_trait]
pub trait ImageSource: Send + Sync {
    /// The picture's bytes (a thumbnail will do), at most `max_bytes`; `None` when it has
    /// none to give.
    async fn image_bytes(
        &self,
        tenant_id: &str,
        asset_id: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>>;
}

/// A hosted model that tags (Gemini): given the text and, for images, the bytes.
#[async_trait]
pub trait RemoteTagger: Send + Sync {
    async fn tag(
        &self,
        text: &AssetText,
        image: Option<(&[u8], &str)>,
    ) -> std::result::Result<Vec<(String, f32)>, String>;
}

/// A taxonomy ready for matching: labels and their embeddings, in the same order.
pub struct EmbeddedTaxonomy {
    pub names: Vec<String>,
    pub vectors: Vec<Vec<f32>>,
}

/// Limits and counts of the pipeline (from settings).
#[derive(Clone, Debug)]
pub struct TaggerOptions {
    pub topic_tags: usize,
    pub topic_min_confidence: f32,
    pub keyword_tags: usize,
    pub image_tags: usize,
    pub image_min_probability: f32,
    pub max_image_pixels: u64,
}

/// What the pipeline found.
#[derive(Clone, Debug, Default)]
pub struct AiResult {
    pub embedding: Vec<f32>,
    pub tags: Vec<Tag>,
    pub palette: Vec<String>,
    pub orientation: Option<String>,
    pub size_class: Option<String>,
}

/// Visual labels closer than this to a taxonomy label also tag the asset with it.
const IMAGE_TO_TOPIC_COSINE: f32 = 0.55;

/// The local models and the optional remote one.
#[derive(Clone)]
pub struct Tagger {
    pub text: TextEmbedder,
    pub image: Option<ImageClassifier>,
    pub remote: Option<Arc<dyn RemoteTagger>>,
    pub options: TaggerOptions,
}

impl Tagger {
    /// Tags one asset. `image` is its picture's bytes, if it is one.
    pub async fn tag(
        &self,
        asset: &AssetText,
        image: Option<Vec<u8>>,
        taxonomy: &EmbeddedTaxonomy,
    ) -> Result<AiResult> {
        let mut result = AiResult::default();
        let mut tags = Vec::new();
        let mut visual: Vec<ImageLabel> = Vec::new();
        let mut image_kind = "image/jpeg";
        if let Some(bytes) = image.as_deref() {
            let picture = decode(bytes.to_vec(), self.options.max_image_pixels).await?;
            image_kind = mime_of(bytes);
            let swatches = palette::dominant_colours(&picture);
            result.palette = swatches.iter().map(palette::Swatch::hex).collect();
            for swatch in swatches.iter().filter(|s| s.share >= 0.2) {
                tags.push(Tag::ai(swatch.name(), swatch.share, provider::PALETTE));
            }
            if let Some(classifier) = &self.image {
                visual = classifier
                    .classify(picture, self.options.image_tags.max(1) + 2)
                    .await?
                    .into_iter()
                    .filter(|l| l.probability >= self.options.image_min_probability)
                    .take(self.options.image_tags)
                    .collect();
                for label in &visual {
                    tags.push(Tag::ai(&label.name, label.probability, provider::IMAGE));
                }
            }
        }

        let document = document_text(asset, &visual);
        let candidates = keywords::candidates(&keyword_text(asset));
        let mut inputs = Vec::with_capacity(1 + candidates.len() + visual.len());
        inputs.push(document);
        inputs.extend(candidates.iter().cloned());
        inputs.extend(visual.iter().map(|l| l.name.clone()));
        let mut embeddings = self.text.embed(inputs).await?;
        let visual_vectors = embeddings.split_off(1 + candidates.len());
        let candidate_vectors = embeddings.split_off(1);
        let embedding = embeddings
            .pop()
            .ok_or_else(|| TaggingError::Internal("the embedder returned nothing".into()))?;

        let ranked = zero_shot::rank(&embedding, &taxonomy.vectors);
        for topic in zero_shot::choose(
            &ranked,
            self.options.topic_tags,
            self.options.topic_min_confidence,
        ) {
            tags.push(Tag::ai(
                &taxonomy.names[topic.label],
                topic.confidence,
                provider::TOPICS,
            ));
        }
        for (label, label_vector) in visual.iter().zip(&visual_vectors) {
            let closest = taxonomy
                .vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (i, vector::dot(label_vector, v)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((i, cosine)) = closest
                && cosine >= IMAGE_TO_TOPIC_COSINE
            {
                tags.push(Tag::ai(
                    &taxonomy.names[i],
                    label.probability,
                    provider::IMAGE,
                ));
            }
        }
        for (phrase, similarity) in keywords::pick(
            &embedding,
            &candidates,
            &candidate_vectors,
            self.options.keyword_tags,
        ) {
            tags.push(Tag::ai(phrase, similarity, provider::KEYWORDS));
        }

        if let Some(remote) = &self.remote {
            let picture = image.as_deref().map(|bytes| (bytes, image_kind));
            match remote.tag(asset, picture).await {
                Ok(found) => {
                    metrics::counter!("marquee_tagging_remote_calls_total", "outcome" => "ok")
                        .increment(1);
                    for (name, confidence) in found {
                        if let Some(name) = super::tags::normalise_name(&name) {
                            tags.push(Tag::ai(name, confidence, provider::GEMINI));
                        }
                    }
                }
                Err(error) => {
                    metrics::counter!("marquee_tagging_remote_calls_total", "outcome" => "failed")
                        .increment(1);
                    tracing::warn!(%error, "Gemini tagging failed; the local models' tags stand");
                }
            }
        }

        result.embedding = embedding;
        result.tags = tags;
        Ok(result)
    }
}

/// The text an asset is embedded as.
pub fn document_text(asset: &AssetText, visual: &[ImageLabel]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in [&asset.title, &asset.description] {
        if !part.trim().is_empty() {
            parts.push(part.trim().to_string());
        }
    }
    if !asset.creator_tags.is_empty() {
        parts.push(asset.creator_tags.join(", "));
    }
    if !visual.is_empty() {
        let names: Vec<&str> = visual.iter().map(|l| l.name.as_str()).collect();
        parts.push(format!("A picture of {}", names.join(", ")));
    }
    if !asset.text_excerpt.trim().is_empty() {
        parts.push(asset.text_excerpt.trim().to_string());
    }
    parts.join(". ")
}

/// The text keywords are drawn from: what the creator wrote and the document's words.
fn keyword_text(asset: &AssetText) -> String {
    format!(
        "{}. {}. {}",
        asset.title, asset.description, asset.text_excerpt
    )
}

fn mime_of(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "image/png",
        Ok(image::ImageFormat::WebP) => "image/webp",
        Ok(image::ImageFormat::Gif) => "image/gif",
        _ => "image/jpeg",
    }
}

/// Decodes a picture off the async runtime, refusing more than `max_pixels` before any
/// pixel buffer is allocated.
async fn decode(bytes: Vec<u8>, max_pixels: u64) -> Result<DynamicImage> {
    tokio::task::spawn_blocking(move || {
        let undecodable =
            |e: image::ImageError| TaggingError::invalid("undecodable_image", e.to_string());
        let reader = || {
            image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .map_err(|e| TaggingError::invalid("undecodable_image", e.to_string()))
        };
        let (width, height) = reader()?.into_dimensions().map_err(undecodable)?;
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(TaggingError::invalid(
                "image_too_large",
                format!("{width}×{height} is more than {max_pixels} pixels"),
            ));
        }
        let mut reader = reader()?;
        let mut limits = image::Limits::default();
        // RGBA8 of the allowed pixels plus the decoder's own buffers.
        limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(16 << 20));
        reader.limits(limits);
        reader.decode().map_err(undecodable)
    })
    .await
    .map_err(|e| TaggingError::Internal(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_joins_what_is_known_and_skips_blanks() {
        let asset = AssetText {
            title: "Sourdough".into(),
            description: "  ".into(),
            creator_tags: vec!["bread".into(), "baking".into()],
            kind: "image".into(),
            text_excerpt: String::new(),
        };
        let labels = vec![ImageLabel {
            index: 1,
            name: "french loaf".into(),
            probability: 0.8,
        }];
        assert_eq!(
            document_text(&asset, &labels),
            "Sourdough. bread, baking. A picture of french loaf"
        );
    }
}
