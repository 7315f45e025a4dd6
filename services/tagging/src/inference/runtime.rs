//! Loading ONNX Runtime itself: the shared library that `make models` puts in
//! `models/onnxruntime/`, opened at run time (`ort`'s `load-dynamic`), one environment per
//! process, and the session options every model uses.

use std::path::{Path, PathBuf};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use parking_lot::Mutex;

use super::{InferenceError, InferenceOptions};

/// The ONNX Runtime minor line `ort` 2.0.0-rc.15 is written for.
pub(crate) const REQUIRED_MAJOR_MINOR: (u32, u32) = (1, 31);
const REQUIRED_TEXT: &str = "1.31.x";

/// The process's ONNX Runtime: `ort` allows one library and one environment per process,
/// so a second `Models::load` reuses them.
#[derive(Clone)]
pub(crate) struct Runtime {
    pub(crate) environment: Environment,
    pub(crate) version: String,
    pub(crate) library: PathBuf,
}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// Loads (once per process) the ONNX Runtime library in `dir` (`models/onnxruntime`).
pub(crate) fn load(dir: &Path) -> Result<Runtime, InferenceError> {
    let (version, library) = locate(dir)?;
    let mut current = RUNTIME.lock();
    if let Some(runtime) = current.as_ref() {
        if runtime.library != library {
            if runtime.version != version {
                return Err(InferenceError::LoadRuntime {
                    path: library,
                    message: format!(
                        "ONNX Runtime {} is already loaded in this process from {}",
                        runtime.version,
                        runtime.library.display()
                    ),
                });
            }
            tracing::warn!(
                loaded = %runtime.library.display(),
                requested = %library.display(),
                "ONNX Runtime already loaded from another directory; reusing it (same version)"
            );
        }
        return Ok(runtime.clone());
    }

    let builder = ort::init_from(&library).map_err(|error| InferenceError::LoadRuntime {
        path: library.clone(),
        message: error.to_string(),
    })?;
    check_build_info(ort::info(), &library)?;
    let environment = builder
        .with_name("marquee-tagging")
        .with_telemetry(false)
        .build()?;
    tracing::info!(version = %version, library = %library.display(), "ONNX Runtime loaded");
    let runtime = Runtime {
        environment,
        version,
        library,
    };
    *current = Some(runtime.clone());
    Ok(runtime)
}

/// Finds the versioned library named by `VERSION` and checks that version.
fn locate(dir: &Path) -> Result<(String, PathBuf), InferenceError> {
    if !dir.is_dir() {
        return Err(InferenceError::MissingFile {
            what: "ONNX Runtime directory",
            path: dir.to_path_buf(),
        });
    }
    let version_file = dir.join("VERSION");
    if !version_file.is_file() {
        return Err(InferenceError::MissingFile {
            what: "ONNX Runtime version file",
            path: version_file,
        });
    }
    let version = std::fs::read_to_string(&version_file)
        .map_err(|error| InferenceError::io(&version_file, error))?
        .trim()
        .to_owned();
    let library = dir.join(library_file_name(&version));
    if parse_major_minor(&version) != Some(REQUIRED_MAJOR_MINOR) {
        return Err(InferenceError::UnsupportedRuntime {
            found: version,
            expected: REQUIRED_TEXT,
            path: dir.to_path_buf(),
        });
    }
    if !library.is_file() {
        return Err(InferenceError::MissingFile {
            what: "ONNX Runtime library",
            path: library,
        });
    }
    // `ort` resolves relative paths against the executable's directory: hand it an
    // absolute one.
    let library =
        std::path::absolute(&library).map_err(|error| InferenceError::io(&library, error))?;
    Ok((version, library))
}

/// `libonnxruntime.so.1.31.1` (Linux), `libonnxruntime.1.31.1.dylib` (macOS).
fn library_file_name(version: &str) -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{version}.dylib")
    } else if cfg!(windows) {
        "onnxruntime.dll".to_owned()
    } else {
        format!("libonnxruntime.so.{version}")
    }
}

/// `"1.31.1"` → `(1, 31)`.
pub(crate) fn parse_major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The build string names the release branch (`git-branch=rel-1.31.1`): a library whose
/// file name lies about its version is refused too.
fn check_build_info(info: &str, library: &Path) -> Result<(), InferenceError> {
    let Some(branch) = info
        .split([',', ' '])
        .find_map(|field| field.trim().strip_prefix("git-branch=rel-"))
    else {
        // Custom builds may not say; the file name and VERSION were checked.
        tracing::debug!(info, "ONNX Runtime build info names no release branch");
        return Ok(());
    };
    if parse_major_minor(branch) != Some(REQUIRED_MAJOR_MINOR) {
        return Err(InferenceError::UnsupportedRuntime {
            found: branch.to_owned(),
            expected: REQUIRED_TEXT,
            path: library.to_path_buf(),
        });
    }
    Ok(())
}

/// One session with the options every model here uses.
pub(crate) fn session(
    runtime: &Runtime,
    model: &Path,
    options: &InferenceOptions,
) -> Result<Session, InferenceError> {
    let session = Session::builder(&runtime.environment)?
        .with_intra_threads(options.intra_threads.max(1))?
        .with_inter_threads(1)?
        .with_intra_op_spinning(options.allow_spinning)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .commit_from_file(model)?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_major_minor("1.31.1\n"), Some((1, 31)));
        assert_eq!(parse_major_minor("1.32.0"), Some((1, 32)));
        assert_eq!(parse_major_minor("garbage"), None);
    }

    #[test]
    fn build_info_with_another_release_is_refused() {
        let path = Path::new("/x/libonnxruntime.so.1.31.1");
        let ok = "ORT Build Info: git-branch=rel-1.31.1, git-commit-id=abc, build type=Release";
        assert!(check_build_info(ok, path).is_ok());
        let wrong = "ORT Build Info: git-branch=rel-1.32.0, git-commit-id=abc";
        assert!(matches!(
            check_build_info(wrong, path),
            Err(InferenceError::UnsupportedRuntime { .. })
        ));
        assert!(check_build_info("ORT Build Info: git-branch=main", path).is_ok());
    }

    #[test]
    fn missing_directory_says_make_models() {
        let error = locate(Path::new("/nonexistent/models/onnxruntime")).unwrap_err();
        assert!(error.is_missing());
        assert!(error.to_string().contains("run `make models`"), "{error}");
    }
}
