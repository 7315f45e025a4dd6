//! llama.cpp through `llama-cpp-2` directly, no queue and no thread hop: the baseline
//! for `examples/generate.rs`. Same prompt, sampling and seed, so the same tokens come
//! out (unless the model ends the text first).
//!
//!     cargo run --release -p marquee-llm --example bare_generate -- [tokens] [model.gguf]

mod common;

use common::*;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use std::num::NonZeroU32;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (max_tokens, path, threads) = args();
    let started = Instant::now();
    let mut backend = LlamaBackend::init()?;
    backend.void_logs();
    let model = LlamaModel::load_from_file(&backend, &path, &LlamaModelParams::default())?;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(CONTEXT))
        .with_n_batch(BATCH)
        .with_n_ubatch(BATCH)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model.new_context(&backend, params)?;
    let load_time = started.elapsed();

    let prompt_started = Instant::now();
    let tokens = model.vocab().tokenize(PROMPT.as_bytes(), true, false);
    let mut batch = LlamaBatch::new(BATCH as usize, 1);
    for (index, chunk) in tokens.chunks(BATCH as usize).enumerate() {
        batch.clear();
        for (offset, token) in chunk.iter().enumerate() {
            let position = index * BATCH as usize + offset;
            batch.add(
                *token,
                i32::try_from(position)?,
                &[0],
                position + 1 == tokens.len(),
            )?;
        }
        ctx.decode(&mut batch)?;
    }
    let prompt_time = prompt_started.elapsed();

    let generation_started = Instant::now();
    let mut sampler = LlamaSampler::chain_simple([
        LlamaSampler::penalties(model.n_vocab(), 64, REPEAT_PENALTY, 0.0, 0.0),
        LlamaSampler::top_k(TOP_K),
        LlamaSampler::top_p(TOP_P, 1),
        LlamaSampler::temp(TEMPERATURE),
        LlamaSampler::dist(SEED),
    ]);
    let mut text = Vec::new();
    let mut generated = 0;
    let mut position = tokens.len();
    while generated < max_tokens {
        let mut candidates = ctx.token_data_array_ith(batch.n_tokens() - 1);
        candidates.apply_sampler(&mut sampler);
        let token = candidates.selected_token().ok_or("no token")?;
        sampler.accept(token);
        generated += 1;
        if model.vocab().is_eog(token) {
            break;
        }
        model
            .vocab()
            .token_to_piece_into(token, &mut text, false, None);
        if generated == max_tokens {
            break;
        }
        batch.clear();
        batch.add(token, i32::try_from(position)?, &[0], true)?;
        ctx.decode(&mut batch)?;
        position += 1;
    }
    let generation_time = generation_started.elapsed();

    println!("{}", String::from_utf8_lossy(&text));
    println!("---");
    println!(
        "bare llama-cpp-2, {threads} threads, load {:.2} s",
        load_time.as_secs_f64()
    );
    println!(
        "prompt: {} tokens in {:.0} ms = {:.1} tokens/s",
        tokens.len(),
        prompt_time.as_secs_f64() * 1000.0,
        rate(u32::try_from(tokens.len())?, prompt_time)
    );
    println!(
        "generated: {generated} tokens in {:.0} ms = {:.1} tokens/s",
        generation_time.as_secs_f64() * 1000.0,
        rate(generated, generation_time)
    );
    Ok(())
}
