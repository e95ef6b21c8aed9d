//! Any bytes as evidence: detected, decoded and correlated without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssm_audit_indexer::correlate::{correlate, CorrelateOptions};
use ssm_audit_indexer::formats::{self, detect, Decoded, Format};

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = formats::maybe_gunzip(data.to_vec()) else { return };
    let mut out = Decoded::default();
    let mut chunks = Vec::new();
    match detect(&bytes) {
        Format::Transcript => {}
        f => formats::decode_json(f, "fuzz", &bytes, &mut out, &mut chunks),
    }
    formats::assemble_uploads(chunks, &mut out);
    let _ = correlate(&out.facts, &CorrelateOptions::default());
});
