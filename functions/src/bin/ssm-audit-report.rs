//! `ssm-audit-report`: see [`ssm_audit_functions::handlers::report`].

ssm_audit_functions::lambda_main!(report);
