#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (docs/security.md, "Fuzzing and
# properties"); fails when one finds a crash, naming the input that crashed it.
#   bash scripts/fuzz.sh                      every target, 60 s each
#   FUZZ_SECONDS=20 bash scripts/fuzz.sh range_header html_text
# Nightly Rust (sanitizers); its own target dir (CARGO_TARGET_DIR, default
# ~/.cache/marquee-fuzz) so the instrumented builds do not evict the normal ones.
# Corpora grow in fuzz/corpus/<target>, crashes land in fuzz/artifacts/<target> (both
# gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/marquee-fuzz}

# The target and the feature that builds only the crate it needs (fuzz/Cargo.toml).
ALL_TARGETS=(
  range_header:gateway
  upload_form:gateway
  access_token:gateway
  jwks:gateway
  service_identity:platform
  webhook_signature:campaign
  html_text:campaign
  stripe_signature:billing
  image_metadata:content
  pdf_metadata:content
  media_metadata:content
)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: the nightly toolchain is needed: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# Start from the workspace's lock file: the fuzz build uses the versions the services
# are tested with (cargo adds libfuzzer-sys and what only the fuzz crate needs).
if [ ! -f fuzz/Cargo.lock ]; then
  cp Cargo.lock fuzz/Cargo.lock
fi

feature_of() {
  local entry
  for entry in "${ALL_TARGETS[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then
      echo "${entry#*:}"
      return
    fi
  done
  echo "fuzz: unknown target $1 (known: ${ALL_TARGETS[*]%%:*})" >&2
  exit 2
}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=("${ALL_TARGETS[@]%%:*}")
fi

logs=$(mktemp -d)
failed=()
summary=()
for target in "${targets[@]}"; do
  feature=$(feature_of "$target")
  mkdir -p "fuzz/corpus/$target"
  echo "== fuzz: $target (${SECONDS_PER_TARGET} s)"
  if cargo +nightly fuzz run --fuzz-dir fuzz --features "$feature" "$target" \
      "fuzz/corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET" \
      >"$logs/$target.log" 2>&1; then
    runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$logs/$target.log" | tail -1 || true)
    summary+=("$target: ok, ${runs:-no libFuzzer summary}")
  else
    tail -n 40 "$logs/$target.log" >&2
    artifact=$(grep -oE '(fuzz/)?artifacts/[^ ]+' "$logs/$target.log" | tail -1 || true)
    summary+=("$target: FAILED ${artifact:+(crash input: $artifact)}")
    failed+=("$target")
  fi
done

echo "== fuzz summary (logs in $logs)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}; reproduce with" >&2
  echo "  cargo +nightly fuzz run --fuzz-dir fuzz --features <feature> <target> <crash input>" >&2
  exit 1
fi
