#!/usr/bin/env bash
# Benchmark: the gateway's request path against its floor. `GET /api/v1/auth/me` through
# the fleet (`marquee up`, embedded) and `GET /` of a bare actix-web server
# (services/gateway/examples/hello.rs), both up at once, in alternating wrk runs
# (ROUNDS pairs, RUN seconds each, 64 connections, 2 threads, all on the same cores).
# Prints each run and the medians; with LABEL set, writes them to
# docs/bench-data/request-path-LABEL.txt and rewrites the "Request path" table of
# docs/benchmarks.md from every such file.
#   LABEL=after bash scripts/bench-request-path.sh
#   MARQUEE_BIN=/tmp/before/marquee LABEL=before bash scripts/bench-request-path.sh
#   UP_ARGS=--tcp LABEL=tcp bash scripts/bench-request-path.sh   # services over loopback TCP
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
bash scripts/ensure-tools.sh wrk

ROUNDS=${ROUNDS:-5}
RUN=${RUN:-6}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
OUT=${OUT:-docs/benchmarks.md}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

BIN=$(marquee_binary)
cargo build --release --locked -p marquee-gateway --example hello
HELLO_BIN="$TARGET_DIR/release/examples/hello"

DATA=$(mktemp -d)
ROWS=$(mktemp)
cleanup() {
  [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null
  [ -n "${HELLO_PID:-}" ] && kill "$HELLO_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$DATA" "$ROWS"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
HELLO_PORT=$(free_port)
MARQUEE_DATA_DIR="$DATA" MARQUEE_MODELS_DIR=/nonexistent \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000 MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000 \
MARQUEE_LOG__FILTER=warn \
  "$BIN" up ${UP_ARGS:-} >"$DATA/fleet.log" 2>&1 &
FLEET_PID=$!
"$HELLO_BIN" "127.0.0.1:$HELLO_PORT" >/dev/null 2>&1 &
HELLO_PID=$!

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do curl -fs "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/readyz" >/dev/null || { cat "$DATA/fleet.log"; exit 1; }
curl -fs "http://127.0.0.1:$HELLO_PORT/" >/dev/null
TOKEN=$(bench_token "$URL")

# The CPU time (user + system, in clock ticks) the fleet's process has used so far.
fleet_ticks() { awk '{print $14 + $15}' "/proc/$FLEET_PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
measure() { # name url [header]
  local name=$1 url=$2; shift 2
  local line before after
  before=$(fleet_ticks)
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${RUN}s" -s scripts/bench/percentiles.lua "$@" "$url" | grep '^RESULT')
  after=$(fleet_ticks)
  # The fleet's CPU per request: steadier than requests/s when the cores are shared
  # (for hello's runs it is the fleet idling, near 0).
  echo "$name $line fleet_cpu_us=$(((after - before) * TICK_US))" | tee -a "$ROWS"
}
# Warm-up of both, untimed.
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/auth/me" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "http://127.0.0.1:$HELLO_PORT/" >/dev/null
for _ in $(seq 1 "$ROUNDS"); do
  measure hello "http://127.0.0.1:$HELLO_PORT/"
  measure me "$URL/api/v1/auth/me" -H "Authorization: Bearer $TOKEN"
done

SUMMARY=$(python3 - "$ROWS" "$BIN" <<'PY'
import statistics, sys
rows, binary = sys.argv[1:3]
runs = {"hello": [], "me": []}
for raw in open(rows):
    name, _, *pairs = raw.split()
    runs[name].append({k: float(v) for k, v in (p.split("=", 1) for p in pairs)})
med = lambda name, key: statistics.median(r[key] for r in runs[name])
errors = sum(r["non2xx"] + r["connect_errors"] + r["read_errors"] + r["timeouts"] for r in runs["me"])
ratio = med("me", "rps") / med("hello", "rps")
cpu_per_request = statistics.median(r["fleet_cpu_us"] / r["requests"] for r in runs["me"])
print(f"hello_rps={med('hello', 'rps'):.0f} me_rps={med('me', 'rps'):.0f} ratio={ratio:.3f} "
      f"me_cpu_us={cpu_per_request:.0f} "
      f"me_p50_ms={med('me', 'p50_us') / 1000:.2f} me_p99_ms={med('me', 'p99_us') / 1000:.2f} "
      f"hello_p99_ms={med('hello', 'p99_us') / 1000:.2f} me_errors={errors:.0f} "
      "ratios=" + ",".join(f"{m['rps'] / h['rps']:.3f}" for h, m in zip(runs["hello"], runs["me"])))
PY
)
echo "$SUMMARY"

if [ -n "${LABEL:-}" ]; then
  mkdir -p docs/bench-data
  echo "label=$LABEL date=$(date +%F) binary=$BIN $SUMMARY" \
    >"docs/bench-data/request-path-$LABEL.txt"
  python3 - "$OUT" "$ROUNDS" "$RUN" "$CONNECTIONS" "$THREADS" <<'PY'
import glob, re, sys
out, rounds, run, connections, threads = sys.argv[1:6]
rows = []
for path in sorted(glob.glob("docs/bench-data/request-path-*.txt")):
    f = dict(p.split("=", 1) for p in open(path).read().split())
    cpu = f"{f['me_cpu_us']} µs" if "me_cpu_us" in f else "—"
    rows.append(f"| {f['label']} | {f['date']} | {int(f['hello_rps']):,} | {int(f['me_rps']):,} | **{float(f['ratio']):.3f}** ({f['ratios'].replace(',', ', ')}) | {f['me_p50_ms']} ms | **{f['me_p99_ms']} ms** | {f['hello_p99_ms']} ms | {cpu} | {f['me_errors']} |")
table = f"""<!-- request-path table: written by scripts/bench-request-path.sh -->
`ROUNDS={rounds} RUN={run} bash scripts/bench-request-path.sh`: both servers up, alternating
`wrk -t{threads} -c{connections} -d{run}s` runs (hello, then /auth/me), medians of {rounds} each.
"fleet CPU" is the fleet process's user + system time per `/auth/me` request.

| label | date | hello req/s | /auth/me req/s | ratio (per pair) | /auth/me p50 | /auth/me p99 | hello p99 | fleet CPU per request | /auth/me errors |
|---|---|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n<!-- end request-path table -->"
text = open(out).read()
pattern = re.compile(r"<!-- request-path table.*?<!-- end request-path table -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: table, text, count=1)
else:
    text = text.rstrip() + "\n\n## Request path: /auth/me against a bare actix-web server\n\n" + table + "\n"
open(out, "w").write(text)
print(f"wrote the request-path table of {out}")
PY
fi
