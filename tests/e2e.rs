//! End-to-end tests of the `ssm-audit` binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The binary cargo built beside this test (`cargo build --workspace` builds it first).
fn bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("ssm-audit");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --workspace` first",
        bin.display()
    );
    bin
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(root());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

const REC: &str = "indexer/tests/recordings/bash5-ubuntu-80x24";

#[test]
fn render_prints_commands_from_a_real_recording() {
    let out = run(
        &["render", "--commands", &format!("{REC}/session.log")],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let expected = std::fs::read_to_string(root().join(REC).join("history.txt")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn render_json_has_the_documented_shape() {
    let out = run(&["render", "--json", &format!("{REC}/session.log")], None);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["width"], 80);
    assert_eq!(v["width_source"], "inferred-readline-wrap");
    assert_eq!(v["header"]["plugin"], "Standard_Stream");
    assert_eq!(v["lines"][0], "root@vm:/work/main# echo hello world");
    assert_eq!(v["commands"][0]["text"], "echo hello world");
    assert_eq!(v["commands"][0]["line"], 1);
    assert_eq!(v["commands"][0]["method"], "bracketed-paste");
    assert_eq!(v["cancelled"][0]["text"], "rm -rf /tmp/not-run");
    assert!(v["alternate_screens"].as_array().unwrap().len() >= 2);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "width",
        "width_source",
        "header",
        "lines",
        "commands",
        "alternate_screens",
    ] {
        assert!(keys.contains(&k), "{k} missing");
    }
}

#[test]
fn no_escape_byte_from_a_transcript_reaches_stdout() {
    // OSC 52 writes the reader's clipboard; C1 CSI, DCS and bidi overrides act on terminals
    let hostile =
        "$ echo \x1b]52;c;cm0gLXJmIH4=\x07hi \u{9b}31m red \u{202e}txt.exe \x1bP$q\x1b\\\r\n\
                   evil\x1b]0;title\x07\x1b[31m\r\n";
    for flags in [
        &["render", "-"][..],
        &["render", "--json", "-"],
        &["render", "--commands", "-"],
        &["render", "--alternate-screens", "-"],
    ] {
        let out = run(flags, Some(hostile.as_bytes()));
        assert_eq!(out.status.code(), Some(0), "{flags:?}");
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(
            !s.chars().any(|c| (c < ' ' && c != '\n')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || c == '\u{202e}'),
            "{flags:?} printed a control character: {s:?}"
        );
    }
}

#[test]
fn exit_codes_follow_ripgrep() {
    assert_eq!(
        run(&["render", "-"], Some(b"")).status.code(),
        Some(1),
        "nothing rendered"
    );
    let out = run(&["render", "no/such/file.log"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no/such/file.log"),
        "the error names the file: {err}"
    );
}
