#!/usr/bin/env bash
# Installs what building and testing dbtrust needs, with apt-get when run as root on Debian or
# Ubuntu; otherwise prints the command to run. Sourced by demo.sh and test.sh.
# Usage: tests/setup-deps.sh build|test

want_build="build-essential autoconf automake libtool pkg-config libssl-dev openssl
libjansson-dev libcurl4-openssl-dev libcmocka-dev"
# Test-only components: real peers and cross-checkers (the tests use real servers, clients and
# other implementations, never mocks).
want_test="gnutls-bin libgnutls28-dev postgresql postgresql-client debootstrap
debian-archive-keyring valgrind ca-certificates python3 curl xz-utils
dpkg-dev debhelper lintian fakeroot rpm bash-completion
golang-go golang-github-lib-pq-dev libpostgresql-jdbc-java nodejs"
# promtool (tests/cli-check-format.sh checks dbtrust check --format prometheus with it).
want_test="$want_test prometheus"
# A real MariaDB server and client (tests/cli-probe-mysql.sh: probe mysql:// and the mariadb
# client's use of OpenSSL's default verify paths).
want_test="$want_test mariadb-server mariadb-client jq"

dbt_missing_packages() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    echo "${missing[*]:-}"
}

dbt_setup_deps() {
    local what=$1 pkgs missing extra=
    pkgs=$want_build
    [ "$what" = test ] && pkgs="$pkgs $want_test"
    if [ "$what" = test ] && ! command -v keytool >/dev/null 2>&1; then
        extra=default-jdk-headless
    fi
    # Debian's nodejs leaves npm to its own package; other builds of nodejs (NodeSource) bring
    # npm and conflict with that package.
    if [ "$what" = test ] && ! command -v npm >/dev/null 2>&1; then
        extra="$extra npm"
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "setup: not a Debian/Ubuntu system; install the equivalents of: $pkgs" >&2
        return 0
    fi
    # shellcheck disable=SC2086
    missing=$(dbt_missing_packages $pkgs $extra)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "setup: missing packages: $missing" >&2
        echo "setup: run as root, or: sudo apt-get install -y $missing" >&2
        return 1
    fi
    echo "setup: installing $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || { echo "setup: apt-get update failed" >&2; return 1; }
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null && return 0
    local p gone=
    for p in $missing; do
        apt-cache policy "$p" 2>/dev/null | grep -Eq '^[[:space:]]+Candidate: [^(]' ||
            gone="$gone $p"
    done
    if [ -n "$gone" ]; then
        echo "setup: the Debian mirror serves no binary package named:$gone (apt-cache policy" \
            "shows no candidate); install an equivalent by hand and rerun" >&2
    else
        echo "setup: apt-get install $missing failed" >&2
    fi
    return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -eu
    dbt_setup_deps "${1:-test}"
fi
