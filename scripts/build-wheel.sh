#!/usr/bin/env bash
# Build the abi3 wheel of mcp-pii (Rust engine) into OUTDIR (default dist/).
#
# Run by `make wheel` and `make dist`, by the wheels workflow on every platform, and by the
# Dockerfile's wheel stage, so all of them build the same way. On Linux, zig links against an old
# glibc so that the wheel is manylinux2014 (glibc 2.17); MCP_PII_COMPAT=musllinux_1_2 with
# MCP_PII_TARGET=x86_64-unknown-linux-musl builds for Alpine. Needs maturin (and ziglang on Linux)
# from PyPI on PATH, and cargo.
set -euo pipefail
out=${1:-dist}
args=(build --release --locked --strip --out "$out")
if [[ -n "${MCP_PII_TARGET:-}" ]]; then
  args+=(--target "$MCP_PII_TARGET")
fi
if [[ "$(uname -s)" == Linux ]]; then
  args+=(--zig --compatibility "${MCP_PII_COMPAT:-manylinux2014}")
fi
exec maturin "${args[@]}"
