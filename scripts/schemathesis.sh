#!/usr/bin/env bash
# API fuzzing: schemathesis against the gateway's own OpenAPI document, every check on,
# signed in as the bootstrap admin (so admin and moderator routes are exercised too).
# Fails on any finding: a 5xx, a status or header the document does not list, a body
# that does not match its schema, schema-valid data refused or invalid data accepted.
#   bash scripts/schemathesis.sh              (make api-fuzz)
#   MAX_EXAMPLES=50 SEED=7 bash scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Deterministic and bounded: a fixed seed, deterministic generation, a few examples per
# operation and a hard time budget, so CI on two cores finishes in a few minutes.
SEED=${SEED:-20260101}
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
MAX_TIME=${MAX_TIME:-300}
WORKERS=${WORKERS:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

if ! python3 -m pip show schemathesis 2>/dev/null | grep -q '^Version: 4\.32\.'; then
  python3 -m pip install --quiet "schemathesis==4.32.*"
fi
ST=(python3 -m schemathesis.cli)
if ! "${ST[@]}" --version >/dev/null 2>&1; then ST=(schemathesis); fi

# MARQUEE_BIN: an already built binary (skips the build).
if [ -z "${MARQUEE_BIN:-}" ]; then
  cargo build --locked --bin marquee
fi
BIN=${MARQUEE_BIN:-$TARGET_DIR/debug/marquee}

DATA=$(mktemp -d)
cleanup() {
  if [ -n "${FLEET_PID:-}" ]; then
    kill "$FLEET_PID" 2>/dev/null || true
    wait "$FLEET_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT

ADMIN_EMAIL=fuzz-admin@marquee.test
ADMIN_PASSWORD="fuzz admin password $SEED"
# Rate limits must not decide the outcome: the gateway's budgets and auth's failed-login
# throttle are raised far beyond what the run sends (the fuzzer fails many logins).
MARQUEE_DATA_DIR="$DATA" \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" \
MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_BURST=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000 \
MARQUEE_AUTH_THROTTLE__IP_MAX_FAILURES=1000000 \
MARQUEE_AUTH_THROTTLE__ACCOUNT_MAX_FAILURES=1000000 \
MARQUEE_BOOTSTRAP_ADMIN_EMAIL="$ADMIN_EMAIL" \
MARQUEE_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
MARQUEE_LOG__FILTER=warn \
  "$BIN" up >"$DATA/fleet.log" 2>&1 &
FLEET_PID=$!

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do
  curl -fs "$URL/readyz" >/dev/null 2>&1 && break
  kill -0 "$FLEET_PID" 2>/dev/null || break
  sleep 0.2
done
curl -fs "$URL/readyz" >/dev/null || { cat "$DATA/fleet.log"; exit 1; }

# A plain user exists too (the fuzzer's ids and follows then have someone to meet).
curl -fs -X POST "$URL/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"fuzz-user@marquee.test","password":"fuzz user password","display_name":"Fuzz"}' >/dev/null
# The admin signs in up front to prove the credentials; schemathesis signs in again
# itself whenever a 401 says the token went stale (a fuzzed key rotation can retire
# the key that signed it).
curl -fs -X POST "$URL/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" >/dev/null

cat >"$DATA/schemathesis.toml" <<TOML
[auth.dynamic.openapi.bearer]
path = "/api/v1/auth/login"
payload = { email = "$ADMIN_EMAIL", password = "$ADMIN_PASSWORD" }
extract_selector = "/access_token"
TOML

START=$(date +%s)
status=0
"${ST[@]}" --config-file "$DATA/schemathesis.toml" run "$URL/api/v1/openapi.json" \
  --checks all \
  --seed "$SEED" \
  --generation-deterministic \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --workers "$WORKERS" \
  --request-timeout 30 \
  --no-color \
  --report junit --report-dir "${REPORT_DIR:-$DATA/report}" || status=$?
echo "schemathesis finished in $(( $(date +%s) - START )) s with status $status"
if [ "$status" -ne 0 ] && grep -qi "panic\|error" "$DATA/fleet.log"; then
  echo "--- fleet log (errors) ---"
  grep -i "panic\|error" "$DATA/fleet.log" | tail -50
fi
exit "$status"
