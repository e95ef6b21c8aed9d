//! The ground-state fast path changes nothing: any bytes, cut anywhere, render (and give the
//! width probe's answer) exactly as with every byte through vte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssm_audit_core::render::{width, RenderOptions, Renderer, VecSink};

fn render(bytes: &[u8], cols: u16, cut: usize, fast: bool) -> String {
    let opts = RenderOptions {
        cols,
        rows: 5,
        ..RenderOptions::default()
    };
    let mut r = Renderer::new(opts, VecSink::default());
    if !fast {
        r = r.without_fast_path();
    }
    let (a, b) = bytes.split_at(cut.min(bytes.len()));
    r.advance(a);
    r.advance(b);
    let (summary, sink) = r.finish();
    format!("{summary:?}\n{:?}\n{:?}", sink.lines, sink.alternate_screens)
}

fuzz_target!(|data: &[u8]| {
    let (cols, cut, bytes) = match data {
        [c, k, rest @ ..] => (*c as u16 % 100 + 2, *k as usize * 4, rest),
        _ => (80, 0, data),
    };
    assert_eq!(render(bytes, cols, cut, true), render(bytes, cols, 0, false));
    assert_eq!(width::infer(bytes), width::infer_with_vte_alone(bytes));
});
