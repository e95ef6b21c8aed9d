//! `ssm-audit-reconcile`: see [`ssm_audit_functions::handlers::reconcile`].

ssm_audit_functions::lambda_main!(reconcile);
