//! A local ingest killed at any moment, or run twice at once, ends as one clean run does:
//! the same records and the same answers. Kills are SIGKILL at random moments (the seed is
//! printed), each followed by a rerun of the same ingest.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("ssm-audit");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --workspace` first",
        bin.display()
    );
    bin
}

fn audit(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null());
    c
}

fn out(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// `n` small transcripts, each its own session, each running a few commands.
fn evidence(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let sid = format!("user{}-{:017x}", i % 37, 0x0e3486118520170u64 + i as u64);
        let body = format!(
            "Script started on 2026-11-20 09:{:02}:00+00:00\r\n\
             sh-4.2$ echo marker-{i}\r\nmarker-{i}\r\nsh-4.2$ cat /etc/hostname\r\nhost{i}\r\n\
             sh-4.2$ sudo cat /etc/shadow | head -1\r\nroot:*:19000:0:99999:7:::\r\nsh-4.2$ exit\r\n",
            i % 60
        );
        std::fs::write(dir.join(format!("{sid}.log")), body).unwrap();
    }
}

/// What must come out the same: every record, and the answers of a search.
fn answers(data: &Path) -> (String, String) {
    let sessions = out(audit(data, &["sessions", "--json"]).output().unwrap());
    let hits = out(audit(data, &["search", "-c", "shadow"]).output().unwrap());
    (sessions, hits)
}

/// A small random number generator (xorshift), seeded from the clock unless
/// `SSM_AUDIT_CRASH_SEED` is set: the seed is printed to replay a failure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn an_ingest_killed_at_random_moments_then_run_again_ends_as_a_clean_run() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    evidence(&ev, 2000);
    let ev_s = ev.to_str().unwrap();
    let clean = tmp.path().join("clean");
    let t0 = Instant::now();
    out(audit(&clean, &["ingest", ev_s]).output().unwrap());
    let took = t0.elapsed();
    let want = answers(&clean);
    assert!(want.1.lines().count() == 2000, "{}", want.1.lines().count());

    let seed = std::env::var("SSM_AUDIT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("SSM_AUDIT_CRASH_SEED={seed} (a clean ingest took {took:?})");
    let mut rng = Rng(seed);
    let mut killed_running = 0;
    for k in 0..20 {
        let data = tmp.path().join(format!("killed-{k}"));
        let mut child = audit(&data, &["ingest", ev_s])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // anywhere in the run: reading, storing, correlating, indexing, writing records
        let at = Duration::from_micros(rng.next() % (took.as_micros() as u64 + 1));
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        out(audit(&data, &["ingest", ev_s]).output().unwrap());
        assert_eq!(
            answers(&data),
            want,
            "killed after {at:?} (seed {seed}): the rerun differs from a clean run"
        );
        std::fs::remove_dir_all(&data).unwrap();
    }
    assert!(
        killed_running >= 10,
        "only {killed_running} kills hit a running ingest"
    );
}

#[test]
fn two_ingests_into_one_folder_at_once_end_as_one_clean_run() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    evidence(&ev, 500);
    let ev_s = ev.to_str().unwrap();
    let clean = tmp.path().join("clean");
    out(audit(&clean, &["ingest", ev_s]).output().unwrap());
    let want = answers(&clean);
    for k in 0..3 {
        let data = tmp.path().join(format!("both-{k}"));
        let a = audit(&data, &["ingest", ev_s])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let b = audit(&data, &["ingest", ev_s])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        out(a.wait_with_output().unwrap());
        out(b.wait_with_output().unwrap());
        assert_eq!(answers(&data), want, "try {k}");
    }
}
