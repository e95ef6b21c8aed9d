//! Any bytes as evidence: detected, decoded and correlated without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssm_audit_core::correlate::{correlate, CorrelateOptions};
use ssm_audit_core::formats;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = formats::decode("fuzz", data.to_vec()) else { return };
    let out = input.into_decoded("fuzz");
    let _ = correlate(&out.facts, &CorrelateOptions::default());
});
