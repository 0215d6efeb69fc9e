# Throwaway PostgreSQL 15 servers on 127.0.0.1 for end-to-end tests, with or without TLS.
# Usage (bash, as root):
#   . tests/lib/pgserver.sh
#   dbt_pg_start --ssl "$pki/server-chain.pem" "$pki/server.key" || exit $?   # 77 = skip
#   psql "host=db.demo.internal hostaddr=127.0.0.1 port=$DBT_PG_PORT user=$DBT_PG_USER \
#         dbname=$DBT_PG_DB sslmode=verify-full ..."
#   dbt_pg_start --nossl                 # a second server, TLS off (DBT_PG_PORT is now its port)
# Each start sets DBT_PG_PORT and DBT_PG_DIR for the server just started; all servers are
# stopped and their directories removed at exit (or by dbt_pg_stop DIR / dbt_pg_stop_all).
# The server runs as the `postgres` system user (initdb refuses root); hostssl (or host, for
# --nossl) with trust auth for user and database "dbtrust" on 127.0.0.1 only.

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DBT_PG_BIN=${DBT_PG_BIN:-/usr/lib/postgresql/15/bin}
DBT_PG_USER=dbtrust
DBT_PG_DB=dbtrust
DBT_PG_ALL=()

# The server never reads a test's client-side OPENSSL_CONF (in a sanitizer build it names the
# ASan-built dbtrust.so, which the uninstrumented postgres cannot load).
dbt_pg_as() { runuser -u postgres -- env -u OPENSSL_CONF "$@"; }

# A TCP port nobody listens on now. Another process may take it before the server binds it, so
# dbt_pg_start retries on a bind failure.
dbt_pg_free_port() {
    local port i
    for ((i = 0; i < 50; i++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    dbt_error "no free TCP port found on 127.0.0.1"
    return 1
}

# Checks what a server needs; 77 with the reason when it cannot run here.
dbt_pg_check() {
    dbt_require_root "a throwaway PostgreSQL server (runs as the postgres user)" || return $?
    if [ ! -x "$DBT_PG_BIN/initdb" ] || [ ! -x "$DBT_PG_BIN/pg_ctl" ]; then
        dbt_skip_reason "PostgreSQL server binaries not found in $DBT_PG_BIN" \
            "(apt-get install postgresql-15, or set DBT_PG_BIN)"
        return $DBT_SKIP
    fi
    id postgres >/dev/null 2>&1 || {
        dbt_skip_reason "no 'postgres' system user (apt-get install postgresql-15 creates it)"
        return $DBT_SKIP
    }
}

# dbt_pg_start --ssl CERTCHAIN KEY | --nossl
dbt_pg_start() {
    local mode=${1:-} cert='' key='' dir port try rc
    case $mode in
    --ssl)
        cert=${2:-} key=${3:-}
        if [ ! -r "$cert" ] || [ ! -r "$key" ]; then
            dbt_error "dbt_pg_start --ssl: cannot read certificate '$cert' or key '$key'"
            return 1
        fi
        ;;
    --nossl) ;;
    *) dbt_error "usage: dbt_pg_start --ssl CERTCHAIN KEY | --nossl"; return 1 ;;
    esac
    dbt_pg_check || return $?

    # Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
    dir=$(mktemp -d /tmp/dbt-pg.XXXXXX) || return 1
    DBT_PG_ALL+=("$dir")
    [ ${#DBT_PG_ALL[@]} -eq 1 ] && dbt_cleanup_push dbt_pg_stop_all
    chmod 755 "$dir"
    mkdir "$dir/data" "$dir/run"
    if [ -n "$cert" ]; then
        # The key must belong to the server's user and be private, or PostgreSQL refuses it.
        cp "$cert" "$dir/server-chain.pem"
        cp "$key" "$dir/server.key"
        chmod 600 "$dir/server.key"
    fi
    chown -R postgres: "$dir"
    dbt_pg_as "$DBT_PG_BIN/initdb" -D "$dir/data" -U "$DBT_PG_USER" -A trust --no-sync \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        dbt_error "initdb in $dir/data failed (tail of $dir/initdb.log follows)"
        tail -n 10 "$dir/initdb.log" >&2
        return 1
    }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir/run'"
        echo "fsync = off"
        echo "log_connections = on"
        if [ -n "$cert" ]; then
            echo "ssl = on"
            echo "ssl_cert_file = '$dir/server-chain.pem'"
            echo "ssl_key_file = '$dir/server.key'"
        else
            echo "ssl = off"
        fi
    } >>"$dir/data/postgresql.conf"
    {
        echo "local all all trust"
        if [ -n "$cert" ]; then
            echo "hostssl all all 127.0.0.1/32 trust"
        else
            echo "host all all 127.0.0.1/32 trust"
        fi
    } >"$dir/data/pg_hba.conf"

    rc=1
    for try in 1 2 3 4 5; do
        [ "$try" -gt 1 ] && echo "start try $try: port $port was taken" >>"$dir/server.log"
        port=$(dbt_pg_free_port) || return 1
        sed -i '/^port = /d' "$dir/data/postgresql.conf"
        echo "port = $port" >>"$dir/data/postgresql.conf"
        if dbt_pg_as "$DBT_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
            >/dev/null 2>&1; then
            rc=0
            break
        fi
        grep -q 'could not bind\|Address already in use' "$dir/server.log" 2>/dev/null || break
    done
    if [ "$rc" != 0 ]; then
        dbt_error "PostgreSQL failed to start in $dir (tail of $dir/server.log follows)"
        tail -n 10 "$dir/server.log" >&2
        return 1
    fi
    echo "$port" >"$dir/port"
    dbt_pg_as "$DBT_PG_BIN/createdb" -h "$dir/run" -p "$port" -U "$DBT_PG_USER" "$DBT_PG_DB" \
        >>"$dir/server.log" 2>&1 || {
        dbt_error "createdb $DBT_PG_DB on the server in $dir failed; see $dir/server.log"
        return 1
    }
    # shellcheck disable=SC2034 # for the caller
    DBT_PG_DIR=$dir DBT_PG_PORT=$port
}

# Stops the server in DIR (default: the last started) and removes DIR. Safe to call twice.
dbt_pg_stop() {
    local dir=${1:-${DBT_PG_DIR:-}}
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        dbt_pg_as "$DBT_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
            >/dev/null 2>&1 ||
            dbt_error "pg_ctl stop failed for $dir/data; the server may still run" \
                "(see $dir/server.log; stop it with:" \
                "runuser -u postgres -- $DBT_PG_BIN/pg_ctl -D $dir/data stop)"
    fi
    [ -f "$dir/data/postmaster.pid" ] || rm -rf "$dir"
}

dbt_pg_stop_all() {
    local d
    for d in "${DBT_PG_ALL[@]}"; do dbt_pg_stop "$d"; done
    DBT_PG_ALL=()
}

# The server's log (connection attempts and TLS errors are logged), for test diagnostics.
dbt_pg_log() { cat "${1:-$DBT_PG_DIR}/server.log"; }
