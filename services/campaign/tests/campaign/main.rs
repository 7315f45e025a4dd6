//! Integration tests of the campaign service: the job runner and the scheduler on SQLite
//! and PostgreSQL (two replicas publishing each post once), the local model writing
//! posts, and the evaluation set's briefs within every platform's rules.

mod eval;
mod flow;
mod local_model;

use std::path::PathBuf;

/// The models `make models` made: `MARQUEE_MODELS_DIR`, else `<repo>/models`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("MARQUEE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}
