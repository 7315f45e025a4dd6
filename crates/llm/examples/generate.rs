//! The same generation as `examples/bare_generate.rs`, through [`LocalModel`] (queue,
//! generation thread, stop matching): the difference between the two is our overhead.
//!
//!     cargo run --release -p marquee-llm --example generate -- [tokens] [model.gguf]

mod common;

use common::*;
use marquee_llm::{GenerateRequest, LoadOptions, LocalModel, Sampling};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (max_tokens, path, threads) = args();
    let options = LoadOptions {
        threads: usize::try_from(threads)?,
        context_size: CONTEXT,
        batch_size: BATCH,
        ..LoadOptions::default()
    };
    let started = Instant::now();
    let model = LocalModel::load_async(&path, &options).await?;
    let load_time = started.elapsed();

    let sampling = Sampling {
        temperature: TEMPERATURE,
        top_k: TOP_K.unsigned_abs(),
        top_p: TOP_P,
        repeat_penalty: REPEAT_PENALTY,
        seed: Some(SEED),
    };
    let request = GenerateRequest::new(PROMPT)
        .max_tokens(max_tokens)
        .sampling(sampling);
    let called = Instant::now();
    let generation = model.generate(request, CancellationToken::new()).await?;
    let total = called.elapsed();

    println!("{}", generation.text);
    println!("---");
    println!(
        "LocalModel, {threads} threads, load {:.2} s",
        load_time.as_secs_f64()
    );
    println!(
        "prompt: {} tokens in {:.0} ms = {:.1} tokens/s",
        generation.prompt_tokens,
        generation.prompt_time.as_secs_f64() * 1000.0,
        rate(generation.prompt_tokens, generation.prompt_time)
    );
    println!(
        "generated: {} tokens in {:.0} ms = {:.1} tokens/s ({:?})",
        generation.completion_tokens,
        generation.generation_time.as_secs_f64() * 1000.0,
        rate(generation.completion_tokens, generation.generation_time),
        generation.stopped
    );
    println!(
        "call to answer: {:.0} ms (queue {:.2} ms)",
        total.as_secs_f64() * 1000.0,
        generation.queue_time.as_secs_f64() * 1000.0
    );
    Ok(())
}
