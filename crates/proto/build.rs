//! Generates Rust types and tonic stubs for every contract under `proto/`.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "marquee/auth/v1/auth.proto",
        "marquee/content/v1/content.proto",
        "marquee/tagging/v1/tagging.proto",
        "marquee/billing/v1/billing.proto",
        "marquee/campaign/v1/campaign.proto",
        "marquee/events/v1/envelope.proto",
        "marquee/events/v1/auth.proto",
        "marquee/events/v1/billing.proto",
        "marquee/events/v1/content.proto",
        "marquee/events/v1/tagging.proto",
        "marquee/events/v1/campaign.proto",
    ];
    let paths: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
    for path in &paths {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    tonic_prost_build::configure().compile_protos(&paths, &[root])?;
    Ok(())
}
