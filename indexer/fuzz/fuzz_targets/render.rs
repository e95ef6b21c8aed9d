//! Any bytes, at any terminal size, through the whole transcript path: never a panic, and
//! the output stays within a constant factor of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssm_audit_core::render::VecSink;
use ssm_audit_core::transcript::{render_transcript, SizeChoice};

fuzz_target!(|data: &[u8]| {
    let (size, bytes) = match data {
        [c, r, rest @ ..] => (SizeChoice { cols: Some(*c as u16 + 2), rows: Some(*r as u16 % 64 + 2) }, rest),
        _ => (SizeChoice::default(), data),
    };
    let (rendered, sink) = render_transcript(bytes, size, VecSink::default()).unwrap();
    let out: usize = sink.lines.iter().map(|l| l.len() + 1).sum();
    let cols = rendered.width as usize;
    assert!(out <= (bytes.len() + 1) * (cols * 4 + 8) + 2 * cols * rendered.height as usize * 4);
});
