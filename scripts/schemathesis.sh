#!/usr/bin/env bash
# API fuzzing (make api-fuzz): schemathesis against the gateway's own OpenAPI document
# with every check on, signed in as the bootstrap admin (so admin and moderator routes
# are exercised too), on a fresh embedded fleet. Fails on any finding: a 5xx, a status,
# header or content type the document does not list, a body that does not match its
# schema, schema-valid data refused or schema-invalid data accepted.
#   bash scripts/schemathesis.sh
#   SEED=7 MAX_EXAMPLES=500 bash scripts/schemathesis.sh    (other, random inputs)
#   MARQUEE_BIN=path/to/marquee bash scripts/schemathesis.sh (skip the build)
# Configuration (auth, the narrow per-operation exceptions): scripts/schemathesis.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

# Deterministic and bounded: deterministic generation (the same inputs every run; a
# SEED switches to seeded random generation instead), a fixed number of examples per
# operation and phase, two workers; TIMEOUT is only a safety net against a hung run.
if [ -n "${SEED:-}" ]; then GENERATION=(--seed "$SEED"); else GENERATION=(--generation-deterministic); fi
MAX_EXAMPLES=${MAX_EXAMPLES:-200}
WORKERS=${WORKERS:-2}
TIMEOUT=${TIMEOUT:-1500}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

# Python 3.13 where there is one: before 3.12.4 / 3.13, CPython's ast.parse can raise
# "AST constructor recursion depth mismatch" when two threads parse at once (gh-106905),
# which hypothesis does under two workers — a false error in the coverage phase.
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  for candidate in python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3; do
    if "$candidate" -c '' 2>/dev/null; then PYTHON=$candidate; break; fi
  done
fi
if ! "$PYTHON" -m pip show schemathesis 2>/dev/null | grep -q '^Version: 4\.32\.'; then
  "$PYTHON" -m pip install --quiet "schemathesis==4.32.*"
fi

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

export MARQUEE_FUZZ_ADMIN_EMAIL=fuzz-admin@marquee.test
export MARQUEE_FUZZ_ADMIN_PASSWORD="fuzz admin password"
# Rate limits must not decide the outcome: the gateway's budgets and auth's failed-login
# throttle are raised far beyond what the run sends (the fuzzer fails many sign-ins).
MARQUEE_DATA_DIR="$DATA" \
MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT" \
MARQUEE_GATEWAY_ACCESS_LOG=false \
MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_BURST=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000 \
MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000 \
MARQUEE_AUTH_THROTTLE__IP_MAX_FAILURES=1000000000 \
MARQUEE_AUTH_THROTTLE__ACCOUNT_MAX_FAILURES=1000000000 \
MARQUEE_AUTH_THROTTLE__SOURCE_FREE_FAILURES=1000000000 \
MARQUEE_BOOTSTRAP_ADMIN_EMAIL="$MARQUEE_FUZZ_ADMIN_EMAIL" \
MARQUEE_BOOTSTRAP_ADMIN_PASSWORD="$MARQUEE_FUZZ_ADMIN_PASSWORD" \
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

# The admin's credentials work (schemathesis signs in with them itself), and a second
# user exists for follows and the like to meet.
curl -fs -X POST "$URL/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$MARQUEE_FUZZ_ADMIN_EMAIL\",\"password\":\"$MARQUEE_FUZZ_ADMIN_PASSWORD\"}" >/dev/null
curl -fs -X POST "$URL/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"fuzz-user@marquee.test","password":"fuzz user password","display_name":"Fuzz"}' >/dev/null

START=$(date +%s)
status=0
CONFIG="$PWD/scripts/schemathesis.toml"
# From the temp dir: schemathesis keeps its cache (.schemathesis/) in the working
# directory, which must not be the repository.
cd "$DATA"
timeout --signal=INT "$TIMEOUT" "$PYTHON" -m schemathesis.cli \
  --config-file "$CONFIG" \
  run "$URL/api/v1/openapi.json" \
  --checks all \
  "${GENERATION[@]}" \
  --max-examples "$MAX_EXAMPLES" \
  --workers "$WORKERS" \
  --request-timeout 30 \
  --no-color \
  ${SCHEMATHESIS_ARGS:-} || status=$?
echo "schemathesis: status $status after $(( $(date +%s) - START )) s"
if [ "$status" -ne 0 ]; then
  echo "--- fleet log: errors ---"
  grep -iE "panic|error" "$DATA/fleet.log" | tail -50 || true
fi
exit "$status"
