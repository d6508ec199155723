#!/usr/bin/env bash
# Load benchmark of the run list: a release server (no workers) whose store holds N runs
# (default 10,000, created through the API), queried by wrk from another process.
# Rate limits are off: this measures the list itself. Needs curl and wrk (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000}
port=${ASTUTE_BENCH_PORT:-8181}
base="http://127.0.0.1:$port"
cargo build --release -q -p astute-server
bin=target/release/astute
state=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server"; rm -rf "$state"' EXIT
token=$($bin token create --admin --state-dir "$state")  # admin: no quota on queued runs
$bin serve --state-dir "$state" --workers 0 --no-seed --read-rate 0 --write-rate 0 \
    --addr "127.0.0.1:$port" 2>"$state/log" &
server=$!
until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done

start=$(date +%s)
seq 1 "$runs" | xargs -P 4 -I{} curl -sf -o /dev/null -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d '{"dataset":"fashion-mnist","method":"trades:6","seed":{}}' "$base/api/runs"
echo "stored $runs runs through POST /api/runs in $(( $(date +%s) - start )) s"
curl -s "$base/api/runs?limit=1" | sed 's/.*"total":\([0-9]*\).*/total in the store: \1/'
echo
for query in 'limit=50' 'dataset=fashion-mnist&status=queued&sort=-created_at&limit=50' \
    'sort=-test_acc&limit=50&offset=5000'; do
    echo "== GET /api/runs?$query"
    wrk -t2 -c16 -d15s --latency "$base/api/runs?$query" | sed -n '/Latency Distribution/,$p'
done
