#!/usr/bin/env bash
# The whole test suite: formatting, lints (with the CUDA path type-checked), every test,
# the web app and the playground's engine (the core on wasm32, WebGPU and CPU) in headless
# Chromium, and the separation kernels of other CPUs (NEON under qemu, wasm SIMD under
# Node). `--install` first installs the system packages, Rust targets and components the
# suite needs (what CI does on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--install" ]; then
    export DEBIAN_FRONTEND=noninteractive
    packages=(dataset-fashion-mnist qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
        postgresql curl chromium)
    command -v node >/dev/null || packages+=(nodejs)
    missing=()
    for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    toolchain=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
    rustup toolchain install "$toolchain" --profile minimal --component clippy,rustfmt \
        --target wasm32-unknown-unknown,wasm32-wasip1,aarch64-unknown-linux-gnu
fi

# Real data the tests read: the Debian Fashion-MNIST (in /usr/share/datasets) and the MNIST
# sample Astute ships (data/mnist-sample), both found without a setting.

# Each step reports its duration when the next begins, so slow steps show in CI logs.
step() {
    if [ -n "${step_name:-}" ]; then echo "   ($step_name: $((SECONDS - step_started)) s)"; fi
    step_name=$1
    step_started=$SECONDS
    echo "== $1"
}

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy, with the CUDA build of the server type-checked (DOCS_RS=1 skips burn-cuda's LLVM download)"
DOCS_RS=1 cargo clippy --workspace --all-targets --features astute-server/cuda -- -D warnings
step "cargo test (the API tests also on a private PostgreSQL server)"
pgdir=$(mktemp -d)
trap 'scripts/test-postgres.sh stop "$pgdir/pg"' EXIT
ASTUTE_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$pgdir/pg")
export ASTUTE_TEST_POSTGRES_URL ASTUTE_REQUIRE_POSTGRES=1
cargo test --workspace
step "the web app and the playground engine (cargo xtask site) in headless Chromium, against the debug astute"
# The tests check that brotli is served, not how dense it is: the fast setting saves a minute.
cargo xtask site --quick-brotli
# TensorFlow.js (optional there) is for `npm run bench` only: 300 MB the tests leave out.
(cd tests/browser && npm ci --omit=optional --no-audit --no-fund --silent && npm test)
step "separation kernels on aarch64 (NEON, under qemu) and WebAssembly (simd128, under Node's WASI)"
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
    cargo test -p astute --release --no-default-features --features std \
    --target aarch64-unknown-linux-gnu --test separation
CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C target-feature=+simd128" \
CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings --experimental-wasi-unstable-preview1 $PWD/scripts/wasi-run.mjs" \
    cargo test -p astute --release --no-default-features --features std \
    --target wasm32-wasip1 --test separation
step "all passed"
