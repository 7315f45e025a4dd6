#!/usr/bin/env bash
# Benchmark: GET /api/v1/auth/me through the gateway with wrk (64 connections), plus
# the embedded fleet's idle memory. Writes docs/benchmarks.md.
#   DURATION=30s CONNECTIONS=64 THREADS=2 bash scripts/bench.sh
#   MARQUEE_BIN=/path/to/marquee OUT=/tmp/before.md SKIP_TAGGING=1 SKIP_CAMPAIGN=1 \
#     SKIP_STUDIO=1 SKIP_CONNECTIONS=1 SKIP_WRITES=1 SKIP_REQUEST_PATH=1 SKIP_UPLOAD=1 bash scripts/bench.sh
#     (another binary, the me figures only); charts into docs/img/ at the end (scripts/charts.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
bash scripts/ensure-tools.sh wrk

DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
OUT=${OUT:-docs/benchmarks.md}

BIN=$(marquee_binary)

DATA=$(mktemp -d)
cleanup() { [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

# Budgets high enough that the limiter is exercised but never refuses the benchmark.
MARQUEE_DATA_DIR="$DATA" \
MARQUEE_MODELS_DIR=/nonexistent \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" \
MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000 \
MARQUEE_LOG__FILTER=warn \
  "$BIN" up >"$DATA/fleet.log" 2>&1 &
FLEET_PID=$!

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  curl -fs "$URL/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$URL/readyz" >/dev/null || { cat "$DATA/fleet.log"; exit 1; }

sleep 2
IDLE_RSS_KB=$(ps -o rss= -p "$FLEET_PID" | tr -d ' ')

TOKEN=$(bench_token "$URL")
curl -fs "$URL/api/v1/auth/me" -H "Authorization: Bearer $TOKEN" >/dev/null

# Warm-up, then the measured run.
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/auth/me" >/dev/null
COMMAND="wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -H 'Authorization: Bearer <token>' $URL/api/v1/auth/me"
RESULT=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL/api/v1/auth/me")
LOADED_RSS_KB=$(ps -o rss= -p "$FLEET_PID" | tr -d ' ')
echo "$RESULT"

RPS=$(echo "$RESULT" | awk '/Requests\/sec/ {print $2}')
P50=$(echo "$RESULT" | awk '$1=="50%" {print $2}')
P99=$(echo "$RESULT" | awk '$1=="99%" {print $2}')
NON2XX=$(echo "$RESULT" | awk '/Non-2xx/ {print $NF}')
# Other benchmarks (e.g. scripts/bench-upload.sh) keep their sections after ours.
REST=""
if [ -f "$OUT" ]; then REST=$(awk '/^## / {n++} n>=2' "$OUT"); fi
CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')

cat >"$OUT" <<MD
# Benchmarks

Figures are written by \`make bench\` (\`scripts/bench.sh\`); rerun it after changes that
touch the request path. Targets come from the foundation issue: ≥ 26,000 requests/s with
p99 ≤ 12 ms on \`GET /api/v1/auth/me\` through the gateway, and the whole fleet idle under
143 MB RSS (the Django backend it replaces: 1,310 requests/s, p99 60 ms).

## GET /api/v1/auth/me through the gateway

- Date: $(date -u +%Y-%m-%d)
- Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; wrk runs on the same cores as the fleet.
- Build: \`cargo build --release\` (thin LTO), \`marquee up\` (gateway + auth in one process, real gRPC between them, SQLite), log level warn, access log off, rate limiter on (in memory) with a budget the run cannot exhaust. Tagging runs without models here (\`MARQUEE_MODELS_DIR=/nonexistent\`), so the figures stay comparable with earlier runs; AI tagging has its own section.
- Command: \`$COMMAND\` after a 5 s warm-up.

| metric | value |
|---|---|
| requests/s | $RPS |
| latency p50 | $P50 |
| latency p99 | $P99 |
| non-2xx responses | ${NON2XX:-0} |
| fleet RSS idle (after start-up) | $((IDLE_RSS_KB / 1024)) MB |
| fleet RSS after the run | $((LOADED_RSS_KB / 1024)) MB |

Raw wrk output:

\`\`\`
$RESULT
\`\`\`
MD
if [ -n "$REST" ]; then printf '\n%s\n' "$REST" >>"$OUT"; fi
echo "wrote $OUT"
# This fleet is done: the benchmarks below start their own.
cleanup; trap - EXIT
if [ "${SKIP_TAGGING:-0}" != 1 ]; then bash scripts/bench-tagging.sh; fi
if [ "${SKIP_CAMPAIGN:-0}" != 1 ]; then bash scripts/bench-campaign.sh; fi
if [ "${SKIP_STUDIO:-0}" != 1 ]; then bash scripts/bench-studio.sh; fi
if [ "${SKIP_CONNECTIONS:-0}" != 1 ]; then MARQUEE_BIN="$BIN" bash scripts/bench-connections.sh; fi
if [ "${SKIP_WRITES:-0}" != 1 ]; then MARQUEE_BIN="$BIN" bash scripts/bench-writes.sh; fi
if [ "${SKIP_PROXY:-0}" != 1 ]; then MARQUEE_BIN="$BIN" bash scripts/bench-proxy.sh; fi
if [ "${SKIP_REQUEST_PATH:-0}" != 1 ]; then MARQUEE_BIN="$BIN" LABEL=${LABEL:-current} bash scripts/bench-request-path.sh; fi
if [ "${SKIP_UPLOAD:-0}" != 1 ]; then bash scripts/bench-upload.sh; fi
bash scripts/charts.sh
