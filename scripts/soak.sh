#!/usr/bin/env bash
# Soak of a release server on loopback: 10 minutes (SOAK_SECONDS) of read traffic on the
# run list, Table 2 and a mix of other reads (wrk, rate limits off so the server itself is
# measured), 50 live event streams from 50 addresses, and a training run on Fashion-MNIST
# in the server's worker process. Prints each wrk's latency percentiles and non-2xx count,
# and the server's and worker's memory at the start and the end.
# Needs curl, wrk (Debian packages) and Fashion-MNIST (`apt-get install dataset-fashion-mnist`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SOAK_SECONDS:-600}
port=${ASTUTE_BENCH_PORT:-8182}
base="http://127.0.0.1:$port"
cargo build --release -q -p astute-server
bin=target/release/astute
state=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server"; sleep 1; rm -rf "$state"' EXIT
token=$($bin token create --admin --state-dir "$state")
$bin serve --state-dir "$state" --workers 1 --read-rate 0 --write-rate 0 \
    --addr "127.0.0.1:$port" 2>"$state/log" &
server=$!
until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done
until grep -q "astute worker process" "$state/log"; do sleep 0.2; done
worker=$(sed -n 's/.*astute worker process \([0-9]*\):.*/\1/p' "$state/log" | head -1)

memory() { awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$1/status"; }
echo "start: server $(memory "$server"), worker process $(memory "$worker")"

run=$(curl -sf -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"dataset":"fashion-mnist","method":"trades:6","epochs":2}' "$base/api/runs" |
    sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
echo "training run $run queued"
# 50 live streams, one per address, each reconnecting when the server ends it (as a
# browser does) until the soak is over.
deadline=$(( $(date +%s) + seconds ))
for i in $(seq 2 51); do
    (while [ "$(date +%s)" -lt "$deadline" ]; do
        curl -sN --interface "127.0.0.$i" --max-time $(( deadline - $(date +%s) + 1 )) \
            -o /dev/null "$base/api/runs/$run/events" || true
        sleep 3
    done) &
done

cat >"$state/mix.lua" <<'EOF'
local paths = {"/api/health", "/api/runs?limit=50", "/api/tables/1", "/api/tables/3",
               "/api/separations", "/api/models", "/api/scales?dataset=mnist",
               "/api/plots/tradeoff.svg", "/api/runs?sort=-test_acc&limit=20"}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
EOF
report() { sed -n '/Latency Distribution/,$p'; }
wrk -t1 -c4 -d"${seconds}s" --latency "$base/api/runs?limit=50" >"$state/runs.txt" & runs_wrk=$!
wrk -t1 -c4 -d"${seconds}s" --latency "$base/api/tables/2" >"$state/tables.txt" & tables_wrk=$!
wrk -t1 -c4 -d"${seconds}s" --latency -s "$state/mix.lua" "$base" >"$state/mix.txt" & mix_wrk=$!
sleep 60
echo "after 1 min: server $(memory "$server"), worker process $(memory "$worker")"
wait "$runs_wrk" "$tables_wrk" "$mix_wrk"
echo "== GET /api/runs?limit=50"; report <"$state/runs.txt"
echo "== GET /api/tables/2"; report <"$state/tables.txt"
echo "== mixed reads"; report <"$state/mix.txt"
echo "(wrk prints a 'Non-2xx or 3xx responses' line only when there were any)"
echo "end: server $(memory "$server"), worker process $(memory "$worker")"
curl -s "$base/api/runs/$run" | sed 's/.*"status":"\([a-z]*\)".*/training run: \1/'
