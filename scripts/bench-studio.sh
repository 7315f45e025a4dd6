#!/usr/bin/env bash
# Benchmark: the web studio — initial JS gzipped, first contentful paint on loopback
# (cold, cache off, median of RUNS), the dashboard's API calls (no waterfall). Writes the
# "Web studio" section of docs/benchmarks.md.
#   bash scripts/bench-studio.sh                  (release build, as make bench)
#   MARQUEE_BIN=path/to/marquee bash scripts/bench-studio.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/benchmarks.md}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PORT=${PORT:-18090}
bash scripts/ensure-tools.sh node chromium
bash scripts/studio.sh build
if [ -z "${MARQUEE_BIN:-}" ]; then
  cargo build --release --locked --bin marquee
  MARQUEE_BIN="$TARGET_DIR/release/marquee"
fi
BUILD=$(case "$MARQUEE_BIN" in */release/*) echo release ;; *) echo "debug (MARQUEE_BIN=$MARQUEE_BIN)" ;; esac)

DATA=$(mktemp -d)
cleanup() { [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
MARQUEE_DATA_DIR="$DATA" \
MARQUEE_MODELS_DIR=/nonexistent \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" \
MARQUEE_GATEWAY_STUDIO_DIR="$PWD/services/studio/dist" \
MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_LOG__FILTER=warn \
  "$MARQUEE_BIN" up >"$DATA/fleet.log" 2>&1 &
FLEET_PID=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do curl -fs "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/readyz" >/dev/null || { cat "$DATA/fleet.log"; exit 1; }

RESULT=$(cd services/studio && STUDIO_BASE_URL="$URL" node scripts/bench.mjs)
echo "$RESULT"
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, {'d': d}))" "$RESULT" "$1"; }
CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
SECTION=$(cat <<MD
## Web studio

- Date: $(date -u +%Y-%m-%d); machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; Chromium $(chromium --version 2>/dev/null | awk '{print $2}') headless on the same cores.
- Command: \`bash scripts/bench-studio.sh\` (part of \`make bench\`); fleet: \`marquee up\`, $BUILD build, studio from \`services/studio/dist\` (\`npm run build\`), served by the gateway from memory with gzip.
- Goals (issue 12): first contentful paint < 1 s on loopback, initial JS < 250 kB gzipped, no request waterfalls on the dashboard.

| metric | value |
|---|---|
| initial JS (entry + modulepreloads), gzip -9 | $(field 'round(d["initial_js_gzip_bytes"]/1000, 1)') kB |
| initial CSS, gzip -9 | $(field 'round(d["initial_css_gzip_bytes"]/1000, 1)') kB |
| first contentful paint, \`/signin\`, cold, cache off | median $(field 'round(d["fcp_ms"]["median"])') ms (min $(field 'round(d["fcp_ms"]["min"])'), max $(field 'round(d["fcp_ms"]["max"])'), $(field 'd["fcp_ms"]["runs"]') runs) |
| dashboard API calls | $(field '", ".join(c["path"] for c in d["dashboard_api_calls"])') |
| dashboard waterfall (one of its calls starting after another's answer; the session check \`/auth/me\` every page makes first is not counted) | $(field '"yes" if d["dashboard_waterfall"] else "no"') |

Dashboard calls, start → end (ms after navigation start):

\`\`\`
$(field 'chr(10).join("%5d → %5d  %s" % (c["start"], c["end"], c["path"]) for c in d["dashboard_api_calls"])')
\`\`\`
MD
)
python3 - "$OUT" "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
parts = re.split(r"(?m)^(?=## )", text)
parts = [p for p in parts if not p.startswith("## Web studio")]
open(path, "w").write("".join(parts).rstrip() + "\n\n" + section.strip() + "\n")
PY
echo "wrote the Web studio section of $OUT"
