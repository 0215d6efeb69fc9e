# A local HTTPS mirror for the tests of the download commands (fetch, refresh): a private CA, a
# server certificate for localhost under it, and openssl s_server -WWW serving a directory on
# 127.0.0.1 (one connection at a time; a file is read at each request, so a test changes what
# the mirror serves by rewriting it). Source after tests/lib/cli.sh or tests/lib/common.sh
# (dbt_cleanup_push stops the server).
#
#   dbt_https_mkca NAME SUBJECT      NAME.pem and NAME.key: a self-signed P-256 CA
#   dbt_https_server_cert CA NAME    NAME.pem and NAME.key: CN=localhost (DNS:localhost,
#                                    IP:127.0.0.1, serverAuth) signed by CA.pem/CA.key
#   dbt_https_serve DIR CERT KEY     serves DIR; sets dbt_https_port and dbt_https_pid
# Each returns non-zero, saying why on stderr, when it fails.

dbt_https_mkca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
        -out "$1.pem" -days 3650 -subj "$2" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
        { echo "cannot make the CA $1" >&2; return 1; }
}

dbt_https_server_cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2.key" \
        -out "$2.csr" -subj "/CN=localhost" 2>/dev/null &&
        openssl x509 -req -in "$2.csr" -CA "$1.pem" -CAkey "$1.key" -set_serial 7 -days 30 \
            -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n') \
            -out "$2.pem" 2>/dev/null || { echo "cannot make the server certificate $2" >&2; return 1; }
}

# A port nothing listens on now (the server may still lose a race for it: dbt_https_serve
# retries).
dbt_https_free_port() {
    local py
    py=$(command -v /usr/bin/python3 || command -v python3) || return 1
    "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# PORT: a bounded wait (10 s) until something accepts on it.
dbt_https_wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

dbt_https_serve() {
    local dir=$1 cert key p try log
    cert=$(readlink -f "$2") key=$(readlink -f "$3") log=$(mktemp)
    dbt_https_port= dbt_https_pid=
    for try in 1 2 3 4 5; do
        p=$(dbt_https_free_port) || { echo "no python3 to find a free port" >&2; return 1; }
        (cd "$dir" && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$p" -cert "$cert" \
            -key "$key") >"$log" 2>&1 &
        dbt_https_pid=$!
        if dbt_https_wait_port "$p"; then
            dbt_https_port=$p
            dbt_cleanup_push "kill $dbt_https_pid 2>/dev/null"
            rm -f "$log"
            return 0
        fi
        kill "$dbt_https_pid" 2>/dev/null
    done
    echo "openssl s_server did not start: $(cat "$log")" >&2
    rm -f "$log"
    return 1
}
