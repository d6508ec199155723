#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test, the browser (wasm32) build of the
# core and the CUDA path's type check. `--install` first installs the system packages,
# Rust targets and components the suite needs (what CI does on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--install" ]; then
    export DEBIAN_FRONTEND=noninteractive
    if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq dataset-fashion-mnist >/dev/null
    fi
    toolchain=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
    rustup toolchain install "$toolchain" --profile minimal --component clippy,rustfmt --target wasm32-unknown-unknown
fi

# Real data the tests read: the Debian Fashion-MNIST and the MNIST sample beside the repo.
export ASTUTE_DATA_DIR="${ASTUTE_DATA_DIR:-$(cd .. && pwd)/shared/data}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== astute for the browser (wasm32, no file I/O, no threads)"
cargo build -p astute --target wasm32-unknown-unknown --no-default-features --features flex-wasm
echo "== the CUDA path type-checks (DOCS_RS=1 skips burn-cuda's LLVM download)"
DOCS_RS=1 cargo check -p astute --features cuda
