//! `ssm-audit-ingest-cloudwatch`: see [`ssm_audit_functions::handlers::ingest_cloudwatch`].

ssm_audit_functions::lambda_main!(ingest_cloudwatch);
