//! Ingest files into a store folder, nothing else (no correlation, no index): what the
//! `ssm-audit-ingest-s3` function does with an object it streamed to /tmp, and the first
//! phase of `ssm-audit ingest` on its own. Folders are read recursively; the files go through
//! `ingest_files`, on every core.
//!
//! - peak memory of one file: `/usr/bin/time -f %M target/release/examples/ingest_file DIR FILE`
//! - profiling the render phase: `perf record -g target/release/examples/ingest_file DIR EVIDENCE_DIR`

use ssm_audit_core::ingest::ingest_files;
use ssm_audit_core::store::LocalStore;

/// As the `ssm-audit` binary does.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, inputs @ ..] = args.as_slice() else {
        return Err("usage: ingest_file STORE_DIR FILE_OR_DIR...".into());
    };
    let store = LocalStore::open(dir)?;
    let mut files = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = inputs.iter().rev().map(Into::into).collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(&p)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?;
            v.sort();
            stack.extend(v.into_iter().rev());
        } else {
            files.push(p);
        }
    }
    let t = std::time::Instant::now();
    let report = ingest_files(&store, &files, &|_| {});
    eprintln!("{} files in {:.2}s", files.len(), t.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
