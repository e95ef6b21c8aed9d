//! `ssm-audit-ingest-cloudtrail`: see [`ssm_audit_functions::handlers::ingest_cloudtrail`].

ssm_audit_functions::lambda_main!(ingest_cloudtrail);
