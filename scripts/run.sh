#!/usr/bin/env bash
# Sets up a fresh Debian machine (the Fashion-MNIST package) and runs Astute's main job:
# the web app built (`cargo xtask site`, offline) and the lab server on
# http://127.0.0.1:8080 with its embedded SQLite store and one in-process worker.
# Extra arguments go to `astute serve` (see `astute serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo xtask site
exec cargo run --release -p astute-server -- serve "$@"
