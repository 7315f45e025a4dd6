//! Sentences per second of the local text embedder (ONNX Runtime, all-MiniLM-L6-v2),
//! through the same model thread and batching the service uses.
//!
//! ```text
//! cargo run --release -p marquee-tagging --example embed_throughput -- \
//!     --models models --sentences FILE --batch 32 --repeat 3
//! ```
//!
//! FILE: one sentence per line, a JSON list of strings, or a JSON object with a
//! `"sentences"` list (as `scripts/bench/embed_python.py` reads). Prints one JSON line:
//! `{"sentences_per_second", "n", "engine", ...}`. One warm-up pass is not timed.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use marquee_tagging::inference::{InferenceOptions, Models};

#[derive(Parser)]
#[command(about = "Sentences per second of the local text embedder")]
struct Args {
    /// The models directory (`make models`).
    #[arg(long, env = "MARQUEE_MODELS_DIR", default_value = "models")]
    models: PathBuf,
    /// The sentences to embed.
    #[arg(long)]
    sentences: PathBuf,
    /// Texts per model run at most.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed passes over all the sentences.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// ONNX Runtime intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Callers sending their share of the sentences at once (1: one call per pass).
    #[arg(long, default_value_t = 1)]
    callers: usize,
    /// Let idle ONNX Runtime threads spin.
    #[arg(long)]
    spin: bool,
}

fn load_sentences(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let sentences: Vec<String> = if path.extension().is_some_and(|ext| ext == "json") {
        let value: serde_json::Value = serde_json::from_str(&text)?;
        let list = value.get("sentences").cloned().unwrap_or(value);
        serde_json::from_value(list)?
    } else {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    };
    anyhow::ensure!(!sentences.is_empty(), "no sentences in {}", path.display());
    Ok(sentences)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sentences = load_sentences(&args.sentences)?;
    let options = InferenceOptions {
        intra_threads: args.threads.max(1),
        max_batch: args.batch.max(1),
        allow_spinning: args.spin,
        ..InferenceOptions::default()
    };
    let load_started = Instant::now();
    let models = Models::load(&args.models, &options)?;
    let load_seconds = load_started.elapsed().as_secs_f64();

    let callers = args.callers.max(1);
    let shares: Vec<Vec<String>> = (0..callers)
        .map(|caller| {
            sentences
                .iter()
                .skip(caller)
                .step_by(callers)
                .cloned()
                .collect()
        })
        .collect();
    let pass = || -> anyhow::Result<()> {
        if callers == 1 {
            models.text.embed_blocking(&sentences)?;
            return Ok(());
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter()
                .map(|share| scope.spawn(|| models.text.embed_blocking(share)))
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
    let n = sentences.len() * args.repeat;
    println!(
        "{}",
        serde_json::json!({
            "sentences_per_second": (n as f64 / seconds * 10.0).round() / 10.0,
            "n": n,
            "engine": format!("onnxruntime {}", models.onnxruntime_version),
            "batch": args.batch,
            "threads": args.threads,
            "callers": callers,
            "spin": args.spin,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "load_seconds": (load_seconds * 1000.0).round() / 1000.0,
        })
    );
    Ok(())
}
