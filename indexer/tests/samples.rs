//! The transcripts in ../shared/samples (copied to tests/data/samples with PROVENANCE.md).

use ssm_audit_core::transcript::{Framing, SizeChoice};

use crate::common::*;

#[test]
fn synthetic_script_replay_renders_the_screen() {
    let (r, sink) = render_file(
        &data("data/samples/synthetic/SYNTHETIC_s3_session_log_via_util-linux-2.38_script.bin"),
        SizeChoice::default(),
    );
    assert_eq!(
        sink.lines,
        [
            "sh-5.2$ ls",
            "file1   file2",
            "sh-5.2$ ls --color",
            "dir1  plain",
            "sh-5.2$ pwd",
            "/home/ssm-user",
            "sh-5.2$ echo café €",
            "café €",
            "sh-5.2$ exit",
            "exit",
        ]
    );
    let cmds: Vec<&str> = r.summary.commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(cmds, ["ls", "ls --color", "pwd", "echo café €", "exit"]);
    assert_eq!(r.header.command_exit_code, Some(0));
    assert_eq!(r.header.started.as_deref(), Some("2026-11-22T08:07:59Z"));
}

#[test]
fn agent_2025_header_names_target_session_and_plugin() {
    let (r, sink) = render_file(
        &data(
            "data/samples/s3_session_log_linux_2025_util-linux-script_header_tunnyein_readme.txt",
        ),
        SizeChoice::default(),
    );
    assert_eq!(r.header.framing, Framing::Script);
    assert_eq!(r.header.target.as_deref(), Some("i-00cbf6ce81675216c"));
    assert_eq!(
        r.header.session_id.as_deref(),
        Some("master-console-admin-ogucubv3f8zp6xxkdxv25lb3re")
    );
    assert_eq!(r.header.plugin.as_deref(), Some("Standard_Stream"));
    assert_eq!(r.header.done.as_deref(), Some("2025-09-29T16:58:03Z"));
    // the README copy lost its carriage returns: LF is taken as a new line
    assert!(sink
        .lines
        .iter()
        .any(|l| l == "/var/snap/amazon-ssm-agent/11797"));
    let cmds: Vec<&str> = r.summary.commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        cmds,
        ["ip    pwd", "ip addr", "l sudo lsof -i :443", "exit"]
    );
}

#[test]
fn agent_2020_session_logger_wrapper_is_framing_not_text() {
    let (r, sink) = render_file(
        &data("data/samples/s3_session_log_linux_2020_old_agent_ssm-session-logger_managedkube_readme.txt"),
        SizeChoice::default(),
    );
    assert_eq!(r.header.framing, Framing::SessionLogger);
    assert_eq!(r.header.target.as_deref(), Some("i-0c76bc102a2c8324b"));
    assert_eq!(
        r.header.session_id.as_deref(),
        Some("garland.kan.temp-0073b0a9869ded8de")
    );
    assert_eq!(r.header.started.as_deref(), Some("2020-05-27T23:00:48Z"));
    assert!(!sink
        .lines
        .iter()
        .any(|l| l.contains("seelog") || l.contains("ssm-session-logger")));
    assert!(
        !sink.lines.iter().any(|l| l == "sh-4.2# exit"),
        "the wrapper's exit is framing"
    );
    let cmds: Vec<&str> = r.summary.commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(cmds, ["# test 1", "ls /", "exit"]);
    assert_eq!(
        sink.lines[0], "sh-4.2$",
        "line numbers start after the wrapper"
    );
    assert_eq!(
        sink.lines[r.summary.commands[1].line as usize - 1],
        "sh-4.2$ ls /"
    );
}

#[test]
fn streamed_session_data_lines_render_with_their_quirks() {
    // streamed JSON keeps escapes on lines with an OSC title, and backspaces
    let text = std::fs::read_to_string(data(
        "data/samples/synthetic/SYNTHETIC_cwlogs_streamed_event_message_via_agent_code_pborman_ansi.json",
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut r = ssm_audit_core::render::Renderer::new(
        ssm_audit_core::render::RenderOptions {
            cols: 500,
            ..Default::default()
        },
        ssm_audit_core::render::VecSink::default(),
    );
    for l in v["sessionData"].as_array().unwrap() {
        r.advance_line(l.as_str().unwrap());
    }
    let (summary, sink) = r.finish();
    assert_eq!(sink.lines[3], "dir1  plain");
    assert_eq!(sink.lines[4], "sh-5.2$ pwd");
    let cmds: Vec<&str> = summary.commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        cmds,
        [
            "ls",
            "ls --color",
            "pwd",
            "echo café \u{fffd}\u{fffd}",
            "exit"
        ]
    );
}
