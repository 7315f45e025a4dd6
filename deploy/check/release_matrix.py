#!/usr/bin/env python3
"""The image matrix of release.yml, generated from the Helm chart's values.

    python3 deploy/check/release_matrix.py [VALUES.yaml ...]

Reads helm/marquee/values.yaml (then any further values files, merged over it the way
Helm does, e.g. values-production.yaml), merges every `services.<name>` entry over
`serviceDefaults` like the chart's "marquee.resolveServices", and prints one line of
JSON: {"include": [{"service": "<name>", "binary": "marquee-<name>", "target": "<stage>"},
…]} for every enabled service, and every service whose `build.always` is true even while
it is disabled (the tenant operator: off by default, but a released chart must be able
to turn it on, so its image is built and its digest written into the chart), sorted by
name. release.yml's first job runs it, so a service enabled in the chart is built,
scanned, signed and pushed without a workflow edit; deploy-check runs it too and
compares it with the rendered chart (every image a rendered workload runs is built, and
nothing is built that is neither enabled nor `build.always`).
Needs PyYAML only.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_VALUES = ROOT / "helm" / "marquee" / "values.yaml"


def merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for key, value in over.items():
            if value is None:
                out.pop(key, None)  # Helm: null deletes a default
            else:
                out[key] = merge(out.get(key), value)
        return out
    return copy.deepcopy(over)


def matrix(values_files: list[Path]) -> dict[str, list[dict[str, str]]]:
    values: dict[str, Any] = {}
    for path in values_files:
        values = merge(values, yaml.safe_load(path.read_text()) or {})
    defaults = values.get("serviceDefaults") or {}
    include = []
    for name, entry in sorted((values.get("services") or {}).items()):
        svc = merge(defaults, entry or {})
        if not svc.get("enabled") and not (svc.get("build") or {}).get("always"):
            continue
        include.append({
            "service": name,
            "binary": svc.get("binary") or f"marquee-{name}",
            "target": (svc.get("build") or {}).get("target") or "runtime",
        })
    return {"include": include}


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or [DEFAULT_VALUES]
    if files[0].resolve() != DEFAULT_VALUES.resolve():
        files.insert(0, DEFAULT_VALUES)
    out = matrix(files)
    if not out["include"]:
        print("release_matrix: no enabled service in the chart", file=sys.stderr)
        return 1
    print(json.dumps(out, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
