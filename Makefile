# mcp-pii: every target sets up what it needs (virtual environment, release build) and
# rebuilds only what changed. `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
NATIVE_SRC := $(wildcard native/*.rs) Cargo.toml Cargo.lock mcp_pii/catalog.toml
export CARGO_TARGET_DIR := $(CURDIR)/target

PORT ?= 8765
BENCH_ARGS ?=
FUZZ_SECONDS ?= 60
LOAD_ARGS ?=

.PHONY: help
help:  ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMPS):
	@mkdir -p $(STAMPS)

$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "mcp>=2.3,<3" "pydantic>=2.7,<3" "pytest>=8" "pytest-timeout>=2.3" \
		"hypothesis>=6.100" "ruff>=0.6" "mypy>=1.11" "maturin>=1.8,<2"
	@touch $@

Cargo.lock:
	cargo generate-lockfile

$(STAMPS)/native: $(STAMPS)/venv $(NATIVE_SRC) | $(STAMPS)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --release --quiet
	@touch $@

.PHONY: setup
setup: $(STAMPS)/native  ## Create the virtualenv, build the Rust extension (release) and install the package

.PHONY: run
run: setup  ## Start the MCP server on Streamable HTTP at http://127.0.0.1:$(PORT)/mcp
	$(VENV)/bin/mcp-pii serve --transport http --port $(PORT)

.PHONY: test
test: setup  ## Run the Rust and Python test suites (both engines)
	cargo test --quiet
	$(PY) -m pytest -q

.PHONY: lint
lint: setup  ## cargo fmt --check, cargo clippy -D warnings, ruff, mypy
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --features python -- -D warnings
	$(VENV)/bin/ruff check mcp_pii tests bench examples
	$(VENV)/bin/ruff format --check mcp_pii tests bench examples
	$(VENV)/bin/mypy

.PHONY: fmt
fmt: setup  ## Format Rust and Python sources
	cargo fmt
	$(VENV)/bin/ruff format mcp_pii tests bench examples
	$(VENV)/bin/ruff check --fix mcp_pii tests bench examples

.PHONY: bench
bench: setup  ## Benchmarks: engines vs cpex-pii-filter, MCP latency (writes bench/results/)
	$(PY) -m pip install --quiet "cpex-pii-filter==0.3.9"
	$(PY) bench/run.py $(BENCH_ARGS)

.PHONY: bench-rust
bench-rust:  ## Criterion benchmarks of the Rust core alone
	cargo bench --bench core

.PHONY: clean
clean:  ## Remove build products and the virtualenv
	rm -rf $(STAMPS) $(VENV) target mcp_pii/_native*.so
