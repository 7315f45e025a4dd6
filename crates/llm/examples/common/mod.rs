// Shared by the two benchmark examples: the fixed prompt, the
// sampling and the command line, so both generate the same tokens.

use std::path::PathBuf;

/// A few-shot prompt of the kind the campaign studio sends (~150 tokens).
pub const PROMPT: &str = "Write a short, upbeat social media post for each product.\n\n\
Product: Trail running shoes with a grippy sole\n\
Post: Mud, rocks, roots? Bring it on. Our new trail shoes grip every step so you can chase the horizon. #RunWild\n\n\
Product: Hand-thrown ceramic coffee mug\n\
Post: Every mug is shaped by hand, so your morning coffee tastes like it was made just for you. #SlowMornings\n\n\
Product: Organic cotton tote bag\n\
Post: Groceries, books, beach days: one bag for everything, and kind to the planet. #CarryBetter\n\n\
Product: Noise-cancelling wireless headphones\n\
Post:";

pub const SEED: u32 = 42;
pub const TEMPERATURE: f32 = 0.7;
pub const TOP_K: i32 = 64;
pub const TOP_P: f32 = 0.95;
pub const REPEAT_PENALTY: f32 = 1.1;
pub const CONTEXT: u32 = 2048;
pub const BATCH: u32 = 128;

/// `[tokens] [model path]`: how many tokens to generate (default 128) and the GGUF
/// (default `$MARQUEE_MODELS_DIR/gemma-3-270m-q4_k_m.gguf`, else `./models/…`).
/// `THREADS` overrides the thread count (default 2).
pub fn args() -> (u32, PathBuf, i32) {
    let mut args = std::env::args().skip(1);
    let tokens = args.next().and_then(|n| n.parse().ok()).unwrap_or(128);
    let path = args
        .next()
        .map_or_else(marquee_llm::default_model_path, PathBuf::from);
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    (tokens, path, threads)
}

pub fn rate(tokens: u32, time: std::time::Duration) -> f64 {
    f64::from(tokens) / time.as_secs_f64().max(1e-9)
}
