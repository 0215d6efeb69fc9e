# The real database clients of tests/e2e-clients.sh, built or installed once into the test cache
# (tests/lib/common.sh: dbt_cache_dir) and reused while their inputs are unchanged:
#   dbt_clients_go_ensure SRC       Go + lib/pq from Debian's /usr/share/gocode, offline
#                                   (GOPATH mode, no module download): sets DBT_CLIENTS_GO
#   dbt_clients_jdbc_ensure SRC     Debian's pgjdbc on the host's Java, compiled once with javac:
#                                   sets DBT_CLIENTS_JDBC_CP (class path) and DBT_CLIENTS_JDBC_JAR
#   dbt_clients_node_ensure         npm `pg` (node-postgres) at the versions and sha512 integrity
#                                   pinned in the lock file below (`npm ci` checks every tarball):
#                                   sets DBT_CLIENTS_NODE_PATH (a NODE_PATH)
# Each returns 77 with the reason printed (dbt_skip_reason) when the client cannot be had here
# (a Debian package the mirror cannot serve, the npm registry unreachable), 1 on a real failure.
# The cache entry's name is a hash of everything that makes it (source, compiler, library
# package versions, lock file), so a change of any of them builds a new entry; builds run under
# a lock and are renamed into place, so parallel tests never see half an entry.

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# dbt_clients_key TEXT...: the first 16 hex digits of the SHA-256 of the arguments.
dbt_clients_key() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# dbt_clients_pkgver PKG: the installed version of a Debian package (empty when absent).
dbt_clients_pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }

dbt_clients_go_build() {
    local src=$1 out=$2 cache=$3 tmp
    [ -x "$out" ] && return 0
    tmp=$(mktemp -d "$cache/clients/go-tmp.XXXXXX") || return 1
    # GOPATH mode over Debian's packaged sources: nothing is fetched (GOPROXY=off, GOFLAGS
    # empty), and the build cache stays in the test cache, not in $HOME.
    if ! cp "$src" "$tmp/main.go" || ! (cd "$tmp" &&
        env GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOENV=off \
            GOCACHE="$cache/clients/go-build" CGO_ENABLED=0 go build -o client main.go) \
        >"$tmp/build.log" 2>&1; then
        dbt_error "go build of $src failed (log follows)"
        cat "$tmp/build.log" >&2
        rm -rf "$tmp"
        return 1
    fi
    mkdir -p "$(dirname "$out")" && mv -f "$tmp/client" "$out"
    rm -rf "$tmp"
}

dbt_clients_go_ensure() {
    local src=$1 cache key out
    command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/lib/pq ] ||
        dbt_apt_ensure golang-go golang-github-lib-pq-dev || return $?
    cache=$(dbt_cache_dir) || return 1
    mkdir -p "$cache/clients" || return 1
    key=$(dbt_clients_key "$(cat "$src")" "$(go version)" \
        "$(dbt_clients_pkgver golang-github-lib-pq-dev)")
    out=$cache/clients/go-$key/client
    dbt_with_lock "$cache/clients/go.lock" dbt_clients_go_build "$src" "$out" "$cache" || return 1
    # shellcheck disable=SC2034 # for the caller
    DBT_CLIENTS_GO=$out
}

dbt_clients_jdbc_build() {
    local src=$1 out=$2 jar=$3 tmp
    [ -f "$out/.ready" ] && return 0
    tmp=$(mktemp -d "$out.tmp.XXXXXX") || return 1
    javac -nowarn -d "$tmp" -cp "$jar" "$src" >"$tmp/javac.log" 2>&1 || {
        dbt_error "javac $src failed (log follows)"
        cat "$tmp/javac.log" >&2
        rm -rf "$tmp"
        return 1
    }
    rm -f "$tmp/javac.log"
    touch "$tmp/.ready"
    rm -rf "$out"
    mv "$tmp" "$out"
}

dbt_clients_jdbc_ensure() {
    local src=$1 cache key jar=/usr/share/java/postgresql.jar out
    command -v javac >/dev/null || dbt_apt_ensure default-jdk-headless || return $?
    [ -f "$jar" ] || dbt_apt_ensure libpostgresql-jdbc-java || return $?
    cache=$(dbt_cache_dir) || return 1
    mkdir -p "$cache/clients" || return 1
    key=$(dbt_clients_key "$(cat "$src")" "$(javac -version 2>&1)" \
        "$(dbt_clients_pkgver libpostgresql-jdbc-java)")
    out=$cache/clients/jdbc-$key
    dbt_with_lock "$cache/clients/jdbc.lock" dbt_clients_jdbc_build "$src" "$out" "$jar" ||
        return 1
    # shellcheck disable=SC2034 # for the caller
    DBT_CLIENTS_JDBC_CP=$out:$jar DBT_CLIENTS_JDBC_JAR=$jar
}

# node-postgres 8 and its dependencies, each pinned with its registry sha512: `npm ci` refuses
# a tarball whose digest differs. To move to a newer pg: `npm install --save-exact pg@8` in an
# empty directory, then paste its package.json and package-lock.json here.
dbt_clients_node_package_json() {
    cat <<'JSON'
{
  "name": "dbtrust-clients-node",
  "private": true,
  "dependencies": {
    "pg": "8.23.1"
  }
}
JSON
}
dbt_clients_node_lock() {
    cat <<'JSON'
{
  "name": "dbtrust-clients-node",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "dependencies": {
        "pg": "8.23.1"
      }
    },
    "node_modules/pg": {
      "version": "8.23.1",
      "integrity": "sha512-aL96AHANtWjPLDOLqnhx+ngp9+UK7ETEU8VJrDCGvsSSi/mGLcWYsS6Herg7lmaBJe4uwrfqsa7gTEFaSizDoQ==",
      "license": "MIT",
      "dependencies": {
        "pg-connection-string": "^2.14.1",
        "pg-pool": "^3.14.0",
        "pg-protocol": "^1.16.1",
        "pg-types": "2.2.0",
        "pgpass": "1.0.5"
      },
      "engines": {
        "node": ">= 16.0.0"
      },
      "optionalDependencies": {
        "pg-cloudflare": "^1.4.1"
      },
      "peerDependencies": {
        "pg-native": ">=3.0.1"
      },
      "peerDependenciesMeta": {
        "pg-native": {
          "optional": true
        }
      }
    },
    "node_modules/pg-cloudflare": {
      "version": "1.4.1",
      "integrity": "sha512-6PQbsFWZcp9EmJEwy5cGQ2La+AMWpP46lgbb8X+U/XsHIUweYDNCpeuKck5RxL2MdVFi7krbbEi5nX4Zh7JhrQ==",
      "license": "MIT",
      "optional": true
    },
    "node_modules/pg-connection-string": {
      "version": "2.14.1",
      "integrity": "sha512-qR3kGNPBLpCNtz0evbKA0Y/MRFXwSSdT+pTJvYp/bXTcReZbvX1kzF0IyTc1QnxqF7AZbOeBhNL8R5mYQZV/MA==",
      "license": "MIT"
    },
    "node_modules/pg-int8": {
      "version": "1.0.1",
      "integrity": "sha512-WCtabS6t3c8SkpDBUlb1kjOs7l66xsGdKpIPZsg4wR+B3+u9UAum2odSsF9tnvxg80h4ZxLWMy4pRjOsFIqQpw==",
      "license": "ISC",
      "engines": {
        "node": ">=4.0.0"
      }
    },
    "node_modules/pg-pool": {
      "version": "3.14.0",
      "integrity": "sha512-gKtPkFdQPU3DksooVLi9LsjZxrsBUZIpa+7aVx+LV5pNh0KzP4Zleud2po+ConrxbuXGBJ6Hfer6hdgpIBpBaw==",
      "license": "MIT",
      "peerDependencies": {
        "pg": ">=8.0"
      }
    },
    "node_modules/pg-protocol": {
      "version": "1.16.1",
      "integrity": "sha512-p9VOFMiHB/ZbJATetbg+99PxssTVSQRnyuPSQ67mN1+1KBOjZaZ83ZQzltnxPhJwSsC3nwVjJ10DVJlerbFzLg==",
      "license": "MIT"
    },
    "node_modules/pg-types": {
      "version": "2.2.0",
      "integrity": "sha512-qTAAlrEsl8s4OiEQY69wDvcMIdQN6wdz5ojQiOy6YRMuynxenON0O5oCpJI6lshc6scgAY8qvJ2On/p+CXY0GA==",
      "license": "MIT",
      "dependencies": {
        "pg-int8": "1.0.1",
        "postgres-array": "~2.0.0",
        "postgres-bytea": "~1.0.0",
        "postgres-date": "~1.0.4",
        "postgres-interval": "^1.1.0"
      },
      "engines": {
        "node": ">=4"
      }
    },
    "node_modules/pgpass": {
      "version": "1.0.5",
      "integrity": "sha512-FdW9r/jQZhSeohs1Z3sI1yxFQNFvMcnmfuj4WBMUTxOrAyLMaTcE1aAMBiTlbMNaXvBCQuVi0R7hd8udDSP7ug==",
      "license": "MIT",
      "dependencies": {
        "split2": "^4.1.0"
      }
    },
    "node_modules/postgres-array": {
      "version": "2.0.0",
      "integrity": "sha512-VpZrUqU5A69eQyW2c5CA1jtLecCsN2U/bD6VilrFDWq5+5UIEVO7nazS3TEcHf1zuPYO/sqGvUvW62g86RXZuA==",
      "license": "MIT",
      "engines": {
        "node": ">=4"
      }
    },
    "node_modules/postgres-bytea": {
      "version": "1.0.1",
      "integrity": "sha512-5+5HqXnsZPE65IJZSMkZtURARZelel2oXUEO8rH83VS/hxH5vv1uHquPg5wZs8yMAfdv971IU+kcPUczi7NVBQ==",
      "license": "MIT",
      "engines": {
        "node": ">=0.10.0"
      }
    },
    "node_modules/postgres-date": {
      "version": "1.0.7",
      "integrity": "sha512-suDmjLVQg78nMK2UZ454hAG+OAW+HQPZ6n++TNDUX+L0+uUlLywnoxJKDou51Zm+zTCjrCl0Nq6J9C5hP9vK/Q==",
      "license": "MIT",
      "engines": {
        "node": ">=0.10.0"
      }
    },
    "node_modules/postgres-interval": {
      "version": "1.2.0",
      "integrity": "sha512-9ZhXKM/rw350N1ovuWHbGxnGh/SNJ4cnxHiM0rxE4VN41wsg8P8zWn9hv/buK00RP4WvlOyr/RBDiptyxVbkZQ==",
      "license": "MIT",
      "dependencies": {
        "xtend": "^4.0.0"
      },
      "engines": {
        "node": ">=0.10.0"
      }
    },
    "node_modules/split2": {
      "version": "4.2.0",
      "integrity": "sha512-UcjcJOWknrNkF6PLX83qcHM6KHgVKNkV62Y8a5uYDVv9ydGQVwAHMKqHdJje1VTWpljG0WYpCDhrCdAOYH4TWg==",
      "license": "ISC",
      "engines": {
        "node": ">= 10.x"
      }
    },
    "node_modules/xtend": {
      "version": "4.0.2",
      "integrity": "sha512-LKYU1iAXJXUgAXn9URjiu+MWhyUXHsvfp7mcuYm9dSUKK0/CjtrUwFAxD82/mCWbtLsGjFIad0wIsod4zrTAEQ==",
      "license": "MIT",
      "engines": {
        "node": ">=0.4"
      }
    }
  }
}
JSON
}

dbt_clients_node_install() {
    local out=$1 cache=$2 tmp
    [ -f "$out/.ready" ] && return 0
    tmp=$(mktemp -d "$out.tmp.XXXXXX") || return 1
    dbt_clients_node_package_json >"$tmp/package.json" &&
        dbt_clients_node_lock >"$tmp/package-lock.json" || return 1
    # No install scripts run; npm's own download cache lives in the test cache, not in $HOME.
    if ! (cd "$tmp" && npm_config_cache="$cache/clients/npm-cache" npm ci --ignore-scripts \
        --no-audit --no-fund --loglevel=error) >"$tmp.log" 2>&1; then
        if grep -qE 'ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|network' "$tmp.log"; then
            dbt_skip_reason "the npm registry is unreachable: cannot install node-postgres" \
                "(npm ci said: $(grep -m1 -E 'npm (ERR|error)' "$tmp.log"))"
            rm -rf "$tmp" "$tmp.log"
            return "$DBT_SKIP"
        fi
        dbt_error "npm ci of node-postgres failed (log follows)"
        cat "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        return 1
    fi
    # What was installed is what the lock names: npm ls fails on a missing, extra or
    # mismatched package.
    (cd "$tmp" && npm ls --all >/dev/null 2>>"$tmp.log") || {
        dbt_error "node-postgres in $tmp does not match its lock file (npm ls; log follows)"
        cat "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        return 1
    }
    rm -f "$tmp.log"
    touch "$tmp/.ready"
    rm -rf "$out"
    mv "$tmp" "$out"
}

dbt_clients_node_ensure() {
    local cache key out rc
    command -v node >/dev/null || dbt_apt_ensure nodejs || return $?
    command -v npm >/dev/null || dbt_apt_ensure npm || return $?
    cache=$(dbt_cache_dir) || return 1
    mkdir -p "$cache/clients" || return 1
    key=$(dbt_clients_key "$(dbt_clients_node_package_json)" "$(dbt_clients_node_lock)")
    out=$cache/clients/node-pg-$key
    dbt_with_lock "$cache/clients/node.lock" dbt_clients_node_install "$out" "$cache"
    rc=$?
    [ "$rc" = 0 ] || return "$rc"
    # shellcheck disable=SC2034 # for the caller
    DBT_CLIENTS_NODE_PATH=$out/node_modules
}
