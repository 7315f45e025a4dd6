//! Latency of one semantic search over the in-memory exact index (`ExactIndex`), the
//! path `GET /api/v1/search` takes after embedding the query when vectors are searched
//! exactly: `ExactIndex::nearest` (the 500 nearest admitted assets by cosine) then
//! `search::rerank` (the title and tag word bonus), for one tenant holding `--vectors`
//! assets. The pgvector path is not measured here.
//!
//! ```text
//! cargo run --release -p marquee-tagging --example search_bench -- \
//!     --vectors 100000 --queries 500
//! ```
//!
//! Vectors (dim 384, the MiniLM size) and queries are random unit vectors from a seeded
//! generator, so runs are repeatable; titles and tags are short strings. No model is
//! loaded. Prints one JSON line: `{"vectors", "queries", "p50_ms", "p99_ms",
//! "index_rss_mb", ...}`, where `index_rss_mb` is the process's VmRSS once the index is
//! filled and `base_rss_mb` the VmRSS before filling it. A few warm-up queries are not
//! timed.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use clap::Parser;
use marquee_tagging::domain::index::{ExactIndex, Filter, IndexedAsset};
use marquee_tagging::domain::search;
use marquee_tagging::domain::vector;

/// The embedding size of all-MiniLM-L6-v2.
const DIM: usize = 384;
const TENANT: &str = "bench-tenant";
const WARM_UP_QUERIES: usize = 10;
const WORDS: &[&str] = &[
    "red", "sneakers", "coffee", "bread", "ocean", "sunset", "city", "night", "forest", "dog",
    "cat", "portrait", "studio", "vintage", "minimal", "poster", "logo", "pattern", "mountain",
    "river", "flower", "business", "chart", "music", "guitar", "summer", "winter", "food",
    "travel", "abstract", "texture", "neon",
];

#[derive(Parser)]
#[command(about = "Latency of semantic search over the exact in-memory index")]
struct Args {
    /// Assets (each with an embedding) in the one tenant searched.
    #[arg(long, default_value_t = 100_000)]
    vectors: usize,
    /// Timed queries.
    #[arg(long, default_value_t = 500)]
    queries: usize,
    /// Seed of the random vectors and strings.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// SplitMix64: small, seeded, good enough for benchmark data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit_interval(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.unit_interval(), self.unit_interval());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }

    /// Uniform on the unit sphere: normalised Gaussian coordinates.
    fn unit_vector(&mut self) -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIM).map(|_| self.normal()).collect();
        vector::normalise(&mut v);
        v
    }

    fn word(&mut self) -> &'static str {
        WORDS[(self.next_u64() % WORDS.len() as u64) as usize]
    }
}

/// VmRSS of this process in MiB, from /proc/self/status.
fn rss_mb() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    Ok(kb / 1024.0)
}

/// The value at quantile `q` (0…1) of sorted samples (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.vectors > 0 && args.queries > 0,
        "--vectors and --queries must be positive"
    );
    let mut rng = Rng(args.seed);
    let base_rss = rss_mb()?;

    let index = ExactIndex::new(DIM);
    let created = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("a fixed date"))?;
    let fill_started = Instant::now();
    for i in 0..args.vectors {
        let asset = IndexedAsset {
            asset_id: format!("asset-{i:07}"),
            tenant_id: TENANT.into(),
            owner_id: format!("owner-{}", i % 1000),
            visible: true,
            kind: "image".into(),
            title: format!("{} {} {}", rng.word(), rng.word(), i),
            tags: (0..3).map(|_| rng.word().to_string()).collect(),
            has_thumbnail: true,
            created_at: created + chrono::Duration::minutes(i as i64),
            view_count: (i % 97) as i64,
        };
        let embedding = rng.unit_vector();
        index.upsert(asset, Some(&embedding));
    }
    let fill_seconds = fill_started.elapsed().as_secs_f64();
    let index_rss = rss_mb()?;

    let filter = Filter {
        tenant_id: TENANT.into(),
        viewer: "viewer".into(),
        ..Filter::default()
    };
    let queries: Vec<(Vec<f32>, String)> = (0..WARM_UP_QUERIES + args.queries)
        .map(|_| (rng.unit_vector(), format!("{} {}", rng.word(), rng.word())))
        .collect();
    let mut hits_total = 0usize;
    let mut samples_ms = Vec::with_capacity(args.queries);
    for (n, (vector, text)) in queries.iter().enumerate() {
        let started = Instant::now();
        let hits = search::rerank(index.nearest(vector, &filter, search::MAX_RESULTS), text);
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        hits_total += std::hint::black_box(hits).len();
        if n >= WARM_UP_QUERIES {
            samples_ms.push(elapsed);
        }
    }
    samples_ms.sort_by(f64::total_cmp);
    let mean = samples_ms.iter().sum::<f64>() / samples_ms.len() as f64;
    println!(
        "{}",
        serde_json::json!({
            "vectors": args.vectors,
            "queries": args.queries,
            "p50_ms": round3(quantile(&samples_ms, 0.50)),
            "p99_ms": round3(quantile(&samples_ms, 0.99)),
            "max_ms": round3(quantile(&samples_ms, 1.0)),
            "mean_ms": round3(mean),
            "index_rss_mb": (index_rss * 10.0).round() / 10.0,
            "base_rss_mb": (base_rss * 10.0).round() / 10.0,
            "dim": DIM,
            "results_per_query": hits_total / queries.len(),
            "fill_seconds": round3(fill_seconds),
            "seed": args.seed,
        })
    );
    Ok(())
}
