//! Renderer throughput beside the baselines, in one run on the same inputs:
//! - `ssm-audit`: this crate's renderer (lines streamed to a sink that counts them);
//! - `vte-noop`: vte's parser with a `Perform` that does nothing (the ceiling);
//! - `alacritty_terminal`, `vt100`: full terminal emulators;
//! - `strip-ansi-escapes`: a stripper (fast, and wrong on edits, see README).
//!
//! Inputs, made from the real recordings in tests/recordings (at least 50 MB each):
//! - `shell`: the bash sessions' PTY output, repeated;
//! - `fullscreen`: only what vim, less and top drew (alternate screen and top's frames), repeated;
//! - `tmux`: a bash session that runs tmux and works inside it (bash5-tmux-80x24), repeated.
//!
//! Run: `cargo bench -p ssm-audit-core --bench render` (criterion prints MiB/s).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ssm_audit_core::render::{RenderOptions, Renderer, Sink};

const TARGET: usize = 50 << 20;

struct Count(usize);
impl Sink for Count {
    fn line(&mut self, _n: u64, text: &str) {
        self.0 += text.len();
    }
}

struct Noop;
impl vte::Perform for Noop {}

fn recordings() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recordings");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("ipc.raw").exists())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p.join("ipc.raw")).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn repeat_to(parts: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + parts.len());
    while out.len() < n {
        out.extend_from_slice(parts);
    }
    out
}

/// The bytes a full-screen program drew: from entering the alternate screen to leaving it,
/// and from top's first clear to its exit.
fn fullscreen_parts(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let find = |hay: &[u8], from: usize, needle: &[u8]| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let mut at = 0;
    while let Some(s) = find(raw, at, b"\x1b[?1049h") {
        let e = find(raw, s, b"\x1b[?1049l").map_or(raw.len(), |e| e + 8);
        out.extend_from_slice(&raw[s..e]);
        at = e;
    }
    if let Some(s) = find(raw, 0, b"top -d 0.5\r\n") {
        let e = find(raw, s, b"cat /tmp/ssmrec-vim.txt").unwrap_or(raw.len());
        out.extend_from_slice(&raw[s..e]);
    }
    out
}

fn bench(c: &mut Criterion) {
    let recs = recordings();
    let shell: Vec<u8> = recs
        .iter()
        .filter(|(n, _)| n.starts_with("bash"))
        .flat_map(|(_, b)| b.clone())
        .collect();
    let full: Vec<u8> = recs.iter().flat_map(|(_, b)| fullscreen_parts(b)).collect();
    // a session spent inside tmux: its screen, panes' output scrolled with `CSI n S`
    let tmux: Vec<u8> = recs
        .iter()
        .filter(|(n, _)| n.contains("tmux"))
        .flat_map(|(_, b)| b.clone())
        .collect();
    let inputs = [
        ("shell", repeat_to(&shell, TARGET)),
        ("fullscreen", repeat_to(&full, TARGET)),
        ("tmux", repeat_to(&tmux, TARGET)),
    ];
    let (cols, rows) = (80usize, 24usize);

    for (name, input) in &inputs {
        let mut g = c.benchmark_group(*name);
        g.sample_size(10);
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function("ssm-audit", |b| {
            b.iter(|| {
                let opts = RenderOptions {
                    cols: cols as u16,
                    rows: rows as u16,
                    ..RenderOptions::default()
                };
                let mut r = Renderer::new(opts, Count(0));
                r.advance(input);
                let (summary, sink) = r.finish();
                (summary.commands.len(), sink.0)
            })
        });
        g.bench_function("vte-noop", |b| {
            b.iter(|| {
                let mut p = vte::Parser::new();
                p.advance(&mut Noop, input);
            })
        });
        g.bench_function("alacritty_terminal", |b| {
            use alacritty_terminal::event::VoidListener;
            use alacritty_terminal::term::{test::TermSize, Config, Term};
            b.iter(|| {
                let size = TermSize::new(cols, rows);
                let mut term = Term::new(Config::default(), &size, VoidListener);
                let mut p: alacritty_terminal::vte::ansi::Processor =
                    alacritty_terminal::vte::ansi::Processor::new();
                p.advance(&mut term, input);
                term.grid().cursor.point.line.0
            })
        });
        g.bench_function("vt100", |b| {
            b.iter(|| {
                let mut p = vt100::Parser::new(rows as u16, cols as u16, 0);
                p.process(input);
                p.screen().cursor_position()
            })
        });
        g.bench_function("strip-ansi-escapes", |b| {
            b.iter(|| strip_ansi_escapes::strip(input).len())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
