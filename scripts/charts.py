#!/usr/bin/env python3
"""Renders the benchmark figures in docs/bench-data/ as PNG charts in docs/img/.

    bash scripts/charts.sh      (matplotlib from PyPI in a cached venv, then this)

Each chart is drawn from the data file its benchmark script writes, when that file exists:
  - docs/bench-data/soak.json (scripts/soak.py)            → docs/img/soak.png
  - docs/bench-data/request-path-*.txt (bench-request-path.sh) → docs/img/request-path.png
  - docs/bench-data/connections.txt (bench-connections.sh)  → docs/img/connections.png
  - docs/bench-data/writes.txt (bench-writes.sh)            → docs/img/writes.png
  - docs/bench-data/proxy.txt (bench-proxy.sh)              → docs/img/proxy.png
"""

from __future__ import annotations

import glob
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "bench-data"
IMG = ROOT / "docs" / "img"


def pairs(line: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in line.split() if "=" in p)


def soak() -> None:
    source = DATA / "soak.json"
    if not source.exists():
        return
    run = json.loads(source.read_text())
    samples = run["samples"]
    minutes = [s["t"] / 60 for s in samples]
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    series = [
        ("resident memory (MB)", [s["rss_kb"] / 1024 for s in samples]),
        ("open files", [s["open_files"] for s in samples]),
        ("SQLite pages in use (MB; files with WAL dashed)", [s["sqlite_used_bytes"] / 2**20 for s in samples]),
        ("requests answered (thousands)", [s["requests"] / 1000 for s in samples]),
    ]
    for axis, (title, values) in zip(axes.flat, series):
        axis.plot(minutes, values, linewidth=1.5)
        axis.set_title(title, fontsize=10)
        axis.set_ylim(bottom=0)
        axis.axvspan(0, run["minutes"] / 6, color="0.9", label="warm-up")
        axis.grid(alpha=0.3)
    axes[1][0].plot(minutes, [s["sqlite_bytes"] / 2**20 for s in samples], linestyle="--", linewidth=1)
    for axis in axes[1]:
        axis.set_xlabel("minutes")
    fig.suptitle(f"make soak: {run['minutes']:g} minutes of mixed load, embedded default")
    fig.tight_layout()
    fig.savefig(IMG / "soak.png", dpi=90)
    plt.close(fig)


def request_path() -> None:
    runs = [pairs(Path(p).read_text()) for p in sorted(glob.glob(str(DATA / "request-path-*.txt")))]
    if not runs:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    labels = [r["label"] for r in runs]
    x = range(len(runs))
    left.bar([i - 0.2 for i in x], [float(r["hello_rps"]) for r in runs], 0.4, label="actix-web hello")
    left.bar([i + 0.2 for i in x], [float(r["me_rps"]) for r in runs], 0.4, label="GET /api/v1/auth/me")
    for i, r in enumerate(runs):
        left.annotate(f"{float(r['ratio']):.2f}×", (i + 0.2, float(r["me_rps"])), ha="center", va="bottom")
    left.set_xticks(list(x), labels)
    left.set_ylabel("requests/s (median)")
    left.legend()
    left.set_title("throughput, both up, alternating runs")
    right.bar(list(x), [float(r["me_p99_ms"]) for r in runs], 0.5, color="tab:orange")
    right.axhline(5, color="red", linestyle="--", linewidth=1, label="target p99 5 ms")
    right.set_xticks(list(x), labels)
    right.set_ylabel("ms")
    right.set_title("GET /api/v1/auth/me p99")
    right.legend()
    fig.tight_layout()
    fig.savefig(IMG / "request-path.png", dpi=90)
    plt.close(fig)


def connections() -> None:
    source = DATA / "connections.txt"
    if not source.exists():
        return
    rows: dict[str, list[tuple[int, float, float]]] = {}
    for line in source.read_text().splitlines():
        backend, level, _, *rest = line.split()
        f = pairs(" ".join(rest))
        rows.setdefault(backend, []).append((int(level), float(f["rps"]), int(f["p99_us"]) / 1000))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for backend, points in rows.items():
        points.sort()
        left.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=backend)
        right.plot([p[0] for p in points], [p[2] for p in points], marker="o", label=backend)
    for axis, title in ((left, "requests/s"), (right, "p99 (ms)")):
        axis.set_xscale("log")
        axis.set_xlabel("concurrent connections")
        axis.set_title(f"GET /api/v1/auth/me: {title}")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(IMG / "connections.png", dpi=90)
    plt.close(fig)


def writes() -> None:
    source = DATA / "writes.txt"
    if not source.exists():
        return
    writes, logins, pipeline = {}, {}, {}
    for line in source.read_text().splitlines():
        backend, what, *rest = line.split()
        f = pairs(" ".join(rest))
        if what == "writes":
            writes[backend] = f
        elif what == "logins":
            logins[backend] = f
        elif what == "pipeline" and rest[0] == "all":
            pipeline[backend] = f
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for axis, rows, key, title in (
        (axes[0], writes, "rps", "write mix, 100 connections: requests/s"),
        (axes[1], logins, "rps", "logins (argon2id), 8 connections: logins/s"),
    ):
        names = list(rows)
        axis.bar(names, [float(rows[n][key]) for n in names], 0.5)
        for i, n in enumerate(names):
            axis.annotate(f"p99 {int(rows[n]['p99_us']) / 1000:.0f} ms", (i, float(rows[n][key])), ha="center", va="bottom")
        axis.set_title(title, fontsize=10)
    names = list(pipeline)
    x = range(len(names))
    for offset, stage in ((-0.2, "processed"), (0.2, "tagged")):
        axes[2].bar([i + offset for i in x], [float(pipeline[n][f"{stage}_p50_ms"]) for n in names], 0.4, label=f"upload → {stage} p50")
        axes[2].scatter([i + offset for i in x], [float(pipeline[n][f"{stage}_p99_ms"]) for n in names], color="black", marker="_", s=300)
    axes[2].set_xticks(list(x), names)
    axes[2].set_ylabel("ms (bar p50, line p99)")
    axes[2].set_title("upload pipeline, 8 uploaders", fontsize=10)
    axes[2].legend(fontsize=8)
    for axis in axes:
        axis.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "writes.png", dpi=90)
    plt.close(fig)


def proxy() -> None:
    source = DATA / "proxy.txt"
    if not source.exists():
        return
    runs: dict[str, list[float]] = {}
    for line in source.read_text().splitlines():
        path, _, _, *rest = line.split()
        runs.setdefault(path, []).append(float(pairs(" ".join(rest))["rps"]))
    names = list(runs)
    medians = [sorted(v)[len(v) // 2] for v in runs.values()]
    fig, axis = plt.subplots(figsize=(7, 4))
    axis.bar(names, medians, 0.5)
    axis.set_ylabel("requests/s (median of rounds)")
    axis.set_title("GetMe for one user: direct, through nginx, through the gateway")
    fig.tight_layout()
    fig.savefig(IMG / "proxy.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    IMG.mkdir(parents=True, exist_ok=True)
    soak()
    request_path()
    connections()
    writes()
    proxy()
    print("charts in", IMG)
