//! Any bytes as a whole input file, through ingest into an in-memory store (detection,
//! gzip, decoding, rendering, the store's keys and texts), then correlated and every
//! session's text read back: no panic, no error but a named bad input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssm_audit_core::correlate::{correlate, CorrelateOptions};
use ssm_audit_core::ingest::{self, IngestReport};
use ssm_audit_core::store::MemoryStore;
use ssm_audit_core::{rebuild, text};

/// The names an input may come under: each takes another path through ingest.
const NAMES: [&str; 6] = [
    "alice@example.com-0e34861185201706f.log",
    "alice@example.com-0e34861185201706f.log.gz",
    "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/trail.json.gz",
    "events.json",
    "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/digest.json.gz",
    "..\\x\u{0}name.log",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let name = NAMES[pick as usize % NAMES.len()];
    let store = MemoryStore::new();
    let mut report = IngestReport::default();
    // as the CLI reads a file, and as the functions hand over an object's bytes
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, body).unwrap();
    ingest::ingest_file_named(&store, &path, name, &mut report).unwrap();
    ingest::ingest_input(&store, name, body.to_vec(), &mut report);
    let facts = rebuild::load_facts(&store).unwrap();
    for r in correlate(&facts, &CorrelateOptions::default()) {
        if let Some(id) = &r.session_id {
            text::load_text(&store, id).unwrap();
        }
    }
});
