#!/usr/bin/env bash
# Benchmark: one 200 MiB upload through the whole fleet (gateway multipart → gRPC client
# stream → content service → object storage), sampling the fleet process's RSS every
# 100 ms. Memory must stay flat: the peak minus the idle RSS is what one upload costs.
# Appends the figures to docs/benchmarks.md.
#   SIZE_MIB=200 PROFILE=release bash scripts/bench-upload.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-200}
PORT=${PORT:-18081}
OUT=${OUT:-docs/benchmarks.md}
PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

if [ "$PROFILE" = release ]; then
  cargo build --release --locked --bin marquee
else
  cargo build --locked --bin marquee
fi
BIN="$TARGET_DIR/$([ "$PROFILE" = release ] && echo release || echo debug)/marquee"

DATA=$(mktemp -d)
cleanup() {
  [ -n "${SAMPLER_PID:-}" ] && kill "$SAMPLER_PID" 2>/dev/null
  [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$DATA"
}
trap cleanup EXIT

MARQUEE_DATA_DIR="$DATA" \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" \
MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_LOG__FILTER=warn \
  "$BIN" up >"$DATA/fleet.log" 2>&1 &
FLEET_PID=$!

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do
  curl -fs "$URL/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$URL/readyz" >/dev/null || { cat "$DATA/fleet.log"; exit 1; }

TOKEN=$(curl -fs "$URL/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery","display_name":"Bench"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# A text file (sniffed as text/plain, so processing does not read it back).
FILE="$DATA/upload.txt"
python3 - "$FILE" "$SIZE_MIB" <<'PY'
import sys
line = b"marquee upload benchmark line of text, repeated to fill the file.\n"
size = int(sys.argv[2]) * 1024 * 1024
with open(sys.argv[1], "wb") as f:
    written = 0
    while written < size:
        chunk = line * 16384
        f.write(chunk[: size - written])
        written += min(len(chunk), size - written)
PY

rss() { awk '/VmRSS/ {print $2}' "/proc/$FLEET_PID/status"; }
sleep 1
IDLE_KB=$(rss)
( while true; do rss >>"$DATA/rss.txt"; sleep 0.1; done ) &
SAMPLER_PID=$!

START=$(date +%s.%N)
STATUS=$(curl -s -o "$DATA/answer.json" -w '%{http_code}' "$URL/api/v1/assets" \
  -H "authorization: Bearer $TOKEN" -F title=bench -F "file=@$FILE")
END=$(date +%s.%N)
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=

[ "$STATUS" = 201 ] || { echo "upload answered $STATUS: $(cat "$DATA/answer.json")"; exit 1; }
PEAK_KB=$(sort -n "$DATA/rss.txt" | tail -1)
SECONDS_TAKEN=$(python3 -c "print(round($END - $START, 2))")
MIBS=$(python3 -c "print(round($SIZE_MIB / ($END - $START), 1))")
GROWTH_MIB=$(python3 -c "print(round(($PEAK_KB - $IDLE_KB) / 1024, 1))")
SAMPLES=$(wc -l <"$DATA/rss.txt")

REPORT="
## Upload: ${SIZE_MIB} MiB through the fleet ($(date -u +%Y-%m-%d), $PROFILE build)

\`bash scripts/bench-upload.sh\` — one multipart upload with curl to \`POST /api/v1/assets\`,
streamed gateway → gRPC → content → local object store; RSS of the \`marquee up\` process
sampled every 100 ms ($SAMPLES samples).

| figure | value |
|---|---|
| upload time | ${SECONDS_TAKEN} s (${MIBS} MiB/s) |
| RSS idle | $((IDLE_KB / 1024)) MiB |
| RSS peak during upload | $((PEAK_KB / 1024)) MiB |
| growth (peak − idle) | ${GROWTH_MIB} MiB for a ${SIZE_MIB} MiB file |
"
echo "$REPORT"
echo "$REPORT" >>"$OUT"
