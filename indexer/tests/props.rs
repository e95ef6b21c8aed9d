//! Arbitrary bytes never panic, and the output stays within a constant factor of the input.

use proptest::prelude::*;
use ssm_audit_core::transcript::SizeChoice;

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

/// Shell-like output: runs of text and UTF-8 between controls and escape sequences, so the
/// renderer's ground-state fast path is taken often and left at every kind of byte.
fn shellish() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        3 => "[ -~]{0,100}".prop_map(String::into_bytes),
        1 => "[ -~\u{e9}\u{301}\u{672c}\u{30c7}]{0,20}".prop_map(String::into_bytes),
        2 => prop::sample::select(vec![
            &b"\r\n"[..], b"\r", b"\n", b"\x08", b"\t", b"\x07", b"\x7f", b"\x1b[?2004h",
            b"\x1b[?2004l\r", b"\x1b]0;user@host: ~\x07", b"\x1b]133;A\x1b\\", b"\x1b[01;32m",
            b"\x1b[m", b"\x1b[K", b"\x1b[2J", b"\x1b[H", b"\x1b[3;5H", b"\x1b[4h", b"\x1b[4l",
            b"\x1b(0", b"\x1b(B", b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[5@", b"\x1b[2P",
            b"\x1b[?7l", b"\x1b[?7h", b"\x1b[2;10r", b"\x1b[3b", b"\x1bM", b"\x1b[1", b"\x18", b"\x1a",
            b"\x1bP1$r\x1b\\", b"\x1b_apc\x1b\\", b"\x1b[?", b"\xc2\x9b", b"\xe6\x9c", b"\xff",
        ].into_iter().map(|b| b.to_vec()).collect::<Vec<_>>()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(atom, 0..200).prop_map(|v| v.concat())
}

/// Output scrolling by: mostly plain lines, some of them as wide as the screen or wider, with
/// shell-like bytes between them, so that runs of plain lines start and end in every state.
fn linesish() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        8 => ("[ -~]{0,12}", "\r{1,2}\n").prop_map(|(a, b)| (a + &b).into_bytes()),
        1 => ("[ -~]{0,130}", "\r{0,2}\n?").prop_map(|(a, b)| (a + &b).into_bytes()),
        // REP repeats the last character printed, wherever it was printed
        1 => Just(b"\x1b[2b".to_vec()),
        2 => shellish(),
    ];
    prop::collection::vec(atom, 0..120).prop_map(|v| v.concat())
}

/// readline wrapping at several widths (a resized window): text, then a space and CR, with
/// the marks of a command line being read, and shell-like bytes between.
fn wrapsish() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        4 => ("[ -~]{0,70}", prop::bool::ANY)
            .prop_map(|(a, wrap)| (a + if wrap { " \r" } else { "" }).into_bytes()),
        1 => Just(b"\x1b[?2004h$ ".to_vec()),
        1 => Just(b"\r\n\x1b[?2004l\r".to_vec()),
        1 => Just(b"\x1b[A\r\x1b[5C\x1b[1@x\x1b[2P".to_vec()),
        2 => shellish(),
    ];
    prop::collection::vec(atom, 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_resized_screen_renders_as_vte_alone_and_never_panics(
        bytes in wrapsish(),
        cols in 12u16..120,
        widths in prop::collection::vec(10u16..130, 1..4),
        cuts in prop::collection::vec(0usize..4096, 0..4),
    ) {
        use ssm_audit_core::render::width::MAX_WRAP_WIDTHS;
        let mut wraps = [0; MAX_WRAP_WIDTHS];
        wraps[0] = cols;
        for (slot, w) in wraps[1..].iter_mut().zip(&widths) {
            *slot = *w;
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.sort_unstable();
        let fast = render_wrapped(&bytes, &cuts, cols, wraps, |r| r);
        let vte_alone = render_wrapped(&bytes, &[], cols, wraps, |r| r.without_fast_path());
        prop_assert_eq!(fast, vte_alone);
    }

    #[test]
    fn the_fast_path_renders_as_vte_alone(
        bytes in prop_oneof![shellish(), terminalish(), linesish()],
        cols in 2u16..120,
        cuts in prop::collection::vec(0usize..4096, 0..4),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.sort_unstable();
        let fast = render_with(&bytes, &cuts, cols, |r| r);
        let vte_alone = render_with(&bytes, &[], cols, |r| r.without_fast_path());
        prop_assert_eq!(fast, vte_alone);
    }

    #[test]
    fn the_width_probe_infers_as_with_vte_alone(
        bytes in prop_oneof![shellish(), terminalish(), linesish()]
    ) {
        use ssm_audit_core::render::width;
        prop_assert_eq!(width::infer(&bytes), width::infer_with_vte_alone(&bytes));
    }

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
    fn split_points_do_not_change_the_result(bytes in terminalish(), cuts in prop::collection::vec(0usize..2048, 1..4)) {
        // any bytes at all, cut anywhere, even inside a UTF-8 sequence or an escape
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.sort_unstable();
        prop_assert_eq!(render_pieces(&bytes, &[]), render_pieces(&bytes, &cuts));
    }
}

/// Render `bytes` fed in pieces cut at `cuts` (sorted), as (summary, lines).
fn render_pieces(bytes: &[u8], cuts: &[usize]) -> (String, Vec<String>) {
    use ssm_audit_core::render::{RenderOptions, Renderer, VecSink};
    let mut r = Renderer::new(RenderOptions::default(), VecSink::default());
    let mut start = 0;
    for &cut in cuts.iter().chain([&bytes.len()]) {
        r.advance(&bytes[start..cut]);
        start = cut;
    }
    let (summary, sink) = r.finish();
    (format!("{summary:?}"), sink.lines)
}

/// Render `bytes` fed in pieces cut at `cuts` (sorted) at width `cols`, the renderer set up by
/// `setup`: everything it produces, alternate screens included, as text.
fn render_with(
    bytes: &[u8],
    cuts: &[usize],
    cols: u16,
    setup: impl FnOnce(
        ssm_audit_core::render::Renderer<ssm_audit_core::render::VecSink>,
    ) -> ssm_audit_core::render::Renderer<ssm_audit_core::render::VecSink>,
) -> (String, Vec<String>, String) {
    render_wrapped(bytes, cuts, cols, Default::default(), setup)
}

/// [`render_with`], readline having wrapped at `wraps` too (a window resized while it ran).
fn render_wrapped(
    bytes: &[u8],
    cuts: &[usize],
    cols: u16,
    wraps: [u16; ssm_audit_core::render::width::MAX_WRAP_WIDTHS],
    setup: impl FnOnce(
        ssm_audit_core::render::Renderer<ssm_audit_core::render::VecSink>,
    ) -> ssm_audit_core::render::Renderer<ssm_audit_core::render::VecSink>,
) -> (String, Vec<String>, String) {
    use ssm_audit_core::render::{RenderOptions, Renderer, VecSink};
    let opts = RenderOptions {
        cols,
        rows: 6,
        wraps,
        ..RenderOptions::default()
    };
    let mut r = setup(Renderer::new(opts, VecSink::default()));
    let mut start = 0;
    for &cut in cuts.iter().chain([&bytes.len()]) {
        r.advance(&bytes[start..cut]);
        start = cut;
    }
    let (summary, sink) = r.finish();
    (
        format!("{summary:?}"),
        sink.lines,
        format!("{:?}", sink.alternate_screens),
    )
}

#[test]
fn a_character_completed_across_buffers_does_not_swallow_the_next() {
    // vte 0.15 alone prints U+0301 and then skips the `A` when the buffer is cut after 0xcc
    let bytes = "x\u{301}A\u{a1}b".as_bytes();
    for cut in 0..=bytes.len() {
        assert_eq!(
            render_pieces(bytes, &[cut]).1,
            vec!["x\u{301}A\u{a1}b".to_owned()],
            "cut at {cut}"
        );
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
        .all(|l| l.len() <= ssm_audit_core::render::MAX_LINE_BYTES + 80));
}
