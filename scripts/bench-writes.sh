#!/usr/bin/env bash
# Benchmark: writes through the gateway, on the embedded default (SQLite, in-process bus,
# in-memory limiter) and on PostgreSQL + RabbitMQ + Redis:
#   1. an authenticated write mix with wrk (scripts/bench/writes.lua: comment, follow,
#      profile edit, unfollow, asset edit, comment delete) at WRITE_CONNECTIONS connections;
#   2. POST /api/v1/auth/login (argon2id) for one account with wrk at LOGIN_CONNECTIONS;
#   3. upload → asset.processed → asset.tagged latency with the local models: C uploaders
#      share N uploads, each polled until tagged (scripts/bench/writes.py pipeline).
# Writes the "## Writes, logins and the upload pipeline" section of docs/benchmarks.md
# (replaced where it stands, else inserted before "## Chaos:") and the rows behind it to
# docs/bench-data/writes.txt. Needs `make models` (models/manifest.json).
#   bash scripts/bench-writes.sh
#   MARQUEE_BIN=path/to/marquee DURATION=3s N=10 BACKENDS=embedded bash scripts/bench-writes.sh  (smoke)
# Knobs (environment): DURATION (measured wrk runs, 15s), WARMUP (wrk warm-up before each,
# 5s), WRITE_CONNECTIONS (write mix, 100), LOGIN_CONNECTIONS (8), LOGIN_DURATION (DURATION),
# THREADS (wrk threads, 2), N (uploads, 100), C (concurrent uploaders, 8), KIND (uploads:
# mixed, text or image; mixed), SEEDS (assets commented and edited, 4), FOLLOW_TARGETS
# (creators followed, 4), BACKENDS ("embedded postgres"), OUT (docs/benchmarks.md),
# ROWS_OUT (docs/bench-data/writes.txt), MARQUEE_BIN (the binary measured).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/bench/lib.sh
bash scripts/ensure-tools.sh wrk

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-5s}
WRITE_CONNECTIONS=${WRITE_CONNECTIONS:-100}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-8}
LOGIN_DURATION=${LOGIN_DURATION:-$DURATION}
THREADS=${THREADS:-2}
N=${N:-100}
C=${C:-8}
KIND=${KIND:-mixed}
SEEDS=${SEEDS:-4}
FOLLOW_TARGETS=${FOLLOW_TARGETS:-4}
BACKENDS=${BACKENDS:-"embedded postgres"}
OUT=${OUT:-docs/benchmarks.md}
ROWS_OUT=${ROWS_OUT:-docs/bench-data/writes.txt}
PG=${MARQUEE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
AMQP=${MARQUEE_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
REDIS=${MARQUEE_TEST_REDIS_URL:-redis://127.0.0.1:6379}
KEK=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
ADMIN_EMAIL=bench-admin@example.com
ADMIN_PASSWORD="bench admin password"
MODELS="$ROOT/models"

[ -f "$MODELS/manifest.json" ] || { echo "bench-writes: no models in $MODELS: run \`make models\`" >&2; exit 1; }
case "$KIND" in mixed | text | image) ;; *) echo "bench-writes: KIND must be mixed, text or image" >&2; exit 2 ;; esac

BIN=$(marquee_binary)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

WORK=$(mktemp -d)
ROWS="$WORK/rows.txt"
: >"$ROWS"
DATABASES=()
FLEET_PID=
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -s "$WORK/fleet.log" ]; then
    log "failed ($rc); the end of the fleet's log:"
    tail -30 "$WORK/fleet.log" >&2
  fi
  if [ -n "$FLEET_PID" ]; then kill "$FLEET_PID" 2>/dev/null || true; wait "$FLEET_PID" 2>/dev/null || true; fi
  for db in "${DATABASES[@]}"; do psql "$PG" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench-writes: $*" >&2; }

# Limits that would refuse the benchmark, raised (the rate limiter stays on). One line
# each: NAME=VALUE|why, shown in the section.
RAISED=(
  "MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000|per-user token bucket (default 1,200/min, burst 200): one user makes every write"
  "MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000|"
  "MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE=1000000000|per-IP budget of the anonymous routes (default 60/min, burst 20): every login comes from 127.0.0.1"
  "MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_BURST=1000000000|"
  "MARQUEE_CONTENT_COMMENTS_PER_WINDOW=0|content's per-user comment limit (default 10 per 60 s; 0 = off)"
  "MARQUEE_CONTENT_FOLLOWS_PER_WINDOW=0|content's per-user limit of new follows (default 30 per 60 s; 0 = off)"
  "MARQUEE_BILLING_PLANS__FREE__LIMITS__ASSETS=1000000|the free plan's asset quota (default 100): the pipeline uploads N + 2, the write mix SEEDS"
  "MARQUEE_BILLING_PLANS__FREE__LIMITS__STORAGE_BYTES=100000000000|the free plan's storage quota (default 1 GiB)"
)
LIMIT_ENV=()
for line in "${RAISED[@]}"; do LIMIT_ENV+=("${line%%|*}"); done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_fleet BACKEND MODELS_DIR: `marquee up` on a fresh data directory (and, for
# postgres, fresh databases and a bus exchange of its own); sets FLEET_PID, PORT, URL.
start_fleet() {
  local backend=$1 models=$2 extra=()
  if [ "$backend" = postgres ]; then
    local suffix db svc
    suffix="$(date +%s)_$RANDOM"
    for svc in auth content billing tagging campaign; do
      db="marquee_bench_writes_${svc}_$suffix"; DATABASES+=("$db")
      psql "$PG" -qc "CREATE DATABASE \"$db\"" >/dev/null
      extra+=("MARQUEE_${svc^^}_DATABASE_URL=${PG%/*}/$db")
    done
    extra+=(MARQUEE_AMQP_URL="$AMQP" MARQUEE_BUS_EXCHANGE="marquee.bench.writes.$suffix"
      MARQUEE_GATEWAY_REDIS_URL="$REDIS"
      MARQUEE_GATEWAY_RATE_LIMIT__REDIS_KEY_PREFIX="marquee:bench-writes:$suffix"
      MARQUEE_AUTH_KEK__KEY="$KEK" MARQUEE_CAMPAIGN_KEK__KEY="$KEK")
  fi
  rm -rf "$WORK/data" && mkdir "$WORK/data"
  PORT=$(free_port)
  URL="http://127.0.0.1:$PORT"
  env -u MARQUEE_GEMINI_API_KEY "${extra[@]}" "${LIMIT_ENV[@]}" \
    MARQUEE_DATA_DIR="$WORK/data" MARQUEE_MODELS_DIR="$models" \
    MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" MARQUEE_GATEWAY_ACCESS_LOG=false \
    MARQUEE_BOOTSTRAP_ADMIN_EMAIL="$ADMIN_EMAIL" MARQUEE_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    MARQUEE_LOG__FILTER=warn \
    "$BIN" up >"$WORK/fleet.log" 2>&1 &
  FLEET_PID=$!
  local _
  for _ in $(seq 1 600); do
    curl -fs "$URL/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$FLEET_PID" 2>/dev/null || break
    sleep 0.2
  done
  log "the fleet ($backend) never became ready; its log:"
  cat "$WORK/fleet.log" >&2
  exit 1
}

stop_fleet() {
  kill "$FLEET_PID" 2>/dev/null || true
  wait "$FLEET_PID" 2>/dev/null || true
  FLEET_PID=
  if grep -qE '\bERROR\b|panicked' "$WORK/fleet.log"; then
    log "the fleet logged errors (first 20 lines):"
    grep -E '\bERROR\b|panicked' "$WORK/fleet.log" | head -20 >&2
  fi
}

# value KEY LINE: the value of KEY=... in LINE.
value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

run_backend() {
  local backend=$1 name out line rss
  name=embedded
  if [ "$backend" = postgres ]; then name="postgres+rabbitmq+redis"; fi

  # --- 1 and 2: write mix and logins, without models ------------------------------------
  log "$name: fleet without models on writes and logins"
  start_fleet "$backend" /nonexistent
  local W_TOKEN W_ASSETS W_TARGETS W_LOGIN_EMAIL W_LOGIN_PASSWORD setup
  setup=$(python3 scripts/bench/writes.py setup "$PORT" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$SEEDS" "$FOLLOW_TARGETS")
  eval "$setup"

  log "$name: logins, $LOGIN_CONNECTIONS connections, $WARMUP warm-up + $LOGIN_DURATION"
  wrk -t"$THREADS" -c"$LOGIN_CONNECTIONS" -d"$WARMUP" --timeout 10s -s scripts/bench/login.lua \
    "$URL" -- "$W_LOGIN_EMAIL" "$W_LOGIN_PASSWORD" >/dev/null
  out=$(wrk -t"$THREADS" -c"$LOGIN_CONNECTIONS" -d"$LOGIN_DURATION" --timeout 10s -s scripts/bench/login.lua \
    "$URL" -- "$W_LOGIN_EMAIL" "$W_LOGIN_PASSWORD")
  line=$(grep '^RESULT' <<<"$out")
  echo "$name logins $LOGIN_CONNECTIONS $line" | tee -a "$ROWS"

  log "$name: write mix, $WRITE_CONNECTIONS connections, $WARMUP warm-up + $DURATION"
  wrk -t"$THREADS" -c"$WRITE_CONNECTIONS" -d"$WARMUP" --timeout 10s -s scripts/bench/writes.lua \
    "$URL" -- "$W_TOKEN" "$W_ASSETS" "$W_TARGETS" warmup >/dev/null
  out=$(wrk -t"$THREADS" -c"$WRITE_CONNECTIONS" -d"$DURATION" --timeout 10s -s scripts/bench/writes.lua \
    "$URL" -- "$W_TOKEN" "$W_ASSETS" "$W_TARGETS" measured)
  rss=$(ps -o rss= -p "$FLEET_PID" | tr -d ' ')
  line=$(grep '^RESULT' <<<"$out")
  local mix status problems
  mix=$(sed -n 's/^MIX //p' <<<"$out"); status=$(sed -n 's/^STATUS //p' <<<"$out")
  problems=$(sed -n 's/^PROBLEMS //p' <<<"$out")
  echo "$name writes $WRITE_CONNECTIONS $line mix=${mix//=/:} status=${status//=/:} problems=${problems//=/:} rss_kb=$rss" | tee -a "$ROWS"
  if [ "$(value non2xx "$line")" != 0 ]; then log "$name: non-2xx answers in the write mix: $problems"; fi
  stop_fleet

  # --- 3: the upload pipeline, with the local models ------------------------------------
  log "$name: fleet with the models, $N uploads ($KIND) from $C uploaders"
  start_fleet "$backend" "$MODELS"
  local status_rc=0
  python3 scripts/bench/writes.py pipeline "$PORT" "$N" "$C" "$KIND" "$WORK/pipeline-$backend.json" \
    >"$WORK/pipeline.txt" || status_rc=$?
  sed "s/^/$name /" "$WORK/pipeline.txt" | tee -a "$ROWS"
  stop_fleet
  [ "$status_rc" = 0 ] || { log "$name: the upload pipeline failed"; exit 1; }
}

for backend in $BACKENDS; do
  case "$backend" in embedded | postgres) run_backend "$backend" ;; *) log "unknown backend $backend"; exit 2 ;; esac
done

# --- The section ---------------------------------------------------------------------------
CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
COMMON_ENV="MARQUEE_DATA_DIR=\$DATA MARQUEE_GATEWAY_ADDR=127.0.0.1:\$PORT MARQUEE_GATEWAY_ACCESS_LOG=false MARQUEE_LOG__FILTER=warn MARQUEE_BOOTSTRAP_ADMIN_EMAIL=$ADMIN_EMAIL MARQUEE_BOOTSTRAP_ADMIN_PASSWORD='$ADMIN_PASSWORD' ${LIMIT_ENV[*]}"
SHOWN_BIN=${BIN/#"$HOME"/\$HOME}
COMMANDS=(
  "# the fleet (write mix and logins: MARQUEE_MODELS_DIR=/nonexistent; the pipeline: MARQUEE_MODELS_DIR=models)"
  "env -u MARQUEE_GEMINI_API_KEY $COMMON_ENV MARQUEE_MODELS_DIR=/nonexistent $SHOWN_BIN up"
  "# postgres+rabbitmq+redis adds (fresh databases and exchange per start):"
  "#   MARQUEE_{AUTH,CONTENT,BILLING,TAGGING,CAMPAIGN}_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> MARQUEE_AMQP_URL=$AMQP MARQUEE_BUS_EXCHANGE=<exchange> MARQUEE_GATEWAY_REDIS_URL=$REDIS MARQUEE_GATEWAY_RATE_LIMIT__REDIS_KEY_PREFIX=<prefix> MARQUEE_AUTH_KEK__KEY=<key> MARQUEE_CAMPAIGN_KEK__KEY=<key>"
  "python3 scripts/bench/writes.py setup \$PORT $ADMIN_EMAIL '$ADMIN_PASSWORD' $SEEDS $FOLLOW_TARGETS"
  "wrk -t$THREADS -c$LOGIN_CONNECTIONS -d$WARMUP --timeout 10s -s scripts/bench/login.lua \$URL -- bench-login@example.com 'benchmark password' # warm-up"
  "wrk -t$THREADS -c$LOGIN_CONNECTIONS -d$LOGIN_DURATION --timeout 10s -s scripts/bench/login.lua \$URL -- bench-login@example.com 'benchmark password'"
  "wrk -t$THREADS -c$WRITE_CONNECTIONS -d$WARMUP --timeout 10s -s scripts/bench/writes.lua \$URL -- <token> <assets> <creators> warmup"
  "wrk -t$THREADS -c$WRITE_CONNECTIONS -d$DURATION --timeout 10s -s scripts/bench/writes.lua \$URL -- <token> <assets> <creators> measured"
  "python3 scripts/bench/writes.py pipeline \$PORT $N $C $KIND \$WORK/pipeline.json"
)
export B_DATE B_MACHINE B_LOAD B_BINARY B_KNOBS B_SMOKE B_CONNECTIONS B_LOGIN_CONNECTIONS B_N B_C B_KIND B_SEEDS B_TARGETS
B_DATE=$(date -u +%Y-%m-%d)
B_MACHINE="$(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
B_LOAD=$LOAD_AT_START
B_BINARY=$SHOWN_BIN
B_KNOBS="DURATION=$DURATION WARMUP=$WARMUP WRITE_CONNECTIONS=$WRITE_CONNECTIONS LOGIN_CONNECTIONS=$LOGIN_CONNECTIONS LOGIN_DURATION=$LOGIN_DURATION THREADS=$THREADS N=$N C=$C KIND=$KIND SEEDS=$SEEDS FOLLOW_TARGETS=$FOLLOW_TARGETS"
B_SMOKE=$(python3 -c '
import re, sys
def secs(d):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", d)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)] if m else 0
print(int(secs(sys.argv[1]) < 15 or int(sys.argv[2]) < 100))' "$DURATION" "$N")
B_CONNECTIONS=$WRITE_CONNECTIONS B_LOGIN_CONNECTIONS=$LOGIN_CONNECTIONS B_N=$N B_C=$C B_KIND=$KIND
B_SEEDS=$SEEDS B_TARGETS=$FOLLOW_TARGETS
printf '%s\n' "${RAISED[@]}" >"$WORK/raised.txt"
printf '%s\n' "${COMMANDS[@]}" >"$WORK/commands.txt"
python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
e = os.environ
raised = []
for line in open(f"{work}/raised.txt"):
    setting, why = line.rstrip("\n").split("|", 1)
    if why:
        raised.append([f"`{setting}`", why])
    else:  # the burst that goes with the line above
        raised[-1][0] += f", `{setting}`"
kinds = {"mixed": "image and text alternately: the fixture photos of services/tagging/tests/fixtures/images, "
                  "each made distinct with a JPEG comment, and text files from services/tagging/data/eval/items.jsonl",
         "text": "text files from services/tagging/data/eval/items.jsonl",
         "image": "the fixture photos of services/tagging/tests/fixtures/images, each made distinct with a JPEG comment"}
json.dump({
    "date": e["B_DATE"], "machine": e["B_MACHINE"], "load": e["B_LOAD"], "binary": e["B_BINARY"],
    "knobs": e["B_KNOBS"], "smoke": e["B_SMOKE"] == "1", "connections": int(e["B_CONNECTIONS"]),
    "login_connections": int(e["B_LOGIN_CONNECTIONS"]), "n": int(e["B_N"]), "c": int(e["B_C"]),
    "kind": e["B_KIND"], "kind_text": kinds[e["B_KIND"]], "seeds": int(e["B_SEEDS"]),
    "targets": int(e["B_TARGETS"]), "raised": raised,
    "commands": [l.rstrip("\n") for l in open(f"{work}/commands.txt") if l.strip()],
}, open(f"{work}/settings.json", "w"), indent=1)
PY
python3 scripts/bench/writes.py report "$OUT" "$ROWS" "$WORK/settings.json"
# The rows behind it, for scripts/charts.py.
mkdir -p "$(dirname "$ROWS_OUT")" && cp "$ROWS" "$ROWS_OUT"
log "rows in $ROWS_OUT"
