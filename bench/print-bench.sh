#!/bin/bash
# Whole-process cost of printing the 108-certificate AWS RDS global bundle in keytool's verbose
# layout: dbtrust -printcert -v against keytool -printcert -v (same file) and against
# openssl pkcs7 -print_certs -text (on the .p7b), measured side by side in one run.
# Goals: at least 10x faster than keytool, no slower than openssl. Run: make bench-print.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF
export TZ=UTC LC_ALL=C

DBTRUST=${DBTRUST:-./dbtrust}
realdata=${DBTRUST_REALDATA:-}
runs=${BENCH_RUNS:-20}
pem="$realdata/aws-rds-global-bundle.pem"
p7b="$realdata/aws-rds-global-bundle.p7b"

[ -x "$DBTRUST" ] || { echo "print-bench: the dbtrust program is not built ($DBTRUST)" >&2; exit 77; }
[ -f "$pem" ] && [ -f "$p7b" ] ||
    { echo "print-bench: real bundles not found in '$realdata' (set DBTRUST_REALDATA)" >&2; exit 77; }
for tool in keytool openssl jq; do
    command -v $tool >/dev/null 2>&1 || { echo "print-bench: $tool is not installed" >&2; exit 77; }
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
names=("dbtrust -printcert -v (pem)" "dbtrust -printcert -v (p7b)" "keytool -printcert -v (pem)"
    "openssl pkcs7 -print_certs -text (p7b)")
cmds=("$DBTRUST -printcert -v -file $pem" "$DBTRUST -printcert -v -file $p7b"
    "keytool -printcert -v -file $pem" "openssl pkcs7 -inform DER -in $p7b -print_certs -text")

# Each command prints the 108 certificates (check before timing, so nothing fast is broken).
for i in "${!cmds[@]}"; do
    n=$(${cmds[i]} 2>/dev/null | grep -c -E '^(Owner|        Subject): ')
    [ "$n" = 108 ] || { echo "print-bench: '${names[i]}' printed $n certificates, not 108" >&2; exit 1; }
done

if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 2 --runs "$runs" --export-json "$tmp/h.json" \
        -n "${names[0]}" "${cmds[0]}" -n "${names[1]}" "${cmds[1]}" \
        -n "${names[2]}" "${cmds[2]}" -n "${names[3]}" "${cmds[3]}" >&2 || exit 1
    for i in 0 1 2 3; do
        jq -r ".results[$i].mean" "$tmp/h.json"
    done >"$tmp/means"
else
    # without hyperfine: mean wall time of $runs runs each, interleaved so load affects all alike
    for i in 0 1 2 3; do echo 0 >"$tmp/t$i"; done
    for ((r = 0; r < runs; r++)); do
        for i in 0 1 2 3; do
            t0=$(date +%s%N)
            ${cmds[i]} >/dev/null 2>&1
            t1=$(date +%s%N)
            echo $(($(cat "$tmp/t$i") + t1 - t0)) >"$tmp/t$i"
        done
    done
    for i in 0 1 2 3; do
        awk -v ns="$(cat "$tmp/t$i")" -v n="$runs" 'BEGIN { printf "%.6f\n", ns / n / 1e9 }'
    done >"$tmp/means"
fi

mapfile -t mean <"$tmp/means"
echo
printf '%-42s %10s\n' "command (108 certificates, whole process)" "mean (ms)"
for i in 0 1 2 3; do
    printf '%-42s %10.1f\n' "${names[i]}" "$(awk -v m="${mean[i]}" 'BEGIN { print m * 1000 }')"
done
awk -v d="${mean[0]}" -v dp="${mean[1]}" -v k="${mean[2]}" -v o="${mean[3]}" 'BEGIN {
    kv = (k / d >= 10) ? "met" : "MISSED"
    ov = (o / dp >= 1) ? "met" : "MISSED"
    printf "\nkeytool / dbtrust (pem):        %6.1fx  (goal >= 10x: %s)\n", k / d, kv
    printf "openssl pkcs7 / dbtrust (p7b):  %6.2fx  (goal >= 1x: %s)\n", o / dp, ov
    printf "openssl pkcs7 / dbtrust (pem):  %6.2fx\n", o / d
}'
