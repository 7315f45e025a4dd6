//! ImageNet labels of a picture: EfficientNet-Lite0 as ONNX, preprocessed as its
//! `preprocess.json` says (torchvision conventions, bilinear), softmax, top-k.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use image::imageops::{self, FilterType};
use image::{DynamicImage, RgbImage};
use ndarray::{Array4, Ix2};
use ort::session::Session;
use ort::value::TensorRef;
use serde::Deserialize;

use super::queue::{Engine, Queue};
use super::runtime::Runtime;
use super::{InferenceError, InferenceOptions, require_file};

/// The model's directory under the models directory.
pub const IMAGE_MODEL_DIR: &str = "efficientnet-lite0";

/// One ImageNet class of a picture.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageLabel {
    /// The class index (0–999).
    pub index: usize,
    /// Its readable name (`labels.txt`).
    pub name: String,
    /// Softmax probability.
    pub probability: f32,
}

/// A handle on the image model's thread; clones are cheap and share it.
#[derive(Clone)]
pub struct ImageClassifier {
    queue: Queue<ImageEngine>,
    preprocess: Arc<Preprocess>,
}

impl fmt::Debug for ImageClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageClassifier")
            .field("preprocess", &self.preprocess)
            .finish_non_exhaustive()
    }
}

impl ImageClassifier {
    /// Loads `dir/model.onnx`, `dir/labels.txt` and `dir/preprocess.json`, checks them
    /// against each other and starts the model's thread.
    pub(crate) fn load(
        runtime: &Runtime,
        dir: &Path,
        options: &InferenceOptions,
    ) -> Result<Self, InferenceError> {
        let model = require_file(dir, "model.onnx", "EfficientNet-Lite0 ONNX model")?;
        let labels = require_file(dir, "labels.txt", "ImageNet labels")?;
        let preprocess = require_file(dir, "preprocess.json", "image preprocessing settings")?;
        let labels = read_labels(&labels)?;
        let preprocess = Preprocess::from_file(&preprocess)?;
        let session = super::runtime::session(runtime, &model, options)?;
        let engine = ImageEngine::new(session, labels, &preprocess)?;
        let max_batch = match engine.fixed_batch {
            Some(fixed) => fixed,
            None => options.max_batch,
        };
        Ok(Self {
            queue: Queue::start(engine, "image", max_batch)?,
            preprocess: Arc::new(preprocess),
        })
    }

    /// Top-k ImageNet labels (softmax probabilities, most likely first) of a decoded
    /// picture. Resizing runs on a blocking thread, the model on its own thread.
    pub async fn classify(
        &self,
        image: DynamicImage,
        top_k: usize,
    ) -> Result<Vec<ImageLabel>, InferenceError> {
        let preprocess = self.preprocess.clone();
        let pixels = tokio::task::spawn_blocking(move || preprocess.apply(&image))
            .await
            .map_err(|_| InferenceError::Stopped("image preprocessing"))??;
        let mut answers = self.queue.submit(vec![Picture { pixels, top_k }]).await?;
        answers
            .pop()
            .ok_or_else(|| InferenceError::InvalidModel("no answer for the picture".to_owned()))
    }

    /// [`classify`](Self::classify) for threads outside an async runtime (benchmarks,
    /// tests): resizes on this thread, runs on the model's thread, blocks until done.
    pub fn classify_blocking(
        &self,
        image: &DynamicImage,
        top_k: usize,
    ) -> Result<Vec<ImageLabel>, InferenceError> {
        let pixels = self.preprocess.apply(image)?;
        let mut answers = self
            .queue
            .submit_blocking(vec![Picture { pixels, top_k }])?;
        answers
            .pop()
            .ok_or_else(|| InferenceError::InvalidModel("no answer for the picture".to_owned()))
    }
}

/// `labels.txt`: one readable class name a line.
fn read_labels(path: &Path) -> Result<Vec<String>, InferenceError> {
    let text = std::fs::read_to_string(path).map_err(|error| InferenceError::io(path, error))?;
    let labels: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if labels.is_empty() {
        return Err(InferenceError::InvalidModel(format!(
            "{} is empty",
            path.display()
        )));
    }
    Ok(labels)
}

/// Scale of the pixel values before mean and std apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum InputRange {
    /// Pixels divided by 255 first.
    #[serde(rename = "0-1")]
    Unit,
    /// Pixels as they are (0–255).
    #[serde(rename = "0-255")]
    Byte,
}

/// `preprocess.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Preprocess {
    /// The model's square input side.
    pub(crate) size: u32,
    /// Resize so the shorter side is this long first (aspect kept), if set.
    pub(crate) resize_shorter: Option<u32>,
    /// Crop the centre `size`×`size`; otherwise resize to `size`×`size`.
    pub(crate) center_crop: bool,
    pub(crate) mean: [f32; 3],
    pub(crate) std: [f32; 3],
    pub(crate) input_range: InputRange,
}

impl Preprocess {
    fn from_file(path: &Path) -> Result<Self, InferenceError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| InferenceError::io(path, error))?;
        let preprocess: Self = serde_json::from_str(&text).map_err(|error| {
            InferenceError::InvalidModel(format!("{}: {error}", path.display()))
        })?;
        preprocess.validate().map_err(|problem| {
            InferenceError::InvalidModel(format!("{}: {problem}", path.display()))
        })?;
        Ok(preprocess)
    }

    fn validate(&self) -> Result<(), String> {
        if self.size == 0 || self.size > 4096 {
            return Err(format!("size {} is out of range", self.size));
        }
        if self
            .resize_shorter
            .is_some_and(|side| side == 0 || side > 8192)
        {
            return Err("resize_shorter is out of range".to_owned());
        }
        if self
            .std
            .iter()
            .any(|value| !value.is_finite() || *value == 0.0)
            || self.mean.iter().any(|value| !value.is_finite())
        {
            return Err("mean and std must be finite, std non-zero".to_owned());
        }
        Ok(())
    }

    /// The picture as the model's input: `[3, size, size]` floats, channel-major — the
    /// same steps as `scripts/models/reference.py` does with PIL and torchvision
    /// conventions: shorter side to `resize_shorter` (longer side truncated), centre crop
    /// with offsets `round((side - size) / 2)` (ties to even, black outside), or a resize to
    /// `size`×`size`; then `(x - mean) / std`.
    pub(crate) fn apply(&self, image: &DynamicImage) -> Result<Vec<f32>, InferenceError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(InferenceError::InvalidInput(
                "the picture is empty".to_owned(),
            ));
        }
        let mut rgb: RgbImage = image.to_rgb8();
        if let Some(shorter) = self.resize_shorter {
            let (width, height) = shorter_side_to(rgb.width(), rgb.height(), shorter);
            if (width, height) != rgb.dimensions() {
                rgb = imageops::resize(&rgb, width, height, FilterType::Triangle);
            }
        }
        let size = self.size;
        let (left, top) = if self.center_crop {
            (
                crop_offset(rgb.width(), size),
                crop_offset(rgb.height(), size),
            )
        } else {
            if rgb.dimensions() != (size, size) {
                rgb = imageops::resize(&rgb, size, size, FilterType::Triangle);
            }
            (0, 0)
        };

        let side = size as usize;
        let plane = side * side;
        let mut pixels = vec![0.0f32; 3 * plane];
        let scale = match self.input_range {
            InputRange::Unit => 255.0f32,
            InputRange::Byte => 1.0f32,
        };
        for y in 0..side {
            for x in 0..side {
                let source_x = left + x as i64;
                let source_y = top + y as i64;
                let pixel = if (0..i64::from(rgb.width())).contains(&source_x)
                    && (0..i64::from(rgb.height())).contains(&source_y)
                {
                    rgb.get_pixel(source_x as u32, source_y as u32).0
                } else {
                    [0, 0, 0]
                };
                for channel in 0..3 {
                    let value = f32::from(pixel[channel]) / scale;
                    pixels[channel * plane + y * side + x] =
                        (value - self.mean[channel]) / self.std[channel];
                }
            }
        }
        Ok(pixels)
    }
}

/// New dimensions with the shorter side `shorter` and the longer truncated, as
/// torchvision's `Resize(int)`.
pub(crate) fn shorter_side_to(width: u32, height: u32, shorter: u32) -> (u32, u32) {
    let (width, height, shorter) = (u64::from(width), u64::from(height), u64::from(shorter));
    let (new_width, new_height) = if width <= height {
        (shorter, shorter * height / width)
    } else {
        (shorter * width / height, shorter)
    };
    (
        u32::try_from(new_width.max(1)).unwrap_or(u32::MAX),
        u32::try_from(new_height.max(1)).unwrap_or(u32::MAX),
    )
}

/// `round((side - size) / 2)` with Python's rounding (ties to even); negative when the
/// picture is smaller than the crop.
pub(crate) fn crop_offset(side: u32, size: u32) -> i64 {
    ((f64::from(side) - f64::from(size)) / 2.0).round_ties_even() as i64
}

/// A preprocessed picture and how many labels its caller wants.
pub(crate) struct Picture {
    pixels: Vec<f32>,
    top_k: usize,
}

pub(crate) struct ImageEngine {
    session: Session,
    labels: Vec<String>,
    size: usize,
    input: String,
    output: String,
    /// Set when the model's batch dimension is fixed: runs are padded to it.
    fixed_batch: Option<usize>,
}

impl ImageEngine {
    fn new(
        session: Session,
        labels: Vec<String>,
        preprocess: &Preprocess,
    ) -> Result<Self, InferenceError> {
        let size = preprocess.size as usize;
        let input = session
            .inputs()
            .iter()
            .find(|input| input.name() == "input")
            .or_else(|| session.inputs().first())
            .ok_or_else(|| {
                InferenceError::InvalidModel("the image model has no input".to_owned())
            })?;
        let shape: Vec<i64> = input
            .dtype()
            .tensor_shape()
            .map(|shape| shape.iter().copied().collect())
            .unwrap_or_default();
        let expected = [3, size as i64, size as i64];
        if shape.len() != 4
            || shape[1..]
                .iter()
                .zip(expected)
                .any(|(&dim, want)| dim > 0 && dim != want)
        {
            return Err(InferenceError::InvalidModel(format!(
                "the image model's input `{}` has shape {shape:?}, preprocess.json wants [N, 3, {size}, {size}]",
                input.name()
            )));
        }
        let fixed_batch = usize::try_from(shape[0]).ok().filter(|&batch| batch > 0);
        let input = input.name().to_owned();

        let output = session
            .outputs()
            .iter()
            .find(|output| output.name() == "logits")
            .or_else(|| session.outputs().first())
            .ok_or_else(|| {
                InferenceError::InvalidModel("the image model has no output".to_owned())
            })?;
        let classes = output
            .dtype()
            .tensor_shape()
            .and_then(|shape| shape.last().copied());
        if let Some(classes) = classes.filter(|&classes| classes > 0)
            && classes as usize != labels.len()
        {
            return Err(InferenceError::InvalidModel(format!(
                "the image model has {classes} classes but labels.txt names {}",
                labels.len()
            )));
        }
        let output = output.name().to_owned();
        Ok(Self {
            session,
            labels,
            size,
            input,
            output,
            fixed_batch,
        })
    }
}

impl Engine for ImageEngine {
    type Input = Picture;
    type Prepared = Picture;
    type Output = Vec<ImageLabel>;

    fn prepare(&mut self, pictures: Vec<Picture>) -> Vec<Result<Picture, InferenceError>> {
        let expected = 3 * self.size * self.size;
        pictures
            .into_iter()
            .map(|picture| {
                if picture.pixels.len() == expected {
                    Ok(picture)
                } else {
                    Err(InferenceError::InvalidInput(format!(
                        "a preprocessed picture has {} values, the model takes {expected}",
                        picture.pixels.len()
                    )))
                }
            })
            .collect()
    }

    fn cost(_: &Picture) -> usize {
        // All pictures are the same size: keep their order.
        0
    }

    const RUN_OVERHEAD: usize = 1;

    fn run(&mut self, batch: &[&Picture]) -> Result<Vec<Vec<ImageLabel>>, InferenceError> {
        let rows = self.fixed_batch.unwrap_or(batch.len()).max(batch.len());
        let one = 3 * self.size * self.size;
        let mut data = vec![0.0f32; rows * one];
        for (chunk, picture) in data.chunks_exact_mut(one).zip(batch) {
            chunk.copy_from_slice(&picture.pixels);
        }
        let input = Array4::from_shape_vec((rows, 3, self.size, self.size), data)
            .map_err(|error| InferenceError::InvalidInput(error.to_string()))?;
        let outputs = self.session.run(vec![(
            self.input.as_str(),
            TensorRef::from_array_view(&input)?,
        )])?;
        let logits = outputs[self.output.as_str()].try_extract_array::<f32>()?;
        let logits = logits.into_dimensionality::<Ix2>().map_err(|error| {
            InferenceError::InvalidModel(format!(
                "image model output is not [batch, classes]: {error}"
            ))
        })?;
        if logits.nrows() < batch.len() || logits.ncols() != self.labels.len() {
            return Err(InferenceError::InvalidModel(format!(
                "image model output has shape {:?} for {} pictures and {} labels",
                logits.shape(),
                batch.len(),
                self.labels.len()
            )));
        }
        Ok(batch
            .iter()
            .zip(logits.outer_iter())
            .map(|(picture, row)| {
                let probabilities = softmax(row.iter().copied());
                top_k(&probabilities, picture.top_k)
                    .into_iter()
                    .map(|index| ImageLabel {
                        index,
                        name: self.labels[index].clone(),
                        probability: probabilities[index],
                    })
                    .collect()
            })
            .collect())
    }
}

/// Softmax, shifted by the maximum for stability.
pub(crate) fn softmax(logits: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let max = logits.clone().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.map(|logit| (logit - max).exp()).collect();
    let total: f32 = exps.iter().sum();
    exps.into_iter().map(|value| value / total).collect()
}

/// Indices of the `k` largest values, largest first; ties by lower index.
pub(crate) fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;

    #[test]
    fn softmax_and_top_k() {
        let probabilities = softmax([1.0f32, 3.0, 2.0, 3.0].into_iter());
        let total: f32 = probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-6);
        assert!(probabilities[1] > probabilities[2] && probabilities[2] > probabilities[0]);
        assert_eq!(top_k(&probabilities, 3), vec![1, 3, 2]);
        assert_eq!(top_k(&probabilities, 10).len(), 4);
        assert!(top_k(&probabilities, 0).is_empty());
        // Large logits do not overflow.
        assert!(softmax([1000.0f32, 0.0].into_iter())[0] > 0.999);
    }

    #[test]
    fn torchvision_geometry() {
        assert_eq!(shorter_side_to(640, 480, 256), (341, 256));
        assert_eq!(shorter_side_to(480, 640, 256), (256, 341));
        assert_eq!(shorter_side_to(300, 300, 256), (256, 256));
        assert_eq!(crop_offset(341, 224), 58); // 58.5 → 58 (ties to even)
        assert_eq!(crop_offset(256, 224), 16);
        assert_eq!(crop_offset(200, 224), -12);
    }

    #[test]
    fn normalises_channel_major() {
        let preprocess = Preprocess {
            size: 2,
            resize_shorter: None,
            center_crop: true,
            mean: [127.0, 127.0, 127.0],
            std: [128.0, 128.0, 128.0],
            input_range: InputRange::Byte,
        };
        // 4×2: the centre 2×2 is columns 1..3.
        let mut picture = RgbImage::new(4, 2);
        for (x, _, pixel) in picture.enumerate_pixels_mut() {
            *pixel = Rgb([x as u8 * 10, 255, 127]);
        }
        let pixels = preprocess.apply(&DynamicImage::ImageRgb8(picture)).unwrap();
        let red: Vec<f32> = pixels[0..4].to_vec();
        assert_eq!(
            red,
            [10.0, 20.0, 10.0, 20.0].map(|v: f32| (v - 127.0) / 128.0)
        );
        assert!(pixels[4..8].iter().all(|v| *v == 1.0));
        assert!(pixels[8..12].iter().all(|v| *v == 0.0));

        let unit = Preprocess {
            input_range: InputRange::Unit,
            mean: [0.5; 3],
            std: [0.5; 3],
            center_crop: false,
            ..preprocess
        };
        let white = DynamicImage::ImageRgb8(RgbImage::from_pixel(5, 3, Rgb([255, 255, 255])));
        let pixels = unit.apply(&white).unwrap();
        assert_eq!(pixels.len(), 12);
        assert!(pixels.iter().all(|v| (*v - 1.0).abs() < 1e-6));
    }

    #[test]
    fn preprocess_json_parses() {
        let json = r#"{"size":224,"resize_shorter":256,"center_crop":true,
            "mean":[127.0,127.0,127.0],"std":[128.0,128.0,128.0],"input_range":"0-255"}"#;
        let preprocess: Preprocess = serde_json::from_str(json).unwrap();
        assert_eq!(preprocess.resize_shorter, Some(256));
        assert_eq!(preprocess.input_range, InputRange::Byte);
        assert!(preprocess.validate().is_ok());
        let json = r#"{"size":224,"resize_shorter":null,"center_crop":false,
            "mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.0],"input_range":"0-1"}"#;
        let preprocess: Preprocess = serde_json::from_str(json).unwrap();
        assert!(preprocess.validate().is_err());
    }
}
