#!/usr/bin/env bash
# Campaign studio benchmarks; writes the "## Campaign studio" section of
# docs/benchmarks.md (an earlier one is replaced, the other sections are kept). `make
# bench` runs it after the tagging benchmarks (SKIP_CAMPAIGN=1 skips it). Needs `make
# models` (the Gemma 3 270M GGUF).
#
#   1. the evaluation set (services/campaign/data/eval/briefs.json, 21 briefs) on the
#      local model, as the studio writes it (examples/campaign_eval): share of posts
#      within their platform's rules, on topic, rules-composer fallbacks, seconds per
#      9-post campaign (analysis + themes + 9 posts)
#   2. our overhead over bare llama.cpp generating the same tokens (crates/llm examples
#      bare_generate vs generate: same prompt, seed and sampling), alternated RUNS times
#   3. RSS of `marquee-campaign` with the model loaded
#
# Knobs: RUNS (3), TOKENS (200), BRIEFS (all), OUT (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/marquee-release}
# As deployed (deploy/Dockerfile) and as cargo runs it (.cargo/config.toml).
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-2000}
RUNS=${RUNS:-3}
TOKENS=${TOKENS:-200}
BRIEFS=${BRIEFS:-1000}
OUT=${OUT:-docs/benchmarks.md}
MODELS=${MARQUEE_MODELS_DIR:-$ROOT/models}
GGUF="$MODELS/gemma-3-270m-q4_k_m.gguf"
[ -f "$GGUF" ] || { echo "no $GGUF: run make models" >&2; exit 1; }

cargo build --release -q -p marquee-llm --examples
cargo build --release -q -p marquee-campaign --examples --bin marquee-campaign
BIN="$CARGO_TARGET_DIR/release"

echo "[campaign] evaluation set on the local model"
EVAL=$("$BIN/examples/campaign_eval" "$MODELS" "$BRIEFS" 2>/dev/null)
echo "$EVAL"

echo "[campaign] overhead over bare llama.cpp ($TOKENS tokens, $RUNS runs each)"
bare=(); ours=()
for _ in $(seq "$RUNS"); do
  bare+=("$("$BIN/examples/bare_generate" "$TOKENS" "$GGUF" | awk '/^generated:/ {print $6}')")
  ours+=("$("$BIN/examples/generate" "$TOKENS" "$GGUF" | awk '/^generated:/ {print $6}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
BARE=$(median "${bare[@]}"); OURS=$(median "${ours[@]}")
OVERHEAD=$(awk -v b="$BARE" -v o="$OURS" 'BEGIN {printf "%.1f", (b / o - 1) * 100}')
echo "bare $BARE tok/s, LocalModel $OURS tok/s, overhead $OVERHEAD %"

echo "[campaign] RSS with the model loaded"
DATA=$(mktemp -d)
MARQUEE_DATA_DIR=$DATA MARQUEE_MODELS_DIR=$MODELS MARQUEE_CAMPAIGN_GRPC_ADDR=127.0.0.1:50155 \
  MARQUEE_CAMPAIGN_PROVIDER=local MARQUEE_ADMIN_ADDR=127.0.0.1:59155 RUST_LOG=warn \
  "$BIN/marquee-campaign" >/dev/null 2>&1 &
PID=$!
sleep 6
RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
kill "$PID"; wait "$PID" 2>/dev/null || true
rm -rf "$DATA"
echo "RSS $((RSS_KB / 1024)) MB"

SECTION=$(cat <<MD
## Campaign studio

- Date: $(date -u +%Y-%m-%d); machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM; \`cargo build --release\`; \`scripts/bench-campaign.sh\`.
- Model: Gemma 3 270M base, GGUF Q4_K_M, llama.cpp through \`llama-cpp-2\` (2 threads, one generation at a time), seed 1.

Evaluation set (\`services/campaign/data/eval/briefs.json\`, 21 briefs × 9 posts over 3 platforms each; \`examples/campaign_eval\`; on topic = the post names one of the brief's own words listed with it):

\`\`\`
$EVAL
\`\`\`

Overhead over bare llama.cpp generating the same $TOKENS tokens (same prompt, seed and sampling; median of $RUNS alternated runs): bare $BARE tokens/s, \`marquee_llm::LocalModel\` $OURS tokens/s — **$OVERHEAD %** (goal ≤ 20 %).

RSS of \`marquee-campaign\` with the model loaded (idle, SQLite, in-process bus): **$((RSS_KB / 1024)) MB**.
MD
)
python3 - "$OUT" "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
parts = re.split(r'(?m)^(?=## )', text)
parts = [p for p in parts if not p.startswith('## Campaign studio')]
open(path, 'w').write(''.join(parts).rstrip('\n') + '\n\n' + section + '\n')
PY
echo "wrote $OUT"
