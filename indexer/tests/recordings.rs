//! Real recordings of real shells (scripts/record_corpus.py): bash's and zsh's history files
//! are the answer key for the commands; dash has none and fish keeps each command once, so the
//! commands typed are.

use ssm_audit_core::facts::TranscriptSource;
use ssm_audit_core::render::{
    Command, Method, RenderOptions, RenderSummary, Renderer, VecSink, WidthSource,
    MAX_COMMAND_BYTES,
};
use ssm_audit_core::transcript::{render_transcript, Framing, SizeChoice};

use crate::common::*;

#[derive(serde::Deserialize)]
struct Meta {
    shell: String,
    width: u16,
    /// the window's widths in turn, for a session resized while it ran
    #[serde(default)]
    widths: Vec<u16>,
    height: u16,
    session_id: String,
    target: String,
}

fn meta(dir: &std::path::Path) -> Meta {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}

#[test]
fn every_command_of_the_history_is_recovered_exactly_in_order() {
    for dir in cases("recordings") {
        let m = meta(&dir);
        let (rendered, _) = render_file(&dir.join("session.log"), SizeChoice::default());
        let got = texts(&rendered.summary.commands);
        let key = if dir.join("history.txt").exists() {
            "history.txt"
        } else {
            "expected_commands.txt"
        };
        let mut expected = read_lines(&dir.join(key));
        // a multiplexer's shell: its commands come right after the command that started it
        let inner = dir.join("expected_inner_commands.txt");
        if inner.exists() {
            let at = expected
                .iter()
                .position(|c| c.starts_with("tmux") || c.starts_with("screen"))
                .expect("the command that started the multiplexer")
                + 1;
            expected.splice(at..at, read_lines(&inner));
        }
        assert_eq!(got, expected, "{}", dir.display());
        let method = if [
            "bash", "posix", "audit", "vi", "zsh", "zsh-omz", "fish", "resize", "repl", "psql",
        ]
        .contains(&m.shell.as_str())
        {
            Method::BracketedPaste
        } else {
            Method::PromptPattern
        };
        let methods: Vec<Method> = rendered.summary.commands.iter().map(|c| c.method).collect();
        let (p, b) = (Method::PromptPattern, Method::BracketedPaste);
        if m.shell == "tmux" || m.shell == "screen" {
            // the outer bash's by its markers, those inside the multiplexer by its prompt on
            // the multiplexer's screen
            assert_eq!(methods, [b, b, p, p, p, p, b, b, b]);
        } else if m.shell == "tmux-split" {
            // two panes, a detach and a reattach: 5 commands inside before, 2 after
            assert_eq!(methods, [b, b, p, p, p, p, p, b, b, p, p, b, b]);
        } else if m.shell == "tmux-prompt" {
            // the shell inside has another prompt: found by its shape
            assert_eq!(methods, [b, b, p, p, p, b, b]);
        } else if m.shell == "nested" {
            // dash's commands by its prompt, those of the bash started from it by its markers
            let (d, b) = (Method::PromptPattern, Method::BracketedPaste);
            assert_eq!(methods, [d, d, b, b, b, b, b, d, d]);
        } else {
            assert!(methods.iter().all(|&x| x == method), "{}", dir.display());
        }
    }
}

/// What was typed into interactive programs (sqlite3 with readline's markers, python's REPL
/// without) is listed apart, in order, as the recording's key says, and never as a command.
#[test]
fn program_input_is_listed_apart_from_commands() {
    let mut seen = 0;
    for dir in cases("recordings") {
        let (rendered, _) = render_file(&dir.join("session.log"), SizeChoice::default());
        let key = dir.join("expected_inputs.txt");
        if !key.exists() {
            assert!(
                rendered.summary.inputs.is_empty(),
                "{}: {:?}",
                dir.display(),
                rendered.summary.inputs
            );
            continue;
        }
        seen += 1;
        let got: Vec<String> = rendered
            .summary
            .inputs
            .iter()
            .map(|i| format!("{}\t{}", i.program, i.text))
            .collect();
        assert_eq!(got, read_lines(&key), "{}", dir.display());
    }
    assert!(seen > 0, "no recording with program input");
}

#[test]
fn width_and_height_are_inferred_from_the_transcript() {
    for dir in cases("recordings") {
        let m = meta(&dir);
        let (rendered, _) = render_file(&dir.join("session.log"), SizeChoice::default());
        if !m.widths.is_empty() {
            // a window resized during the session: rendered at the widest, each line wrapped
            // where readline wrapped it (the commands above are its history exactly)
            assert_eq!(rendered.width, *m.widths.iter().max().unwrap());
            assert_eq!(rendered.width_source, WidthSource::InferredReadlineWrap);
            continue;
        }
        if ["dash", "audit", "nested", "al2"].contains(&m.shell.as_str()) {
            // dash echoes through the tty, and the audit and changing-shells sessions have no
            // line longer than the width and no full-screen program: nothing tells the width
            assert_eq!(rendered.width_source, WidthSource::Assumed);
            continue;
        }
        assert_eq!(rendered.width, m.width, "{}", dir.display());
        assert_eq!(
            rendered.width_source,
            WidthSource::InferredReadlineWrap,
            "{}",
            dir.display()
        );
        if ["fish", "zsh-omz", "vi"].contains(&m.shell.as_str()) {
            // the width comes from a wrap or the shell's missing-newline mark (spaces to the
            // last column); with no full-screen program, nothing tells the height
            assert_eq!(rendered.height, 24, "{}", dir.display());
            continue;
        }
        assert_eq!(rendered.height, m.height, "{}", dir.display());
    }
}

#[test]
fn header_and_trailer_are_metadata_not_text() {
    for dir in cases("recordings") {
        let m = meta(&dir);
        let (rendered, sink) = render_file(&dir.join("session.log"), SizeChoice::default());
        let h = &rendered.header;
        assert_eq!(h.framing, Framing::Script);
        assert_eq!(h.session_id.as_deref(), Some(m.session_id.as_str()));
        assert_eq!(h.target.as_deref(), Some(m.target.as_str()));
        assert_eq!(h.plugin.as_deref(), Some("Standard_Stream"));
        assert_eq!(h.command_exit_code, Some(0));
        assert!(h.started.is_some() && h.done.is_some());
        assert!(!sink
            .lines
            .iter()
            .any(|l| l.starts_with("Script started") || l.starts_with("Script done")));
        // each command's line number points at the line that shows it (a command typed inside
        // a multiplexer, at the line that started it: its own line is on tmux's screen)
        for c in &rendered.summary.commands {
            let line = &sink.lines[c.line as usize - 1];
            let in_mux = ["tmux", "tmux-split", "tmux-prompt", "screen"]
                .contains(&m.shell.as_str())
                && (line.contains("# tmux ") || line.contains("# screen "));
            assert!(
                line.contains(c.text.trim_end()) || in_mux,
                "{}: line {} {:?} lacks {:?}",
                dir.display(),
                c.line,
                line,
                c.text
            );
        }
    }
}

#[test]
fn what_clear_wiped_is_kept_and_full_screen_programs_are_apart() {
    let dir = data("recordings/bash5-ubuntu-80x24");
    let (rendered, sink) = render_file(&dir.join("session.log"), SizeChoice::default());
    let pos = |s: &str| {
        sink.lines
            .iter()
            .position(|l| l == s)
            .unwrap_or_else(|| panic!("{s:?} missing"))
    };
    // `clear` and Ctrl-L wiped these from the screen; they stay in order
    assert!(
        pos("before-clear") < pos("before-ctrl-l") && pos("before-ctrl-l") < pos("after-ctrl-l")
    );
    // the progress bar leaves its final state only
    assert!(sink.lines.iter().any(|l| l == "progress 100%"));
    assert!(!sink.lines.iter().any(|l| l.contains("progress  20%")));
    // 3000 lines of output, all there
    assert!(pos("1") < pos("3000") && pos("3000") - pos("1") == 2999);
    // vim and less are snapshots, not shell text
    assert!(rendered.summary.alternate_screens >= 2);
    assert!(sink
        .alternate_screens
        .iter()
        .any(|s| s.lines.iter().any(|l| l.contains("written in vim"))));
    assert!(!sink.lines.iter().any(|l| l.starts_with('~')));
    // CJK and combining marks
    assert!(sink
        .lines
        .iter()
        .any(|l| l == "本番環境のデータベース に接続"));
    assert!(sink.lines.iter().any(|l| l == "cafe\u{301} nai\u{308}ve"));
    // Ctrl-C: typed, never run
    assert_eq!(texts(&rendered.summary.cancelled), ["rm -rf /tmp/not-run"]);
}

#[test]
fn cloudwatch_upload_at_end_copy_renders_like_the_s3_copy() {
    // the agent's upload-at-end copy turns \r\r\n into \r\n (DESIGN.md 2.3)
    let dir = data("recordings/bash5-ubuntu-80x24");
    let s3 = std::fs::read(dir.join("session.log")).unwrap();
    let cw: Vec<u8> = String::from_utf8_lossy(&s3)
        .replace("\r\r\n", "\r\n")
        .into_bytes();
    let (a, sa) = render_bytes(&s3, SizeChoice::default());
    let (b, sb) = render_bytes(&cw, SizeChoice::default());
    assert_eq!(sa.lines, sb.lines);
    assert_eq!(a.summary.commands, b.summary.commands);
}

/// Render a recording's raw PTY output at its size with `max_command_bytes`.
fn render_raw(dir: &std::path::Path, max_command_bytes: usize) -> RenderSummary {
    let m = meta(dir);
    let mut r = Renderer::new(
        RenderOptions {
            cols: m.width,
            rows: m.height,
            max_command_bytes,
            ..RenderOptions::default()
        },
        VecSink::default(),
    );
    r.advance(&std::fs::read(dir.join("ipc.raw")).unwrap());
    r.finish().0
}

#[test]
fn commands_past_the_memory_budget_are_counted_not_kept() {
    for dir in cases("recordings") {
        let all = render_raw(&dir, MAX_COMMAND_BYTES);
        assert_eq!(all.commands_dropped, 0, "{}", dir.display());
        if all.commands.len() < 4 {
            continue;
        }
        // room for about three commands
        let budget = all.commands[..3]
            .iter()
            .map(|c| c.text.len() + 64 + std::mem::size_of::<Command>())
            .sum();
        let some = render_raw(&dir, budget);
        let kept = some.commands.len();
        assert!(
            kept > 0 && kept < all.commands.len(),
            "{} {kept} {:?}",
            dir.display(),
            some.commands
        );
        assert!(some.commands_dropped > 0, "{}", dir.display());
        if all.commands[0].method == Method::BracketedPaste {
            // marked commands are kept in order until the budget is spent
            assert_eq!(some.commands[..], all.commands[..kept], "{}", dir.display());
            assert_eq!(
                kept as u64 + some.commands_dropped,
                all.commands.len() as u64,
                "{}",
                dir.display()
            );
        } else {
            // prompt-pattern candidates: every line that looked like a prompt is counted
            assert!(kept as u64 + some.commands_dropped >= all.commands.len() as u64);
        }
    }
}

#[test]
fn the_text_file_written_as_rendered_reads_back_as_the_text() {
    use ssm_audit_core::text::{SessionText, TextFile};
    for dir in cases("recordings") {
        let log = dir.join("session.log");
        let (rendered, sink) = render_file(&log, SizeChoice::default());
        let src = TranscriptSource::S3;
        let read = |limit: usize| -> SessionText {
            let f = std::fs::File::open(&log).unwrap();
            let (r, file) = render_transcript(
                f,
                SizeChoice::default(),
                TextFile::with_limits(&std::env::temp_dir(), limit, limit).unwrap(),
            )
            .unwrap();
            let path = file.finish(&src, Some(r.width), &r.summary).unwrap();
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
        };
        let whole = read(usize::MAX);
        assert_eq!(whole.lines, sink.lines, "{}", dir.display());
        assert_eq!(whole.alternate_screens, sink.alternate_screens);
        let pairs = |v: &[Command]| {
            v.iter()
                .map(|c| (c.line, c.text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(whole.commands, pairs(&rendered.summary.commands));
        assert_eq!(whole.cancelled, pairs(&rendered.summary.cancelled));
        assert_eq!(
            (whole.source, whole.width),
            (Some(src.clone()), Some(rendered.width))
        );
        assert_eq!(whole.lines_dropped + whole.alternate_screens_dropped, 0);

        // a small budget keeps the first lines and counts the rest
        let half: usize = sink.lines[..sink.lines.len() / 2]
            .iter()
            .map(|l| l.len() + 24)
            .sum();
        let some = read(half);
        assert_eq!(
            some.lines[..],
            sink.lines[..some.lines.len()],
            "{}",
            dir.display()
        );
        assert_eq!(
            some.lines.len() as u64 + some.lines_dropped,
            sink.lines.len() as u64
        );
        assert!(some.lines_dropped > 0);
        assert_eq!(
            some.commands, whole.commands,
            "commands are kept whatever the text budget"
        );
    }
}

/// zsh turns bracketed paste off before its newline, on accept and on Ctrl-C alike, and
/// prints no `^C`; fish leaves it on after Ctrl-C. In both, the abandoned line is typed,
/// never run.
#[test]
fn zsh_and_fish_lines_abandoned_with_ctrl_c_are_not_commands() {
    for shell in ["zsh-80x24", "zsh-omz-90x30", "fish-100x30"] {
        let dir = data("recordings").join(shell);
        let (rendered, _) = render_file(&dir.join("session.log"), SizeChoice::default());
        let cancelled = texts(&rendered.summary.cancelled);
        assert_eq!(cancelled, ["rm -rf /tmp/not-run"], "{shell}");
    }
}

fn commands_of(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (r, _) = render_bytes(bytes, SizeChoice::default());
    let owned = |v: &[Command]| texts(v).into_iter().map(str::to_owned).collect();
    (owned(&r.summary.commands), owned(&r.summary.cancelled))
}

/// zsh draws its prompt before it turns bracketed paste on: the line is input from there,
/// so a `> ` or `$ ` inside a command is not taken for the end of a prompt; what zsh
/// blanked past the cursor is not in it.
#[test]
fn a_zsh_line_is_what_follows_its_prompt() {
    let zle = |line: &str, finish: &str| {
        format!("alice@host:~% \x1b[K\x1b[?1h\x1b=\x1b[?2004h{line}{finish}\x1b[?2004l\r\r\n")
    };
    let accept = "\x1b[?1l\x1b>";
    let mut t = zle("echo a > /tmp/x", accept);
    t += &zle("echo costs $ 5", accept);
    // Ctrl-C: the line-finish hook does not run, the keypad stays on
    t += &zle("rm -rf /", "");
    // `-la` erased with blanks, the cursor back after `ls ` (its space is the line's)
    t += &zle("ls -la\x08\x08\x08   \x08\x08\x08", accept);
    let (commands, cancelled) = commands_of(t.as_bytes());
    assert_eq!(commands, ["echo a > /tmp/x", "echo costs $ 5", "ls "]);
    assert_eq!(cancelled, ["rm -rf /"]);
    // any prompt: oh-my-zsh's default theme, and Ctrl-L drawing it again mid-line
    let omz = "\x1b[1;32m➜  \x1b[36mmain\x1b[0m \x1b[?1h\x1b=\x1b[?2004h";
    let t = format!(
        "{omz}echo hi\x1b[?1l\x1b>\x1b[?2004l\r\r\nhi\r\n\
         {omz}ec\x1b[H\x1b[2J\x1b[1;32m➜  \x1b[36mmain\x1b[0m echo x\x1b[?1l\x1b>\x1b[?2004l\r\r\n"
    );
    assert_eq!(commands_of(t.as_bytes()).0, ["echo hi", "echo x"]);
    // bash draws its prompt after the marker: after output with no line end, the marker
    // finds the cursor after that output
    let t = "no newline\x1b[?2004huser@host:~$ ls\r\n\x1b[?2004l";
    assert_eq!(commands_of(t.as_bytes()).0, ["ls"]);
    // without the hooks (no keypad switching) accept and Ctrl-C look alike: taken as run
    let plain = "% \x1b[?2004hrm -rf /\x1b[?2004l\r\r\n";
    assert_eq!(commands_of(plain.as_bytes()).0, ["rm -rf /"]);
}

/// fish keeps bracketed paste on after Ctrl-C: the next prompt's line is read on the next
/// row, and the abandoned one is not run.
#[test]
fn after_ctrl_c_fish_reads_the_next_line() {
    let t = "\x1b[?2004h\ruser@host ~> rm -rf /\x1b[7m^C\x1b[m\r\n\
             \ruser@host ~> echo hi\r\n\x1b[?2004lhi\r\n";
    let (commands, cancelled) = commands_of(t.as_bytes());
    assert_eq!(commands, ["echo hi"]);
    assert_eq!(cancelled, ["rm -rf /"]);
}

/// A session that changes shells: an unmarked shell's lines are read by prompt where it reads
/// them (before it starts a marked shell, after that one exits, or started by a marked shell),
/// never in a marked shell's output.
#[test]
fn shells_started_from_shells_each_have_their_commands() {
    let bash =
        |cmd: &str, out: &str| format!("\x1b[?2004hroot@host:~# {cmd}\r\n\x1b[?2004l\r{out}");
    // bash runs dash (`sh`), dash runs two commands and exits, bash goes on
    let t = bash("sh", "$ ls /\r\nbin  etc\r\n$ exit\r\n") + &bash("id", "uid=0(root)\r\n");
    let (commands, _) = commands_of(t.as_bytes());
    assert_eq!(commands, ["sh", "ls /", "exit", "id"]);
    // `sudo su -` to a root shell with no markers (bash 4), Ctrl-C in it, then back
    let t = bash("sudo su -", "[root@ip-10-0-3-17 ~]# whoami\r\nroot\r\n[root@ip-10-0-3-17 ~]# rm -rf /x^C\r\n[root@ip-10-0-3-17 ~]# logout\r\n")
        + &bash("echo back", "back\r\n");
    let (r, _) = render_bytes(t.as_bytes(), SizeChoice::default());
    assert_eq!(
        texts(&r.summary.commands),
        ["sudo su -", "whoami", "logout", "echo back"]
    );
    assert_eq!(texts(&r.summary.cancelled), ["rm -rf /x"]);
    let methods: Vec<Method> = r.summary.commands.iter().map(|c| c.method).collect();
    let (b, p) = (Method::BracketedPaste, Method::PromptPattern);
    assert_eq!(methods, [b, p, p, b]);
    // a marked shell's output that looks like prompts (a config file, a README) is output
    let t = bash(
        "cat /etc/fstab README",
        "# /etc/fstab: static file system information.\r\n# <file system> <mount point>\r\n$ make install\r\n$ make test\r\n",
    ) + &bash("echo done", "done\r\n");
    assert_eq!(
        commands_of(t.as_bytes()).0,
        ["cat /etc/fstab README", "echo done"]
    );
    // so are prompt-like lines before the first marked prompt when no shell started it (a
    // banner); a shell that did start it has its commands kept
    let banner = "# Authorized uses only\r\n# All activity is logged\r\n";
    let t = format!("{banner}{}", bash("echo hi", "hi\r\n"));
    assert_eq!(commands_of(t.as_bytes()).0, ["echo hi"]);
    let t = format!(
        "{banner}$ echo in sh\r\nin sh\r\n$ sudo -i\r\n{}",
        bash("exit", "logout\r\n")
    ) + "$ echo after\r\nafter\r\n";
    assert_eq!(
        commands_of(t.as_bytes()).0,
        ["echo in sh", "sudo -i", "exit", "echo after"]
    );
    // bash left with Ctrl-D (as bash 5.2 writes it: an empty line, then `exit`); a command
    // that prints `exit` does not end it
    let t = format!(
        "$ bash\r\n{}{}\x1b[?2004hroot@host:~# \x1b[?2004l\r\r\nexit\r\n$ echo back\r\nback\r\n",
        bash("echo exit", "exit\r\n$ not a command\r\n"),
        bash("", "")
    );
    assert_eq!(
        commands_of(t.as_bytes()).0,
        ["bash", "echo exit", "echo back"]
    );
}

/// Amazon Linux 2: `sh-4.2$ ` then `sudo su -` to `[root@ip-10-0-3-17 ~]# `, no markers
/// at all: both prompt shapes are the session's, not only the more common one; `# ` lines of
/// a file shown are not prompts.
#[test]
fn unmarked_shells_started_from_each_other_have_their_commands() {
    let t = "sh-4.2$ id -un\r\nssm-user\r\nsh-4.2$ sudo su -\r\nLast login: Mon\r\n\
             [root@ip-10-0-3-17 ~]# cat /etc/fstab\r\n# /etc/fstab\r\n# Created by anaconda\r\n\
             UUID=1 / xfs defaults 0 0\r\n[root@ip-10-0-3-17 ~]# systemctl restart sshd\r\n\
             [root@ip-10-0-3-17 ~]# logout\r\nsh-4.2$ exit\r\nexit\r\n";
    let (commands, _) = commands_of(t.as_bytes());
    assert_eq!(
        commands,
        [
            "id -un",
            "sudo su -",
            "cat /etc/fstab",
            "systemctl restart sshd",
            "logout",
            "exit"
        ]
    );
}

/// PowerShell's prompt holds the working folder, spaces and all: `PS C:\Program Files> `
/// (Windows PowerShell) and `PS /home/ssm-user> ` (pwsh) are one shape.
#[test]
fn powershell_prompts_are_prompts() {
    let t = "PS C:\\Windows\\system32> Get-LocalUser\r\nName          Enabled\r\n\
             ----          -------\r\nAdministrator True\r\n\
             PS C:\\Windows\\system32> cd 'C:\\Program Files'\r\n\
             PS C:\\Program Files> whoami\r\nec2amaz-1\\ssm-user\r\n\
             PS C:\\Program Files> exit\r\n";
    let (commands, _) = commands_of(t.as_bytes());
    assert_eq!(
        commands,
        ["Get-LocalUser", "cd 'C:\\Program Files'", "whoami", "exit"]
    );
    let t = "PS /home/ssm-user> Get-Process pwsh\r\n\r\n NPM(K)\r\nPS /home/ssm-user> cd /tmp\r\nPS /tmp> ls\r\n";
    assert_eq!(
        commands_of(t.as_bytes()).0,
        ["Get-Process pwsh", "cd /tmp", "ls"]
    );
}

/// After readline wrapped at a narrower width (the window shrank), a full-screen program run
/// once the window grew again draws its rows whole: the margin is the widest seen on the
/// alternate screen, and follows readline again after.
#[test]
fn a_full_screen_program_after_a_narrower_wrap_draws_its_rows_whole() {
    use ssm_audit_core::render::{width::MAX_WRAP_WIDTHS, RenderOptions, Renderer, VecSink};
    let mut wraps = [0; MAX_WRAP_WIDTHS];
    (wraps[0], wraps[1]) = (120, 50);
    let opts = RenderOptions {
        cols: 120,
        rows: 24,
        wraps,
        ..RenderOptions::default()
    };
    let mut r = Renderer::new(opts, VecSink::default());
    let line = |tag: char, n: usize| -> String { std::iter::repeat_n(tag, n).collect() };
    let prompt = "\x1b[?2004h$ ";
    // 48 + the prompt's 2 fill 50 columns: readline's space then CR, and the rest
    let t = format!(
        "{prompt}{} \r{}\r\n\x1b[?2004l\r\x1b[?1049h\x1b[H{}\x1b[?1049l{prompt}{} \r{}\r\n\x1b[?2004l\r",
        line('a', 48),
        line('b', 10),
        line('v', 100),
        line('c', 48),
        line('d', 5)
    );
    r.advance(t.as_bytes());
    let (summary, sink) = r.finish();
    let cmds: Vec<&str> = summary.commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        cmds,
        [
            line('a', 48) + &line('b', 10),
            line('c', 48) + &line('d', 5)
        ]
    );
    assert_eq!(sink.alternate_screens[0].lines[0], line('v', 100));
}
