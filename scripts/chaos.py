#!/usr/bin/env python3
"""make chaos: the fleet (`marquee up`) on PostgreSQL + RabbitMQ under a steady load of
uploads, comments and Stripe webhooks, through four faults in a row:

  1. RabbitMQ restarted (rabbitmqctl stop_app, start_app);
  2. PostgreSQL restarted (pg_ctlcluster … restart);
  3. the fleet process killed with SIGKILL while an upload is in flight, then started again;
  4. SIGTERM to the fleet while uploads are in flight: those must all complete (201), then
     the fleet is started again.

Afterwards every accepted (2xx) upload, comment and webhook is looked up: an upload must
exist and have left processing (asset.processed handled), billing's asset count must equal
the live assets (quota applied once per asset, never twice), every comment must be listed
once, every webhook event stored once (each is delivered twice, as Stripe retries). It
prints the ledger (accepted / applied / lost / duplicated) and exits 1 on any loss or
duplicate, or on an in-flight request that graceful shutdown dropped.

    python3 scripts/chaos.py                 (builds the debug `marquee` binary)
    MARQUEE_BIN=path/to/marquee python3 scripts/chaos.py
    LOAD_SECONDS=8 python3 scripts/chaos.py  (seconds of load between faults)

Stdlib only. Needs psql, rabbitmqctl and pg_ctlcluster (scripts/ensure-services.sh). It
restarts the machine's broker and database: never run it beside `make test`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadkit import Api, free_port, load_env, ok, png, stripe_event, stripe_signature  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("MARQUEE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("MARQUEE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
SERVICES = ["auth", "content", "billing", "tagging", "campaign"]
KEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
ADMIN_EMAIL = "chaos-admin@marquee.test"
ADMIN_PASSWORD = "chaos admin password"
PASSWORD = "chaos user password"
WEBHOOK_SECRET = "whsec_chaos_ledger"
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "6"))


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(*args: str, check: bool = True) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def database_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def psql(sql: str, database: str = "postgres") -> str:
    return run("psql", database_url(database) if database != "postgres" else PG_ADMIN, "-tAc", sql).strip()


@dataclass
class Ledger:
    uploads: dict[str, str] = field(default_factory=dict)  # asset id → token
    upload_failures: int = 0
    comments: dict[str, str] = field(default_factory=dict)  # comment id → body
    comment_failures: int = 0
    webhooks: set[str] = field(default_factory=set)  # acknowledged event ids
    webhook_failures: int = 0
    drained: list[str] = field(default_factory=list)  # in-flight at SIGTERM, completed
    dropped: list[str] = field(default_factory=list)  # in-flight at SIGTERM, not completed
    lock: threading.Lock = field(default_factory=threading.Lock)


class Fleet:
    def __init__(self, binary: str, data: Path, port: int, exchange: str, databases: dict[str, str]) -> None:
        self.binary, self.data, self.port = binary, data, port
        self.process: subprocess.Popen[bytes] | None = None
        self.env = dict(os.environ)
        self.env.update({
            "MARQUEE_DATA_DIR": str(data),
            "MARQUEE_GATEWAY_ADDR": f"127.0.0.1:{port}",
            "MARQUEE_GATEWAY_ACCESS_LOG": "false",
            "MARQUEE_LOG__FILTER": "warn",
            "MARQUEE_AMQP_URL": AMQP,
            "MARQUEE_BUS_EXCHANGE": exchange,
            "MARQUEE_AUTH_KEK__KEY": KEK,
            "MARQUEE_CAMPAIGN_KEK__KEY": KEK,
            "MARQUEE_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
            "MARQUEE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        })
        # Only the faults may refuse anything; a webhook's processing may fail, its storing may not.
        self.env.update(load_env(WEBHOOK_SECRET))
        for service, name in databases.items():
            self.env[f"MARQUEE_{service.upper()}_DATABASE_URL"] = database_url(name)

    def start(self) -> None:
        out = open(self.data / "fleet.log", "ab")
        self.process = subprocess.Popen([self.binary, "up"], env=self.env, stdout=out, stderr=out)
        api = Api(self.port)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the fleet exited ({self.process.returncode}): see {self.data / 'fleet.log'}")
            status, _ = api.call("GET", "/readyz", timeout=2)
            if status == 200:
                return
            time.sleep(0.3)
        raise SystemExit("the fleet did not become ready in 120 s")

    def kill(self) -> None:
        assert self.process
        self.process.kill()
        self.process.wait()

    def terminate(self) -> int:
        assert self.process
        self.process.terminate()
        return self.process.wait(timeout=60)


def load(api: Api, ledger: Ledger, tokens: list[str], seed_asset: str, stop: threading.Event) -> list[threading.Thread]:
    counter = iter(range(10**9))
    counter_lock = threading.Lock()

    def next_n() -> int:
        with counter_lock:
            return next(counter)

    def uploader(token: str) -> None:
        while not stop.is_set():
            n = next_n()
            status, body = api.upload(token, f"chaos-{n}", png(n + 1000))
            with ledger.lock:
                if status == 201 and isinstance(body, dict):
                    ledger.uploads[body["id"]] = token
                else:
                    ledger.upload_failures += 1
            if not ok(status):
                time.sleep(0.2)

    def commenter(token: str) -> None:
        while not stop.is_set():
            text = f"chaos comment {next_n()} {uuid.uuid4().hex[:8]}"
            status, body = api.call("POST", f"/api/v1/assets/{seed_asset}/comments", token, {"body": text})
            with ledger.lock:
                if status == 201 and isinstance(body, dict):
                    ledger.comments[body["id"]] = text
                else:
                    ledger.comment_failures += 1
            time.sleep(0.05 if ok(status) else 0.2)

    def webhooker() -> None:
        while not stop.is_set():
            event_id = f"evt_chaos_{uuid.uuid4().hex[:20]}"
            payload = stripe_event(event_id, "cus_chaos_unknown")
            # Stripe retries until acknowledged: twice here, the second a retry.
            acknowledged = False
            for _ in range(2):
                status, _ = api.call("POST", "/api/v1/webhooks/stripe", raw=payload,
                                     headers={"content-type": "application/json", "stripe-signature": stripe_signature(WEBHOOK_SECRET, payload)})
                acknowledged |= ok(status)
            with ledger.lock:
                if acknowledged:
                    ledger.webhooks.add(event_id)
                else:
                    ledger.webhook_failures += 1
            time.sleep(0.1 if acknowledged else 0.3)

    threads = [threading.Thread(target=uploader, args=(t,), daemon=True) for t in tokens]
    threads += [threading.Thread(target=commenter, args=(t,), daemon=True) for t in tokens[:2]]
    threads.append(threading.Thread(target=webhooker, daemon=True))
    for thread in threads:
        thread.start()
    return threads


def postgres_version() -> str:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if p.is_dir())
    return versions[-1]


def wait_ready(api: Api, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if api.call("GET", "/readyz", timeout=2)[0] == 200:
            return
        time.sleep(0.5)
    log("warning: /readyz not 200 yet; the load goes on")


def main() -> int:
    binary = os.environ.get("MARQUEE_BIN")
    if not binary:
        run("cargo", "build", "--locked", "--bin", "marquee")
        target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
        binary = str(Path(target) / "debug" / "marquee")
    run_id = uuid.uuid4().hex[:8]
    databases = {service: f"marquee_chaos_{service}_{run_id}" for service in SERVICES}
    for name in databases.values():
        psql(f'CREATE DATABASE "{name}"')
    data = Path(tempfile.mkdtemp(prefix="marquee-chaos-"))
    port = free_port()
    fleet = Fleet(binary, data, port, f"marquee.chaos.{run_id}", databases)
    api = Api(port)
    try:
        return chaos(fleet, api)
    finally:
        if fleet.process and fleet.process.poll() is None:
            fleet.terminate()
        if not os.environ.get("KEEP"):
            for name in databases.values():
                psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"fleet log: {data / 'fleet.log'}")


def chaos(fleet: Fleet, api: Api) -> int:
    log(f"starting the fleet on PostgreSQL + RabbitMQ (port {fleet.port})")
    fleet.start()
    status, session = api.call("POST", "/api/v1/auth/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert status == 200, session
    admin = session["access_token"]
    _, tenants = api.call("GET", "/api/v1/admin/tenants", admin)
    default = next(t for t in tenants["items" if isinstance(tenants, dict) and "items" in tenants else "tenants"]
                   if t["slug"] == "default")
    status, _ = api.call("PUT", f"/api/v1/admin/tenants/{default['id']}/flags", admin,
                         {"flags": {"auto_approve_assets": True}})
    assert status == 200
    tokens = []
    for i in range(3):
        status, session = api.call("POST", "/api/v1/auth/register",
                                   body={"email": f"chaos{i}@marquee.test", "password": PASSWORD, "display_name": f"Chaos {i}"})
        assert status == 201, session
        tokens.append(session["access_token"])
    status, seed = api.upload(tokens[0], "chaos-seed", png(1))
    assert status == 201, seed
    for _ in range(100):
        _, asset = api.call("GET", f"/api/v1/assets/{seed['id']}", tokens[0])
        if isinstance(asset, dict) and asset.get("moderation") == "approved" or (
                isinstance(asset, dict) and asset.get("status") not in (None, "processing")):
            break
        time.sleep(0.2)

    ledger = Ledger()
    stop = threading.Event()
    threads = load(api, ledger, tokens, seed["id"], stop)
    time.sleep(LOAD_SECONDS)

    log("fault 1: RabbitMQ stopped and started")
    run("rabbitmqctl", "stop_app")
    time.sleep(3)
    run("rabbitmqctl", "start_app")
    time.sleep(LOAD_SECONDS)

    log("fault 2: PostgreSQL restarted")
    run("pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(), "main", "restart")
    time.sleep(LOAD_SECONDS)

    log("fault 3: SIGKILL with an upload in flight, then started again")
    in_flight = threading.Thread(target=api.slow_upload, args=(tokens[1], "chaos-killed", png(7), 3.0), daemon=True)
    in_flight.start()
    time.sleep(1.0)
    fleet.kill()
    in_flight.join(timeout=10)
    fleet.start()
    time.sleep(LOAD_SECONDS)

    log("fault 4: SIGTERM with uploads in flight; they must complete")
    results: dict[str, tuple[int | None, str]] = {}

    def drained_upload(name: str) -> None:
        results[name] = api.slow_upload(tokens[2], name, png(hash(name) % 10_000 + 20_000), 2.0)

    inflight = [threading.Thread(target=drained_upload, args=(f"chaos-drain-{i}",)) for i in range(3)]
    for thread in inflight:
        thread.start()
    time.sleep(0.5)
    code = fleet.terminate()
    for thread in inflight:
        thread.join(timeout=30)
    for name, (status, body) in sorted(results.items()):
        if status == 201:
            ledger.drained.append(name)
            ledger.uploads[json.loads(body)["id"]] = tokens[2]
        else:
            ledger.dropped.append(f"{name}: {status} {body[:120]}")
    log(f"fleet exited with {code} after draining; starting it again")
    fleet.start()
    time.sleep(LOAD_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    wait_ready(api)
    return account(fleet, api, ledger, admin, tokens, seed["id"])


def account(fleet: Fleet, api: Api, ledger: Ledger, admin: str, tokens: list[str], seed: str) -> int:
    log("load stopped; waiting for every accepted upload to be processed")
    lost_uploads: list[str] = []
    deadline = time.time() + 120
    pending = dict(ledger.uploads)
    while pending and time.time() < deadline:
        for asset_id, token in list(pending.items()):
            status, asset = api.call("GET", f"/api/v1/assets/{asset_id}", token)
            if status == 200 and isinstance(asset, dict) and asset.get("status") != "processing":
                del pending[asset_id]
            elif status == 404:
                lost_uploads.append(f"{asset_id}: gone")
                del pending[asset_id]
        time.sleep(1 if pending else 0)
    lost_uploads += [f"{asset_id}: still processing after 120 s" for asset_id in pending]

    # Quota applied once per asset: billing's count equals the assets that exist.
    live = 0
    for token in tokens + [admin]:
        cursor = ""
        while True:
            _, me = api.call("GET", "/api/v1/auth/me", token)
            status, page = api.call("GET", f"/api/v1/assets?owner={me['id']}&limit=100" + (f"&cursor={cursor}" if cursor else ""), token)
            assert status == 200, page
            live += len(page["items"])
            cursor = page.get("next_cursor") or ""
            if not cursor:
                break
    _, usage = api.call("GET", "/api/v1/billing/usage", tokens[0])
    counted = next(limit for limit in usage["limits"] if limit["limit"] == "assets")
    quota_duplicates = max(0, counted["used"] - live)
    quota_lost = max(0, live - counted["used"])

    listed: dict[str, int] = {}
    cursor = ""
    while True:
        status, page = api.call("GET", f"/api/v1/assets/{seed}/comments?limit=100" + (f"&cursor={cursor}" if cursor else ""), tokens[0])
        assert status == 200, page
        for comment in page["items"]:
            listed[comment["body"]] = listed.get(comment["body"], 0) + 1
        cursor = page.get("next_cursor") or ""
        if not cursor:
            break
    lost_comments = [body for body in ledger.comments.values() if body not in listed]
    duplicate_comments = [body for body, n in listed.items() if n > 1]

    database = fleet.env["MARQUEE_BILLING_DATABASE_URL"].rsplit("/", 1)[1]
    stored = set(psql("SELECT id FROM stripe_events WHERE id LIKE 'evt_chaos_%'", database).split())
    rows = int(psql("SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_chaos_%'", database))
    lost_webhooks = sorted(ledger.webhooks - stored)

    print()
    print("| kind | accepted | applied | lost | duplicated | refused during faults |")
    print("|---|---|---|---|---|---|")
    print(f"| uploads (processed) | {len(ledger.uploads)} | {len(ledger.uploads) - len(lost_uploads)} | {len(lost_uploads)} | 0 | {ledger.upload_failures} |")
    print(f"| asset quota (billing count vs live assets) | {live} | {counted['used']} | {quota_lost} | {quota_duplicates} | — |")
    print(f"| comments | {len(ledger.comments)} | {len(ledger.comments) - len(lost_comments)} | {len(lost_comments)} | {len(duplicate_comments)} | {ledger.comment_failures} |")
    print(f"| webhooks (each sent twice) | {len(ledger.webhooks)} | {len(ledger.webhooks & stored)} | {len(lost_webhooks)} | {rows - len(stored)} | {ledger.webhook_failures} |")
    print(f"| in flight at SIGTERM | {len(ledger.drained) + len(ledger.dropped)} | {len(ledger.drained)} | {len(ledger.dropped)} | — | — |")
    print()
    problems = lost_uploads + lost_comments + lost_webhooks + ledger.dropped
    problems += [f"comment listed twice: {b}" for b in duplicate_comments]
    if quota_duplicates or quota_lost:
        problems.append(f"billing counts {counted['used']} assets, {live} exist")
    if not ledger.uploads or not ledger.comments or not ledger.webhooks:
        problems.append("the load accepted nothing of some kind: the run proves nothing")
    for problem in problems[:40]:
        log(f"FAIL {problem}")
    log("chaos: " + ("FAILED" if problems else "every accepted upload, comment and webhook accounted for, none twice"))
    return 1 if problems else 0


if __name__ == "__main__":
    random.seed(7)
    sys.exit(main())
