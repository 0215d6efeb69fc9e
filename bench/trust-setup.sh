#!/usr/bin/env bash
# What `dbtrust system enable` costs each connection (`make bench-trust`; not a test: it prints
# figures and the goal). libpq builds a fresh SSL_CTX per connection and re-reads OpenSSL's
# default verify paths, so the routes are compared on that work (bench/trust-setup.c):
#   base     the system store (bundle file + hashed dir) with the demo CA enabled by dbtrust
#   enabled  the same with 108 AWS RDS roots more enabled by dbtrust (goal: < 2% over base)
#   scoped   the same two bundles imported with scopes (--only-for db.demo.internal and
#            rds.amazonaws.com) and enabled: the server's chain is then verified through the
#            demo CA's name-constrained cross-certificate and the local anchor (goal: < 2% over
#            base)
#   naive    the same roots appended to the bundle file instead ("import into the OS store";
#            +79% on OpenSSL 3.0 when first measured; this bench prints today's figure)
#   lazy     `dbtrust env --lazy` for the base catalog: an empty SSL_CERT_FILE, the system's
#            hashed directory then the catalog's (goal: base >= 20x lazy on 3.0, >= 10x on 3.5)
# Counted with callgrind (instructions per setup; stable) and timed interleaved in one process,
# on the host's OpenSSL and, as root with a cached Debian 13 root, on OpenSSL 3.5 there.
# Then psql 17 connection time (as root, with the cached Debian 13 root): hyperfine per route on
# the host's OpenSSL 3.0 (Debian 13's psql run there by tests/lib/ossl30-run), and stock versus
# lazy interleaved in one loop on both OpenSSL versions. Each timed loop runs inside one
# namespace, so the namespace's set-up is not part of any connection's time.
set -euo pipefail
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG DBTRUST_SYSTEM_CERT_DIR \
    DBTRUST_SYSTEM_STATE
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
bench=$build/bench/trust-setup
dbtrust=${DBTRUST:-$build/dbtrust}
realdata=${DBTRUST_REALDATA:-$src/../shared/realdata}
iters=${BENCH_ITERS:-200}
for p in "$bench" "$dbtrust"; do
    [ -x "$p" ] || { echo "trust-setup: $p not built; run make first" >&2; exit 1; }
done
w=$(mktemp -d /tmp/dbt-trust-bench.XXXXXX)
chmod 755 "$w"
cleanups=("rm -rf '$w'")
trap 'for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[i]}" || true; done' EXIT

. "$src/certs/demo-pki.sh"
dbt_demo_pki "$w/pki" db.demo.internal >/dev/null
chain=$w/pki/server-chain.pem
if [ -r "$realdata/aws-rds-global-bundle.pem" ]; then
    cp "$realdata/aws-rds-global-bundle.pem" "$w/aws.pem"
    echo "108 roots: $realdata/aws-rds-global-bundle.pem"
else
    # Same shape as the real bundle: 36 regions x RSA2048, RSA4096, ECC384 self-signed roots.
    echo "108 roots: generated (no $realdata/aws-rds-global-bundle.pem)"
    for r in $(seq -w 1 36); do
        for k in rsa:2048 rsa:4096 ec:P-384; do
            case $k in ec:*) ka=(-newkey ec -pkeyopt ec_paramgen_curve:P-384) ;;
            *) ka=(-newkey "$k") ;; esac
            openssl req -x509 -nodes "${ka[@]}" -keyout /dev/null -days 3650 \
                -subj "/C=US/O=Bench/OU=RDS/CN=Bench region-$r Root CA ${k/:/}/L=Seattle" \
                2>/dev/null
        done
    done >"$w/aws.pem"
fi
[ "$(grep -c 'BEGIN CERTIFICATE' "$w/aws.pem")" = 108 ] ||
    { echo "trust-setup: $w/aws.pem does not hold 108 certificates" >&2; exit 1; }

# Catalogs: the demo CA alone (base) and the demo CA plus the 108 roots (enabled).
"$dbtrust" --catalog "$w/cat-base" import -q --bundle demo "$w/pki/demo-bundle.pem" >/dev/null
"$dbtrust" --catalog "$w/cat-aws" import -q --bundle demo "$w/pki/demo-bundle.pem" >/dev/null
"$dbtrust" --catalog "$w/cat-aws" import -q --bundle aws "$w/aws.pem" >/dev/null
"$dbtrust" --catalog "$w/cat-scoped" import -q --bundle demo --only-for db.demo.internal \
    "$w/pki/demo-bundle.pem" >/dev/null
"$dbtrust" --catalog "$w/cat-scoped" import -q --bundle aws --only-for rds.amazonaws.com \
    "$w/aws.pem" >/dev/null

# What a scope costs an import: the 108 roots into an empty catalog, unscoped and scoped
# (goal: scoped <= 2x unscoped), wall time interleaved (median) and callgrind instructions.
import_once() { # import_once DIR [--only-for NAME]: the wall seconds of one import
    rm -rf "$1"
    local t0 t1 d=$1
    shift
    t0=$(date +%s%N)
    "$dbtrust" --catalog "$d" import -q --bundle aws "$@" "$w/aws.pem" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "== import of the 108 roots into an empty catalog: unscoped vs --only-for rds.amazonaws.com"
for ((i = 0; i < ${IMPORT_RUNS:-15}; i++)); do
    echo "u $(import_once "$w/imp")"
    echo "s $(import_once "$w/imp" --only-for rds.amazonaws.com)"
done >"$w/import.times"
iu=$(awk '$1 == "u" { print $2 }' "$w/import.times" | median)
is=$(awk '$1 == "s" { print $2 }' "$w/import.times" | median)
awk -v u="$iu" -v s="$is" 'BEGIN {
    printf "  wall (median of %d each, interleaved): unscoped %.1f ms, scoped %.1f ms: %.2fx\n",
        '"${IMPORT_RUNS:-15}"', u / 1000, s / 1000, s / u }'
if command -v valgrind >/dev/null; then
    for m in u s; do
        rm -rf "$w/imp" "$w/cg-imp.out"
        valgrind -q --tool=callgrind --callgrind-out-file="$w/cg-imp.out" "$dbtrust" \
            --catalog "$w/imp" import -q --bundle aws \
            $([ $m = s ] && echo --only-for rds.amazonaws.com) "$w/aws.pem" >/dev/null
        eval "ir_$m=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' \
            "$w/cg-imp.out" | head -1)"
    done
    awk -v u="$ir_u" -v s="$ir_s" 'BEGIN {
        printf "  callgrind: unscoped %d, scoped %d instructions: %.2fx (goal: <= 2x)\n", u, s, s / u }'
fi

# routes PREFIX SYSCERTS: copies of a system store (SYSCERTS = an /etc/ssl/certs) wired three
# ways by the real commands; sets ROUTES (NAME=FILE:DIR for trust-setup).
routes() {
    local p=$1 sys=$2
    cp -a "$sys" "$p-dir-base"
    cp -a "$sys" "$p-dir-aws"
    cp -a "$sys" "$p-dir-sys"
    cp -a "$sys" "$p-dir-scoped"
    DBTRUST_SYSTEM_CERT_DIR=$p-dir-base DBTRUST_SYSTEM_STATE=$p-state-base \
        "$dbtrust" --catalog "$w/cat-base" system enable >/dev/null
    DBTRUST_SYSTEM_CERT_DIR=$p-dir-aws DBTRUST_SYSTEM_STATE=$p-state-aws \
        "$dbtrust" --catalog "$w/cat-aws" system enable >/dev/null
    DBTRUST_SYSTEM_CERT_DIR=$p-dir-scoped DBTRUST_SYSTEM_STATE=$p-state-scoped \
        "$dbtrust" --catalog "$w/cat-scoped" system enable >/dev/null
    cp "$sys/ca-certificates.crt" "$p-file-sys"
    cat "$sys/ca-certificates.crt" "$w/pki/demo-bundle.pem" "$w/aws.pem" >"$p-file-naive"
    # lazy: what `dbtrust env --lazy` prints for this store (it refuses if that changes trust).
    local lz lzfile lzdir
    lz=$(DBTRUST_SYSTEM_CERT_DIR=$p-dir-sys DBTRUST_SYSTEM_CERT_FILE=$p-file-sys \
        "$dbtrust" --catalog "$w/cat-base" env --lazy)
    lzfile=$(sed -n "s/^export SSL_CERT_FILE='\(.*\)'$/\1/p" <<<"$lz")
    lzdir=$(sed -n "s/^export SSL_CERT_DIR='\(.*\)'$/\1/p" <<<"$lz")
    ROUTES=("base=$p-file-sys:$p-dir-base" "enabled=$p-file-sys:$p-dir-aws"
        "scoped=$p-file-sys:$p-dir-scoped" "naive=$p-file-naive:$p-dir-sys"
        "lazy=$lzfile:$lzdir")
}

# Instructions per setup: runs with 1 and 1+n setups, so process start and the warm-up round
# cancel out. IR_RUN is the command prefix (empty on the host), IR_BENCH the program.
IR_RUN=() IR_BENCH=$bench trixie_routes=()
ir_per_setup() {
    local route=$1 n=5 a b
    a=$(ir "$IR_BENCH" "$chain" db.demo.internal 1 "$route")
    b=$(ir "$IR_BENCH" "$chain" db.demo.internal $((1 + n)) "$route")
    echo $(((b - a) / n))
}
ir() {
    rm -f "$w/cg.out"
    "${IR_RUN[@]}" valgrind -q --tool=callgrind --callgrind-out-file="$w/cg.out" \
        --toggle-collect=bench_setup_once "$@" >/dev/null
    sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$w/cg.out" | head -1
}
# Prints the callgrind table for ROUTES; LAZY_GOAL is the stock/lazy ratio to reach.
ir_table() {
    local r n
    declare -A IR
    for r in "${ROUTES[@]}"; do IR[${r%%=*}]=$(ir_per_setup "$r"); done
    echo "callgrind, instructions per setup (SSL_CTX_new + default paths + chain verify):"
    for n in base enabled scoped naive lazy; do
        printf '  %-8s %12d  %sx base\n' "$n" "${IR[$n]}" "$(ratio "${IR[$n]}" "${IR[base]}")"
    done
    echo "  goal: enabled < 1.02x base, scoped < 1.02x base"
    printf '  stock (base) / lazy: %sx cheaper in lazy mode (goal: >= %sx)\n' \
        "$(ratio "${IR[base]}" "${IR[lazy]}")" "$LAZY_GOAL"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo
echo "== host: $(openssl version)"
routes "$w/host" /etc/ssl/certs
if command -v valgrind >/dev/null; then
    LAZY_GOAL=20 ir_table
else
    echo "(valgrind not installed: no instruction counts)"
fi
echo "wall time, $iters setups per route interleaved:"
"$bench" "$chain" db.demo.internal "$iters" "${ROUTES[@]}" | sed 's/^/  /'
host_routes=("${ROUTES[@]}")

# OpenSSL 3.5 in the cached Debian 13 root: the same routes built from the root's own store,
# the work directory bound at the same path so that every link resolves as on the host.
if [ "$(id -u)" = 0 ] && [ -n "${DBTRUST_CACHE:-}" ] &&
    [ -f "$DBTRUST_CACHE/trixie-root/.dbtrust-ready" ]; then
    . "$src/tests/lib/trixie.sh"
    DBT_TRIXIE_ROOT=$DBTRUST_CACHE/trixie-root
    dbt_trixie_session
    cleanups+=("dbt_trixie_session_end '$DBT_TRIXIE_SESSION'")
    cp "$src/bench/trust-setup.c" "$DBT_TRIXIE_WORK/"
    echo
    echo "== Debian 13 root: $(dbt_trixie_run -- openssl version)"
    if dbt_trixie_run -- sh -c 'gcc -O2 -o /dbt/trust-setup /dbt/trust-setup.c \
            $(pkg-config --cflags --libs libssl libcrypto)'; then
        # A dereferenced copy of the root's /etc/ssl/certs, made inside the root: its links are
        # absolute paths into the root's /usr/share/ca-certificates, which `dbtrust env --lazy`
        # on the host must read as the root's, not the host's.
        dbt_trixie_run --bind "$w:$w" -- cp -rL /etc/ssl/certs "$w/t-syscerts"
        routes "$w/t" "$w/t-syscerts"
        trixie_routes=("${ROUTES[@]}")
        # valgrind into this session's throwaway overlay (the cached root stays as it is).
        if dbt_trixie_run -- sh -c 'command -v valgrind >/dev/null ||
                { apt-get update -q && apt-get install -y -q valgrind; } >/dev/null 2>&1'; then
            IR_RUN=(dbt_trixie_run --bind "$w:$w" --) IR_BENCH=/dbt/trust-setup
            LAZY_GOAL=10 ir_table
            IR_RUN=() IR_BENCH=$bench
        else
            echo "(valgrind could not be installed in the root: no instruction counts there)"
        fi
        echo "wall time, $iters setups per route interleaved:"
        dbt_trixie_run --bind "$w:$w" -- /dbt/trust-setup "$chain" db.demo.internal "$iters" \
            "${ROUTES[@]}" | sed 's/^/  /'
    else
        echo "(could not build bench/trust-setup.c in the root)"
    fi
else
    echo
    echo "(OpenSSL 3.5: needs root and a cached Debian 13 root in \$DBTRUST_CACHE; skipped)"
fi

# psql_loop TITLE SIDE ROUTE...: stock (base) against lazy psql 17 connections, interleaved in one
# loop on the side under test (host: OpenSSL 3.0 through tests/lib/ossl30-run; trixie: 3.5) (bash's time: wall, and the client's user+sys CPU where the trust
# setup shows), as ratios from this one run.
psql_loop() {
    local title=$1 side=$2 psql=/usr/lib/postgresql/17/bin/psql r spec sf=: sd=: lf=: ld=:
    local n=${PSQL_RUNS:-40}
    shift 2
    for r in "$@"; do
        spec=${r#*=}
        case ${r%%=*} in
        base) sf=${spec%%:*} sd=${spec#*:} ;;
        lazy) lf=${spec%%:*} ld=${spec#*:} ;;
        esac
    done
    cat >"$w/psql-loop.sh" <<'LOOP'
#!/bin/bash
# psql-loop.sh N PSQL CONNINFO STOCKFILE STOCKDIR LAZYFILE LAZYDIR: prints "route wall cpu".
n=$1 psql=$2 conn=$3 TIMEFORMAT='%R %U %S'
# One connection: "wall user sys", or FAIL (which the summary refuses to average).
one() {
    local t
    t=$({ time env SSL_CERT_FILE="$1" SSL_CERT_DIR="$2" "$psql" -X -A -t -c 'select 1' \
        "$conn" >/dev/null 2>&1; } 2>&1) || t=FAIL
    echo "$t"
}
for ((i = 0; i < 3; i++)); do one "$4" "$5" >/dev/null; one "$6" "$7" >/dev/null; done
for ((i = 0; i < n; i++)); do
    echo "stock $(one "$4" "$5")"
    echo "lazy $(one "$6" "$7")"
done
LOOP
    chmod 755 "$w/psql-loop.sh"
    echo
    echo "== psql 17 ($title): stock vs lazy, $n connections each, interleaved:"
    if [ "$side" = trixie ]; then
        dbt_trixie_run --bind "$w:$w" -- "$w/psql-loop.sh" "$n" "$psql" "$conn" "$sf" "$sd" \
            "$lf" "$ld"
    else
        "$src/tests/lib/ossl30-run" --bind "$w" "$troot" "$w/psql-loop.sh" "$n" "$psql" "$conn" \
            "$sf" "$sd" "$lf" "$ld"
    fi >"$w/psql-loop.out"
    awk '$2 ~ /^[0-9.]+$/ { w[$1] += $2; c[$1] += $3 + $4; k[$1]++ }
        END {
            if (k["stock"] == 0 || k["lazy"] == 0 || k["stock"] != k["lazy"]) {
                print "  (psql runs failed: " k["stock"] + 0 " stock, " k["lazy"] + 0 " lazy)"; exit 1
            }
            printf "  %-6s wall %7.1f ms  client cpu %6.1f ms\n", "stock", 1000 * w["stock"] / k["stock"], 1000 * c["stock"] / k["stock"]
            printf "  %-6s wall %7.1f ms  client cpu %6.1f ms\n", "lazy", 1000 * w["lazy"] / k["lazy"], 1000 * c["lazy"] / k["lazy"]
            printf "  stock/lazy: wall %.2fx, client cpu %.2fx\n", w["stock"] / w["lazy"], c["stock"] / c["lazy"]
        }' "$w/psql-loop.out" || sed 's/^/  /' "$w/psql-loop.out" | head -5
}

# psql 17 connection time per route against a local PostgreSQL with TLS.
troot=${DBTRUST_CACHE:-}/trixie-root
if [ "$(id -u)" = 0 ] && command -v hyperfine >/dev/null && [ -n "${DBTRUST_CACHE:-}" ] &&
    [ -f "$troot/.dbtrust-ready" ]; then
    . "$src/tests/lib/pgserver.sh"
    trap 'dbt_pg_stop_all; for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[i]}" || true; done' EXIT
    dbt_pg_start --ssl "$chain" "$w/pki/server.key"
    psql=/usr/lib/postgresql/17/bin/psql
    # hyperfine runs inside the namespace too (a copy in the bound work directory).
    cp "$(command -v hyperfine)" "$w/hyperfine"
    conn="host=db.demo.internal hostaddr=127.0.0.1 port=$DBT_PG_PORT user=$DBT_PG_USER"
    conn="$conn dbname=$DBT_PG_DB sslrootcert=system"
    cmds=()
    for r in "${host_routes[@]}"; do
        spec=${r#*=}
        cmds+=(-n "${r%%=*}" "env SSL_CERT_FILE=${spec%%:*} SSL_CERT_DIR=${spec#*:} $psql -X -A -t -c 'select 1' '$conn'")
    done
    echo
    echo "== psql 17 (host OpenSSL) connect + select 1 + disconnect, hyperfine:"
    echo "  (connection time includes the server's fork and the TLS handshake; the client's"
    echo "  User time is where the trust setup shows)"
    "$src/tests/lib/ossl30-run" --bind "$w" "$troot" "$w/hyperfine" -N -w 5 -r 60 "${cmds[@]}" \
        2>&1 | sed 's/^/  /'
    psql_loop "Debian 13's psql on the host's $(openssl version | cut -d' ' -f1-2)" host \
        "${host_routes[@]}"
    if [ "${#trixie_routes[@]}" -gt 0 ]; then
        psql_loop "Debian 13 root, OpenSSL 3.5" trixie "${trixie_routes[@]}"
    fi
else
    echo
    echo "(psql timing: needs root, hyperfine and the Debian 13 root cached in \$DBTRUST_CACHE;" \
        "skipped)"
fi
