//! `ssm-audit-ingest-s3`: see [`ssm_audit_functions::handlers::ingest_s3`].

ssm_audit_functions::lambda_main!(ingest_s3);
