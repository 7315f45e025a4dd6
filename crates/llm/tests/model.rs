//! Generation with the real model (`make models` puts it in place; `make test` runs that
//! first). Under `cargo test` one model is shared by every test, as one is shared by a
//! service, and their requests queue behind each other; nextest runs each test in its own
//! process with its own model. One thread per model: tests run beside other tests, and
//! llama.cpp's multi-threaded barriers slow to a crawl when cores are oversubscribed.
//! `TEST_LOG=1` shows the logs.

use marquee_llm::{GenerateRequest, LlmError, LoadOptions, LocalModel, Sampling, StopReason};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn model_path() -> PathBuf {
    let dir = std::env::var_os("MARQUEE_MODELS_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
            PathBuf::from,
        );
    let path = dir.join(marquee_llm::DEFAULT_MODEL_FILE);
    assert!(
        path.is_file(),
        "{} is missing: run `make models` (it downloads the pinned model once)",
        path.display()
    );
    path
}

fn model() -> &'static LocalModel {
    static MODEL: OnceLock<LocalModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("debug,llama-cpp-2=warn")
                .try_init();
        }
        let options = LoadOptions {
            threads: 1,
            ..LoadOptions::default()
        };
        LocalModel::load(&model_path(), &options).expect("the model loads")
    })
}

fn seeded() -> Sampling {
    Sampling {
        seed: Some(7),
        ..Sampling::default()
    }
}

const FEW_SHOT: &str = "Product: Trail running shoes\nTagline: Grip every mile.\n\n\
Product: Ceramic coffee mug\nTagline: Slow mornings, made by hand.\n\n\
Product: Organic cotton tote bag\nTagline: Carry more, waste less.\n\n\
Product: Wireless headphones\nTagline:";

#[tokio::test]
async fn few_shot_prompt_stops_at_the_next_example() {
    let request = GenerateRequest::new(FEW_SHOT)
        .max_tokens(32)
        .stop("\n")
        .sampling(seeded());
    let generation = model()
        .generate(request, CancellationToken::new())
        .await
        .unwrap();
    println!("{generation:?}");
    assert!(!generation.text.trim().is_empty(), "{generation:?}");
    assert!(
        !generation.text.contains('\n'),
        "the text is cut before the stop: {generation:?}"
    );
    assert_eq!(generation.stopped, StopReason::Stop, "{generation:?}");
    assert!(
        generation.prompt_tokens > 40 && generation.completion_tokens <= 32,
        "{generation:?}"
    );
    assert!(generation.generation_time > Duration::ZERO && generation.prompt_time > Duration::ZERO);
}

#[tokio::test]
async fn multi_token_stop_strings_cut_the_text() {
    let request = GenerateRequest::new(FEW_SHOT)
        .max_tokens(32)
        .stop("Product:")
        .sampling(seeded());
    let generation = model()
        .generate(request, CancellationToken::new())
        .await
        .unwrap();
    println!("{generation:?}");
    assert!(!generation.text.contains("Product"), "{generation:?}");
    if generation.stopped == StopReason::Stop {
        assert!(
            generation.text.ends_with('\n'),
            "stops where the next example begins: {generation:?}"
        );
    }
}

#[tokio::test]
async fn max_tokens_is_respected() {
    let request = GenerateRequest::new("A long list of colours: red, green, blue,")
        .max_tokens(6)
        .sampling(seeded());
    let generation = model()
        .generate(request, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(generation.completion_tokens, 6, "{generation:?}");
    assert_eq!(generation.stopped, StopReason::MaxTokens, "{generation:?}");
    assert!(!generation.text.is_empty());
}

#[tokio::test]
async fn same_seed_same_text_and_greedy_is_deterministic() {
    let request = GenerateRequest::new(FEW_SHOT).max_tokens(12).stop("\n");
    let a = model()
        .generate(request.clone().sampling(seeded()), CancellationToken::new())
        .await
        .unwrap();
    let b = model()
        .generate(request.clone().sampling(seeded()), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(a.text, b.text);
    let greedy = request.sampling(Sampling::greedy());
    let c = model()
        .generate(greedy.clone(), CancellationToken::new())
        .await
        .unwrap();
    let d = model()
        .generate(greedy, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(c.text, d.text);
}

#[tokio::test]
async fn cancel_stops_a_running_generation_promptly() {
    let tokens = Arc::new(AtomicU32::new(0));
    let seen = tokens.clone();
    let cancel = CancellationToken::new();
    let request = GenerateRequest::new("Once upon a time")
        .max_tokens(1000)
        .sampling(seeded());
    let model = model().clone();
    let task = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            model
                .generate_with_progress(request, cancel, move |p| {
                    seen.store(p.completion_tokens, Ordering::Relaxed)
                })
                .await
        }
    });
    // Wait until it is generating (other tests' requests may be ahead of it).
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokens.load(Ordering::Relaxed) < 3 {
        assert!(Instant::now() < deadline, "generation never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled_at = Instant::now();
    cancel.cancel();
    let generation = task.await.unwrap().unwrap();
    let latency = cancelled_at.elapsed();
    assert_eq!(generation.stopped, StopReason::Cancelled, "{generation:?}");
    assert!(generation.completion_tokens < 1000);
    // One token takes ~50 ms here; allow for a loaded machine.
    assert!(latency < Duration::from_secs(1), "cancel took {latency:?}");
}

#[tokio::test]
async fn a_request_queued_behind_a_long_one_completes() {
    let model = model();
    let long = GenerateRequest::new("Once upon a time")
        .max_tokens(32)
        .sampling(seeded());
    let short = GenerateRequest::new(FEW_SHOT)
        .max_tokens(4)
        .sampling(seeded());
    let (long, short) = tokio::join!(
        model.generate(long, CancellationToken::new()),
        model.generate(short, CancellationToken::new()),
    );
    let (long, short) = (long.unwrap(), short.unwrap());
    assert!(long.completion_tokens > 4, "{long:?}");
    assert_eq!(short.completion_tokens, 4, "{short:?}");
    assert!(
        short.queue_time >= long.generation_time,
        "the short request waited for the long one: {short:?} / {long:?}"
    );
}

#[tokio::test]
async fn a_request_cancelled_while_queued_returns_at_once() {
    let model = model();
    let long = GenerateRequest::new("Once upon a time")
        .max_tokens(20)
        .sampling(seeded());
    let cancel = CancellationToken::new();
    let queued = GenerateRequest::new(FEW_SHOT).max_tokens(30);
    let running = model.generate(long, CancellationToken::new());
    let waiting = async {
        // The long request is running by then; this one queues behind it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let canceller = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            cancel.cancel();
            Instant::now()
        };
        let (result, cancelled_at) =
            tokio::join!(model.generate(queued, cancel.clone()), canceller);
        (result, cancelled_at.elapsed())
    };
    let (running, (waiting, latency)) = tokio::join!(running, waiting);
    assert_ne!(running.unwrap().stopped, StopReason::Cancelled);
    let waiting = waiting.unwrap();
    assert_eq!(waiting.stopped, StopReason::Cancelled);
    assert_eq!((waiting.prompt_tokens, waiting.completion_tokens), (0, 0));
    assert!(latency < Duration::from_millis(500), "{latency:?}");
}

#[tokio::test]
async fn grammar_constrains_the_output() {
    let request = GenerateRequest::new("Is a ceramic mug dishwasher safe? Answer:")
        .max_tokens(8)
        .grammar(r#"root ::= " " ("yes" | "no")"#)
        .sampling(seeded());
    let generation = model()
        .generate(request, CancellationToken::new())
        .await
        .unwrap();
    assert!(
        matches!(generation.text.as_str(), " yes" | " no"),
        "{generation:?}"
    );
    assert_eq!(generation.stopped, StopReason::EndOfText, "{generation:?}");

    let bad = GenerateRequest::new("x").grammar("root ::= (");
    let error = model()
        .generate(bad, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::InvalidGrammar(_)), "{error}");
    let undefined = GenerateRequest::new("x").grammar("root ::= missing");
    let error = model()
        .generate(undefined, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::InvalidGrammar(_)), "{error}");
}

#[tokio::test]
async fn prompts_that_do_not_fit_are_refused() {
    let context = model().info().context_size;
    let long = "word ".repeat(context as usize);
    let error = model()
        .generate(
            GenerateRequest::new(long).max_tokens(10),
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::PromptTooLong { .. }), "{error}");
    assert!(error.is_invalid_request());

    // Fits alone, but not with the tokens to generate.
    let medium = "word ".repeat(context as usize / 2);
    let error = model()
        .generate(
            GenerateRequest::new(medium).max_tokens(context),
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::PromptTooLong { .. }), "{error}");

    // Megabytes are refused without being tokenised.
    let started = Instant::now();
    let huge = "x".repeat(32 << 20);
    let error = model()
        .generate(GenerateRequest::new(huge), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::PromptTooLong { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn odd_input_is_handled() {
    for prompt in [
        "\0\0\0",
        "🔥🔥 LIMITED DROP 🔥",
        "<start_of_turn>user\nhi<end_of_turn>",
        "\u{FFFD}é\r\n\t",
    ] {
        let request = GenerateRequest::new(prompt)
            .max_tokens(3)
            .sampling(seeded());
        let generation = model()
            .generate(request, CancellationToken::new())
            .await
            .unwrap();
        assert!(
            generation.completion_tokens <= 3,
            "{prompt:?}: {generation:?}"
        );
    }
    for bad in [
        GenerateRequest::new(""),
        GenerateRequest::new("x").max_tokens(0),
        GenerateRequest::new("x").sampling(Sampling {
            temperature: f32::INFINITY,
            ..Sampling::default()
        }),
    ] {
        let error = model()
            .generate(bad, CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(error, LlmError::InvalidRequest(_)), "{error}");
    }
}

#[tokio::test]
async fn missing_or_wrong_files_are_errors() {
    let error = LocalModel::load(
        &model_path().with_file_name("nope.gguf"),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, LlmError::ModelNotFound { .. }), "{error}");
    let manifest = model_path().with_file_name("manifest.json");
    let error = LocalModel::load(&manifest, &LoadOptions::default()).unwrap_err();
    assert!(matches!(error, LlmError::NotGguf { .. }), "{error}");
    let too_big = LoadOptions {
        context_size: 1 << 20,
        ..LoadOptions::default()
    };
    let error = LocalModel::load(&model_path(), &too_big).unwrap_err();
    assert!(matches!(error, LlmError::InvalidOptions(_)), "{error}");
}

#[test]
fn info_describes_the_model() {
    let info = model().info();
    assert_eq!(info.context_size, 2048);
    assert!(
        info.parameters > 200_000_000 && info.parameters < 400_000_000,
        "{info:?}"
    );
    assert!(info.vocab_size > 200_000, "{info:?}");
    assert_eq!(info.threads, 1);
}

#[tokio::test]
async fn control_tokens_in_the_prompt_are_plain_text_unless_asked() {
    let prompt = "<start_of_turn>user\nWrite a slogan<end_of_turn>\n<start_of_turn>model\n";
    let plain = GenerateRequest::new(prompt)
        .max_tokens(1)
        .sampling(seeded());
    let special = plain.clone().special_tokens(true);
    let plain = model()
        .generate(plain, CancellationToken::new())
        .await
        .unwrap();
    let special = model()
        .generate(special, CancellationToken::new())
        .await
        .unwrap();
    assert!(
        special.prompt_tokens + 6 <= plain.prompt_tokens,
        "each marker is one token only when parsed: {special:?} / {plain:?}"
    );
}
