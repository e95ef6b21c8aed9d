//! Arbitrary bytes never panic, and the output stays within a constant factor of the input.

use proptest::prelude::*;
use ssm_audit_indexer::transcript::SizeChoice;

use crate::common::*;

/// Bytes biased towards what terminals parse: escapes, controls, digits, separators.
fn terminalish() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        4 => any::<u8>(),
        2 => Just(0x1b),
        1 => prop::sample::select(b"[]?;0123456789HJKABCDPX@LMrbhlm\r\n\x08\x07\t()".to_vec()),
        1 => prop::sample::select(vec![0xe6u8, 0x9c, 0xac, 0xcc, 0x81, 0xc2, 0x9b]),
    ];
    prop::collection::vec(atom, 0..2048)
}

/// Valid UTF-8 made of the same kinds of atoms, with ESC always starting a CSI or OSC. (On
/// invalid UTF-8, or ESC followed by a non-ASCII character, cut by a read boundary, vte's
/// partial-character path and its whole-buffer path can differ by a character: that is vte's
/// behaviour, so the split-point property is stated for well-formed input.)
fn terminalish_utf8() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        // ESC only as the start of a CSI or OSC (the atom below), never alone
        3 => any::<char>().prop_filter("no lone ESC", |c| *c != '\x1b').prop_map(String::from),
        2 => prop::sample::select(vec!["\x1b[".to_owned(), "\x1b]".to_owned()]),
        2 => prop::sample::select("[]?;0123456789HJKABCDPX@LMrbhlm\r\n\x08\x07\t()本\u{301}".chars().map(String::from).collect::<Vec<_>>()),
    ];
    prop::collection::vec(atom, 0..1024).prop_map(|v| v.concat().into_bytes())
}

fn output_size(bytes: &[u8], cols: u16, rows: u16) -> usize {
    let (r, sink) = render_bytes(
        bytes,
        SizeChoice {
            cols: Some(cols),
            rows: Some(rows),
        },
    );
    let alt: usize = sink
        .alternate_screens
        .iter()
        .flat_map(|s| &s.lines)
        .map(|l| l.len() + 1)
        .sum();
    let cmds: usize = r
        .summary
        .commands
        .iter()
        .chain(&r.summary.cancelled)
        .map(|c| c.text.len())
        .sum();
    sink.lines.iter().map(|l| l.len() + 1).sum::<usize>() + alt + cmds
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_output_is_bounded(bytes in terminalish(), cols in 2u16..200, rows in 2u16..60) {
        let out = output_size(&bytes, cols, rows);
        // every input byte can produce at most one screen row of text (REP and cursor moves
        // are bounded by the width), and one final screen is flushed
        let screen = cols as usize * rows as usize * 4;
        let bound = (bytes.len() + 1) * (cols as usize * 4 + 8) + 2 * screen;
        prop_assert!(out <= bound, "output {} > bound {}", out, bound);
    }

    #[test]
    fn split_points_do_not_change_the_result(bytes in terminalish_utf8(), cut in 0usize..4096) {
        use ssm_audit_indexer::render::{RenderOptions, Renderer, VecSink};
        let cut = cut.min(bytes.len());
        let mut a = Renderer::new(RenderOptions::default(), VecSink::default());
        a.advance(&bytes);
        let mut b = Renderer::new(RenderOptions::default(), VecSink::default());
        b.advance(&bytes[..cut]);
        b.advance(&bytes[cut..]);
        let (sa, la) = a.finish();
        let (sb, lb) = b.finish();
        prop_assert_eq!(la.lines, lb.lines);
        prop_assert_eq!(sa, sb);
    }
}

#[test]
fn a_single_huge_line_is_cut_not_held_whole() {
    // 8 MiB with no line end: the logical line is emitted in MAX_LINE_BYTES pieces
    let bytes = vec![b'a'; 8 << 20];
    let (_, sink) = render_bytes(
        &bytes,
        SizeChoice {
            cols: Some(80),
            rows: Some(24),
        },
    );
    let total: usize = sink.lines.iter().map(String::len).sum();
    assert_eq!(total, 8 << 20);
    assert!(sink
        .lines
        .iter()
        .all(|l| l.len() <= ssm_audit_indexer::render::MAX_LINE_BYTES + 80));
}
