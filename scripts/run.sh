#!/usr/bin/env bash
# Sets up a fresh Debian machine (the Fashion-MNIST package) and runs Astute's main job:
# TRADES(6) on Fashion-MNIST for one epoch, evaluated as a row of the paper's tables.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi
exec cargo run --release -p astute-server -- train --dataset fashion-mnist --arch cnn2 --method trades:6 --epochs 1 "$@"
