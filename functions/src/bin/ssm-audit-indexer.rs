//! `ssm-audit-indexer`: see [`ssm_audit_functions::handlers::indexer`].

ssm_audit_functions::lambda_main!(indexer);
