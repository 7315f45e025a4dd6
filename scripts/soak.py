#!/usr/bin/env python3
"""make soak: a leak test. The fleet on its embedded default (`marquee up`: SQLite, the
in-process bus, files on disk, the local AI models of `make models` tagging every
upload) under SOAK_MINUTES (30) of mixed load, with the process's resident memory, open
files and threads, and the SQLite databases and stored files, sampled every
SAMPLE_SECONDS (10).

The load is steady-state on purpose: every writer keeps a bounded live set (an uploader
deletes its oldest asset beyond LIVE_ASSETS, a commenter its oldest comment beyond
LIVE_COMMENTS, a follower unfollows what it followed), so memory, files and threads of a
fleet without leaks settle at a plateau. Readers call /auth/me, list and read assets, comments, search and usage; a
login (argon2) and a refresh run every few seconds; signed Stripe webhooks arrive.

After the warm-up (the first sixth of the run), the run fails when, from the median of
the first post-warm-up window to the median of the last window (each WINDOW_MINUTES, 5):
  - resident memory grew by more than max(24 MB, 15 %);
  - open files grew by more than 32, or threads by more than 8;
  - SQLite's pages in use grew by more than MAX_BYTES_PER_WRITE (4 KiB) per write
    request on average, or by more per write in the second half than 1.5 × the first
    (retention keeps outbox, inbox, webhook and audit rows for days, so the database
    grows with the writes; a growing cost per write is the leak);
  - any request answered 5xx or got no answer.
It prints the samples, writes them to docs/bench-data/soak.json (SOAK_JSON) and the
summary to docs/benchmarks.md (section "Soak"; OUT), and exits 1 on a breach.

    python3 scripts/soak.py                      (builds the release `marquee` binary)
    MARQUEE_BIN=path/to/marquee SOAK_MINUTES=5 python3 scripts/soak.py
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadkit import Api, free_port, load_env, ok, png, stripe_event, stripe_signature  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
SAMPLE_SECONDS = float(os.environ.get("SAMPLE_SECONDS", "10"))
WINDOW_MINUTES = min(float(os.environ.get("WINDOW_MINUTES", "5")), MINUTES / 4)
LIVE_ASSETS = 40
LIVE_COMMENTS = 200
WEBHOOK_SECRET = "whsec_soak"
PASSWORD = "soak user password"
OUT = Path(os.environ.get("OUT", ROOT / "docs" / "benchmarks.md"))
SOAK_JSON = Path(os.environ.get("SOAK_JSON", ROOT / "docs" / "bench-data" / "soak.json"))
MB = 1024 * 1024
# What a write may leave in SQLite for the retention windows to keep (outbox and inbox
# rows for 72 h, stored webhooks, audit rows, tombstones): the average over the run, and
# how much faster the second half may grow than the first (a growing cost per write is
# a leak; a constant one is retention).
MAX_BYTES_PER_WRITE = 4096
MAX_WRITE_COST_GROWTH = 1.5
WRITE_KINDS = {"upload", "delete asset", "comment", "delete comment", "follow", "unfollow",
               "webhook", "login", "refresh"}


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Counters:
    """Requests by kind and outcome; a 5xx or a missing answer is a failure."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_kind: dict[str, list[int]] = {}  # kind → [answered 2xx-4xx, failed]
        self.failures: deque[str] = deque(maxlen=20)

    def record(self, kind: str, status: int | None, body: object) -> None:
        failed = status is None or status >= 500
        with self.lock:
            counts = self.by_kind.setdefault(kind, [0, 0])
            counts[1 if failed else 0] += 1
            if failed:
                self.failures.append(f"{kind}: {status} {str(body)[:160]}")

    def writes(self) -> int:
        with self.lock:
            return sum(sum(c) for kind, c in self.by_kind.items() if kind in WRITE_KINDS)

    def total(self) -> tuple[int, int]:
        with self.lock:
            return sum(c[0] for c in self.by_kind.values()), sum(c[1] for c in self.by_kind.values())


class Client:
    """The gateway API with every answer counted."""

    def __init__(self, api: Api, counters: Counters) -> None:
        self.api, self.counters = api, counters

    def call(self, kind: str, method: str, path: str, token: str | None = None, **kwargs) -> tuple[int | None, object]:
        status, body = self.api.call(method, path, token, **kwargs)
        self.counters.record(kind, status, body)
        return status, body

    def upload(self, token: str, title: str, data: bytes) -> tuple[int | None, object]:
        status, body = self.api.upload(token, title, data)
        self.counters.record("upload", status, body)
        return status, body


def workers(client: Client, users: list[dict], stop: threading.Event) -> list[threading.Thread]:
    """The mixed load: one thread per activity, each pausing briefly between calls."""
    serial = iter(range(10**9))
    serial_lock = threading.Lock()

    def next_serial() -> int:
        with serial_lock:
            return next(serial)

    def uploader(user: dict) -> None:
        live: deque[str] = deque()
        while not stop.is_set():
            n = next_serial()
            status, body = client.upload(user["token"], f"soak-{n}", png(n + 5000))
            if status == 201 and isinstance(body, dict):
                live.append(body["id"])
            while len(live) > LIVE_ASSETS:
                client.call("delete asset", "DELETE", f"/api/v1/assets/{live.popleft()}", user["token"])
            stop.wait(0.5)

    def commenter(user: dict, asset: str) -> None:
        live: deque[str] = deque()
        while not stop.is_set():
            status, body = client.call("comment", "POST", f"/api/v1/assets/{asset}/comments", user["token"],
                                       body={"body": f"soak comment {next_serial()}"})
            if status == 201 and isinstance(body, dict):
                live.append(body["id"])
            while len(live) > LIVE_COMMENTS:
                client.call("delete comment", "DELETE", f"/api/v1/comments/{live.popleft()}", user["token"])
            stop.wait(0.05)

    def follower(user: dict, others: list[dict]) -> None:
        while not stop.is_set():
            for other in others:
                client.call("follow", "POST", f"/api/v1/creators/{other['id']}/follow", user["token"])
                client.call("followers", "GET", f"/api/v1/creators/{other['id']}/followers", user["token"])
                client.call("unfollow", "DELETE", f"/api/v1/creators/{other['id']}/follow", user["token"])
            stop.wait(0.1)

    def reader(user: dict, asset: str) -> None:
        token = user["token"]
        while not stop.is_set():
            client.call("me", "GET", "/api/v1/auth/me", token)
            client.call("list assets", "GET", f"/api/v1/assets?owner={user['id']}&limit=20", token)
            client.call("get asset", "GET", f"/api/v1/assets/{asset}", token)
            client.call("list comments", "GET", f"/api/v1/assets/{asset}/comments?limit=20", token)
            client.call("search", "GET", "/api/v1/search?q=soak", token)
            client.call("usage", "GET", "/api/v1/billing/usage", token)

    def sessions(user: dict) -> None:
        while not stop.is_set():
            status, session = client.call("login", "POST", "/api/v1/auth/login",
                                          body={"email": user["email"], "password": PASSWORD})
            if ok(status) and isinstance(session, dict):
                client.call("refresh", "POST", "/api/v1/auth/refresh",
                            body={"refresh_token": session["refresh_token"]})
            stop.wait(3)

    def webhooker() -> None:
        while not stop.is_set():
            payload = stripe_event(f"evt_soak_{uuid.uuid4().hex[:20]}", "cus_soak_unknown")
            client.call("webhook", "POST", "/api/v1/webhooks/stripe", raw=payload,
                        headers={"content-type": "application/json", "stripe-signature": stripe_signature(WEBHOOK_SECRET, payload)})
            stop.wait(0.5)

    seed = users[0]["seed"]
    plan = [(uploader, (users[0],)), (uploader, (users[1],)),
            (commenter, (users[1], seed)), (commenter, (users[2], seed)),
            (follower, (users[2], users[:2])),
            (reader, (users[0], seed)), (reader, (users[1], seed)), (reader, (users[2], seed)),
            (sessions, (users[0],)), (webhooker, ())]
    threads = [threading.Thread(target=target, args=args, daemon=True) for target, args in plan]
    for thread in threads:
        thread.start()
    return threads


def sqlite_used_bytes(data: Path) -> int:
    """Bytes the SQLite databases hold (pages in use, the WAL's included, free pages not):
    what the data needs, without the noise of WAL files filling and checkpointing."""
    used = 0
    for db in sorted(data.glob("*.db")):
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            free = connection.execute("PRAGMA freelist_count").fetchone()[0]
            used += (pages - free) * connection.execute("PRAGMA page_size").fetchone()[0]
        finally:
            connection.close()
    return used


def sample(pid: int, data: Path) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status.splitlines() if ":" in line}
    sqlite = files = 0
    for directory, _, names in os.walk(data):
        for name in names:
            try:
                size = os.stat(os.path.join(directory, name)).st_size
            except FileNotFoundError:  # deleted since the listing: the load deletes assets
                continue
            if ".db" in name:
                sqlite += size
            elif name != "fleet.log":
                files += size
    return {
        "rss_kb": int(fields["VmRSS"].split()[0]),
        "threads": int(fields["Threads"]),
        "open_files": len(os.listdir(f"/proc/{pid}/fd")),
        "sqlite_bytes": sqlite,
        "sqlite_used_bytes": sqlite_used_bytes(data),
        "other_bytes": files,
    }


def window_median(samples: list[dict], key: str, start: float, end: float) -> float:
    values = [s[key] for s in samples if start <= s["t"] < end]
    return statistics.median(values) if values else float("nan")


def main() -> int:
    binary = os.environ.get("MARQUEE_BIN")
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "marquee"], check=True)
        target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
        binary = str(Path(target) / "release" / "marquee")
    data = Path(tempfile.mkdtemp(prefix="marquee-soak-"))
    port = free_port()
    env = dict(os.environ)
    env.update({
        "MARQUEE_DATA_DIR": str(data),
        "MARQUEE_GATEWAY_ADDR": f"127.0.0.1:{port}",
        "MARQUEE_GATEWAY_ACCESS_LOG": "false",
        "MARQUEE_LOG__FILTER": "warn",
    })
    # The limits would refuse a steady load (that is their job): off for the soak.
    env.update(load_env(WEBHOOK_SECRET))
    log_file = open(data / "fleet.log", "ab")
    fleet = subprocess.Popen([binary, "up"], env=env, stdout=log_file, stderr=log_file, cwd=ROOT)
    api = Api(port)
    try:
        deadline = time.time() + 120
        while api.call("GET", "/readyz", timeout=2)[0] != 200:
            if fleet.poll() is not None or time.time() > deadline:
                raise SystemExit(f"the fleet did not become ready: see {data / 'fleet.log'}")
            time.sleep(0.3)
        return soak(fleet.pid, data, api, binary)
    finally:
        fleet.terminate()
        fleet.wait(timeout=60)
        log(f"fleet log: {data / 'fleet.log'}")


def soak(pid: int, data: Path, api: Api, binary: str) -> int:
    counters = Counters()
    client = Client(api, counters)
    users = []
    for i in range(3):
        email = f"soak{i}@marquee.test"
        status, session = api.call("POST", "/api/v1/auth/register",
                                   body={"email": email, "password": PASSWORD, "display_name": f"Soak {i}"})
        assert status == 201, session
        _, me = api.call("GET", "/api/v1/auth/me", session["access_token"])
        users.append({"email": email, "token": session["access_token"], "id": me["id"]})
    status, seed = api.upload(users[0]["token"], "soak-seed", png(1))
    assert status == 201, seed
    users[0]["seed"] = seed["id"]

    # Access tokens live 15 minutes: renew them for the readers before they run out.
    stop = threading.Event()
    threads = workers(client, users, stop)
    started = time.time()
    samples: list[dict] = []
    renewed = started
    log(f"{MINUTES:g} minutes of mixed load; pid {pid}, data in {data}")
    while (elapsed := time.time() - started) < MINUTES * 60:
        point = {"t": round(elapsed, 1), **sample(pid, data)}
        point["requests"], point["failures"] = counters.total()
        point["writes"] = counters.writes()
        samples.append(point)
        log(f"t={elapsed / 60:5.1f} min  rss {point['rss_kb'] / 1024:6.1f} MB  fds {point['open_files']:4}  "
            f"threads {point['threads']:3}  sqlite {point['sqlite_bytes'] / MB:6.2f} MB  "
            f"(in use {point['sqlite_used_bytes'] / MB:6.2f} MB)  files {point['other_bytes'] / MB:6.2f} MB  "
            f"requests {point['requests']}  writes {point['writes']}  failures {point['failures']}")
        if time.time() - renewed > 10 * 60:
            for user in users:
                status, session = api.call("POST", "/api/v1/auth/login", body={"email": user["email"], "password": PASSWORD})
                if ok(status):
                    user["token"] = session["access_token"]
            renewed = time.time()
        time.sleep(max(0.0, SAMPLE_SECONDS - (time.time() - started - elapsed)))
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return judge(samples, counters, binary)


def bytes_per_write(samples: list[dict]) -> float:
    """Least-squares slope of SQLite bytes in use against writes made."""
    xs = [s["writes"] for s in samples]
    ys = [s["sqlite_used_bytes"] for s in samples]
    if len(xs) < 2 or max(xs) == min(xs):
        return float("nan")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def judge(samples: list[dict], counters: Counters, binary: str) -> int:
    total = MINUTES * 60
    warm = total / 6
    window = WINDOW_MINUTES * 60
    keys = ("rss_kb", "open_files", "threads", "sqlite_bytes", "sqlite_used_bytes", "other_bytes")
    first = {k: window_median(samples, k, warm, warm + window) for k in keys}
    last = {k: window_median(samples, k, total - window, total + 1) for k in keys}
    rss_bound = max(24 * 1024, 0.15 * first["rss_kb"])
    settled = [s for s in samples if s["t"] >= warm]
    half = len(settled) // 2
    cost_first, cost_second = bytes_per_write(settled[:half]), bytes_per_write(settled[half:])
    cost_all = bytes_per_write(settled)
    checks = [
        ("resident memory (MB)", first["rss_kb"] / 1024, last["rss_kb"] / 1024, f"{rss_bound / 1024:.1f}",
         last["rss_kb"] - first["rss_kb"] <= rss_bound),
        ("open files", first["open_files"], last["open_files"], "32", last["open_files"] - first["open_files"] <= 32),
        ("threads", first["threads"], last["threads"], "8", last["threads"] - first["threads"] <= 8),
        ("SQLite in use (MB)", first["sqlite_used_bytes"] / MB, last["sqlite_used_bytes"] / MB,
         f"≤ {MAX_BYTES_PER_WRITE} B per write: {cost_all:.0f} B", cost_all <= MAX_BYTES_PER_WRITE),
        ("SQLite bytes per write, 1st → 2nd half", cost_first, cost_second,
         f"≤ {MAX_WRITE_COST_GROWTH}× the first half", cost_second <= MAX_WRITE_COST_GROWTH * max(cost_first, 64.0)),
        ("SQLite files on disk, WAL included (MB, reported)", first["sqlite_bytes"] / MB, last["sqlite_bytes"] / MB, "—", True),
        ("stored files (MB, reported)", first["other_bytes"] / MB, last["other_bytes"] / MB, "—", True),
    ]
    requests, failures = counters.total()
    peak_rss = max(s["rss_kb"] for s in samples) / 1024
    lines = [
        f"- Date: {time.strftime('%Y-%m-%d')}; machine: {os.cpu_count()} cores, {platform.machine()}; "
        f"binary `{Path(binary).name}` (release); load generator on the same cores.",
        f"- Command: `SOAK_MINUTES={MINUTES:g} python3 scripts/soak.py` (`make soak`); samples every "
        f"{SAMPLE_SECONDS:g} s in `docs/bench-data/soak.json`; warm-up {warm / 60:g} min; windows of {WINDOW_MINUTES:g} min.",
        f"- Requests: {requests:,} answered, {failures} failed (5xx or no answer); peak RSS {peak_rss:.1f} MB.",
        "",
        "| measure | first window after warm-up (median) | last window (median) | bound | within |",
        "|---|---|---|---|---|",
    ]
    for name, before, after, bound, within in checks:
        lines.append(f"| {name} | {before:.1f} | {after:.1f} | {bound} | {'yes' if within else '**no**'} |")
    lines += ["", "| requests by kind | answered | failed |", "|---|---|---|"]
    with counters.lock:
        for kind, (answered, failed) in sorted(counters.by_kind.items()):
            lines.append(f"| {kind} | {answered:,} | {failed} |")
    summary = "\n".join(lines)
    print()
    print(summary)
    SOAK_JSON.parent.mkdir(parents=True, exist_ok=True)
    SOAK_JSON.write_text(json.dumps({"minutes": MINUTES, "sample_seconds": SAMPLE_SECONDS, "samples": samples}, indent=1) + "\n")
    write_section(summary)
    problems = [name for name, *_, within in checks if not within]
    if failures:
        problems.append(f"{failures} requests failed: " + "; ".join(counters.failures))
    if requests < 1000:
        problems.append("the load made fewer than 1,000 requests: the run proves nothing")
    for problem in problems:
        log(f"FAIL {problem}")
    log("soak: " + ("FAILED" if problems else "no growth beyond the bounds"))
    return 1 if problems else 0


def write_section(summary: str) -> None:
    """Replaces the "Soak" section of OUT (or appends it)."""
    heading = "## Soak: 30 minutes of mixed load on the embedded default (`make soak`)"
    text = OUT.read_text() if OUT.exists() else "# Benchmarks\n"
    intro = ("Leak test: the bounds are stated in `scripts/soak.py`; every writer keeps a bounded "
             "live set, so a fleet without leaks settles. Chart: `docs/img/soak.png`.")
    section = f"{heading}\n\n{intro}\n\n{summary}\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    OUT.write_text(text)


if __name__ == "__main__":
    # Stopped with SIGTERM: unwind, so the fleet is stopped too (main's `finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
