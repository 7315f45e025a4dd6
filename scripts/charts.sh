#!/usr/bin/env bash
# Renders docs/img/*.png from docs/bench-data/ (scripts/charts.py) with matplotlib from
# PyPI, installed once into a cached venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${CHARTS_VENV:-$HOME/.cache/marquee-charts-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'matplotlib>=3.8,<4'
fi
"$VENV/bin/python" scripts/charts.py
