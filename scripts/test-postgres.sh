#!/usr/bin/env bash
# Starts a private PostgreSQL server for the tests (a throwaway cluster in a temporary
# folder, on 127.0.0.1:${ASTUTE_TEST_PG_PORT:-54329}, trusting local connections) and
# prints its URL. Source-free: `url=$(scripts/test-postgres.sh start DIR)`, later
# `scripts/test-postgres.sh stop DIR`. Needs the Debian `postgresql` package.
set -euo pipefail
action=$1
dir=$2
port=${ASTUTE_TEST_PG_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# PostgreSQL refuses to run as root: use its own account then.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$action" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        chmod o+x "$(dirname "$dir")"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U astute >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    echo "postgres://astute@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    rm -rf "$dir"
    ;;
esac
