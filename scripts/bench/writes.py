#!/usr/bin/env python3
"""The Python parts of scripts/bench-writes.sh (stdlib only; the REST client is
scripts/loadkit.py).

  writes.py setup PORT ADMIN_EMAIL ADMIN_PASSWORD SEEDS TARGETS
      Registers the writer, TARGETS creators to follow and the login user; the writer
      uploads SEEDS images, which the bootstrap admin approves (comments need `ready`
      assets); one request of each write the mix makes, checked. Prints shell
      assignments: W_TOKEN, W_ASSETS, W_TARGETS (ids comma-separated),
      W_LOGIN_EMAIL, W_LOGIN_PASSWORD.
  writes.py pipeline PORT N C KIND OUT.json
      C uploaders share N uploads (KIND: mixed, text or image); each uploads one
      asset, polls it until it is tagged, then uploads the next. Writes the figures
      (server time stamps) to OUT.json and prints one `pipeline` row per kind.
  writes.py report OUT ROWS SETTINGS.json
      Writes the "## Writes, logins and the upload pipeline" section of OUT.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import struct
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from loadkit import Api, png  # noqa: E402

PASSWORD = "benchmark password"
ITEMS = ROOT / "services/tagging/data/eval/items.jsonl"
PHOTOS = ROOT / "services/tagging/tests/fixtures/images"
POLL_SECONDS = 0.025
TAG_TIMEOUT_SECONDS = 300


def fail(message: str) -> None:
    raise SystemExit(f"bench-writes: {message}")


def register(api: Api, email: str, name: str) -> dict:
    status, session = api.call("POST", "/api/v1/auth/register",
                               body={"email": email, "password": PASSWORD, "display_name": name})
    if status != 201:
        fail(f"register {email}: {status} {session}")
    status, me = api.call("GET", "/api/v1/auth/me", session["access_token"])
    if status != 200:
        fail(f"me {email}: {status} {me}")
    return {"email": email, "token": session["access_token"], "id": me["id"]}


def expect(what: str, answer: tuple, *statuses: int) -> object:
    status, body = answer
    if status not in statuses:
        fail(f"{what}: {status} {body}")
    return body


def setup(port: int, admin_email: str, admin_password: str, seeds: int, targets: int) -> None:
    api = Api(port)
    writer = register(api, "bench-writer@example.com", "Bench writer")
    others = [register(api, f"bench-creator-{i}@example.com", f"Bench creator {i}") for i in range(targets)]
    # A creator exists for the others once they have a profile (or an asset).
    for other in others:
        expect("profile of a target", api.call("PUT", "/api/v1/creators/me", other["token"],
                                               body={"bio": "followed by the benchmark"}), 200)
    login = register(api, "bench-login@example.com", "Bench login")
    session = expect("admin login", api.call("POST", "/api/v1/auth/login",
                                             body={"email": admin_email, "password": admin_password}), 200)
    admin = session["access_token"]
    assets = []
    for i in range(seeds):
        asset = expect("seed upload", api.upload(writer["token"], f"bench-seed-{i}", png(900_000 + i)), 201)
        assets.append(asset["id"])

    def wait_for(asset_id: str, done: set[str]) -> None:
        deadline = time.monotonic() + 60
        while True:
            asset = expect("seed asset", api.call("GET", f"/api/v1/assets/{asset_id}", writer["token"]), 200)
            if asset["status"] in done:
                return
            if asset["status"] != "processing" or time.monotonic() > deadline:
                fail(f"seed asset {asset_id} is {asset['status']}, not {' or '.join(sorted(done))}")
            time.sleep(0.1)

    # Approved once processed: an approval while processing runs can be lost on
    # PostgreSQL (both write the whole row from what they read before).
    for asset_id in assets:
        wait_for(asset_id, {"pending_review"})
        expect("approve", api.call("POST", f"/api/v1/moderation/assets/{asset_id}/approve", admin), 200)
        wait_for(asset_id, {"ready"})
    # One of each write the mix makes, so a refusal shows here rather than as non-2xx.
    token, asset, target = writer["token"], assets[0], others[0]["id"]
    comment = expect("comment", api.call("POST", f"/api/v1/assets/{asset}/comments", token,
                                         body={"body": "bench setup comment"}), 201)
    expect("follow", api.call("POST", f"/api/v1/creators/{target}/follow", token), 200)
    expect("profile", api.call("PUT", "/api/v1/creators/me", token, body={"bio": "bench setup"}), 200)
    expect("unfollow", api.call("DELETE", f"/api/v1/creators/{target}/follow", token), 200)
    expect("asset edit", api.call("PATCH", f"/api/v1/assets/{asset}", token,
                                  body={"description": "bench setup"}), 200)
    expect("comment delete", api.call("DELETE", f"/api/v1/comments/{comment['id']}", token), 204)
    expect("login", api.call("POST", "/api/v1/auth/login",
                             body={"email": login["email"], "password": PASSWORD}), 200)
    for name, value in (("W_TOKEN", token), ("W_ASSETS", ",".join(assets)),
                        ("W_TARGETS", ",".join(o["id"] for o in others)),
                        ("W_LOGIN_EMAIL", login["email"]), ("W_LOGIN_PASSWORD", PASSWORD)):
        print(f"{name}={shlex.quote(value)}")


# --- The upload pipeline ----------------------------------------------------------------

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def seconds(stamp: str) -> float:
    """An RFC 3339 time as seconds since the epoch, keeping every fractional digit."""
    m = STAMP.match(stamp)
    if not m:
        fail(f"unexpected timestamp {stamp!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    whole = datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
    return whole + (float("0." + m.group(2)) if m.group(2) else 0.0)


def form(fields: dict[str, str], filename: str, content_type: str, data: bytes) -> tuple[bytes, str]:
    boundary = "marquee-bench-" + uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The photo with a JPEG comment segment after SOI: other bytes, the same picture (a
    repeated file would be a `duplicate_asset`)."""
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


class Uploads:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items = [json.loads(line) for line in ITEMS.read_text(encoding="utf-8").splitlines() if line.strip()]
        self.photos = sorted(PHOTOS.glob("*.jpg"))
        if not self.items or not self.photos:
            fail(f"no text items in {ITEMS} or photos in {PHOTOS}")
        self.photo_bytes = [p.read_bytes() for p in self.photos]

    def kind_of(self, i: int) -> str:
        return self.kind if self.kind != "mixed" else ("image" if i % 2 == 0 else "text")

    def body(self, i: int) -> tuple[str, bytes, str]:
        """(kind, multipart body, content type) of upload number i; every file distinct."""
        kind = self.kind_of(i)
        item = self.items[i % len(self.items)]
        fields = {"title": item["title"], "description": item["description"]}
        if kind == "text":
            text = f"{item['title']}\n\n{item['description']}\n\n(bench {i} {uuid.uuid4().hex})\n".encode()
            data, content_type = form(fields, f"item-{i}.txt", "text/plain", text)
        else:
            photo = self.photos[i % len(self.photos)]
            fields["title"] = f"{photo.stem} {i}"
            fields["description"] = f"Fixture photo {photo.name}, benchmark upload {i}."
            jpeg = with_comment(self.photo_bytes[i % len(self.photos)], f"bench {i} {uuid.uuid4().hex}")
            data, content_type = form(fields, f"{photo.stem}-{i}.jpg", "image/jpeg", jpeg)
        return kind, data, content_type


def one_upload(api: Api, token: str, uploads: Uploads, i: int) -> dict:
    kind, data, content_type = uploads.body(i)
    started = time.time()
    status, asset = api.call("POST", "/api/v1/assets", token, raw=data, headers={"content-type": content_type})
    answered = time.time()
    if status != 201:
        return {"i": i, "kind": kind, "error": f"upload: {status} {str(asset)[:200]}"}
    asset_id = asset["id"]
    deadline = time.monotonic() + TAG_TIMEOUT_SECONDS
    while True:
        status, tags = api.call("GET", f"/api/v1/assets/{asset_id}/tags", token)
        state = tags.get("state") if status == 200 and isinstance(tags, dict) else None
        if state == "tagged":
            break
        if state in ("failed", "untagged"):
            return {"i": i, "kind": kind, "error": f"asset {asset_id} ended {state}: {tags}"}
        if time.monotonic() > deadline:
            return {"i": i, "kind": kind, "error": f"asset {asset_id} not tagged after {TAG_TIMEOUT_SECONDS} s: {status} {tags}"}
        time.sleep(POLL_SECONDS)
    seen_tagged = time.time()
    status, after = api.call("GET", f"/api/v1/assets/{asset_id}", token)
    if status != 200 or after.get("status") in (None, "processing", "failed"):
        return {"i": i, "kind": kind, "error": f"asset {asset_id} after tagging: {status} {after}"}
    created, processed, tagged = (seconds(asset["created_at"]), seconds(after["updated_at"]),
                                  seconds(tags["tagged_at"]))
    return {
        "i": i, "kind": kind, "asset_id": asset_id, "status": after["status"],
        "created_at": asset["created_at"], "processed_at": after["updated_at"], "tagged_at": tags["tagged_at"],
        "upload_ms": round((answered - started) * 1000, 1),
        "processed_ms": round((processed - created) * 1000, 1),
        "tagged_ms": round((tagged - created) * 1000, 1),
        "seen_tagged_ms": round((seen_tagged - started) * 1000, 1),
        "started": started, "answered": answered, "seen_tagged": seen_tagged, "tags": len(tags["tags"]),
    }


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(1, -(-round(q * 1000) * len(ordered) // 1000))  # ceil(q · n), at least 1
    return ordered[min(k, len(ordered)) - 1]


def summary(runs: list[dict]) -> dict:
    first = min(r["started"] for r in runs)
    last_answer = max(r["answered"] for r in runs)
    last_tagged = max(r["seen_tagged"] for r in runs)
    out = {"n": len(runs),
           "uploads_per_s": round(len(runs) / (last_answer - first), 2) if last_answer > first else 0.0,
           "tagged_per_s": round(len(runs) / (last_tagged - first), 2) if last_tagged > first else 0.0}
    for key in ("upload_ms", "processed_ms", "tagged_ms"):
        values = [r[key] for r in runs]
        out[f"{key[:-3]}_p50_ms"] = nearest_rank(values, 0.5)
        out[f"{key[:-3]}_p99_ms"] = nearest_rank(values, 0.99)
        out[f"{key[:-3]}_max_ms"] = max(values)
    return out


def pipeline(port: int, n: int, concurrency: int, kind: str, out: str) -> None:
    if kind not in ("mixed", "text", "image"):
        fail(f"KIND must be mixed, text or image, not {kind!r}")
    api = Api(port)
    user = register(api, "bench-uploader@example.com", "Bench uploader")
    uploads = Uploads(kind)
    # Warm-up, not counted: the first inference of each model is slower.
    warm_kinds = ["image", "text"] if kind == "mixed" else [kind]
    warm = []
    for offset in range(len(warm_kinds)):  # mixed: 1,000,000 is an image, 1,000,001 a text
        warm.append(one_upload(api, user["token"], uploads, 1_000_000 + offset))
    for w in warm:
        if "error" in w:
            fail(f"warm-up: {w['error']}")
    runs: list[dict] = []
    errors: list[dict] = []
    lock = threading.Lock()
    next_index = iter(range(n))

    def uploader() -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            result = one_upload(api, user["token"], uploads, i)
            with lock:
                (errors if "error" in result else runs).append(result)

    threads = [threading.Thread(target=uploader) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors[:10]:
        print(f"bench-writes: pipeline error: {error['error']}", file=sys.stderr)
    kinds = sorted({r["kind"] for r in runs})
    figures = {"all": summary(runs)} if runs else {}
    if len(kinds) > 1:
        figures.update({k: summary([r for r in runs if r["kind"] == k]) for k in kinds})
    json.dump({"n": n, "c": concurrency, "kind": kind, "errors": len(errors), "figures": figures,
               "warm_up": warm, "runs": sorted(runs, key=lambda r: r["i"]),
               "error_samples": [e["error"] for e in errors[:10]]}, open(out, "w"), indent=1)
    for name, f in figures.items():
        pairs = " ".join(f"{k}={v}" for k, v in f.items())
        print(f"pipeline {name} c={concurrency} errors={len(errors)} {pairs}")
    if errors:
        fail(f"{len(errors)} of {n} uploads did not get through (see above)")


# --- The section ------------------------------------------------------------------------

def rows(path: str) -> list[dict]:
    out = []
    for raw in open(path, encoding="utf-8"):
        words = raw.split()
        if len(words) < 3:
            continue
        row = {"backend": words[0], "part": words[1], "level": words[2]}
        row.update(dict(w.split("=", 1) for w in words[3:] if "=" in w))
        out.append(row)
    return out


def counts(text: str) -> str:
    """`200:5,201:3` → `200: 5, 201: 3`; `-` stays."""
    if not text or text == "-":
        return "none"
    return ", ".join(f"{k} × {int(v):,}" for k, v in (p.rsplit(":", 1) for p in text.split(",")))


def report(out: str, rows_path: str, settings_path: str) -> None:
    s = json.load(open(settings_path))
    data = rows(rows_path)
    ms = lambda us: f"{int(us) / 1000:.2f} ms"  # noqa: E731
    socket_errors = lambda r: sum(int(r[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))  # noqa: E731

    writes = [r for r in data if r["part"] == "writes"]
    write_rows = "\n".join(
        f"| {r['backend']} | {float(r['rps']):,.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {ms(r['p999_us'])} "
        f"| {socket_errors(r)} ({r['connect_errors']} connect, {r['timeouts']} timeouts) | {r['non2xx']} "
        f"| {counts(r.get('status', '-'))} | {int(r['rss_kb']) // 1024} MB |" for r in writes)
    mix_rows = "\n".join(f"| {r['backend']} | {counts(r.get('mix', '-'))} | {counts(r.get('problems', '-'))} |"
                         for r in writes)
    logins = [r for r in data if r["part"] == "logins"]
    login_rows = "\n".join(
        f"| {r['backend']} | {float(r['rps']):,.1f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {ms(r['max_us'])} "
        f"| {socket_errors(r)} | {r['non2xx']} |" for r in logins)
    pipes = [r for r in data if r["part"] == "pipeline"]
    f1 = lambda v: f"{float(v):,.0f} ms"  # noqa: E731
    # A kind's share of a mixed run has no throughput of its own.
    rate = lambda r, key: f"{float(r[key]):.2f}" if r["level"] in ("all", s["kind"]) else "—"  # noqa: E731
    pipe_rows = "\n".join(
        f"| {r['backend']} | {r['level']} | {r['n']} | {rate(r, 'uploads_per_s')} | {rate(r, 'tagged_per_s')} "
        f"| {f1(r['upload_p50_ms'])} / {f1(r['upload_p99_ms'])} "
        f"| {f1(r['processed_p50_ms'])} | {f1(r['processed_p99_ms'])} | {f1(r['processed_max_ms'])} "
        f"| {f1(r['tagged_p50_ms'])} | {f1(r['tagged_p99_ms'])} | {f1(r['tagged_max_ms'])} | {r['errors']} |"
        for r in pipes)
    smoke = ("\n> **Smoke run: knobs far below the benchmark's (" + s["knobs"] + "); these figures are not "
             "the benchmark.**\n") if s.get("smoke") else ""
    raised = "\n".join(f"  - {settings}: {why}" for settings, why in s["raised"])
    commands = "\n".join(s["commands"])

    section = f"""## Writes, logins and the upload pipeline (`scripts/bench-writes.sh`)
{smoke}
![writes, logins, pipeline](img/writes.png)

- Date: {s['date']}; machine: {s['machine']}; load average at the start: {s['load']}. wrk and
  the Python clients run on the same cores as the fleet.
- `marquee up` (release build, `{s['binary']}`), twice per backend: once without models
  for the write mix and the logins (like the other sections), once with the local models
  (`MARQUEE_MODELS_DIR=models`, Gemini off) for the upload pipeline, so neither run waits
  behind the other's events. Embedded: SQLite, in-process bus, in-memory rate limiter.
  The other: PostgreSQL (one database per service), RabbitMQ, the rate limiter in Redis.
  Log level warn, access log off.
- Limits the benchmark would hit, raised by environment for every run (the rate limiter
  stays on, with budgets the runs cannot exhaust):
{raised}
- Knobs: `{s['knobs']}`.

Commands (`$URL` the fleet, `<token>` the writer's access token, `<assets>` the seed
assets' ids, `<creators>` the followed creators' ids):

```
{commands}
```

### Authenticated writes ({s['connections']} connections)

One user (`bench-writer`) writes through the gateway; register and login are not in the
mix. `scripts/bench/writes.lua` gives every wrk thread a cycle of six requests, all
valid in any order: comment on a seed asset (`POST /api/v1/assets/{{id}}/comments`, a
unique body), follow a creator (`POST /api/v1/creators/{{id}}/follow`), edit the profile
(`PUT /api/v1/creators/me`, a unique bio), unfollow (`DELETE
/api/v1/creators/{{id}}/follow`; follow and unfollow are idempotent: 200 either way), edit
a seed asset (`PATCH /api/v1/assets/{{id}}`, a unique description), delete a comment the
thread posted (`DELETE /api/v1/comments/{{id}}`, 204; another comment while it has none).
Setup: {s['seeds']} seed images uploaded by the writer and approved by the bootstrap admin
(comments need `ready` assets), {s['targets']} creators to follow, each with a profile.
Every write also leaves an event in the service's outbox (`comment.created` and
`creator.followed` are consumed by tagging's signal worker).

| backend | requests/s | p50 | p99 | p99.9 | socket errors | non-2xx | answers by status | fleet RSS after |
|---|---|---|---|---|---|---|---|---|
{write_rows}

| backend | requests by kind | non-2xx answers (status:code × count) |
|---|---|---|
{mix_rows}

### Logins (argon2id, {s['login_connections']} connections)

`POST /api/v1/auth/login` `{{"email", "password"}}` for one registered account
(`scripts/bench/login.lua`): an argon2id verification (19 MiB, 2 passes) on a blocking
thread, a new refresh token and an audit row per login. The anonymous budget of the rate
limiter is raised (logins are anonymous, all from 127.0.0.1); auth's sign-in throttle
counts failures only, and there are none.

| backend | logins/s | p50 | p99 | max | socket errors | non-2xx |
|---|---|---|---|---|---|---|
{login_rows}

### Upload → `asset.processed` → `asset.tagged`

{s['c']} uploaders share {s['n']} uploads (`{s['kind']}`: {s['kind_text']}) of one user;
each uploads an asset (multipart `POST /api/v1/assets`: title, description, file), polls
`GET /api/v1/assets/{{id}}/tags` every {int(POLL_SECONDS * 1000)} ms until `state` is `tagged`,
then uploads its next: at most {s['c']} assets in the pipeline at a time. One upload per kind
first warms the models up (not counted). Latencies are server time stamps: from the
asset's `created_at` (the upload, in the 201 answer) to its `updated_at` once processed
(the API has no processed time of its own; processing sets `updated_at` when it records
the outcome and emits `asset.processed`, and nothing else edits these assets during the
run), and to `tagged_at` (`GET /api/v1/assets/{{id}}/tags`, when tagging stored the tags
and emitted `asset.tagged`). uploads/s: uploads over the time from the first upload to
the last 201; tagged/s: over the time until the last asset was seen tagged (both for the
whole run only). The upload
column is the `POST` round trip as the client saw it. Percentiles are nearest-rank
(with {s['n']} uploads, p99 is close to the max).

| backend | kind | uploads | uploads/s | tagged/s | upload p50 / p99 | → processed p50 | p99 | max | → tagged p50 | p99 | max | failed |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{pipe_rows}

"""
    text = open(out, encoding="utf-8").read() if os.path.exists(out) else "# Benchmarks\n"
    pattern = re.compile(r"^## Writes, logins and the upload pipeline .*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        marker = "\n## Chaos:"
        if marker in text:
            text = text.replace(marker, "\n" + section.rstrip("\n") + "\n\n" + marker.lstrip("\n"), 1)
        else:
            text = text.rstrip("\n") + "\n\n" + section
    open(out, "w", encoding="utf-8").write(text.rstrip("\n") + "\n")
    print(f"wrote the Writes, logins and the upload pipeline section of {out}")


def main() -> None:
    if len(sys.argv) < 2:
        fail(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "setup":
        setup(int(args[0]), args[1], args[2], int(args[3]), int(args[4]))
    elif command == "pipeline":
        pipeline(int(args[0]), int(args[1]), int(args[2]), args[3], args[4])
    elif command == "report":
        report(args[0], args[1], args[2])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
