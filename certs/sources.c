/* Known managed-database CA sources: the data behind `dbtrust sources` and `dbtrust fetch`
 * (certs/sources.h says what each field means). */
#include "sources.h"

/*
 * Default scopes, each decided from what the provider documents about its endpoints and CAs
 * (doc/dbtrust.1 gives the same reasons under fetch):
 *
 * aws-rds: every RDS and Aurora endpoint of the commercial regions is
 *   <name>.<id>.<region>.rds.amazonaws.com
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.html), and the
 *   global bundle is the roots of those regions
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html). The China
 *   regions (endpoints under amazonaws.com.cn) are not covered: their documentation
 *   (https://docs.amazonaws.cn/en_us/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html) offers
 *   regional bundles only, and the 2025 global bundle holds no cn-* root (its 108 roots name
 *   34 commercial regions plus Beta us-east-1 and Preview us-east-2). Naming the China domain
 *   would only permit these CAs for names none of them serves, so it is left out.
 * aws-rds-govcloud: GovCloud endpoints take both the commercial form
 *   <name>.<id>.us-gov-west-1.rds.amazonaws.com and <name>.<id>.rds.us-gov-west-1.amazonaws.com
 *   (AWS's own driver matches both: AURORA_DNS_PATTERN and AURORA_GOV_DNS_PATTERN of
 *   https://github.com/aws/aws-advanced-jdbc-wrapper/blob/main/wrapper/src/main/java/software/amazon/jdbc/util/RdsUtils.java);
 *   the scope names both forms for the two GovCloud regions only.
 * aurora-dsql: none. Endpoints are <id>.dsql.<region>.on.aws, but the CAs are Amazon Root CA 1-4
 *   (https://docs.aws.amazon.com/aurora-dsql/latest/userguide/configure-root-certificates.html),
 *   public roots the system store already holds. A scoped copy narrows nothing while the
 *   system's own copy serves every name, and it can break other sites: measured on OpenSSL
 *   3.0.19, with the constrained cross-certificate found before the system's root (directory
 *   order, or the same hash chain), a leaf for a name outside the scope under that root fails
 *   with "permitted subtree violation"; OpenSSL does not try the other copy.
 * azure: none, for the same reason: DigiCert Global Root G2 and Microsoft RSA Root Certificate
 *   Authority 2017 are public roots
 *   (https://learn.microsoft.com/azure/postgresql/flexible-server/security-tls).
 * gcp-cloudsql: none. The default CA is dedicated to one instance and signs only its server
 *   certificate (https://cloud.google.com/sql/docs/postgres/authorize-ssl), whose CN is
 *   "project:instance" and whose names are the instance's IP addresses: only the user knows
 *   them (import --only-for ADDRESS).
 * aiven: aivencloud.com, a hint for import (nothing is fetched): service hosts are
 *   <service>-<project>.*.aivencloud.com (https://aiven.io/docs/platform/ip-addresses); the
 *   project is part of a label, so no narrower name suffix covers one project's services.
 */

const dbt_source dbt_sources[] = {
    {"aws-rds",
     "Amazon RDS and Aurora (commercial regions)",
     {"https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem", NULL},
     "https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem",
     "every commercial region's self-signed roots, RSA2048 G1, RSA4096 G1 and ECC384 G1 "
     "(108 certificates for 36 regions in 2025); a region's bundle holds its 3 roots",
     "also published as PKCS#7: https://truststore.pki.rds.amazonaws.com/global/"
     "global-bundle.p7b (use --url); --region R fetches one region's bundle. The China "
     "regions have their own regional bundles: import one with --only-for "
     "rds.amazonaws.com.cn",
     "rds.amazonaws.com"},
    {"aws-rds-govcloud",
     "Amazon RDS and Aurora (AWS GovCloud (US))",
     {"https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem", NULL},
     "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/{region}/{region}-bundle.pem",
     "the roots of us-gov-west-1 and us-gov-east-1 (RSA2048, RSA4096, ECC384 G1) plus older "
     "GovCloud CAs",
     "`dbtrust fetch aws-rds --govcloud [--region us-gov-west-1|us-gov-east-1]`",
     "us-gov-west-1.rds.amazonaws.com us-gov-east-1.rds.amazonaws.com "
     "rds.us-gov-west-1.amazonaws.com rds.us-gov-east-1.amazonaws.com"},
    {"aurora-dsql",
     "Amazon Aurora DSQL",
     {"https://www.amazontrust.com/repository/AmazonRootCA1.pem",
      "https://www.amazontrust.com/repository/AmazonRootCA2.pem",
      "https://www.amazontrust.com/repository/AmazonRootCA3.pem",
      "https://www.amazontrust.com/repository/AmazonRootCA4.pem", NULL},
     NULL,
     "Amazon Root CA 1 (RSA2048), 2 (RSA4096), 3 (EC P-256) and 4 (EC P-384)",
     "DSQL endpoints use Amazon Trust Services certificates; most systems already trust these "
     "roots, the bundle makes it explicit. No default scope: the system store's own copy of "
     "a public root serves every name, and a scoped copy OpenSSL finds first would refuse "
     "other sites under the same root",
     NULL},
    {"azure",
     "Azure Database for PostgreSQL and MySQL (flexible server)",
     {NULL},
     NULL,
     "public roots: DigiCert Global Root G2, Microsoft RSA Root Certificate Authority 2017 "
     "(and DigiCert Global Root CA for older servers)",
     "no database-specific bundle: download the roots Microsoft's documentation lists and run "
     "`dbtrust import --bundle azure FILE...`. No default scope: public roots (see aurora-dsql); "
     "servers are SERVER.postgres.database.azure.com and SERVER.mysql.database.azure.com",
     NULL},
    {"gcp-cloudsql",
     "Google Cloud SQL",
     {NULL},
     NULL,
     "one server CA per instance (or a shared CA pool per region with the CAS option)",
     "no public bundle: `gcloud sql instances describe INSTANCE "
     "--format='value(serverCaCert.cert)' > server-ca.pem`, then `dbtrust import --bundle "
     "gcp-INSTANCE server-ca.pem`. No default scope: the CA signs one instance, whose "
     "certificate names its IP addresses (add --only-for ADDRESS)",
     NULL},
    {"aiven",
     "Aiven",
     {NULL},
     NULL,
     "one CA per project",
     "no public bundle: `avn project ca-get --target-filepath ca.pem` (or the console's "
     "'CA certificate' download), then `dbtrust import --bundle aiven-PROJECT --only-for "
     "aivencloud.com ca.pem` (hosts are SERVICE-PROJECT.*.aivencloud.com)",
     "aivencloud.com"},
};

const size_t dbt_nsources = sizeof(dbt_sources) / sizeof(dbt_sources[0]);

/* Regions with an RDS regional bundle (the CN prefixes of the 2025 global bundle). A region
 * outside this list is still accepted when it is spelled like one: AWS adds regions often. */
const char *const dbt_aws_regions[] = {
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    NULL,
};
