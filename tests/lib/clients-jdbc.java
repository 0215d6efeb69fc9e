// A Java database client for tests/e2e-clients.sh: Debian's pgjdbc (libpostgresql-jdbc-java)
// with whatever SSL factory and truststore the JDBC URL and -Djavax.net.ssl.* properties name.
// Usage: java -cp DIR:postgresql.jar ClientsJdbc JDBC-URL
// Prints "connected ssl=true" and exits 0, or prints "error: ..." for the exception and each
// cause (pgjdbc wraps the TLS reason) and exits 1.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

class ClientsJdbc {
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: ClientsJdbc JDBC-URL");
            System.exit(2);
        }
        boolean ssl = false;
        try (Connection c = DriverManager.getConnection(args[0]);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
            r.next();
            ssl = r.getBoolean(1);
            System.out.println("connected ssl=" + ssl);
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                System.out.println("error: " + t);
            }
            System.exit(1);
        }
        System.exit(ssl ? 0 : 1);
    }
}
