#!/usr/bin/env bash
# Benchmark: the gateway beside nginx in front of the same backend, in the same fleet run.
# The backend is the auth service's gRPC port and its GetMe handler:
#   direct   h2load → auth (gRPC GetMe; no proxy: the floor)
#   nginx    h2load → nginx (grpc_pass) → auth (the same gRPC call, proxied only)
#   gateway  h2load (HTTP/1.1) → gateway GET /api/v1/auth/me → auth (gRPC GetMe)
# h2load drives all three (the same load generator, connections, duration; one request in
# flight per connection), the runs alternate in rotating order, ROUNDS times. The direct
# and nginx calls carry a service identity the script signs itself (a "bench" caller auth
# is told to trust). Writes the "Gateway against nginx" section of docs/benchmarks.md and
# the rows to docs/bench-data/proxy.txt.
#   bash scripts/bench-proxy.sh
#   MARQUEE_BIN=path/to/marquee DURATION=10s ROUNDS=1 bash scripts/bench-proxy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
bash scripts/ensure-tools.sh nginx h2load

DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
OUT=${OUT:-docs/benchmarks.md}
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
GETME_PATH=/marquee.auth.v1.AuthService/GetMe

BIN=$(marquee_binary)

# Python with `cryptography`, to sign the service identity: this python3 if it has it,
# else a venv under ~/.cache.
PYTHON=python3
if ! python3 -c 'import cryptography' 2>/dev/null; then
  venv="$HOME/.cache/marquee-bench-venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -c 'import cryptography' 2>/dev/null || "$venv/bin/pip" install -q cryptography
  PYTHON="$venv/bin/python"
fi

# DURATION (h2load's units: 30, 30s, 2m, 1h) in whole seconds, at least 1.
to_secs() {
  case "$1" in
    *ms) echo 1 ;;
    *h) echo $(("${1%h}" * 3600)) ;;
    *m) echo $(("${1%m}" * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d)
ROWS="$WORK/rows.txt"
: >"$ROWS"
cleanup() {
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null
  [ -n "${FLEET_PID:-}" ] && kill "$FLEET_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The "bench" caller's key; auth trusts its public key (added to the callers the fleet
# wires: the gateway and content keep theirs).
read -r BENCH_SEED BENCH_PUBLIC < <("$PYTHON" scripts/bench/service_identity.py keypair)

PORT=$(free_port)
ADMIN_PORT=$(free_port)
MARQUEE_DATA_DIR="$WORK/data" MARQUEE_MODELS_DIR=/nonexistent \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000 MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000 \
MARQUEE_AUTH_IDENTITY__TRUSTED__BENCH="$BENCH_PUBLIC" \
MARQUEE_AUTH_ADMIN_ADDR="127.0.0.1:$ADMIN_PORT" \
MARQUEE_LOG__FILTER=warn \
  "$BIN" up >"$WORK/fleet.log" 2>&1 &
FLEET_PID=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do curl -fs "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/readyz" >/dev/null || { cat "$WORK/fleet.log"; exit 1; }

TOKEN=$(bench_token "$URL")
curl -fs "$URL/api/v1/auth/me" -H "Authorization: Bearer $TOKEN" >/dev/null

# A gRPC unary request: the 5-byte frame header (not compressed, length 0) of an empty
# GetMeRequest.
printf '\0\0\0\0\0' >"$WORK/getme.bin"
# identity LIFETIME_SECS: an identity for auth, on behalf of the benchmark user.
identity() { "$PYTHON" scripts/bench/service_identity.py mint "$BENCH_SEED" bench auth "$1" "$TOKEN"; }
# grpc_status BASE_URL: the grpc-status of one GetMe call (headers and trailers dumped).
grpc_status() {
  curl -s --http2-prior-knowledge --max-time 5 -D - -o "$WORK/getme.out" \
    -H 'content-type: application/grpc' -H 'te: trailers' -H "x-marquee-identity: $(identity 120)" \
    --data-binary @"$WORK/getme.bin" "$1$GETME_PATH" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="grpc-status" {print $2; exit}'
}

# `marquee up` binds the services to random loopback ports and logs them only at info:
# auth is the one of the fleet's listeners that answers the bench caller's GetMe (the
# other services do not trust it).
AUTH_PORT=
for p in $(ss -ltnpH | awk -v pid="pid=$FLEET_PID," 'index($0, pid) {n = split($4, a, ":"); print a[n]}'); do
  if [ "$p" != "$PORT" ] && [ "$p" != "$ADMIN_PORT" ] && [ "$(grpc_status "http://127.0.0.1:$p")" = 0 ]; then
    AUTH_PORT=$p
    break
  fi
done
[ -n "$AUTH_PORT" ] || { echo "no listener of the fleet answers GetMe" >&2; cat "$WORK/fleet.log"; exit 1; }
grep -q 'bench@example.com' "$WORK/getme.out" || { echo "GetMe did not answer the benchmark user" >&2; exit 1; }

NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream auth_grpc {
    server 127.0.0.1:$AUTH_PORT;
    keepalive $CONNECTIONS;
    keepalive_requests 1000000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT http2;
    keepalive_requests 1000000000;
    location / {
      grpc_pass grpc://auth_grpc;
    }
  }
}
NGINX
"$NGINX_BIN" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 1 50); do
  [ "$(grpc_status "http://127.0.0.1:$NGINX_PORT" 2>/dev/null)" = 0 ] && break
  sleep 0.1
done
[ "$(grpc_status "http://127.0.0.1:$NGINX_PORT")" = 0 ] || { cat "$WORK/nginx/error.log"; exit 1; }

# GetMe calls auth has answered so far, by status code ("Ok=123 Unauthenticated=4").
getme_counts() {
  curl -fs "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk -v m="$GETME_PATH" '/^grpc_server_requests_total\{/ && index($0, "\"" m "\"") {
      match($0, /code="[^"]*"/); printf "%s=%s ", substr($0, RSTART + 6, RLENGTH - 7), $NF }'
}
getme_counts | grep -q 'Ok=' || { echo "auth's /metrics has no GetMe counter" >&2; exit 1; }

LIFETIME=$(($(to_secs "$DURATION") + 120))
# h2load_target TARGET DURATION [LOG]: one h2load run against TARGET; prints its output.
h2load_target() {
  local target=$1 duration=$2 log=${3:-}
  local args=(-c"$CONNECTIONS" -t"$THREADS" -m1 -D"$duration")
  [ -n "$log" ] && args+=(--log-file="$log")
  case "$target" in
    gateway) h2load "${args[@]}" -p http/1.1 -H "authorization: Bearer $TOKEN" "$URL/api/v1/auth/me" ;;
    nginx | direct)
      local port=$AUTH_PORT
      [ "$target" = nginx ] && port=$NGINX_PORT
      # A fresh identity per run, valid for the run and two minutes (auth verifies it
      # once and caches it, as it does the gateway's).
      h2load "${args[@]}" -d "$WORK/getme.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
        -H "x-marquee-identity: $(identity "$LIFETIME")" "http://127.0.0.1:$port$GETME_PATH" ;;
  esac
}

TARGETS=(nginx gateway direct)
for target in "${TARGETS[@]}"; do h2load_target "$target" "$WARMUP" >/dev/null; done
for round in $(seq 1 "$ROUNDS"); do
  # Rotate the order each round: no path always runs first or right after another.
  for i in 0 1 2; do
    target=${TARGETS[$(((i + round - 1) % 3))]}
    before=$(getme_counts)
    h2load_target "$target" "$DURATION" "$WORK/$target.$round.log" >"$WORK/$target.$round.out"
    after=$(getme_counts)
    python3 - "$target" "$round" "$WORK/$target.$round.out" "$WORK/$target.$round.log" "$before" "$after" <<'PY' | tee -a "$ROWS"
import re, sys
target, round_, out, log, before, after = sys.argv[1:7]
text = open(out).read()
rps = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", text).group(1)
req = dict(zip(["total", "started", "done", "succeeded", "failed", "errored", "timeout"],
               re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                         r"(\d+) failed, (\d+) errored, (\d+) timeout", text).groups()))
codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text).groups()
durations = sorted(int(line.split("\t")[2]) for line in open(log) if line.strip())
pct = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))] if durations else 0
counts = lambda s: {k: int(float(v)) for k, v in (p.split("=") for p in s.split())}
b, a = counts(before), counts(after)
delta = {k: a[k] - b.get(k, 0) for k in a}
grpc_ok = delta.get("Ok", 0)
grpc_errors = sum(v for k, v in delta.items() if k != "Ok")
other = ",".join(f"{k}:{v}" for k, v in sorted(delta.items()) if k != "Ok" and v) or "-"
print(f"{target} {round_} RESULT rps={rps} p50_us={pct(0.50)} p99_us={pct(0.99)} p999_us={pct(0.999)} "
      f"requests={req['done']} succeeded={req['succeeded']} failed={req['failed']} "
      f"errored={req['errored']} timeouts={req['timeout']} non2xx={sum(map(int, codes[1:]))} "
      f"auth_getme_ok={grpc_ok} auth_getme_errors={grpc_errors} auth_getme_other={other}")
PY
  done
done
if [ -s "$WORK/nginx/error.log" ]; then
  echo "nginx's error log ($(wc -l <"$WORK/nginx/error.log") lines), the last ones:" >&2
  tail -n 5 "$WORK/nginx/error.log" >&2
fi
RSS_KB=$(ps -o rss= -p "$FLEET_PID" | tr -d ' ')
NGINX_RSS_KB=$(ps -o rss= --ppid "$NGINX_PID" -p "$NGINX_PID" | awk '{s += $1} END {print s}')
cp "$WORK/nginx.conf" "$WORK/nginx.conf.shown"
sed -i "s#$WORK#<tmp>#g; s#127.0.0.1:$AUTH_PORT#127.0.0.1:<auth gRPC port>#; s#127.0.0.1:$NGINX_PORT#127.0.0.1:<port>#" "$WORK/nginx.conf.shown"

CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
NGINX_VERSION=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //')
H2LOAD_VERSION=$(h2load --version | awk '{print $NF}')
python3 - "$OUT" "$ROWS" "$WORK/nginx.conf.shown" "$DURATION" "$WARMUP" "$ROUNDS" "$CONNECTIONS" "$THREADS" \
  "$CPU" "$(nproc)" "$NGINX_VERSION" "$H2LOAD_VERSION" "$RSS_KB" "$NGINX_RSS_KB" <<'PY'
import re, statistics, sys, time
(out, rows, conf, duration, warmup, rounds, conns, threads, cpu, cores,
 nginx_version, h2load_version, rss_kb, nginx_rss_kb) = sys.argv[1:15]
runs = []
for raw in open(rows):
    target, round_, _, *pairs = raw.split()
    f = dict(p.split("=", 1) for p in pairs)
    runs.append((target, int(round_), {k: v if k == "auth_getme_other" else float(v) for k, v in f.items()}))
ms = lambda us: f"{us / 1000:.2f} ms"
errors = lambda f: int(f["failed"] + f["errored"] + f["timeouts"] + f["non2xx"])
names = {
    "direct": "h2load → auth gRPC (no proxy)",
    "nginx": "h2load → nginx `grpc_pass` → auth gRPC",
    "gateway": "h2load (HTTP/1.1) → gateway `/api/v1/auth/me` → auth gRPC",
}
med = {}
for target in ("direct", "nginx", "gateway"):
    fs = [f for t, _, f in runs if t == target]
    med[target] = {k: statistics.median(f[k] for f in fs) for k in ("rps", "p50_us", "p99_us", "p999_us")}
    med[target]["errors"] = sum(errors(f) for f in fs)
    med[target]["not_ok"] = sum(int(f["auth_getme_errors"]) for f in fs)
ratio = med["gateway"]["rps"] / med["nginx"]["rps"]
summary = "\n".join(
    f"| {names[t]} | {m['rps']:,.0f} | {ms(m['p50_us'])} | {ms(m['p99_us'])} | {ms(m['p999_us'])} | {m['errors']} | {m['not_ok']} "
    f"| {m['rps'] / med['nginx']['rps']:.2f} |"
    for t, m in med.items()
)
per_round = []
for r in sorted({r for _, r, _ in runs}):
    f = {t: fs for t, rr, fs in runs if rr == r}
    per_round.append(f"{f['gateway']['rps'] / f['nginx']['rps']:.2f}")
detail = "\n".join(
    f"| {r} | {t} | {f['rps']:,.0f} | {ms(f['p50_us'])} | {ms(f['p99_us'])} | {int(f['requests']):,} "
    f"| {errors(f)} | {int(f['auth_getme_ok']):,} | {f['auth_getme_other'].replace(',', ', ')} |"
    for t, r, f in runs
)
nginx_conf = open(conf).read().strip()
section = f"""## Gateway against nginx: the same backend (`scripts/bench-proxy.sh`)

![gateway against nginx](img/proxy.png)

What the gateway costs over a proxy that only proxies: one `marquee up` (release build,
embedded defaults, log level warn, access log off, rate limiter on with a budget the run
cannot exhaust), and three ways to the same handler, auth's gRPC `GetMe` for one user.
The gateway's `GET /api/v1/auth/me` verifies the access token, takes the rate limit,
calls `GetMe` over gRPC and writes JSON; nginx ({nginx_version}) only passes the same gRPC
call through (`grpc_pass`, keep-alive upstream); "direct" calls auth with no proxy: the floor.
The gateway calls auth in process (`marquee up`'s default: no HTTP/2, no socket on that
hop); nginx and h2load reach auth's loopback TCP port over HTTP/2.

- Date: {time.strftime('%Y-%m-%d')}; machine: {cores} cores ({cpu}); h2load, nginx and the
  fleet share those cores. nginx runs `worker_processes auto` ({cores}), the gateway its
  default {cores} HTTP workers.
- Load: h2load {h2load_version} for all three paths, so the client costs the same on each:
  {conns} connections, {threads} threads, one request in flight per connection (`-m1`, as
  wrk keeps one per connection); HTTP/1.1 to the gateway (how REST clients call it; the
  gateway serves no cleartext HTTP/2), HTTP/2 (h2c) for gRPC. A {warmup} warm-up per path,
  then {rounds} rounds of {duration} per path in rotating order (nginx, gateway, direct;
  gateway, direct, nginx; …). Percentiles from h2load's per-request log; the table gives
  the median over the rounds.
- gRPC calls: POST `/marquee.auth.v1.AuthService/GetMe`, `content-type: application/grpc`,
  `te: trailers`, body the 5-byte frame of an empty `GetMeRequest`, and an
  `x-marquee-identity` the script signs (`scripts/bench/service_identity.py`: EdDSA,
  `typ` `marquee-svc+jwt`, `iss` bench, `aud` auth, on behalf of the user's principal),
  minted per run; auth trusts "bench" through `MARQUEE_AUTH_IDENTITY__TRUSTED__BENCH` and,
  as for the gateway's, verifies it once and then finds it in its cache. h2load sees only
  HTTP statuses, so gRPC errors are counted from auth's
  `grpc_server_requests_total{{method="/marquee.auth.v1.AuthService/GetMe"}}` (admin port)
  before and after each run.
- Commands (`<port>`: a free port; auth's gRPC port is the fleet's listener that answers
  the bench caller's `GetMe`):
  - `h2load -c{conns} -t{threads} -m1 -D{duration} -p http/1.1 -H 'authorization: Bearer <token>' http://127.0.0.1:<port>/api/v1/auth/me`
  - `h2load -c{conns} -t{threads} -m1 -D{duration} -d getme.bin -H 'content-type: application/grpc' -H 'te: trailers' -H 'x-marquee-identity: <identity>' http://127.0.0.1:<nginx port or auth gRPC port>/marquee.auth.v1.AuthService/GetMe`
- Fleet RSS after the runs: {int(rss_kb) // 1024} MB; nginx (master and workers): {int(nginx_rss_kb) // 1024} MB.

nginx configuration:

```nginx
{nginx_conf}
```

| path | requests/s | p50 | p99 | p99.9 | errors | GetMe not Ok at auth | requests/s vs nginx |
|---|---|---|---|---|---|---|---|
{summary}

Gateway/nginx throughput: **{ratio:.2f}** (medians; per round: {", ".join(per_round)}).
Errors: non-2xx and h2load's failed, errored and timed-out requests (all runs). h2load
sees only HTTP statuses, so the GetMe calls auth answered with another code than Ok are
counted apart (all runs; by code below). When h2load stops, the calls then in flight are
abandoned: nginx resets those streams upstream and auth ends some of them `Unknown` (at
most one per connection, at the end of a run; a sample taken during a run shows none).

Every run:

| round | path | requests/s | p50 | p99 | requests | errors | GetMe Ok at auth | GetMe other codes at auth |
|---|---|---|---|---|---|---|---|---|
{detail}

"""
text = open(out).read()
pattern = re.compile(r"^## Gateway against nginx: .*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text, count=1)
else:
    marker = "## Chaos:"
    text = text.replace(marker, section + marker, 1) if marker in text else text.rstrip("\n") + "\n\n" + section
open(out, "w").write(text)
print(f"gateway/nginx requests/s: {ratio:.2f}; wrote the Gateway against nginx section of {out}")
PY
# The rows behind it.
mkdir -p docs/bench-data && cp "$ROWS" docs/bench-data/proxy.txt
