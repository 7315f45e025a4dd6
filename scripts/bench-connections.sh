#!/usr/bin/env bash
# Benchmark: GET /api/v1/auth/me through the gateway at 100, 1,000 and 10,000 concurrent
# connections, on the embedded default (SQLite, in-process bus, in-memory limiter) and on
# PostgreSQL + RabbitMQ + Redis, with wrk (a Lua script adds p99.9 and the error counts).
# Writes the "Connections" section of docs/benchmarks.md.
#   bash scripts/bench-connections.sh
#   MARQUEE_BIN=path/to/marquee LEVELS="100 1000" DURATION=10s bash scripts/bench-connections.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
bash scripts/ensure-tools.sh wrk

LEVELS=${LEVELS:-"100 1000 10000"}
DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
OUT=${OUT:-docs/benchmarks.md}
PG=${MARQUEE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
AMQP=${MARQUEE_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
REDIS=${MARQUEE_TEST_REDIS_URL:-redis://127.0.0.1:6379}
KEK=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=

BIN=$(marquee_binary)
# 10,000 client sockets plus 10,000 server sockets in one machine.
ulimit -n "$(ulimit -Hn)"

ROWS=$(mktemp)
DATABASES=()
cleanup() {
  [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null; wait 2>/dev/null || true
  for db in "${DATABASES[@]}"; do psql "$PG" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "${DATA:-}" "$ROWS"
}
trap cleanup EXIT

# run_backend NAME [ENV=VALUE ...]: start the fleet with the extra environment, then one
# wrk run per level (after a warm-up), one table row each.
run_backend() {
  local name=$1; shift
  DATA=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  env "$@" \
    MARQUEE_DATA_DIR="$DATA" MARQUEE_MODELS_DIR=/nonexistent \
    MARQUEE_GATEWAY_ADDR="127.0.0.1:$port" MARQUEE_GATEWAY_ACCESS_LOG=false \
    MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000 MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000 \
    MARQUEE_LOG__FILTER=warn \
    "$BIN" up >"$DATA/fleet.log" 2>&1 &
  FLEET_PID=$!
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$url/readyz" >/dev/null || { cat "$DATA/fleet.log"; exit 1; }
  local token
  token=$(bench_token "$url")
  for level in $LEVELS; do
    wrk -t"$THREADS" -c"$level" -d5s --timeout 10s -H "Authorization: Bearer $token" "$url/api/v1/auth/me" >/dev/null 2>&1 || true
    local line rss
    line=$(wrk -t"$THREADS" -c"$level" -d"$DURATION" --timeout 10s -s scripts/bench/percentiles.lua \
      -H "Authorization: Bearer $token" "$url/api/v1/auth/me" | grep '^RESULT')
    rss=$(ps -o rss= -p "$FLEET_PID" | tr -d ' ')
    echo "$name $level $line rss_kb=$rss" | tee -a "$ROWS"
  done
  kill "$FLEET_PID"; wait "$FLEET_PID" 2>/dev/null || true; FLEET_PID=
  rm -rf "$DATA"
}

run_backend "embedded"
suffix=$(date +%s)
pg_env=()
for svc in auth content billing tagging campaign; do
  db="marquee_bench_${svc}_$suffix"; DATABASES+=("$db")
  psql "$PG" -qc "CREATE DATABASE \"$db\"" >/dev/null
  pg_env+=("MARQUEE_${svc^^}_DATABASE_URL=${PG%/*}/$db")
done
run_backend "postgres+rabbitmq+redis" "${pg_env[@]}" \
  MARQUEE_AMQP_URL="$AMQP" MARQUEE_BUS_EXCHANGE="marquee.bench.$suffix" \
  MARQUEE_GATEWAY_REDIS_URL="$REDIS" \
  MARQUEE_AUTH_KEK__KEY="$KEK" MARQUEE_CAMPAIGN_KEK__KEY="$KEK"

CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
python3 - "$OUT" "$ROWS" "$DURATION" "$THREADS" "$CPU" <<'PY'
import re, sys, time
out, rows, duration, threads, cpu = sys.argv[1:6]
lines = []
for raw in open(rows):
    backend, level, _, *pairs = raw.split()
    f = dict(p.split("=", 1) for p in pairs)
    ms = lambda us: f"{int(us) / 1000:.2f} ms"
    errors = sum(int(f[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    lines.append(f"| {backend} | {int(level):,} | {float(f['rps']):,.0f} | {ms(f['p50_us'])} | {ms(f['p99_us'])} | {ms(f['p999_us'])} | {errors} ({f['connect_errors']} connect, {f['timeouts']} timeouts) | {f['non2xx']} | {int(f['rss_kb']) // 1024} MB |")
section = f"""## Connections: 100, 1,000 and 10,000 (`scripts/bench-connections.sh`)

- Date: {time.strftime('%Y-%m-%d')}; machine: 2 cores ({cpu}), wrk on the same cores as the fleet.
- `marquee up` (release build), `GET /api/v1/auth/me` with one user's token; per level a 5 s
  warm-up, then `wrk -t{threads} -c<level> -d{duration} --timeout 10s -s scripts/bench/percentiles.lua`.
  Embedded: SQLite, in-process bus, in-memory rate limiter. The other: PostgreSQL,
  RabbitMQ, the rate limiter in Redis.

| backend | connections | requests/s | p50 | p99 | p99.9 | socket errors | non-2xx | fleet RSS after |
|---|---|---|---|---|---|---|---|---|
""" + "\n".join(lines) + "\n\n"
text = open(out).read()
pattern = re.compile(r"## Connections: .*?(?=^## )", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(section, text, count=1)
else:
    marker = "## Chaos:"
    text = text.replace(marker, section + marker, 1) if marker in text else text + "\n" + section
open(out, "w").write(text)
print(f"wrote the Connections section of {out}")
PY
# The rows behind it, for scripts/charts.py.
mkdir -p docs/bench-data && cp "$ROWS" docs/bench-data/connections.txt
