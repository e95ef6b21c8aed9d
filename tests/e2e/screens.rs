//! Full-screen programs, multiplexers and REPLs in real recordings: searchable, shown in place, input apart.

use super::*;

#[test]
pub(crate) fn what_full_screen_programs_showed_is_searchable_and_shown_in_place() {
    let (_tmp, data) = ingested();
    // typed into vim, and a page of `seq 1 200 | less`: only on alternate screens
    let o = audit(&data, &["search", "vimwritten", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // the file cat'ed later is in the session's text; what vim showed is on screen 1
    let h = v
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["screen"].is_number())
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(h["session_id"], UBUNTU_SID);
    assert_eq!(h["screen"], 1);
    assert_eq!(h["program"], "vim");
    assert_eq!(h["line"], 1);
    let t = stdout(&audit(&data, &["search", "vimwritten"]));
    assert!(
        t.contains("@i-0a1b2c3d4e5f60718:vim#1:1:written in vimwritten in vim"),
        "{t}"
    );
    let o = audit(&data, &["search", "40", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|h| h["program"] == "less" && h["text"] == "40" && h["line"] == 40),
        "{v}"
    );
    // context comes from the same screen
    let t = stdout(&audit(&data, &["search", "40", "-C", "1"]));
    assert!(
        t.contains(":less#2:39-39") && t.contains(":less#2:41-41"),
        "{t}"
    );
    // show puts each screen after the line that started its program
    let t = stdout(&audit(&data, &["show", UBUNTU_SID]));
    let at = t
        .find("+-- vim (alternate screen 1")
        .expect("the vim screen, in place");
    let before = &t[..at];
    assert!(
        before.trim_end().ends_with("/tmp/ssmrec-vim.txt"),
        "{}",
        &before[before.len() - 200..]
    );
    assert!(t.contains("+-- less (alternate screen 2"), "{t}");
}

#[test]
pub(crate) fn what_is_typed_into_a_program_is_its_input_not_a_shell_command() {
    // a real recording: bash, then sqlite3 (readline's markers) and python's REPL
    let rec = "indexer/tests/recordings/bash5-repl-80x24";
    assert_commands_are(rec, "history.txt");
    let (_tmp, data, sid) = ingest_recording(rec);
    let sid = sid.as_str();
    // `input:` finds what was typed into the programs; `command:` does not
    let v: serde_json::Value = serde_json::from_slice(
        &audit(&data, &["search", "input:\"create table\"", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(v[0]["text"], "sqlite> create table t(x);");
    assert_eq!(v[0]["is_input"], true);
    assert_eq!(v[0]["is_command"], false);
    let o = audit(&data, &["search", "command:create"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = audit(&data, &["search", "input:getcwd", "-l"]);
    assert_eq!(stdout(&o), format!("{sid}\n"));
    // grep's output marks them `+`, show's margin too; the record counts shell commands only
    let t = stdout(&audit(&data, &["search", "select"]));
    assert!(t.contains("+sqlite> select x * 2 from t;"), "{t}");
    let t = stdout(&audit(&data, &["show", sid]));
    assert!(
        t.contains("5 commands (marked >), 7 lines typed into programs"),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.starts_with('+') && l.ends_with(">>> import os")),
        "{t}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&audit(&data, &["sessions", "--json"]).stdout).unwrap();
    assert_eq!(v[0]["transcript"]["commands"], 5);
}

#[test]
pub(crate) fn work_done_inside_tmux_is_listed_searchable_and_shown() {
    // a real recording: bash starts tmux, a marker, a file and 80 lines of output inside it
    let rec = "indexer/tests/recordings/bash5-tmux-80x24";
    let out = run(
        &["render", "--commands", &format!("{rec}/session.log")],
        None,
    );
    let cmds = stdout(&out);
    assert!(
        cmds.contains("tmux -f /dev/null -L ssmrec-inner\necho inside-tmux-marker\ncat /etc/hostname\nseq 1 80\nexit\necho after tmux\n"),
        "{cmds}"
    );
    let (_tmp, data, sid) = ingest_recording(rec);
    let sid = sid.as_str();
    let t = stdout(&audit(&data, &["search", "inside-tmux-marker"]));
    assert!(
        t.contains(":tmux#1:") && t.contains("inside-tmux-marker"),
        "{t}"
    );
    // the lines that scrolled inside the pane are kept (tmux itself never drew 39 to 58)
    for n in ["1", "38", "59", "80"] {
        let o = audit(&data, &["search", n, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            v.as_array()
                .unwrap()
                .iter()
                .any(|h| h["program"] == "tmux" && h["text"] == n),
            "{n}: {v}"
        );
    }
    // the inner shell's commands count, and show puts tmux's screen in place
    let v: serde_json::Value =
        serde_json::from_slice(&audit(&data, &["sessions", "--json"]).stdout).unwrap();
    assert_eq!(v[0]["transcript"]["commands"], 9);
    let t = stdout(&audit(&data, &["show", sid]));
    let at = t
        .find("+-- tmux (alternate screen 1")
        .unwrap_or_else(|| panic!("{t}"));
    assert!(t[..at]
        .trim_end()
        .ends_with("tmux -f /dev/null -L ssmrec-inner"));
}

#[test]
pub(crate) fn split_panes_a_reattach_and_screen_lose_nothing_and_repeat_nothing() {
    // real recordings: tmux split in two panes, output scrolled inside the right (half-width)
    // pane, a detach and a reattach; then GNU screen; then tmux whose shell has its own prompt
    for (rec, commands) in [
        ("indexer/tests/recordings/bash5-tmux-split-80x24", 13),
        ("indexer/tests/recordings/bash5-screen-80x24", 9),
        ("indexer/tests/recordings/bash5-tmux-prompt-80x24", 7),
    ] {
        // every command typed, inside and outside, once, in order
        assert_commands_are(rec, "expected_commands.txt");
        let (_tmp, data, _sid) = ingest_recording(rec);
        let v: serde_json::Value =
            serde_json::from_slice(&audit(&data, &["sessions", "--json"]).stdout).unwrap();
        assert_eq!(v[0]["transcript"]["commands"], commands, "{rec}");
        if rec.ends_with("split-80x24") {
            // the right pane redrew its rows in place as seq scrolled it: each number tmux
            // drew is found once (it never drew 113 to 137: it jumped over them)
            for n in (101..=112).chain(138..=160).chain(209..=230) {
                assert_eq!(screen_hits(&data, &n.to_string()), ["tmux"], "{n}");
            }
            // the marker typed in the right pane, and the one after the reattach, whose
            // redraw of the same screen added no line twice
            assert_eq!(screen_hits(&data, "right-pane-marker"), ["tmux"]);
            assert_eq!(screen_hits(&data, "after-attach-marker"), ["tmux"]);
        } else if rec.contains("screen") {
            for n in 1..=60 {
                assert_eq!(screen_hits(&data, &n.to_string()), ["screen"], "{n}");
            }
            let t = stdout(&audit(&data, &["search", "inside-screen-marker"]));
            assert!(t.contains(":screen#1:"), "{t}");
        } else {
            let t = stdout(&audit(&data, &["search", "inner-prompt-marker"]));
            assert!(t.contains(":tmux#1:"), "{t}");
        }
    }
}

#[test]
pub(crate) fn what_is_typed_into_psql_is_its_input() {
    // a real recording: psql (readline) against a real PostgreSQL server
    let rec = "indexer/tests/recordings/bash5-psql-80x24";
    assert_commands_are(rec, "history.txt");
    let (_tmp, data, _sid) = ingest_recording(rec);
    let v: serde_json::Value =
        serde_json::from_slice(&audit(&data, &["search", "input:\"drop table\"", "--json"]).stdout)
            .unwrap();
    assert_eq!(v[0]["text"], "postgres=# drop table audit_t;");
    assert_eq!(v[0]["is_command"], false);
    let o = audit(&data, &["search", "command:audit_t"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}
