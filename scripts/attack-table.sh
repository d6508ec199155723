#!/usr/bin/env bash
# Every shipped playground model under the paper's PGD-10, APGD-CE, APGD-T and AutoAttack
# (APGD-CE, APGD-T, Square), with the time each took, and the gradient-masking checks, on
# the first N test images (default 200), seed 0:
#   scripts/attack-table.sh [N] > bench/results/attacks-playground.txt
# The MNIST sample is read from $ASTUTE_DATA_DIR (see the README's Data section).
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-200}
cargo build --release -p astute-server --quiet
for weights in static/playground/models/*.safetensors; do
    name=$(basename "$weights" .safetensors)
    dataset=$(sed -E 's/-(natural|at|trades[0-9]+)-(plain|dropout)$//' <<<"$name")
    echo "== $name"
    target/release/astute eval -d "$dataset" "$weights" --test-images "$images" \
        --attack pgd,apgd-ce,apgd-t,autoattack --masking
done
