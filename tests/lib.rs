//! End-to-end tests of ssm-audit live in `e2e.rs`; this library is empty.
