# shellcheck shell=bash
# dbt_start_sserver LOG ARGS...: starts `openssl s_server -quiet ARGS...` on a free port of
# 127.0.0.1 (up to 5 ports tried: another process may take the one picked before s_server binds
# it), waits until it accepts a connection, and has it killed at exit (dbt_cleanup_push of
# tests/lib/common.sh). Sets $port; its output goes to LOG. Exits the test with FAIL when no
# server starts, printing LOG.
dbt_start_sserver() {
    local log=$1 try i p pid
    shift
    for try in 1 2 3 4 5; do
        p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        openssl s_server -quiet -accept "127.0.0.1:$p" "$@" </dev/null >>"$log" 2>&1 &
        pid=$!
        for ((i = 0; i < 100; i++)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                dbt_cleanup_push "kill $pid 2>/dev/null"
                port=$p
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$pid" 2>/dev/null
    done
    echo "FAIL: openssl s_server did not start: $(cat "$log")"
    exit 1
}
