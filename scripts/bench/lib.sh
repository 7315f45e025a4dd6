# Shared by the benchmark scripts (sourced): which binary to measure, and the benchmark
# user's token.

# The `marquee` binary to measure: MARQUEE_BIN (a binary built elsewhere, e.g. an earlier
# commit's for a before/after comparison on the same machine), else this checkout's
# release build under CARGO_TARGET_DIR.
marquee_binary() {
  if [ -n "${MARQUEE_BIN:-}" ]; then
    echo "$MARQUEE_BIN"
  else
    cargo build --release --locked --bin marquee >&2
    echo "${CARGO_TARGET_DIR:-target}/release/marquee"
  fi
}

# bench_token URL: registers the benchmark user on the fleet at URL; prints its access token.
bench_token() {
  curl -fs -X POST "$1/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"benchmark password","display_name":"Bench"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
