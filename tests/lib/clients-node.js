// A Node.js database client for tests/e2e-clients.sh: node-postgres (npm `pg`), with Node's TLS
// (its own OpenSSL; its bundled roots, or OpenSSL's default paths with --use-openssl-ca, plus
// NODE_EXTRA_CA_CERTS).
// Usage: node clients-node.js HOST PORT USER DATABASE   (ssl: { rejectUnauthorized: true })
//        node clients-node.js URL                       (a connection string, e.g. ?sslmode=...)
// Prints "connected ssl=true" and exits 0, or prints "error: CODE: message" and exits 1.
'use strict'
const { Client } = require('pg')

const a = process.argv.slice(2)
let config
if (a.length === 1) {
  config = { connectionString: a[0] }
} else if (a.length === 4) {
  config = { host: a[0], port: Number(a[1]), user: a[2], database: a[3],
    ssl: { rejectUnauthorized: true } }
} else {
  console.error('usage: clients-node.js HOST PORT USER DATABASE | URL')
  process.exit(2)
}
config.connectionTimeoutMillis = 15000

const client = new Client(config)
client.connect()
  .then(() => client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()'))
  .then((r) => {
    const ssl = r.rows[0].ssl
    console.log('connected ssl=' + ssl)
    if (!ssl) process.exitCode = 1
    return client.end()
  })
  .catch((e) => {
    console.log('error: ' + (e.code ? e.code + ': ' : '') + e.message)
    process.exitCode = 1
    client.end().catch(() => {})
  })
