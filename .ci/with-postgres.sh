#!/usr/bin/env bash
# Runs one command against a throwaway PostgreSQL cluster, then stops and deletes it.
#
#   .ci/with-postgres.sh COMMAND [ARG...]
#
# PostgreSQL is installed from Debian's packages when missing. The cluster lives in a
# temp dir, listens on 127.0.0.1 on a free port (its unix socket stays in the temp dir)
# and is stopped even when the command fails or is interrupted. The command sees
# DATABASE_URL (postgres://kb@127.0.0.1:PORT/kb, a superuser, so Django's test runner
# can create its test database). PostgreSQL refuses to run as root: as root, the
# cluster runs as the `postgres` user the Debian package creates.
#
# KB_PG_DURABLE=1 keeps fsync and synchronous commits on (the load benchmark wants a
# real server); by default they are off, as a test database needs no durability.
set -euo pipefail

pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
    fi
}

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if [ -z "$(pg_bindir)" ]; then
    echo "with-postgres: installing PostgreSQL from Debian packages" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN="$(pg_bindir)"
if [ -z "$PG_BIN" ]; then
    echo "with-postgres: no PostgreSQL server binaries found after install" >&2
    exit 1
fi

PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/kb-pg.XXXXXX")"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_TMP"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

stop_cluster() {
    local status=$?
    trap - EXIT INT TERM
    if [ -f "$PG_TMP/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMP"
    exit "$status"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U kb --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; exit 1; }

PG_OPTS="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_TMP -c max_connections=200"
if [ "${KB_PG_DURABLE:-0}" != "1" ]; then
    PG_OPTS="$PG_OPTS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "$PG_OPTS" start >/dev/null \
    || { cat "$PG_TMP/server.log" >&2; exit 1; }
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U kb kb

export DATABASE_URL="postgres://kb@127.0.0.1:$PG_PORT/kb"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" >&2

# Not exec: the trap must outlive the command to stop the cluster.
"$@"
