// A Go database client for tests/e2e-clients.sh: lib/pq (Debian's golang-github-lib-pq-dev)
// over database/sql, with Go's own TLS verifier and Go's system roots (crypto/x509 reads
// SSL_CERT_FILE or the distribution's bundle, and every file of SSL_CERT_DIR or /etc/ssl/certs).
// Usage: client CONNINFO   (e.g. "host=db.example port=5432 user=u dbname=d sslmode=verify-full")
// Prints "connected ssl=true" and exits 0, or prints "error: ..." and exits 1.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/lib/pq"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: client CONNINFO")
		os.Exit(2)
	}
	db, err := sql.Open("postgres", os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer db.Close()
	var ssl bool
	err = db.QueryRow("select ssl from pg_stat_ssl where pid = pg_backend_pid()").Scan(&ssl)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("connected ssl=%v\n", ssl)
	if !ssl {
		os.Exit(1)
	}
}
