//! The index benchmark: generate a corpus of sessions from the real recordings, ingest it,
//! and time queries beside ripgrep over the rendered text of the same corpus, in one run.
//!
//! `cargo run --release -p ssm-audit-core --example index_bench -- SESSIONS DIR [MIN_MB]`
//!
//! At least SESSIONS sessions, and more until their transcripts make MIN_MB megabytes (the
//! issue's corpus: 100000 sessions and 2000 MB).
//!
//! Prints: raw transcript bytes, ingest throughput (raw MB/s, on every core, and raw MB a
//! CPU-second) beside tantivy alone indexing the same rendered text and the renderer alone
//! rendering the same transcripts (the two parts of an ingest no design can skip: together,
//! the most an ingest can make of a CPU-second), index size against raw size, and p50/p99
//! latency of a term, a phrase, a filtered query and a phrase found
//! nowhere, with ripgrep's p50 for the same words over the rendered text (`rg` must be on
//! PATH).

use ssm_audit_core::{rebuild, text};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ssm_audit_core::correlate::CorrelateOptions;
use ssm_audit_core::index::{self, Filters};
use ssm_audit_core::ingest;
use ssm_audit_core::store::LocalStore;

const PRINCIPALS: [&str; 8] = [
    "alice@example.com",
    "bob@example.com",
    "carol",
    "dave.ops",
    "erin@example.com",
    "frank",
    "grace+admin@example.com",
    "root",
];

/// A deterministic 26-character session id suffix.
fn suffix(mut x: u64) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..26)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            A[(x >> 33) as usize % 36] as char
        })
        .collect()
}

/// As the `ssm-audit` binary does.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let min_sessions: usize = args.next().map_or(1000, |s| s.parse().expect("SESSIONS"));
    let dir =
        std::path::PathBuf::from(args.next().unwrap_or_else(|| "/tmp/ssm-audit-bench".into()));
    let min_bytes: u64 = args
        .next()
        .map_or(0, |s| s.parse::<u64>().expect("MIN_MB") * 1_000_000);
    let _ = std::fs::remove_dir_all(&dir);
    let rec_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recordings");
    let mut recs: Vec<Vec<u8>> = std::fs::read_dir(&rec_dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("ipc.raw"))
        .filter(|p| p.exists())
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    recs.sort();

    // ---- generate: S3 transcripts plus trail files with their StartSession records
    let ev = dir.join("evidence");
    std::fs::create_dir_all(ev.join("s3")).unwrap();
    std::fs::create_dir_all(ev.join("trail")).unwrap();
    let t0 = Instant::now();
    let mut raw_bytes = 0u64;
    let mut records = Vec::new();
    let base = time::macros::datetime!(2026-10-01 00:00 UTC);
    let mut n = 0;
    while n < min_sessions || raw_bytes < min_bytes {
        let i = n;
        n += 1;
        let principal = PRINCIPALS[i % PRINCIPALS.len()];
        let sid = format!("{principal}-{}", suffix(i as u64));
        let target = format!("i-0{:016x}", (i % 500) as u64 * 7919);
        let start = base + time::Duration::minutes(i as i64);
        let done = start + time::Duration::minutes(20);
        let fmt = |t: time::OffsetDateTime| {
            ssm_audit_core::time::rfc3339(t)
                .replace('T', " ")
                .replace('Z', "+00:00")
        };
        let mut body = format!(
            "Script started on {} [COMMAND=\"cat /var/lib/amazon/ssm/{target}/session/orchestration/{sid}/Standard_Stream/ipcTempFile.log\" <not executed on terminal>]\n",
            fmt(done)
        )
        .into_bytes();
        // the agent's replay turns \r\n into \r\r\n
        let rec = &recs[i % recs.len()];
        let mut prev = 0u8;
        for &b in rec {
            if b == b'\n' && prev == b'\r' {
                body.push(b'\r');
            }
            body.push(b);
            prev = b;
        }
        body.extend_from_slice(
            format!("\nScript done on {} [COMMAND_EXIT_CODE=\"0\"]\n", fmt(done)).as_bytes(),
        );
        raw_bytes += body.len() as u64;
        std::fs::write(ev.join("s3").join(format!("{sid}.log")), &body).unwrap();
        records.push(serde_json::json!({
            "eventVersion": "1.10", "eventSource": "ssm.amazonaws.com", "eventName": "StartSession",
            "eventTime": ssm_audit_core::time::rfc3339(start), "eventID": format!("bench-{i}"), "awsRegion": "us-east-1",
            "sourceIPAddress": format!("10.0.{}.{}", i % 250, i % 200), "userAgent": "aws-cli/2.17.60",
            "userIdentity": {"type": "IAMUser", "userName": principal, "arn": format!("arn:aws:iam::111122223333:user/{principal}"), "accountId": "111122223333"},
            "requestParameters": {"target": target}, "responseElements": {"sessionId": sid}
        }));
        if records.len() == 1000 {
            let trail = serde_json::to_vec(&serde_json::json!({"Records": records})).unwrap();
            std::fs::write(ev.join("trail").join(format!("trail-{i}.json")), trail).unwrap();
            records.clear();
        }
    }
    if !records.is_empty() {
        let trail = serde_json::to_vec(&serde_json::json!({"Records": records})).unwrap();
        std::fs::write(ev.join("trail").join(format!("trail-{n}.json")), trail).unwrap();
    }
    println!(
        "generated {n} sessions, {:.1} MB of raw transcripts in {:.1}s",
        raw_bytes as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );

    // ---- ingest
    let store = LocalStore::open(dir.join("data")).unwrap();
    let t0 = Instant::now();
    let cpu0 = cpu_seconds();
    let mut files = Vec::new();
    for sub in ["trail", "s3"] {
        let mut v: Vec<_> = std::fs::read_dir(ev.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        files.extend(v);
    }
    let mut report = ingest::ingest_files(&store, &files, &|_| {});
    // the custody ledger, as `ssm-audit ingest` keeps it (for `verify_store`)
    let key = ssm_audit_core::custody::ledger::LocalKey::load_or_create(&store).unwrap();
    ssm_audit_core::custody::ledger::append(&store, &key, std::mem::take(&mut report.custody))
        .unwrap();
    let decode = t0.elapsed();
    let cpu1 = cpu_seconds();
    let index_dir = dir.join("data/index");
    let recs_out = rebuild::rebuild(&store, &index_dir, &CorrelateOptions::default()).unwrap();
    let total = t0.elapsed();
    let cpu2 = cpu_seconds();
    assert!(
        report.failed.is_empty(),
        "{:?}",
        &report.failed[..report.failed.len().min(3)]
    );
    assert_eq!(recs_out.len(), n);
    let mb = raw_bytes as f64 / 1e6;
    println!(
        "ingest: {:.1}s ({:.1}s decode+render+store, {:.1}s correlate+index) = {:.1} MB/s of raw transcript on {} cores",
        total.as_secs_f64(),
        decode.as_secs_f64(),
        (total - decode).as_secs_f64(),
        mb / total.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if let (Some(c0), Some(c1), Some(c2)) = (cpu0, cpu1, cpu2) {
        println!(
            "ingest CPU: {:.1} s ({:.1} s decode+render+store, {:.1} s correlate+index) = {:.1} MB of raw transcript a CPU-second",
            c2 - c0,
            c1 - c0,
            c2 - c1,
            mb / (c2 - c0)
        );
    }
    let index_size = dir_size(&index_dir);
    println!(
        "index: {:.1} MB = {:.2} x raw",
        index_size as f64 / 1e6,
        index_size as f64 / raw_bytes as f64
    );

    // ---- rendered text for ripgrep
    let text_dir = dir.join("rendered");
    std::fs::create_dir_all(&text_dir).unwrap();
    for r in &recs_out {
        let Some(id) = &r.session_id else { continue };
        if let Some(t) = text::load_text(&store, id).unwrap() {
            std::fs::write(text_dir.join(format!("{id}.txt")), t.lines.join("\n")).unwrap();
        }
    }

    // ---- the baseline for ingest: tantivy alone, indexing the same rendered text as chunk
    // documents of one text field (tokenized, with positions, stored, as ours), nothing else
    let (wall, cpu) = tantivy_alone(&text_dir, &dir.join("tantivy-alone"));
    print!(
        "tantivy alone on the rendered text: {:.1}s = {:.1} MB/s of raw transcript on {} cores",
        wall.as_secs_f64(),
        mb / wall.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    match (cpu, cpu0, cpu2) {
        (Some(cpu), Some(c0), Some(c2)) => println!(
            ", {cpu:.1} CPU-s = {:.1} MB a CPU-second; ingest takes {:.2}x its CPU time",
            mb / cpu,
            (c2 - c0) / cpu
        ),
        _ => println!(),
    }

    // ---- the other part no ingest can skip: rendering every transcript (into a sink that
    // keeps nothing; commands found as ingest finds them), nothing else
    let cpu_r0 = cpu_seconds();
    let t = Instant::now();
    let mut lines = 0u64;
    for e in std::fs::read_dir(ev.join("s3")).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let (r, _) = ssm_audit_core::transcript::render_transcript(
            &bytes[..],
            ssm_audit_core::transcript::SizeChoice::default(),
            Discard,
        )
        .unwrap();
        lines += r.summary.lines;
    }
    let render_wall = t.elapsed();
    let render_cpu = cpu_seconds().zip(cpu_r0).map(|(c1, c0)| c1 - c0);
    print!(
        "renderer alone on the transcripts: {lines} lines in {:.1}s on one core",
        render_wall.as_secs_f64()
    );
    match (render_cpu, cpu, cpu0, cpu2) {
        (Some(r), Some(t), Some(c0), Some(c2)) => println!(
            ", {r:.1} CPU-s; with tantivy alone {:.1} CPU-s = {:.1} MB a CPU-second at most for any ingest; ingest takes {:.2}x that",
            r + t,
            mb / (r + t),
            (c2 - c0) / (r + t)
        ),
        _ => println!(),
    }

    // ---- queries
    let (idx, fields) = index::open_or_create(&index_dir).unwrap();
    // a filter is decided on the records, as the CLI does: the index gets the sessions
    let carol = ssm_audit_core::select::RecordFilter {
        user: Some(ssm_audit_core::select::Pattern::new("carol")),
        ..Default::default()
    };
    let user = Filters {
        sessions: Some(
            carol
                .select(&recs_out, |r| r.session_id.is_some())
                .records
                .iter()
                .filter_map(|r| r.session_id.clone())
                .collect(),
        ),
    };
    let cases: [(&str, &str, &Filters, Vec<&str>); 4] = [
        (
            "term",
            "shadow",
            &Filters::default(),
            vec!["-i", "-w", "shadow"],
        ),
        (
            "phrase",
            "\"kubectl get secrets\"",
            &Filters::default(),
            vec!["-i", "kubectl get secrets"],
        ),
        ("filtered", "exit", &user, vec!["-i", "-w", "exit"]),
        // two common words that never meet: the index, not the line check, must rule it out
        (
            "no-match",
            "\"echo root\"",
            &Filters::default(),
            vec!["-i", "echo root"],
        ),
    ];
    // queries against an open reader (a searcher kept across queries, as a server would),
    // and, apart, one-shot: the reader opened for each query, as one CLI command does
    let reader = index::open_reader(&idx).unwrap();
    let searcher = reader.searcher();
    for (name, q, f, rg) in cases {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..50 {
            let t = Instant::now();
            hits = index::search_with(&searcher, &fields, q, f, 100)
                .unwrap()
                .len();
            times.push(t.elapsed());
        }
        let mut once = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            index::search(&idx, &fields, q, f, 100).unwrap();
            once.push(t.elapsed());
        }
        let mut rg_times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let out = Command::new("rg")
                .args(&rg)
                .arg("-c")
                .arg(&text_dir)
                .output()
                .expect("rg on PATH");
            assert!(out.status.success() || out.status.code() == Some(1));
            rg_times.push(t.elapsed());
        }
        let (p50, p99) = (pct(&mut times, 50), pct(&mut times, 99));
        let rg50 = pct(&mut rg_times, 50);
        println!(
            "{name:>8} {q:<24} {hits:>4} hits (top 100)  p50 {:>8.2} ms  p99 {:>8.2} ms   ripgrep p50 {:>9.1} ms  = {:>6.0}x   one-shot p50 {:>8.2} ms = {:>5.0}x",
            ms(p50), ms(p99), ms(rg50), rg50.as_secs_f64() / p50.as_secs_f64(),
            ms(pct(&mut once, 50)), rg50.as_secs_f64() / pct(&mut once, 50).as_secs_f64()
        );
    }
}

/// A sink that keeps nothing.
struct Discard;

impl ssm_audit_core::render::Sink for Discard {
    fn line(&mut self, _number: u64, _text: &str) {}
}

fn pct(v: &mut [Duration], p: usize) -> Duration {
    v.sort();
    v[((v.len() - 1) * p / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Index every `.txt` file of `text_dir` into a new index in `out` with tantivy alone: chunks
/// of [`index::CHUNK_LINES`] lines as documents of one text field indexed as ours, the same
/// writer budget, merges awaited. Wall time and CPU seconds.
fn tantivy_alone(text_dir: &Path, out: &Path) -> (Duration, Option<f64>) {
    use tantivy::schema::{Schema, TextOptions};
    let mut b = Schema::builder();
    let text = b.add_text_field(
        "text",
        TextOptions::default()
            .set_stored()
            .set_indexing_options(index::text_indexing()),
    );
    std::fs::create_dir_all(out).unwrap();
    let idx = tantivy::Index::create_in_dir(out, b.build()).unwrap();
    idx.tokenizers().register(
        index::TOKENIZER,
        tantivy::tokenizer::TextAnalyzer::from(index::AuditTokenizer),
    );
    let mut files: Vec<_> = std::fs::read_dir(text_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    let mut w: tantivy::IndexWriter = idx.writer(index::WRITER_BUDGET).unwrap();
    for f in files {
        let body = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = body.split('\n').collect();
        for chunk in lines.chunks(index::CHUNK_LINES) {
            w.add_document(tantivy::doc!(text => chunk.join("\n")))
                .unwrap();
        }
    }
    w.commit().unwrap();
    w.wait_merging_threads().unwrap();
    let cpu = cpu_seconds().zip(cpu0).map(|(c1, c0)| c1 - c0);
    (t0.elapsed(), cpu)
}

/// CPU seconds this process has used, user and system, on every thread (Linux: from
/// `/proc/self/stat`; elsewhere none).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // the fields after the command name, which is in parentheses and may hold spaces
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on
    Some(ticks / 100.0)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p).map_or(0, |rd| {
        rd.map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                dir_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
    })
}
