# End-to-end harness (tests/lib/*.sh): real PostgreSQL with TLS, libpq 17 on the host's OpenSSL
# and in a Debian 13 root; e2e-infra.sh proves it. The demo PKI recipe is shared with demo.sh.
TESTS += tests/e2e-infra.sh
dist_noinst_SCRIPTS += tests/e2e-infra.sh certs/demo-pki.sh
EXTRA_DIST += tests/lib/common.sh tests/lib/pgserver.sh tests/lib/libpq17.sh tests/lib/trixie.sh
