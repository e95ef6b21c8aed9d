//! Ingest one file into a store folder, nothing else (no correlation, no index): what the
//! `ssm-audit-ingest-s3` function does with an object it streamed to /tmp. For measuring its
//! peak memory: `/usr/bin/time -f %M target/release/examples/ingest_file FILE DIR`.

use ssm_audit_indexer::ingest::{ingest_file, IngestReport};
use ssm_audit_indexer::store::LocalStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, dir] = args.as_slice() else {
        return Err("usage: ingest_file FILE STORE_DIR".into());
    };
    let store = LocalStore::open(dir)?;
    let mut report = IngestReport::default();
    ingest_file(&store, file.as_ref(), &mut report)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
