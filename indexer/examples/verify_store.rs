//! `ssm-audit verify` over a data folder, timed: the cost of proving a store.
//!
//! `cargo run --release -p ssm-audit-core --example verify_store -- DATA_DIR`
//! (run it under `/usr/bin/time -v` for the peak RSS; `index_bench` makes a store with a
//! ledger).

use std::time::Instant;

use ssm_audit_core::custody::{ledger, verify};
use ssm_audit_core::store::LocalStore;

fn main() {
    let dir = std::env::args().nth(1).expect("DATA_DIR");
    let store = LocalStore::open(&dir).unwrap();
    let t = Instant::now();
    let pinned = ledger::LocalKey::pinned(&store).unwrap();
    let v = verify::verify(&store, None, pinned).unwrap();
    let took = t.elapsed();
    let s = &v.summary;
    println!(
        "verify: {:.2} s; {} copies valid, {} modified, {} missing; {} problems",
        took.as_secs_f64(),
        s.copies_valid,
        s.copies_modified,
        s.copies_missing,
        v.problems.len()
    );
}
