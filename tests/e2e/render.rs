//! The render command on real recordings, and alacritty's reference tests.

use super::*;

#[test]
pub(crate) fn render_prints_commands_from_a_real_recording() {
    let out = run(
        &["render", "--commands", &format!("{REC}/session.log")],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let expected = std::fs::read_to_string(root().join(REC).join("history.txt")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
pub(crate) fn render_json_has_the_documented_shape() {
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
pub(crate) fn no_escape_byte_from_a_transcript_reaches_stdout() {
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
pub(crate) fn exit_codes_follow_ripgrep() {
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

#[test]
pub(crate) fn render_reads_gzip_and_refuses_what_is_not_a_transcript() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = std::fs::read(root().join(REC).join("session.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    let p = tmp.path().join("session.log.gz");
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    let out = run(&["render", "--commands", p.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let expected = std::fs::read_to_string(root().join(REC).join("history.txt")).unwrap();
    assert_eq!(stdout(&out), expected);
    // a trail file and a CloudWatch payload are named, and sent to ingest
    let trail = tmp.path().join("trail.json");
    std::fs::write(&trail, br#"{"Records": [{"eventName": "StartSession"}]}"#).unwrap();
    let payload = tmp.path().join("cw.json");
    std::fs::write(
        &payload,
        br#"{"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "timestamp": 1, "message": "x"}]}"#,
    )
    .unwrap();
    for (f, what) in [
        (&trail, "a CloudTrail trail file"),
        (&payload, "a CloudWatch Logs subscription payload"),
    ] {
        let o = run(&["render", f.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(e.contains(what) && e.contains("ssm-audit ingest"), "{e}");
        assert!(o.stdout.is_empty());
    }
}

// ---- conformance ----------------------------------------------------------------------------

/// alacritty's reference tests are judged differently on purpose here (ARCHITECTURE.md,
/// "Conformance"): xterm's selective erase.
pub(crate) const DELIBERATE_REF_DIFFERENCES: [&str; 1] = ["selective_erasure"];

/// alacritty's reference tests (`../shared/conformance`, beside the repository: read, never
/// copied) replayed through the renderer by their own script: every one matches but the
/// deliberate differences.
#[test]
pub(crate) fn alacritty_reference_tests_match() {
    let dir = root().join("../shared/conformance");
    if !dir.join("compare.py").exists() {
        eprintln!("skipped: {} is not here", dir.display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let results = out.path().join("ref-results.json");
    let o = Command::new("python3")
        .arg(dir.join("compare.py"))
        .env("SSM_AUDIT_BIN", bin())
        .env("REF_RESULTS", &results)
        .current_dir(out.path())
        .output()
        .expect("python3 runs compare.py");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    let mut seen = 0;
    for r in v.as_array().unwrap() {
        let (name, status) = (r["name"].as_str().unwrap(), r["status"].as_str().unwrap());
        seen += 1;
        let ok = matches!(status, "match" | "deliberate" | "no-reference")
            || (status == "differ" && DELIBERATE_REF_DIFFERENCES.contains(&name));
        assert!(ok, "{name}: {status}\n{}", stdout(&o));
    }
    assert!(seen >= 40, "{seen} reference tests read");
}
