#!/usr/bin/env bash
# Benchmark: one 1 GiB upload through the whole fleet (gateway multipart → gRPC client
# stream → content service → object storage), sampling the fleet process's RSS every
# 100 ms. Memory must stay flat: the peak minus the idle RSS is what one upload costs.
# Its peer, in the same run: the same bytes written to the same file system by dd, once
# through the page cache (as the object store writes) and once with fsync.
# Rewrites the "Upload" section of docs/benchmarks.md.
#   SIZE_MIB=1024 PROFILE=release bash scripts/bench-upload.sh
#   MARQUEE_BIN=/path/to/marquee bash scripts/bench-upload.sh   # a binary built elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
PORT=${PORT:-18081}
OUT=${OUT:-docs/benchmarks.md}
PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

source scripts/bench/lib.sh
if [ "$PROFILE" = release ]; then
  BIN=$(marquee_binary)
else
  cargo build --locked --bin marquee
  BIN="$TARGET_DIR/debug/marquee"
fi

DATA=$(mktemp -d)
cleanup() {
  [ -n "${SAMPLER_PID:-}" ] && kill "$SAMPLER_PID" 2>/dev/null
  [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$DATA"
}
trap cleanup EXIT

# The default limits stop at 1 GiB of body and the free plan's storage: raised so the
# file itself, not a limit, is what is measured.
MARQUEE_DATA_DIR="$DATA" \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" \
MARQUEE_GATEWAY_UPLOAD_LIMIT_BYTES=$(( (SIZE_MIB + 16) * 1024 * 1024 )) \
MARQUEE_CONTENT_MAX_UPLOAD_BYTES=$(( (SIZE_MIB + 16) * 1024 * 1024 )) \
MARQUEE_BILLING_PLANS__FREE__LIMITS__STORAGE_BYTES=$(( SIZE_MIB * 4 * 1024 * 1024 )) \
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

# The peer: the same bytes onto the same file system, without and with fsync.
sync
dd_seconds() { # extra dd flags
  local start end
  start=$(date +%s.%N)
  dd if="$FILE" of="$DATA/raw.bin" bs=1M "$@" status=none
  end=$(date +%s.%N)
  rm -f "$DATA/raw.bin"
  python3 -c "print(round($end - $start, 2))"
}
DD_CACHE=$(dd_seconds)
DD_FSYNC=$(dd_seconds conv=fsync)
SECONDS_TAKEN=$(python3 -c "print(round($END - $START, 2))")
MIBS=$(python3 -c "print(round($SIZE_MIB / ($END - $START), 1))")
DD_CACHE_MIBS=$(python3 -c "print(round($SIZE_MIB / $DD_CACHE, 1))")
DD_FSYNC_MIBS=$(python3 -c "print(round($SIZE_MIB / $DD_FSYNC, 1))")
RATIO_CACHE=$(python3 -c "print(round($MIBS / $DD_CACHE_MIBS, 2))")
RATIO_FSYNC=$(python3 -c "print(round($MIBS / $DD_FSYNC_MIBS, 2))")
GROWTH_MIB=$(python3 -c "print(round(($PEAK_KB - $IDLE_KB) / 1024, 1))")
SAMPLES=$(wc -l <"$DATA/rss.txt")

REPORT="## Upload: ${SIZE_MIB} MiB through the fleet ($(date -u +%Y-%m-%d), $PROFILE build)

\`bash scripts/bench-upload.sh\` — one multipart upload with curl to \`POST /api/v1/assets\`,
streamed gateway → gRPC → content → local object store; RSS of the \`marquee up\` process
sampled every 100 ms ($SAMPLES samples). Peer in the same run: \`dd if=<file> of=<same fs>
bs=1M\`, without and with \`conv=fsync\`. Machine: $(nproc) cores, $(df -h "$DATA" | awk 'NR==2 {print $1}') ; curl on the same cores.

| figure | value |
|---|---|
| upload time | ${SECONDS_TAKEN} s (${MIBS} MiB/s) |
| dd, page cache | ${DD_CACHE} s (${DD_CACHE_MIBS} MiB/s); upload / dd = **${RATIO_CACHE}** |
| dd, fsync | ${DD_FSYNC} s (${DD_FSYNC_MIBS} MiB/s); upload / dd = **${RATIO_FSYNC}** |
| RSS idle | $((IDLE_KB / 1024)) MiB |
| RSS peak during upload | $((PEAK_KB / 1024)) MiB |
| growth (peak − idle) | ${GROWTH_MIB} MiB for a ${SIZE_MIB} MiB file |
"
echo "$REPORT"
python3 - "$OUT" "$REPORT" <<'PY'
import re, sys
out, report = sys.argv[1], sys.argv[2].strip() + "\n\n"
text = open(out).read()
pattern = re.compile(r"^## Upload: .*?(?=^## |\Z)", re.S | re.M)
text = pattern.sub(lambda _: report, text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + report
open(out, "w").write(text)
PY
