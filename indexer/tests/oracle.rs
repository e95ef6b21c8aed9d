//! The rendered text checked against tmux, a real terminal, for the same bytes: tmux's
//! history and screen (`capture-pane -J`) must equal the end of our text. We keep more at
//! the start where `clear` (ESC[3J) wiped tmux's history.

use std::path::Path;
use std::process::Command;

use ssm_audit_core::transcript::SizeChoice;

use crate::common::*;

/// tmux servers starting at the same moment can fail to start: one at a time.
static TMUX: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn tmux_capture(file: &Path, cols: u16, rows: u16) -> Vec<String> {
    let _one = TMUX.lock().unwrap_or_else(|e| e.into_inner());
    let sock = format!(
        "ssm-audit-oracle-{}-{}",
        std::process::id(),
        file.display().to_string().len()
    );
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&sock)
            .args(args)
            .output()
            .expect("tmux is needed for the oracle tests: the README's test command installs it");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (c, r) = (cols.to_string(), rows.to_string());
    let start: [&str; 19] = [
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        &c,
        "-y",
        &r,
        "sleep 120",
        ";",
        "set",
        "-g",
        "history-limit",
        "200000",
        ";",
        "set",
        "-g",
        "status",
        "off",
    ];
    // a tmux server started while the test harness is busy in other threads sometimes exits at
    // once ("server exited unexpectedly"): try again a few times before failing
    for attempt in 0.. {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&sock)
            .args(start)
            .output()
            .expect("tmux");
        if out.status.success() {
            break;
        }
        assert!(
            attempt < 5,
            "tmux would not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // no echo: tmux answers the transcript's queries (ESC[6n) on the pane's input
    let feed = format!(
        "stty -echo; cat '{}'; tmux -L {sock} wait-for -S fed; sleep 120",
        file.display()
    );
    tmux(&["new-window", "-d", "-t", "9", &feed]);
    tmux(&["wait-for", "fed"]);
    let text = tmux(&["capture-pane", "-t", "9", "-p", "-J", "-S", "-", "-E", "-"]);
    tmux(&["kill-server"]);
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn assert_suffix(ours: &[String], tmux: &[String], what: &str) {
    assert!(
        ours.len() >= tmux.len(),
        "{what}: tmux shows more lines ({} > {})",
        tmux.len(),
        ours.len()
    );
    let tail = &ours[ours.len() - tmux.len()..];
    for (i, (a, b)) in tail.iter().zip(tmux).enumerate() {
        assert_eq!(a, b, "{what}: line {} of tmux's {}", i + 1, tmux.len());
    }
}

#[test]
fn recordings_match_tmux() {
    for dir in cases("recordings") {
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        if ["tmux", "tmux-split", "tmux-prompt", "screen"]
            .contains(&meta["shell"].as_str().unwrap())
        {
            // a session that ran a multiplexer: the oracle tmux, replaying it, loses the output line of
            // the first long command after the inner tmux left (it shows the command, then the
            // next prompt): not a reference for this one (its commands are checked in
            // tests/recordings.rs, its screens in tests/e2e/screens.rs)
            continue;
        }
        if meta.get("widths").is_some() {
            // resized while it ran: tmux replays it at one size, which no terminal of the
            // session had throughout (its history is the check, in tests/recordings.rs)
            continue;
        }
        let cols = meta["width"].as_u64().unwrap() as u16;
        let rows = meta["height"].as_u64().unwrap() as u16;
        let (_, sink) = render_file(&dir.join("session.log"), SizeChoice::default());
        let ours: Vec<String> = sink.lines;
        let theirs = tmux_capture(&dir.join("ipc.raw"), cols, rows);
        assert!(
            theirs.len() > 5,
            "{}: tmux showed almost nothing",
            dir.display()
        );
        // Where tmux joins or splits lines differently, the text is compared without blank
        // lines and line ends:
        // - zsh: on ED 0 from home (before each prompt) tmux pushes the screen into its
        //   history even when all it holds is the space PROMPT_SP wrote over its mark, a blank
        //   line we do not keep; and zsh erases a long line's second row from column 0 as it
        //   redraws, which tmux takes for the end of the wrap, where we keep one line;
        // - bash in vi mode: a command that fills its rows exactly has its last character
        //   written again after an erase (EL) and a line feed: tmux keeps the row's wrap flag
        //   and joins the command to its output, we end the line there.
        if ["zsh", "zsh-omz", "vi"].contains(&meta["shell"].as_str().unwrap_or_default()) {
            let joined = |lines: &[String]| -> String {
                lines
                    .iter()
                    .filter(|l| !l.is_empty())
                    .map(String::as_str)
                    .collect()
            };
            assert!(
                joined(&ours).ends_with(&joined(&theirs)),
                "{}: tmux's text is not the end of ours",
                dir.display()
            );
            continue;
        }
        assert_suffix(&ours, &theirs, &dir.display().to_string());
    }
}

#[test]
fn reference_cases_marked_oracle_match_tmux() {
    for case in cases("ref") {
        if !case.join("oracle").exists() {
            continue;
        }
        let (cols, rows) = crate::ref_cases::size_of(&case);
        let expected = read_lines(&case.join("expected.txt"));
        let theirs = tmux_capture(&case.join("input.bin"), cols, rows);
        assert_eq!(theirs, expected, "{}", case.display());
    }
}
