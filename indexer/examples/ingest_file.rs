//! Ingest files into a store folder, nothing else (no correlation, no index): what the
//! `ssm-audit-ingest-s3` function does with an object it streamed to /tmp, and the first
//! phase of `ssm-audit ingest` on its own. Folders are read recursively; the files go through
//! `ingest_files`, on every core.
//!
//! - peak memory of one file: `/usr/bin/time -f %M target/release/examples/ingest_file DIR FILE`
//! - profiling the render phase: `perf record -g target/release/examples/ingest_file DIR EVIDENCE_DIR`
//! - what custody costs (the Lambda functions take it): `ingest_file --custody-cost DIR FILE`
//!   ingests FILE into fresh stores under DIR, 5 times with custody records and 5 without,
//!   alternating, and prints the best of each and their ratio

use ssm_audit_core::ingest::ingest_files;
use ssm_audit_core::store::LocalStore;

/// As the `ssm-audit` binary does.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, dir, file] = args.as_slice() {
        if flag == "--custody-cost" {
            return custody_cost(dir.as_ref(), file.as_ref());
        }
    }
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

fn custody_cost(
    dir: &std::path::Path,
    file: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    use ssm_audit_core::ingest::{ingest_file, IngestReport};
    let mut best = [f64::MAX; 2];
    for round in 0..10 {
        let custody = round % 2 == 0;
        let store_dir = dir.join(format!("run-{round}"));
        let _ = std::fs::remove_dir_all(&store_dir);
        let store = LocalStore::open(&store_dir)?;
        let mut report = if custody {
            IngestReport::with_custody()
        } else {
            IngestReport::default()
        };
        let t = std::time::Instant::now();
        ingest_file(&store, file, &mut report)?;
        let s = t.elapsed().as_secs_f64();
        assert_eq!(report.custody.is_empty(), !custody);
        let b = &mut best[usize::from(custody)];
        *b = b.min(s);
        std::fs::remove_dir_all(&store_dir)?;
    }
    let size = std::fs::metadata(file)?.len() as f64 / (1 << 20) as f64;
    println!(
        "{size:.0} MiB: without custody {:.3} s ({:.1} MiB/s), with {:.3} s ({:.1} MiB/s): {:.3}x",
        best[0],
        size / best[0],
        best[1],
        size / best[1],
        best[1] / best[0]
    );
    Ok(())
}
