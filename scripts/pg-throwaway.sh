#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a temporary directory and a free loopback port.
#   scripts/pg-throwaway.sh start DIR   -> prints the SQLAlchemy URL on stdout
#     (DIR may exist; its parent must be traversable by the cluster owner, e.g. under /tmp)
#   scripts/pg-throwaway.sh restart DIR fast|immediate   (pg_ctl restart -m MODE: a database restart
#     under traffic, for tests/crash_harness.py)
#   scripts/pg-throwaway.sh stop DIR
# initdb refuses to run as root, so as root the cluster belongs to the 'postgres' system user
# (created by the Debian package) or, failing that, 'nobody'.
set -euo pipefail

action=${1:?start|stop}
dir=${2:?directory}

find_bindir() {
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"; return
    fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$newest" ] && [ -x "$newest/initdb" ] && { echo "$newest"; return; }
    return 1
}

bindir=$(find_bindir) || { echo "pg-throwaway: no PostgreSQL server binaries (initdb) found" >&2; exit 3; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        local owner=postgres
        id "$owner" >/dev/null 2>&1 || owner=nobody
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown "$(id -u postgres 2>/dev/null || id -u nobody)" "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # UTF-8 ctype: pg_trgm treats CJK characters as word characters only under a UTF-8 locale.
    as_owner "$bindir/initdb" -D "$dir/data" -U registry --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U registry registry
    echo "$port" >"$dir/port"
    echo "postgresql+psycopg://registry@127.0.0.1:$port/registry"
    ;;
restart)
    # The same options as at start (pg_ctl keeps them in postmaster.opts); the log file again, or
    # the new server would write to whoever called us.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m "${3:-fast}" -w -t 60 restart >/dev/null
    ;;
stop)
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|restart|stop DIR [fast|immediate]" >&2; exit 2 ;;
esac
