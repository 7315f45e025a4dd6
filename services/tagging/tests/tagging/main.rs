//! Integration tests of the tagging service: the models against their references, the
//! evaluation set, storage on SQLite and PostgreSQL, and the event flow.

mod eval;
mod flow;
mod gemini;
mod inference;
mod pgvector;

use marquee_tagging::inference::{InferenceOptions, Models};
use std::path::PathBuf;

/// The models `make models` made: `MARQUEE_MODELS_DIR`, else `<repo>/models`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("MARQUEE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The real models; a missing model fails the test (run `make models`), never skips it.
pub fn load_models() -> Models {
    let dir = models_dir();
    Models::load(&dir, &InferenceOptions::default())
        .unwrap_or_else(|e| panic!("models in {}: {e} — run `make models`", dir.display()))
}
