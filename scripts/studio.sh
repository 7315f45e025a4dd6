#!/usr/bin/env bash
# The web studio (services/studio): build, regenerate its API client, test.
#   scripts/studio.sh build    npm ci when needed, then vite build when dist/ is older
#                              than the sources (what `make run` calls)
#   scripts/studio.sh client   regenerate openapi.json and the TypeScript client from the
#                              gateway's OpenAPI document (`marquee openapi`)
#   scripts/studio.sh test     the client is current, typecheck, Vitest, build, then the
#                              browser tests (Playwright + Debian's Chromium) against a
#                              fleet they start
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STUDIO=services/studio
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

bash scripts/ensure-tools.sh node

install() {
  # npm ci is exact (package-lock.json) and wipes node_modules: only when the lock moved.
  local stamp=$STUDIO/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$STUDIO/package-lock.json" -nt "$stamp" ]; then
    (cd "$STUDIO" && npm ci --no-audit --no-fund)
  fi
}

build() {
  install
  local newest
  newest=$(find "$STUDIO/src" "$STUDIO/index.html" "$STUDIO/vite.config.ts" "$STUDIO/package-lock.json" \
    -newer "$STUDIO/dist/index.html" -print -quit 2>/dev/null || true)
  if [ ! -f "$STUDIO/dist/index.html" ] || [ -n "$newest" ]; then
    (cd "$STUDIO" && npm run build)
  fi
}

marquee_bin() {
  $CARGO build --locked --bin marquee >&2
  echo "$TARGET_DIR/debug/marquee"
}

client() {
  install
  local bin
  bin=$(marquee_bin)
  "$bin" openapi > "$STUDIO/openapi.json"
  (cd "$STUDIO" && npm run gen:api)
}

# Fails when the committed client is not what the committed document generates (the
# document itself is compared with the gateway's by a gateway test).
check_client() {
  install
  (cd "$STUDIO" && npm run check:api)
}

test_studio() {
  bash scripts/ensure-tools.sh chromium
  check_client
  (cd "$STUDIO" && npm run typecheck && npm test)
  build
  local bin
  bin=$(marquee_bin)
  (cd "$STUDIO" && MARQUEE_BIN="$bin" npm run e2e)
}

case "${1:-}" in
  build) build ;;
  client) client ;;
  test) test_studio ;;
  *) echo "usage: $0 build|client|test" >&2; exit 2 ;;
esac
