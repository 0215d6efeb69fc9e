/* Known managed-database CA sources: the data behind `dbtrust sources` and `dbtrust fetch`
 * (certs/sources.h says what each field means). */
#include "sources.h"

const dbt_source dbt_sources[] = {
    {"aws-rds",
     "Amazon RDS and Aurora (commercial regions)",
     {"https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem", NULL},
     "https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem",
     "every commercial region's self-signed roots, RSA2048 G1, RSA4096 G1 and ECC384 G1 "
     "(108 certificates for 36 regions in 2025); a region's bundle holds its 3 roots",
     "also published as PKCS#7: https://truststore.pki.rds.amazonaws.com/global/"
     "global-bundle.p7b (use --url); --region R fetches one region's bundle"},
    {"aws-rds-govcloud",
     "Amazon RDS and Aurora (AWS GovCloud (US))",
     {"https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem", NULL},
     "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/{region}/{region}-bundle.pem",
     "the roots of us-gov-west-1 and us-gov-east-1 (RSA2048, RSA4096, ECC384 G1) plus older "
     "GovCloud CAs",
     "`dbtrust fetch aws-rds --govcloud [--region us-gov-west-1|us-gov-east-1]`"},
    {"aurora-dsql",
     "Amazon Aurora DSQL",
     {"https://www.amazontrust.com/repository/AmazonRootCA1.pem",
      "https://www.amazontrust.com/repository/AmazonRootCA2.pem",
      "https://www.amazontrust.com/repository/AmazonRootCA3.pem",
      "https://www.amazontrust.com/repository/AmazonRootCA4.pem", NULL},
     NULL,
     "Amazon Root CA 1 (RSA2048), 2 (RSA4096), 3 (EC P-256) and 4 (EC P-384)",
     "DSQL endpoints use Amazon Trust Services certificates; most systems already trust these "
     "roots, the bundle makes it explicit"},
    {"azure",
     "Azure Database for PostgreSQL and MySQL (flexible server)",
     {NULL},
     NULL,
     "public roots: DigiCert Global Root G2, Microsoft RSA Root Certificate Authority 2017 "
     "(and DigiCert Global Root CA for older servers)",
     "no database-specific bundle: download the roots Microsoft's documentation lists and run "
     "`dbtrust import --bundle azure FILE...`"},
    {"gcp-cloudsql",
     "Google Cloud SQL",
     {NULL},
     NULL,
     "one server CA per instance (or a shared CA pool per region with the CAS option)",
     "no public bundle: `gcloud sql instances describe INSTANCE "
     "--format='value(serverCaCert.cert)' > server-ca.pem`, then `dbtrust import --bundle "
     "gcp-INSTANCE server-ca.pem`"},
    {"aiven",
     "Aiven",
     {NULL},
     NULL,
     "one CA per project",
     "no public bundle: `avn project ca-get --target-filepath ca.pem` (or the console's "
     "'CA certificate' download), then `dbtrust import --bundle aiven-PROJECT ca.pem`"},
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
