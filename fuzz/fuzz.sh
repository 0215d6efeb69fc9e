#!/bin/sh
# Builds and runs the fuzz targets (fuzz/fuzz_*.c) outside automake, because they need clang's
# libFuzzer and sanitizer flags that the rest of the build must not get.
#
#   fuzz.sh build fuzzer|replay OUT     compile lib/, provider/ and the targets into OUT
#   fuzz.sh run OUT SECONDS [TARGET...] libFuzzer, one target at a time, one process, SECONDS each
#   fuzz.sh replay OUT [TARGET...]      every committed and realdata-derived seed, once
#
# "fuzzer" needs clang with libFuzzer. "replay" links replay_main.c instead of libFuzzer: with
# clang it uses ASan+UBSan, otherwise plain $CC without sanitizers.
# Environment: FUZZ_SRCDIR (source tree; default: this script's parent), FUZZ_BUILDDIR (a
# configured build tree, for config.h), DBTRUST_REALDATA, DBTRUST (built CLI, for catalog
# seeds), FUZZ_CLANG (default clang), CC (replay fallback, default cc), FUZZ_JOBS (compiles).
set -eu

ALL_TARGETS="fuzz_bundle fuzz_pem fuzz_jks fuzz_p12 fuzz_catalog_index fuzz_provider"

here=$(cd "$(dirname "$0")" && pwd)
SRC=${FUZZ_SRCDIR:-$(dirname "$here")}

# The .c files automake builds for VAR (every "VAR =" and "VAR +=" with its continuation lines)
# in a local.mk: the fuzz targets link exactly what the library and the module are made of.
sources_of() {
    awk -v var="$2" '
        $1 == var && ($2 == "=" || $2 == "+=") { on = 1 }
        on { for (i = 1; i <= NF; i++) if ($i ~ /\.c$/) print $i; if ($NF != "\\") on = 0 }
    ' "$SRC/$1" | tr '\n' ' '
}
LIB_SOURCES="$(sources_of lib/local.mk lib_libdbtrust_la_SOURCES) fuzz/fuzz_common.c"
# The module's own files; lib/error.c, which it also compiles, is already in LIB_SOURCES.
PROVIDER_SOURCES=$(sources_of provider/local.mk dbtrust_store_la_SOURCES | sed 's|lib/[^ ]*||g')
BUILD=${FUZZ_BUILDDIR:-}
CLANG=${FUZZ_CLANG:-clang}
JOBS=${FUZZ_JOBS:-2}

die() {
    echo "fuzz.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '5,8p' "$0" | sed 's/^# *//' >&2
    exit 2
}

[ -n "$BUILD" ] && [ -f "$BUILD/config.h" ] ||
    die "FUZZ_BUILDDIR must name a configured build tree (config.h not found in '${BUILD}')"

crypto_cflags=$(pkg-config --cflags libcrypto 2>/dev/null || true)
crypto_libs=$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)

# Whether clang can build (and link) with the given sanitizer flags.
clang_can() {
    command -v "$CLANG" >/dev/null 2>&1 || return 1
    t=$(mktemp -d)
    printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n%s\n' "$2" >"$t/c.c"
    "$CLANG" $1 "$t/c.c" -o "$t/c" >/dev/null 2>&1
    rc=$?
    rm -rf "$t"
    return $rc
}

# Sets cc, cflags, ldflags and kind for a mode; returns 1 when no usable compiler exists.
choose_compiler() {
    base="-std=gnu11 -g -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter"
    incs="-I$BUILD -I$SRC/lib -I$SRC/provider -I$SRC/fuzz $crypto_cflags"
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    case $1 in
    fuzzer)
        clang_can "-fsanitize=fuzzer,address,undefined" "" || return 1
        cc=$CLANG
        cflags="$base -O1 $incs $san -fsanitize=fuzzer-no-link"
        ldflags="$san -fsanitize=fuzzer"
        kind="clang libFuzzer+ASan+UBSan"
        ;;
    replay)
        if clang_can "$san" "int main(void) { return 0; }"; then
            cc=$CLANG
            cflags="$base $incs $san"
            ldflags="$san"
            kind="clang ASan+UBSan"
        else
            cc=${CC:-cc}
            command -v "$cc" >/dev/null 2>&1 || return 1
            cflags="$base -Wno-format-truncation $incs"
            ldflags=""
            kind="$cc, no sanitizers (clang with ASan/UBSan not found)"
        fi
        ;;
    *) usage ;;
    esac
}

# Compiles SRC-relative sources into $out/obj, rebuilding an object when its source, any header
# or the flags changed; at most $JOBS compilers at once.
compile() {
    mkdir -p "$out/obj"
    if [ "$(cat "$out/obj/flags" 2>/dev/null || true)" != "$cc $cflags" ]; then
        rm -f "$out"/obj/*.o
        printf '%s\n' "$cc $cflags" >"$out/obj/flags"
    fi
    newest_h=$(ls -t "$SRC"/lib/*.h "$SRC"/provider/*.h "$SRC"/fuzz/*.h "$BUILD/config.h" | head -1)
    pids=""
    n=0
    for s in "$@"; do
        o="$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
        if [ -f "$o" ] && [ "$o" -nt "$SRC/$s" ] && [ "$o" -nt "$newest_h" ]; then
            continue
        fi
        $cc $cflags -c "$SRC/$s" -o "$o" &
        pids="$pids $!"
        n=$((n + 1))
        if [ $n -ge "$JOBS" ]; then
            for p in $pids; do wait "$p" || die "compiling failed"; done
            pids=""
            n=0
        fi
    done
    for p in $pids; do wait "$p" || die "compiling failed"; done
}

obj() {
    for s in "$@"; do printf '%s ' "$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"; done
}

build() {
    mode=$1
    out=$2
    choose_compiler "$mode" || return 77
    mkdir -p "$out"
    main=""
    [ "$mode" = replay ] && main="fuzz/replay_main.c"
    targets_src=""
    for t in $ALL_TARGETS; do targets_src="$targets_src fuzz/$t.c"; done
    # shellcheck disable=SC2086
    compile $LIB_SOURCES $PROVIDER_SOURCES $main $targets_src
    for t in $ALL_TARGETS; do
        extra=""
        [ "$t" = fuzz_provider ] && extra=$PROVIDER_SOURCES
        bin="$out/$t"
        [ "$mode" = replay ] && bin="$out/replay_$t"
        # shellcheck disable=SC2046,SC2086
        $cc $ldflags -o "$bin" $(obj fuzz/$t.c $main $extra $LIB_SOURCES) $crypto_libs ||
            die "linking $bin failed"
    done
    echo "fuzz.sh: built $mode targets in $out ($kind)"
}

# Seed directories of a target: committed corpus, then realdata-derived seeds (made once).
seed_dirs() {
    dirs="$SRC/fuzz/corpus/$1"
    [ -d "$out/seeds/$1" ] && dirs="$dirs $out/seeds/$1"
    echo "$dirs"
}

make_seeds() {
    if [ ! -f "$out/seeds/.done" ]; then
        rm -rf "$out/seeds"
        sh "$SRC/fuzz/make-corpus.sh" realdata "$out/seeds"
        : >"$out/seeds/.done"
    fi
}

cmd=${1:-}
[ $# -ge 2 ] || usage
out=$2
case $cmd in
build)
    [ $# -eq 3 ] || usage
    mode=$2
    out=$3
    rc=0
    build "$mode" "$out" || rc=$?
    [ $rc -eq 77 ] && die "no compiler for $mode builds (fuzzer builds need clang with libFuzzer)"
    exit $rc
    ;;
run)
    [ $# -ge 3 ] || usage
    secs=$3
    shift 3
    targets=${*:-$ALL_TARGETS}
    build fuzzer "$out" || die "fuzzer builds need clang with libFuzzer (-fsanitize=fuzzer)"
    make_seeds
    mkdir -p "$out/logs"
    for t in $targets; do
        mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
        case $t in
        fuzz_bundle | fuzz_pem) maxlen=32768 ;;
        *) maxlen=16384 ;;
        esac
        echo "fuzz.sh: $t for ${secs}s (log: $out/logs/$t.log)"
        # The first directory receives what libFuzzer finds: a build-tree corpus, never the
        # source tree. Crashes land in artifacts/<target>/.
        rc=0
        # shellcheck disable=SC2046
        "$out/$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2560 -max_len=$maxlen \
            -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" \
            "$out/corpus/$t" $(seed_dirs "$t") >"$out/logs/$t.log" 2>&1 || rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -1)
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$out/logs/$t.log" | tail -1)
        echo "fuzz.sh: $t: exit $rc, ${execs:-?} executions, ${cov:-no coverage line}," \
            "$(ls "$out/artifacts/$t" | wc -l) artifacts"
    done
    ;;
replay)
    shift 2
    targets=${*:-$ALL_TARGETS}
    rc=0
    build replay "$out" || rc=$?
    [ $rc -eq 77 ] && exit 77
    [ $rc -eq 0 ] || exit $rc
    make_seeds
    for t in $targets; do
        # shellcheck disable=SC2046
        "$out/replay_$t" $(seed_dirs "$t") || die "$t: replay failed (the input is named above)"
    done
    ;;
*) usage ;;
esac
