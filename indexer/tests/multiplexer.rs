//! A multiplexer's screen read as the lines it showed (render/mux.rs) never loses a line the
//! plain alternate-screen reading keeps, and never panics, whatever the program draws.

use proptest::prelude::*;
use ssm_audit_core::transcript::SizeChoice;

use crate::common::*;

/// One thing a full-screen program may write.
#[derive(Clone, Debug)]
enum Op {
    Line(String),
    Goto(u16, u16),
    EraseLine(u16),
    EraseScreen,
    CursorHidden,
    CursorShown,
    Region(u16, u16),
    ScrollUp(u16),
    Border(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => "[a-z0-9 ]{0,30}".prop_map(Op::Line),
        1 => (0u16..26, 0u16..82).prop_map(|(r, c)| Op::Goto(r, c)),
        1 => (0u16..3).prop_map(Op::EraseLine),
        1 => Just(Op::EraseScreen),
        1 => Just(Op::CursorHidden),
        1 => Just(Op::CursorShown),
        1 => (0u16..24, 0u16..24).prop_map(|(a, b)| Op::Region(a, b)),
        1 => (0u16..30).prop_map(Op::ScrollUp),
        1 => (0u16..80).prop_map(Op::Border),
    ]
}

fn bytes(program: &str, ops: &[Op]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"\x1b[?2004hroot@vm:~# ");
    b.extend_from_slice(program.as_bytes());
    b.extend_from_slice(b"\r\n\x1b[?2004l\r\x1b[?1049h");
    for op in ops {
        match op {
            Op::Line(s) => {
                b.extend_from_slice(s.as_bytes());
                b.extend_from_slice(b"\r\n");
            }
            Op::Goto(r, c) => b.extend_from_slice(format!("\x1b[{r};{c}H").as_bytes()),
            Op::EraseLine(m) => b.extend_from_slice(format!("\x1b[{m}K").as_bytes()),
            Op::EraseScreen => b.extend_from_slice(b"\x1b[H\x1b[2J"),
            Op::CursorHidden => b.extend_from_slice(b"\x1b[?25l"),
            Op::CursorShown => b.extend_from_slice(b"\x1b[?25h"),
            Op::Region(t, bo) => b.extend_from_slice(format!("\x1b[{t};{bo}r").as_bytes()),
            Op::ScrollUp(n) => b.extend_from_slice(format!("\x1b[{n}S").as_bytes()),
            Op::Border(c) => {
                for r in 1..=23 {
                    b.extend_from_slice(format!("\x1b[{r};{c}H│").as_bytes());
                }
            }
        }
    }
    b.extend_from_slice(b"\x1b[?1049l\x1b[?2004hroot@vm:~# ");
    b
}

/// Every alternate screen's lines, joined.
fn screens(program: &str, ops: &[Op]) -> String {
    let size = SizeChoice {
        cols: Some(80),
        rows: Some(24),
    };
    let (_, sink) = render_bytes(&bytes(program, ops), size);
    let mut all = String::new();
    for s in &sink.alternate_screens {
        for l in &s.lines {
            all.push_str(l);
            all.push('\n');
        }
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Read as a multiplexer's (the command was `tmux`), the screens hold every line the plain
    /// reading (the same bytes from `vim`) holds: a pane's border may cut a row in two, so the
    /// comparison is by the text between borders.
    #[test]
    fn a_multiplexer_screen_keeps_every_line_the_plain_reading_keeps(
        ops in proptest::collection::vec(op(), 0..120)
    ) {
        let plain = screens("vim", &ops);
        let mux = screens("tmux", &ops);
        for line in plain.lines() {
            for part in line.split('│') {
                let part = part.trim();
                prop_assert!(
                    part.is_empty() || mux.contains(part),
                    "{part:?} of {line:?} lost\nplain:\n{plain}\nmux:\n{mux}"
                );
            }
        }
    }
}
