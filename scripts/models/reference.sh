#!/usr/bin/env bash
# Builds the heavy reference venv (torch, sentence-transformers, efficientnet-lite-pytorch,
# scikit-image, pillow) and runs scripts/models/reference.py, which regenerates the
# committed fixtures in services/tagging/tests/fixtures/. Run by hand, not in CI.
#   bash scripts/models/reference.sh                # install (if needed) + generate
#   bash scripts/models/reference.sh --install-only # only build the venv
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${MARQUEE_REFERENCE_VENV:-$HOME/.cache/marquee-reference-venv}"
TORCH_VERSION="2.15.0"
REQS="$ROOT/scripts/models/reference-requirements.txt"
PY="$VENV/bin/python"

if [[ ! -x "$PY" ]]; then
  python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
fi

# Stamp = hash of what we asked for, so an edited pin triggers a reinstall.
STAMP="$VENV/.marquee-reference-stamp"
WANT="$(cat "$REQS"; echo "torch==$TORCH_VERSION")"
WANT_HASH="$(printf '%s' "$WANT" | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT_HASH" ]]; then
  "$PY" -m pip install --quiet --upgrade pip
  # The CPU-only index keeps the venv small, but is usually unreachable here; fall back
  # to PyPI's default (CUDA-enabled, several GB) torch, which works fine on CPU.
  if ! "$PY" -m pip install --retries 0 --timeout 15 "torch==$TORCH_VERSION" \
       --index-url https://download.pytorch.org/whl/cpu; then
    echo "reference.sh: CPU torch index unreachable; installing torch==$TORCH_VERSION from PyPI" >&2
    "$PY" -m pip install "torch==$TORCH_VERSION"
  fi
  "$PY" -m pip install -r "$REQS"
  echo "$WANT_HASH" > "$STAMP"
fi

if [[ "${1:-}" == "--install-only" ]]; then
  "$PY" -c 'import torch, sentence_transformers; print("torch", torch.__version__, "sentence-transformers", sentence_transformers.__version__)'
  exit 0
fi

# The ONNX graphs being checked come from `make models`.
bash "$ROOT/scripts/models.sh"
cd "$ROOT"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$PY" scripts/models/reference.py "$@"
