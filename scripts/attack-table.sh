#!/usr/bin/env bash
# Every model in FOLDER (default: the shipped playground models) under the paper's PGD-10,
# APGD-CE, APGD-T and AutoAttack standard (APGD-CE, APGD-T, FAB-T, Square), with the time
# each took and the quick gradient-masking checks raised, on the first N test images
# (default 100), seed 0, as a Markdown table:
#   scripts/attack-table.sh [N [FOLDER [DATASET]]] > bench/results/attacks-playground.md
# Every file is of DATASET when given; otherwise a file's dataset is its name up to
# -METHOD-plain|dropout (as `astute playground` names them). Datasets are found as the
# README's Data section says (the MNIST sample ships in data/).
# Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-100}
folder=${2:-static/playground/models}
only_dataset=${3:-}
# ASTUTE names a built `astute` to use instead of building this checkout's.
astute=${ASTUTE:-}
if [ -z "$astute" ]; then
    cargo build --release -p astute-server --quiet
    astute=target/release/astute
fi
echo "First $images test images, seed 0, each model's own ε; accuracy % (seconds)."
echo
echo "| model | ε | clean | PGD-10 | APGD-CE | APGD-T | AutoAttack | masking flags raised |"
echo "|---|---|---|---|---|---|---|---|"
for weights in "$folder"/*.safetensors; do
    name=$(basename "$weights" .safetensors)
    dataset=${only_dataset:-$(sed -E 's/-(natural|at|trades[0-9]+)-(plain|dropout)$//' <<<"$name")}
    "$astute" eval -d "$dataset" "$weights" --test-images "$images" \
        --attack pgd,apgd-ce,apgd-t,autoattack --json |
        jq -r --arg name "$name" '
            def cell(a): (.robust[] | select(.attack == a)
                | "\(.accuracy * 100 | round / 100) (\(.seconds * 10 | round / 10) s)");
            [ $name, (.robust[0].epsilon | tostring), (.clean_accuracy * 100 | round / 100 | tostring),
              cell("pgd"), cell("apgd-ce"), cell("apgd-t"), cell("autoattack"),
              ([.masking[] | select(.raised) | .check] | if length == 0 then "none" else join(", ") end) ]
            | "| " + join(" | ") + " |"'
done
