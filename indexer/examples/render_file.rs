//! Render a transcript read from a file, counting lines: for profiling and memory measurement.
//! `cargo run --release -p ssm-audit-core --example render_file -- FILE [REPEAT]`
use ssm_audit_core::render::{RenderOptions, Renderer, Sink};

struct Count(u64);
impl Sink for Count {
    fn line(&mut self, _n: u64, t: &str) {
        self.0 += t.len() as u64;
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("FILE");
    let repeat: usize = args.next().map_or(1, |r| r.parse().unwrap());
    let data = std::fs::read(path).unwrap();
    let t = std::time::Instant::now();
    let mut r = Renderer::new(RenderOptions::default(), Count(0));
    for _ in 0..repeat {
        r.advance(&data);
    }
    let (s, c) = r.finish();
    let secs = t.elapsed().as_secs_f64();
    let mb = (data.len() * repeat) as f64 / 1e6;
    println!(
        "{mb:.1} MB in {secs:.3}s = {:.1} MB/s; {} lines, {} commands, {} bytes of text",
        mb / secs,
        s.lines,
        s.commands.len(),
        c.0
    );
}
