//! Correlate a store folder's facts and build its index afresh, nothing else: for profiling
//! the indexer. `cargo run --release -p ssm-audit-core --example rebuild -- DATA_DIR`
use ssm_audit_core::correlate::CorrelateOptions;
use ssm_audit_core::rebuild;
use ssm_audit_core::store::LocalStore;

/// As the `ssm-audit` binary does.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: rebuild DATA_DIR")?);
    let store = LocalStore::open(&dir)?;
    let index = dir.join("index");
    let _ = std::fs::remove_dir_all(&index);
    let t = std::time::Instant::now();
    let records = rebuild::rebuild_from(&store, &index, &CorrelateOptions::default(), None)?;
    println!(
        "{} records indexed in {:.1}s",
        records.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
