//! ssm-audit's AWS parts that the CLI and the Lambda functions share, apart from the Lambda
//! runtime: the [`s3::S3Store`] (the core's `Store` on S3) and the paginated API readers
//! ([`backfill`]: CloudTrail LookupEvents, DescribeSessions, CloudWatch Logs, S3 listings),
//! and the KMS key that signs the custody ledger ([`kms`]).

pub mod backfill;
pub mod kms;
pub mod s3;
