# The common start of the CLI shell tests (tests/cli-*.sh): a clean environment, the built
# dbtrust as an absolute path, the tools a test needs (a missing one skips with exit 77 and says
# what to install), a private work directory that is the current directory and is removed on
# exit, and the checking helpers every such test uses.
#
#   . "$SRCDIR/tests/lib/cli.sh"
#   dbt_cli_start [--skip-hint TEXT] TOOL...     (exits 77 when something is missing)
#   ... fail / expect_rc / has / hasnt ...
#   exit $failed
#
# Variables set: DBTRUST (absolute), SRCDIR, tmp (the work directory), failed (0 or 1).
# DBT_CLI_TIMEOUT (default 120 s) bounds every expect_rc command, so a hang is a failure.

# shellcheck source=tests/lib/common.sh
. "${DBTRUST_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib/common.sh"

unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export TZ=UTC LC_ALL=C
SRCDIR=${DBTRUST_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DBTRUST=${DBTRUST:-./dbtrust}
failed=0

dbt_cli_start() {
    local hint="" tool
    if [ "${1:-}" = --skip-hint ]; then
        hint=$2
        shift 2
    fi
    if [ ! -x "$DBTRUST" ]; then
        dbt_skip_reason "the dbtrust program is not built ($DBTRUST)"
        exit 77
    fi
    DBTRUST=$(cd "$(dirname "$DBTRUST")" && pwd)/$(basename "$DBTRUST") # tests change directory
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 && continue
        dbt_skip_reason "the $tool program is not installed (apt-get install ${hint:-$tool})"
        exit 77
    done
    tmp=$(mktemp -d) || exit 1
    # Tests make read-only files and directories to check refusals: make them removable first.
    dbt_cleanup_push "chmod -R u+w '$tmp' 2>/dev/null; rm -rf '$tmp'"
    cd "$tmp" || exit 1
}

fail() {
    echo "FAIL: $*"
    failed=1
}

# expect_rc RC CMD...: runs CMD (stdout to ./out, stderr to ./err) and checks its exit status.
expect_rc() {
    local want=$1 rc limit=${DBT_CLI_TIMEOUT:-120}
    shift
    timeout "$limit" "$@" >out 2>err
    rc=$?
    [ "$rc" = 124 ] && fail "'$*' hung (killed after $limit s)"
    [ "$rc" = "$want" ] ||
        fail "'$*' exited $rc, expected $want (stdout: $(head -c 600 out)) (stderr: $(head -c 600 err))"
}

# has FILE TEXT WHAT: FILE contains TEXT (a fixed string); hasnt: it does not.
has() { grep -qF -- "$2" "$1" || fail "$3: '$2' not in $1: $(head -c 800 "$1")"; }
hasnt() { ! grep -qF -- "$2" "$1" || fail "$3: '$2' unexpectedly in $1"; }
