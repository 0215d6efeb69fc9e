#!/usr/bin/env bash
# Scoped trust end to end: a CA imported with `dbtrust import --only-for` is trusted by real
# clients only for the names and addresses of its scope, through every route into OpenSSL's
# default trust (`dbtrust env`, `env --lazy`, `system enable` links, `system enable
# --bundle-file`): libpq 17 psql with sslmode=verify-full sslrootcert=system against a real
# PostgreSQL 15 server with TLS, `openssl s_client -verify_return_error`, Python's default SSL
# context and (on the host) curl with its default trust, on OpenSSL 3.0 (the host) and 3.5 (a
# Debian 13 root). The test PKI is made here: a root R (only in the catalog), an intermediate I,
# and leaves inside and outside the scope (DNS SAN, CN only, IP SAN, a chain that sends R).
# After every dbtrust command no private key is anywhere under the catalog or the system store.
# The system store is changed only inside a private mount namespace over copies
# (tests/lib/sysiso.sh) and inside the Debian 13 root's throwaway overlay.
# Skips (77) when not root; without the Debian 13 root (mirror unreachable) only the psql and
# OpenSSL 3.5 parts are skipped, with a message.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG DBTRUST_SYSTEM_CERT_DIR DBTRUST_SYSTEM_STATE
unset DBTRUST_SYSTEM_CERT_FILE OPENSSL_CONF CURL_CA_BUNDLE
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
export PGCONNECT_TIMEOUT=15 LC_ALL=C

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
. "$src/tests/lib/common.sh"
# The sanitizer pass (make check exports DBTRUST_SANITIZED) leaves this matrix out to keep CI
# within its time: what it runs of dbtrust (import --only-for, env, system enable and refresh,
# the trust view) runs under ASan+UBSan in tests/cli-scope.sh, tests/test_scope and
# tests/cli-system.sh; the rest of this test is psql, curl, s_client and Python.
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: the real-client matrix runs in the normal pass (sanitizer build: dbtrust's part" \
        "of it is in cli-scope.sh and test_scope)"
    exit 77
}
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/tests/lib/pgserver.sh"
. "$src/tests/lib/libpq17.sh"
. "$src/tests/lib/trixie.sh"

DBTRUST=${DBTRUST:-$build/dbtrust}
[ -x "$DBTRUST" ] || { echo "Bail out! no dbtrust binary at $DBTRUST (run make first)"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || dbt_apt_ensure python3 || exit $?

. "$src/tests/lib/tap.sh"
skip() { echo "ok - $* # SKIP"; }

work=$(mktemp -d /tmp/dbt-e2e-scope.XXXXXX) || exit 1
chmod 755 "$work"
dbt_cleanup_push "rm -rf '$work'"
dbt_sysiso_setup "$work/iso" || { echo "Bail out! could not isolate the system trust store"; exit 1; }
ok "system trust store isolated: /etc/ssl/certs and friends are copies in a mount namespace"

# --- the test PKI ---------------------------------------------------------------------------
# R (P-384) -> I (P-256, pathlen 0) -> leaves (one P-256 key for all, so the PostgreSQL server
# changes certificates by reloading one file). Chains: LEAF-chain.pem = leaf + I (what a server
# sends), db-R / evil-R = leaf + I + R (a server that also sends the root).
pki=$work/pki
mkpki() {
    local d=$1 n
    mkdir -p "$d" && cd "$d" || return 1
    cat >pki.cnf <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ int_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    # A leaf's extensions: these, then its subjectAltName when it has one.
    cat >leaf.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    (
        set -e
        umask 077
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out R.key
        openssl req -new -x509 -config pki.cnf -extensions root_ext -key R.key -sha384 \
            -days 365 -subj "/O=dbtrust scope test/CN=Scope Test Root R" -out R.pem
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out I.key
        openssl req -new -config pki.cnf -key I.key -subj "/O=dbtrust scope test/CN=Scope Test I" \
            -out I.csr
        openssl x509 -req -in I.csr -CA R.pem -CAkey R.key -set_serial 0x1001 -sha384 \
            -days 300 -extfile pki.cnf -extensions int_ext -out I.pem
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout O.key \
            -days 30 -subj "/O=dbtrust scope test/CN=Unrelated CA O" -out O.pem
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key
        # name  subjectAltName (- for none)  subject
        while read -r n san subj; do
            { cat leaf.ext && [ "$san" = - ] || echo "subjectAltName = $san"; } >"$n.ext"
            openssl req -new -config pki.cnf -key leaf.key -subj "$subj" -out "$n.csr"
            openssl x509 -req -in "$n.csr" -CA I.pem -CAkey I.key \
                -set_serial "0x$(openssl rand -hex 8)" -sha256 -days 200 -extfile "$n.ext" \
                -out "$n.pem"
            cat "$n.pem" I.pem >"$n-chain.pem"
        done <<'EOF'
db DNS:db.scope.test /O=dbtrust scope test/CN=db.scope.test
evil DNS:evil.other.test /O=dbtrust scope test/CN=evil.other.test
apex DNS:scope.test /O=dbtrust scope test/CN=scope.test
cn - /O=dbtrust scope test/CN=cn.scope.test
cnout - /O=dbtrust scope test/CN=cn.other.test
ip IP:127.0.0.1,IP:::1 /O=dbtrust scope test/CN=scope test ip leaf
EOF
        cat db.pem I.pem R.pem >db-R-chain.pem
        cat evil.pem I.pem R.pem >evil-R-chain.pem
        cat R.pem I.pem >R+I.pem
        rm -f ./*.csr ./*.ext
        # Readable by the Debian 13 root's processes and the postgres user; keys stay private.
        chmod 644 ./*.pem
    ) >"$d/pki.log" 2>&1 || { cat "$d/pki.log"; return 1; }
    cd - >/dev/null
}
mkpki "$pki" || { echo "Bail out! cannot make the test PKI in $pki"; exit 1; }
# Sanity of the PKI itself, independent of dbtrust: every leaf verifies against R directly.
for n in db evil apex cn cnout ip; do
    openssl verify -CAfile "$pki/R.pem" -untrusted "$pki/I.pem" "$pki/$n.pem" >/dev/null 2>&1 ||
        { echo "Bail out! the test PKI is broken: $n.pem does not verify against R"; exit 1; }
done
for n in cn cnout; do
    ! openssl x509 -in "$pki/$n.pem" -noout -text | grep -q 'Subject Alternative Name' ||
        { echo "Bail out! the test PKI is broken: $n.pem has a subjectAltName"; exit 1; }
done
openssl x509 -in "$pki/ip.pem" -noout -text | grep -q 'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' ||
    { echo "Bail out! the test PKI is broken: ip.pem lacks its IP SANs"; exit 1; }
mkdir "$work/ctl" && openssl pkey -in "$pki/leaf.key" -out "$work/ctl/k.pem" &&
    openssl pkey -in "$pki/leaf.key" -outform DER -out "$work/ctl/k.der" ||
    { echo "Bail out! cannot make the control keys"; exit 1; }
chmod 644 "$work/ctl"/*
ok "test PKI: R -> I -> db.scope.test, evil.other.test, scope.test, CN-only, IP-SAN leaves"

# What each target is: the name a client asks for (an IP address for the IP leaf) and its chain.
declare -A T_NAME=([db]=db.scope.test [evil]=evil.other.test [apex]=scope.test
    [cn]=cn.scope.test [cnout]=cn.other.test [ip]=127.0.0.1 [ip6]=::1 [db-R]=db.scope.test
    [evil-R]=evil.other.test)
declare -A T_CHAIN=([db]=db [evil]=evil [apex]=apex [cn]=cn [cnout]=cnout [ip]=ip [ip6]=ip
    [db-R]=db-R [evil-R]=evil-R)

# One openssl s_server per chain (HTTP, for s_client, curl and Python).
declare -A T_PORT=()
for c in db evil apex cn cnout ip db-R evil-R; do
    port=$(dbt_pg_free_port) || exit 1
    chainrest=$pki/I.pem
    case $c in *-R) chainrest=$pki/R+I.pem ;; esac
    openssl s_server -www -quiet -accept "127.0.0.1:$port" -cert "$pki/${c%-R}.pem" \
        -cert_chain "$chainrest" -key "$pki/leaf.key" </dev/null >"$work/s_server-$c.log" 2>&1 &
    dbt_cleanup_push "kill $! 2>/dev/null"
    T_PORT[$c]=$port
done
T_PORT[ip6]=${T_PORT[ip]}
for c in "${!T_PORT[@]}"; do
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/${T_PORT[$c]}") 2>/dev/null && break; sleep 0.1; done
done

# The PostgreSQL server: one, its certificate chain swapped by a reload (pg_serve).
have_psql=1
dbt_libpq17_ensure
rc=$?
if [ "$rc" = "$DBT_SKIP" ]; then
    have_psql=0
    echo "# no Debian 13 root (see the SKIP reason above): psql 17 and OpenSSL 3.5 parts skipped"
elif [ "$rc" != 0 ]; then
    echo "Bail out! cannot set up psql 17 (tests/lib/libpq17.sh)"
    exit 1
fi
pg_port=
if [ "$have_psql" = 1 ]; then
    dbt_pg_start --ssl "$pki/db-chain.pem" "$pki/leaf.key" || exit $?
    pg_port=$DBT_PG_PORT pg_dir=$DBT_PG_DIR
fi
pg_current=db
q="select ssl from pg_stat_ssl where pid = pg_backend_pid()"

# pg_serve CHAIN: makes the server send CHAIN (a T_CHAIN value) and waits until it does.
pg_serve() {
    local c=$1 want got
    [ "$c" = "$pg_current" ] && return 0
    cp "$pki/$c-chain.pem" "$pg_dir/server-chain.pem" && chown postgres: "$pg_dir/server-chain.pem" ||
        return 1
    dbt_pg_as "$DBT_PG_BIN/pg_ctl" -D "$pg_dir/data" reload >/dev/null 2>&1 || return 1
    want=$(sha256sum <"$pki/$c-chain.pem")
    for _ in $(seq 100); do
        got=$(openssl s_client -starttls postgres -connect "127.0.0.1:$pg_port" -showcerts \
            </dev/null 2>/dev/null | sed -n '/-BEGIN CERTIFICATE-/,/-END CERTIFICATE-/p' | sha256sum)
        [ "$got" = "$want" ] && { pg_current=$c; return 0; }
        sleep 0.1
    done
    echo "the PostgreSQL server did not start sending $c-chain.pem after a reload" >&2
    return 1
}

# --- one side of the matrix: the commands of one OpenSSL build ------------------------------
# X [VAR=VALUE...] -- CMD...: runs CMD on the side under test (host, or the Debian 13 root) with
# only the given trust variables set.
X() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    if [ "$SIDE" = host ]; then
        (
            for e in "${envs[@]}"; do export "${e?}"; done
            exec "$@"
        )
    else
        local a=()
        for e in "${envs[@]}"; do a+=(--env "$e"); done
        dbt_trixie_run "${a[@]}" -- "$@"
    fi
}
dbt() { X -- "$S_DBTRUST" --catalog "$S_CATALOG" "$@"; }

# via CMD...: runs CMD through the route under test ($ROUTE): env and lazy evaluate `dbtrust
# env [--lazy]`'s output in the client's shell, as a user's profile does; sys and bundle-file
# rely on the system store that `dbtrust system enable [--bundle-file]` wired.
via() {
    case $ROUTE in
    env | lazy)
        local lz=
        [ "$ROUTE" = lazy ] && lz=--lazy
        # shellcheck disable=SC2016
        X -- sh -c 'd=$1 c=$2 l=$3; shift 3; e=$("$d" --catalog "$c" env $l) || exit 1
            eval "$e"; exec "$@"' sh "$S_DBTRUST" "$S_CATALOG" "$lz" "$@"
        ;;
    sys | bundle-file) X -- "$@" ;;
    *) echo "via: unknown route $ROUTE" >&2; return 2 ;;
    esac
}

# The clients, CLIENT TARGET. Each prints what it said; the exit status is the client's. c_psql
# expects the server switched to TARGET's chain already (check() does it). c_curl takes DNS
# names and IPv4 addresses only (the servers listen on 127.0.0.1).
c_psql() {
    local t=$1 name=${T_NAME[$1]} conn
    case $name in
    *[a-z]*) conn="host=$name hostaddr=127.0.0.1" ;;
    *) conn="host=$name" ;;
    esac
    via "$S_PSQL" -X -A -t -c "$q" "$conn port=$pg_port user=$DBT_PG_USER dbname=$DBT_PG_DB
        sslmode=verify-full sslrootcert=system"
}
c_sclient() {
    local t=$1 name=${T_NAME[$1]} v
    case $name in
    *[a-z]*) v=(-servername "$name" -verify_hostname "$name") ;;
    *) v=(-verify_ip "$name") ;;
    esac
    via sh -c 'exec "$@" </dev/null' sh openssl s_client -brief -verify_return_error \
        -connect "127.0.0.1:${T_PORT[$t]}" "${v[@]}"
}
c_curl() {
    local t=$1 name=${T_NAME[$1]} url
    case $name in
    *[a-z]*) url=(--resolve "$name:${T_PORT[$t]}:127.0.0.1" "https://$name:${T_PORT[$t]}/") ;;
    *) url=("https://$name:${T_PORT[$t]}/") ;;
    esac
    via curl -sS -o /dev/null --max-time 15 "${url[@]}"
}
c_python() {
    local t=$1
    via python3 "$S_PROBE" "${T_NAME[$t]}" 127.0.0.1 "${T_PORT[$t]}"
}

# check NAME in|out|untrusted CLIENT TARGET: the client reaches TARGET (in), or refuses its
# certificate for the name constraint (out), or for want of a trusted issuer (untrusted). The
# clients that print OpenSSL's reason must name it; psql says only "certificate verify failed"
# (libpq gives no reason), and what it said is printed as a comment.
check() {
    local name="$1 ($3 -> ${T_NAME[$4]})" want=$2 client=$3 t=$4 out rc good bad
    [[ $t == *-R ]] && name="$1 ($3 -> ${T_NAME[$t]}, chain with R)"
    case $client in
    psql)
        [ "$have_psql" = 1 ] || { skip "$name: no psql 17 (no Debian 13 root)"; return 0; }
        good='=t' bad='certificate verify failed'
        # Not in a subshell: pg_serve records what the server sends now.
        pg_serve "${T_CHAIN[$t]}" 2>"$work/pg_serve.err" || {
            not_ok "$name: the PostgreSQL server could not send ${T_CHAIN[$t]}: $(cat "$work/pg_serve.err")"
            return 1
        }
        ;;
    sclient) good='Verification: OK' bad='subtree violation' ;;
    curl) good='=' bad='subtree violation' ;;
    python) good='verified' bad='subtree violation' ;;
    esac
    [ "$want" = untrusted ] && [ "$client" != psql ] && bad='unable to get local issuer certificate'
    out=$("c_$client" "$t" 2>&1)
    rc=$?
    [ "$client" = psql ] && [ "$want" != in ] &&
        echo "# $name: psql said: $(head -n 2 <<<"$out" | tr '\n' ' ')"
    if [ "$want" = in ]; then
        if [ "$rc" = 0 ] && { [ "${good:0:1}" = = ] && [ "$out" = "${good:1}" ] ||
            { [ "${good:0:1}" != = ] && grep -qF -- "$good" <<<"$out"; }; }; then
            ok "$name"
        else
            not_ok "$name: wanted a verified connection, exit status $rc; output: ${out:0:1500}"
        fi
    else
        if [ "$rc" != 0 ] && grep -qF -- "$bad" <<<"$out"; then
            ok "$name"
        else
            not_ok "$name: wanted a refusal with '$bad', exit status $rc; output: ${out:0:1500}"
        fi
    fi
}

# keys_in DIR...: on the side under test, the files under DIR that hold PEM key text or that
# OpenSSL parses as a key (`openssl pkey` with no -inform tries every encoding), one a line.
keys_in() {
    # shellcheck disable=SC2016
    X -- sh -c 'for d in "$@"; do
            [ -e "$d" ] || continue
            grep -rl "PRIVATE KEY" "$d" 2>/dev/null | sed "s/^/PEM key text in /"
            find "$d" -type f | while IFS= read -r f; do
                openssl pkey -in "$f" -passin pass: -noout </dev/null >/dev/null 2>&1 &&
                    echo "parses as a key: $f"
            done
        done' sh "$@" 2>&1
}
# nokeys NAME: no private key anywhere under the catalog or the (isolated) system store.
nokeys() {
    local out
    out=$(keys_in "$S_CATALOG" /etc/ssl/certs /var/lib/dbtrust /usr/local/share/ca-certificates)
    if [ -z "$out" ]; then
        ok "$1: no private key under the catalog or the system store"
    else
        not_ok "$1: key material found: ${out:0:1500}"
    fi
}
# dbtc NAME PATTERN ARGS...: a dbtrust command that must succeed (output containing PATTERN),
# then the key check.
dbtc() {
    local name=$1 pat=$2
    shift 2
    expect "$name" ok "$pat" dbt "$@"
    nokeys "$name"
}
# scope_of BUNDLE: the scope `dbtrust list` shows for BUNDLE (its table of scoped bundles:
# "BUNDLE  SCOPE..." header, then one "NAME  ITEM ITEM..." line each), empty when unscoped.
scope_of() {
    dbt list --bundle "$1" | awk -v b="$1" '
        /^BUNDLE +SCOPE/ { t = 1; next }
        t && $1 == b { sub(/^[^ ]+ +/, ""); print; exit }'
}
# route_pair T ROUTE: psql, s_client, Python (and curl on the host) reach db.scope.test and
# refuse evil.other.test through ROUTE.
route_pair() {
    local t=$1 c
    for c in psql sclient python curl; do
        [ "$c" = curl ] && [ "$SIDE" != host ] && continue
        check "$t: $ROUTE: inside the scope" in "$c" db
        check "$t: $ROUTE: outside the scope" out "$c" evil
    done
}

run_side() {
    local t=$1 out
    expect "$t: OpenSSL is $S_OSSL" ok "OpenSSL $S_OSSL" X -- openssl version
    if [ "$have_psql" = 1 ]; then
        expect "$t: psql is 17" ok "psql (PostgreSQL) 17." X -- "$S_PSQL" --version
    fi
    if [ "$SIDE" = host ] && [ "$have_psql" = 1 ]; then
        # Debian 13's psql on the host's OpenSSL 3.0, reading the (isolated) host store
        # (tests/lib/libpq17.sh).
        pg_serve db
        expect "$t: the connected psql maps the host's OpenSSL 3.0 and sees the host's store" ok \
            "psql sees the host's trust store" dbt_libpq17_proof "$S_PSQL" \
            "host=db.scope.test hostaddr=127.0.0.1 port=$pg_port user=$DBT_PG_USER
            dbname=$DBT_PG_DB sslmode=verify-full sslrootcert=$S_PKI/R.pem"
    fi

    # Control: the key detector finds a key planted as PEM text and as DER.
    out=$(keys_in "$S_CTL")
    expect_eq "$t: control: the key check finds planted PEM and DER keys" "$(sort <<<"$out")" \
        "$(printf '%s\n' "parses as a key: $S_CTL/k.der" "parses as a key: $S_CTL/k.pem" \
            "PEM key text in $S_CTL/k.pem" | sort)"

    # Control: the catalog holds an unrelated CA; R is nobody's until imported.
    dbtc "$t: import an unrelated CA" "" import --bundle base "$S_PKI/O.pem"
    ROUTE='env'
    check "$t: before import, R is not trusted" untrusted sclient db
    check "$t: before import, R is not trusted" untrusted psql db

    dbtc "$t: import R scoped to scope.test" "" import --bundle scope --only-for scope.test \
        "$S_PKI/R.pem"
    expect_eq "$t: list shows the scope" "$(scope_of scope)" "scope.test"
    expect "$t: verify accepts the scoped catalog" ok "" dbt verify
    nokeys "$t: verify"

    # 1 and 2: every route, inside passes, outside fails with the name constraint.
    ROUTE='env' route_pair "$t"
    ROUTE=lazy route_pair "$t"
    dbtc "$t: system enable" "" system enable
    ROUTE=sys route_pair "$t"
    dbtc "$t: system disable" "" system disable
    ROUTE=sys check "$t: sys: nothing trusted after disable" untrusted sclient db
    dbtc "$t: system enable --bundle-file" "" system enable --bundle-file
    ROUTE=bundle-file route_pair "$t"
    dbtc "$t: system disable (bundle file)" "" system disable
    ROUTE=bundle-file check "$t: bundle-file: nothing trusted after disable" untrusted sclient db

    # 3: the other kinds of leaf, through dbtrust env.
    ROUTE='env'
    check "$t: CN-only leaf inside" in psql cn
    check "$t: CN-only leaf inside" in sclient cn
    check "$t: CN-only leaf outside" out psql cnout
    check "$t: CN-only leaf outside" out sclient cnout
    check "$t: server also sends R, inside" in psql db-R
    check "$t: server also sends R, inside" in sclient db-R
    check "$t: server also sends R, outside" out psql evil-R
    check "$t: server also sends R, outside" out sclient evil-R
    check "$t: scope.test covers the name itself" in sclient apex
    check "$t: a DNS-only scope refuses an IP SAN leaf" out psql ip
    check "$t: a DNS-only scope refuses an IP SAN leaf" out sclient ip
    check "$t: a DNS-only scope refuses an IP SAN leaf (IPv6)" out sclient ip6

    dbtc "$t: rescope to .scope.test (subdomains only)" "" import --bundle scope \
        --only-for .scope.test "$S_PKI/R.pem"
    check "$t: .scope.test: a subdomain passes" in sclient db
    check "$t: .scope.test: the name itself fails" out sclient apex
    check "$t: .scope.test: the name itself fails" out psql apex
    dbtc "$t: rescope to *.scope.test" "" import --bundle scope --only-for '*.scope.test' \
        "$S_PKI/R.pem"
    expect_eq "$t: *.scope.test is listed as .scope.test" "$(scope_of scope)" ".scope.test"
    check "$t: *.scope.test: a subdomain passes" in psql db
    check "$t: *.scope.test: the name itself fails" out sclient apex

    dbtc "$t: rescope to 127.0.0.0/8 and ::1/128" "" import --bundle scope \
        --only-for 127.0.0.0/8 --only-for ::1/128 "$S_PKI/R.pem"
    expect_eq "$t: list shows the IP ranges" "$(scope_of scope)" "127.0.0.0/8 ::1/128"
    check "$t: IP scope: IP SAN leaf passes" in psql ip
    check "$t: IP scope: IP SAN leaf passes" in sclient ip
    check "$t: IP scope: IP SAN leaf passes (IPv6)" in sclient ip6
    check "$t: IP scope: IP SAN leaf passes" in python ip
    check "$t: an IP-only scope refuses DNS names" out psql db
    check "$t: an IP-only scope refuses DNS names" out sclient db
    check "$t: an IP-only scope refuses CN-only leaves" out sclient cn
    dbtc "$t: rescope to 10.0.0.0/8 and ::1/128" "" import --bundle scope \
        --only-for 10.0.0.0/8 --only-for ::1/128 "$S_PKI/R.pem"
    check "$t: 127.0.0.1 outside 10.0.0.0/8 fails" out psql ip
    check "$t: 127.0.0.1 outside 10.0.0.0/8 fails" out sclient ip
    # The IP leaf names 127.0.0.1 and ::1: every name of a leaf must be inside.
    dbtc "$t: rescope to 127.0.0.0/8 alone" "" import --bundle scope --only-for 127.0.0.0/8 \
        "$S_PKI/R.pem"
    check "$t: an IPv4-only scope refuses a leaf that also names ::1" out sclient ip
    check "$t: an IPv4-only scope refuses a leaf that also names ::1" out psql ip
    dbtc "$t: rescope to scope.test, 127.0.0.1 and ::1" "" import --bundle scope \
        --only-for scope.test --only-for 127.0.0.1 --only-for ::1 "$S_PKI/R.pem"
    expect_eq "$t: an address alone is listed as a /32 or /128" "$(scope_of scope)" \
        "scope.test 127.0.0.1/32 ::1/128"
    check "$t: mixed scope: the DNS name passes" in psql db
    check "$t: mixed scope: the IP leaf passes" in psql ip
    check "$t: mixed scope: the IP leaf passes" in sclient ip6
    check "$t: mixed scope: a name outside fails" out sclient evil

    # 4: another scope changes the outcome; no option keeps the scope; --unscoped drops it.
    dbtc "$t: rescope to other.test" "" import --bundle scope --only-for other.test "$S_PKI/R.pem"
    check "$t: scope other.test" in psql evil
    check "$t: scope other.test" in sclient evil
    check "$t: scope other.test" out psql db
    check "$t: scope other.test" out sclient db
    expect_eq "$t: list shows other.test" "$(scope_of scope)" "other.test"
    dbtc "$t: re-import with no scope option" "" import --bundle scope "$S_PKI/R.pem"
    expect_eq "$t: ... keeps other.test" "$(scope_of scope)" "other.test"
    check "$t: ... still scoped to other.test" out sclient db
    check "$t: ... still scoped to other.test" in sclient evil
    dbtc "$t: --unscoped" "" import --bundle scope --unscoped "$S_PKI/R.pem"
    expect_eq "$t: list shows no scope after --unscoped" "$(scope_of scope)" ""
    check "$t: unscoped: both pass" in psql db
    check "$t: unscoped: both pass" in psql evil
    check "$t: unscoped: both pass" in sclient db
    check "$t: unscoped: both pass" in sclient evil
    # The system links follow a change of scope.
    dbtc "$t: system enable, unscoped" "" system enable
    ROUTE=sys check "$t: unscoped through the links" in sclient evil
    dbtc "$t: rescope to scope.test while enabled" "" import --bundle scope --only-for scope.test \
        "$S_PKI/R.pem"
    ROUTE=sys check "$t: the links follow the new scope" in psql db
    ROUTE=sys check "$t: the links follow the new scope" out psql evil
    ROUTE=sys check "$t: the links follow the new scope" out sclient evil
    dbtc "$t: system disable" "" system disable

    # A scoped bundle that holds the intermediate too: no raw copy of I or R may be served.
    dbtc "$t: remove the bundle" "" remove --bundle scope
    dbtc "$t: import R and I scoped to scope.test" "" import --bundle both --only-for scope.test \
        "$S_PKI/R+I.pem"
    check "$t: R+I scoped" in psql db
    check "$t: R+I scoped" out psql evil
    check "$t: R+I scoped" out sclient evil
    check "$t: R+I scoped" out sclient evil-R
    ROUTE=lazy check "$t: R+I scoped" out sclient evil
    dbtc "$t: system enable with R+I" "" system enable
    ROUTE=sys check "$t: R+I scoped" in sclient db
    ROUTE=sys check "$t: R+I scoped" out sclient evil
    dbtc "$t: final system disable" "" system disable
    expect "$t: verify accepts the catalog at the end" ok "" dbt verify
}

# --- OpenSSL 3.0 on the host, inside the isolated mount namespace ----------------------------
SIDE=host S_OSSL=3.0 S_PSQL=${DBT_PSQL17:-} S_DBTRUST=$DBTRUST S_PKI=$pki
S_PROBE=$src/tests/lib/tlsprobe.py S_CATALOG=$work/catalog S_CTL=$work/ctl
PATH=$(dirname "$PY"):$PATH run_side "3.0"

# --- OpenSSL 3.5 in the Debian 13 root: dbtrust built there, enable acts on its own store ----
if [ "$have_psql" != 1 ]; then
    skip "3.5: the Debian 13 root is not available (see the SKIP reason above)"
else
    dbt_trixie_session || exit 1
    gw=$DBT_TRIXIE_WORK
    # The CLI's sources as this build lists them (headers of its directories come along).
    srcs=$(printf 'dbt-print-srcs:\n\t@echo $(dbtrust_SOURCES) $(lib_libdbtrust_la_SOURCES)\n' |
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$build" \
            -f Makefile -f - dbt-print-srcs 2>/dev/null | tail -n 1)
    [ -n "$srcs" ] || { echo "Bail out! cannot list dbtrust's sources from $build/Makefile"; exit 1; }
    for f in $srcs; do
        mkdir -p "$gw/src/$(dirname "$f")" && cp "$src/$f" "$gw/src/$f" || exit 1
        for h in "$src/$(dirname "$f")"/*.h; do [ -e "$h" ] && cp "$h" "$gw/src/$(dirname "$f")/"; done
    done
    cp "$build/config.h" "$gw/src/"
    csrcs=$(for f in $srcs; do case $f in *.c) printf '/dbt/src/%s ' "$f" ;; esac; done)
    mkdir "$gw/pki"
    cp "$pki"/*.pem "$gw/pki/"
    cp "$src/tests/lib/tlsprobe.py" "$gw/"
    cp -a "$work/ctl" "$gw/ctl"
    chmod -R go-w "$gw"
    chmod 755 "$gw"
    expect "3.5: dbtrust builds in the Debian 13 root" ok "" dbt_trixie_run -- sh -c \
        'gcc -std=gnu11 -O2 -Wall -Wextra -I/dbt/src -I/dbt/src/lib -o /usr/local/bin/dbtrust \
            '"$csrcs"' $(pkg-config --cflags --libs libssl libcrypto jansson libcurl)'
    echo "# 3.5: the Debian 13 root has no curl; Python's default context stands in for it there"
    SIDE=trixie S_OSSL=3.5 S_PSQL=/usr/lib/postgresql/17/bin/psql S_DBTRUST=/usr/local/bin/dbtrust
    S_PKI=/dbt/pki S_PROBE=/dbt/tlsprobe.py S_CATALOG=/etc/dbtrust S_CTL=/dbt/ctl
    run_side "3.5"
fi

echo "e2e-scope: $passed passed, $failed failed"
[ "$failed" = 0 ]
