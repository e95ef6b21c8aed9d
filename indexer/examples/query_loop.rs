//! Run one query many times against an index folder: for profiling search.
//! `cargo run --release -p ssm-audit-core --example query_loop -- INDEX_DIR QUERY [N]`
fn main() {
    let mut a = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(a.next().expect("INDEX_DIR"));
    let q = a.next().expect("QUERY");
    let n: usize = a.next().map_or(200, |s| s.parse().unwrap());
    let (idx, f) = ssm_audit_core::index::open_or_create(&dir).unwrap();
    let reader = ssm_audit_core::index::open_reader(&idx).unwrap();
    let searcher = reader.searcher();
    let t = std::time::Instant::now();
    let mut hits = 0;
    for _ in 0..n {
        hits = ssm_audit_core::index::search_with(&searcher, &f, &q, &Default::default(), 100)
            .unwrap()
            .len();
    }
    println!(
        "{hits} hits, {:.2} ms per query",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
