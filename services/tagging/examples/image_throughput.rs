//! Images per second of the local image classifier (ONNX Runtime, EfficientNet-Lite0),
//! through the same model thread the service uses.
//!
//! ```text
//! cargo run --release -p marquee-tagging --example image_throughput -- \
//!     --models models --images services/tagging/tests/fixtures/images --repeat 5
//! ```
//!
//! Pictures (JPEG, PNG, WebP, GIF) are decoded once, before timing; each timed pass
//! classifies all of them (preprocessing included) from `--callers` threads. Prints one
//! JSON line: `{"images_per_second", "n", "engine", ...}`. One warm-up pass is not timed.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use image::DynamicImage;
use marquee_tagging::inference::{InferenceOptions, Models};

#[derive(Parser)]
#[command(about = "Images per second of the local image classifier")]
struct Args {
    /// The models directory (`make models`).
    #[arg(long, env = "MARQUEE_MODELS_DIR", default_value = "models")]
    models: PathBuf,
    /// A directory of pictures.
    #[arg(long)]
    images: PathBuf,
    /// Pictures per model run at most.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed passes over all the pictures.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// ONNX Runtime intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Threads sending pictures at once (they preprocess in parallel and their pictures
    /// batch together on the model thread).
    #[arg(long, default_value_t = 2)]
    callers: usize,
    /// Labels asked per picture.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
}

fn load_pictures(dir: &PathBuf) -> anyhow::Result<Vec<DynamicImage>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| {
                    matches!(
                        ext.to_ascii_lowercase().as_str(),
                        "jpg" | "jpeg" | "png" | "webp" | "gif"
                    )
                })
        })
        .collect();
    paths.sort();
    let pictures = paths
        .iter()
        .map(|path| {
            image::open(path).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!pictures.is_empty(), "no pictures in {}", dir.display());
    Ok(pictures)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pictures = load_pictures(&args.images)?;
    let options = InferenceOptions {
        intra_threads: args.threads.max(1),
        max_batch: args.batch.max(1),
        ..InferenceOptions::default()
    };
    let models = Models::load(&args.models, &options)?;
    let classifier = models.image.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "the image model is missing from {}: run `make models`",
            args.models.display()
        )
    })?;

    let callers = args.callers.max(1);
    let pass = || -> anyhow::Result<()> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..callers)
                .map(|caller| {
                    let classifier = &classifier;
                    let pictures = &pictures;
                    scope.spawn(move || -> anyhow::Result<()> {
                        for picture in pictures.iter().skip(caller).step_by(callers) {
                            classifier.classify_blocking(picture, args.top_k)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for handle in handles {
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a caller panicked"))??;
            }
            Ok(())
        })
    };

    pass()?; // warm-up
    let started = Instant::now();
    for _ in 0..args.repeat {
        pass()?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = pictures.len() * args.repeat;
    println!(
        "{}",
        serde_json::json!({
            "images_per_second": (n as f64 / seconds * 10.0).round() / 10.0,
            "n": n,
            "engine": format!("onnxruntime {}", models.onnxruntime_version),
            "batch": args.batch,
            "threads": args.threads,
            "callers": callers,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        })
    );
    Ok(())
}
