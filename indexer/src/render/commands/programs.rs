//! Telling a shell's commands from the input of the interactive programs it starts.
//!
//! sqlite3, psql, mysql, python and anything linked with readline turn bracketed paste on and
//! off as bash does, and draw a prompt as a shell does: their lines look like commands. A
//! command that starts one of them opens its input; its lines, at prompts other than the
//! shell's, are that program's input until the shell's prompt comes back (or the program is
//! told to quit). The shell's prompt is the one the program was started at.

use super::{Command, ProgramInput};

/// Programs that read lines at a prompt of their own, by the name a command line runs them
/// by: the name itself, as the `&'static str` the inputs carry. (`python3 script.py` runs no
/// REPL: the shell's prompt comes back at once, so a script's run opens nothing.)
fn interactive_name(p: &str) -> Option<&'static str> {
    // a match, not a list: it is asked of every command
    const NAMES: &[&str] = &[
        "sqlite3",
        "sqlite",
        "psql",
        "mysql",
        "mariadb",
        "python",
        "python2",
        "python3",
        "ipython",
        "ipython3",
        "bpython",
        "node",
        "nodejs",
        "deno",
        "irb",
        "pry",
        "redis-cli",
        "valkey-cli",
        "mongo",
        "mongosh",
        "sqlplus",
        "clickhouse-client",
        "cqlsh",
        "influx",
        "lua",
        "luajit",
        "R",
        "ghci",
        "erl",
        "iex",
        "php",
        "perl",
        "gdb",
        "lldb",
        "bc",
        "dc",
        "ftp",
        "sftp",
        "lftp",
        "nslookup",
        "sqlcmd",
        "duckdb",
        "spark-shell",
        "pyspark",
        "scala",
        "julia",
        "tclsh",
        "ksql",
        "hbase",
        "beeline",
        "openssl",
    ];
    match p {
        "sqlite3" | "sqlite" | "psql" | "mysql" | "mariadb" | "python" | "python2" | "python3"
        | "ipython" | "ipython3" | "bpython" | "node" | "nodejs" | "deno" | "irb" | "pry"
        | "redis-cli" | "valkey-cli" | "mongo" | "mongosh" | "sqlplus" | "clickhouse-client"
        | "cqlsh" | "influx" | "lua" | "luajit" | "R" | "ghci" | "erl" | "iex" | "php" | "perl"
        | "gdb" | "lldb" | "bc" | "dc" | "ftp" | "sftp" | "lftp" | "nslookup" | "sqlcmd"
        | "duckdb" | "spark-shell" | "pyspark" | "scala" | "julia" | "tclsh" | "ksql" | "hbase"
        | "beeline" | "openssl" => NAMES.iter().copied().find(|n| *n == p),
        _ => None,
    }
}

/// The program a command line runs: its first word past `sudo`, `env`, `exec`, `command`,
/// `nohup`, `time` and `VAR=value` assignments, without its folder (`sudo -E /usr/bin/less x`
/// runs `less`).
pub fn program_name(cmd: &str) -> Option<&str> {
    // the last stage of a pipeline or list is the one on the screen (`seq 1 200 | less`)
    let trimmed = cmd.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '|' | ';' | '&'));
    let last = match trimmed.rfind(['|', ';', '&']) {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    };
    let mut words = last.split_whitespace().peekable();
    while let Some(w) = words.next() {
        if matches!(
            w,
            "sudo" | "env" | "exec" | "command" | "nohup" | "time" | "doas"
        ) {
            // their options
            while words.peek().is_some_and(|o| o.starts_with('-')) {
                words.next();
            }
            continue;
        }
        if w.contains('=') && !w.starts_with('=') {
            continue;
        }
        return w.rsplit('/').next().filter(|p| !p.is_empty());
    }
    None
}

/// Terminal multiplexers: their screen is the user's terminal, with a shell inside.
const MULTIPLEXERS: &[&str] = &[
    "tmux", "screen", "byobu", "zellij", "tmate", "dtach", "abduco",
];

/// Whether a command line starts a terminal multiplexer.
pub fn is_multiplexer(cmd: &str) -> bool {
    program_name(cmd).is_some_and(|p| MULTIPLEXERS.contains(&p))
}

/// Whether a multiplexer command attaches to a session that was already running (`tmux
/// attach`, `tmux a -t 0`, `screen -r`, `screen -x`, `zellij attach`, `byobu attach`).
pub fn is_multiplexer_attach(cmd: &str) -> bool {
    let Some(p) = program_name(cmd).filter(|p| MULTIPLEXERS.contains(p)) else {
        return false;
    };
    let mut args = cmd
        .split_whitespace()
        .skip_while(|w| !w.ends_with(p))
        .skip(1);
    if p == "screen" {
        return args.any(|w| {
            w.starts_with('-') && !w.starts_with("--") && w[1..].contains(['r', 'R', 'x'])
        });
    }
    // the first word that is not an option (nor an option's value) is the subcommand
    while let Some(w) = args.next() {
        if p == "tmux" && matches!(w, "-L" | "-S" | "-f" | "-c" | "-T") {
            args.next();
        } else if w == "-r" && p == "dtach" {
            return true;
        } else if !w.starts_with('-') {
            return matches!(w, "attach" | "attach-session" | "a" | "at" | "att");
        }
    }
    false
}

/// What a program is told to quit with: its input ends there.
fn quits(text: &str) -> bool {
    matches!(
        text.trim(),
        ".quit"
            | ".exit"
            | ".q"
            | "\\q"
            | "quit"
            | "exit"
            | "quit()"
            | "exit()"
            | "q"
            | "bye"
            | ":q"
            | ":quit"
            | "\\quit"
    )
}

/// The interactive program a command line starts, if it starts one.
fn interactive(cmd: &str) -> Option<&'static str> {
    interactive_name(program_name(cmd)?)
}

/// The prompts of interactive programs that draw no markers of their own (python's REPL
/// without readline's bracketed paste): the input typed after one, if `line` starts with one.
#[inline]
pub fn after_program_prompt(line: &str) -> Option<&str> {
    // called on every line: its first byte picks the one prompt it could start with
    let p = match line.as_bytes().first()? {
        b'>' => ">>> ",
        b's' => "sqlite> ",
        b'm' => "mysql> ",
        b'r' => "redis> ",
        b'i' => "irb(main)",
        b'p' => "pry(main)",
        _ => return None,
    };
    if !line.starts_with(p) {
        return None;
    }
    let rest = &line[p.len()..];
    // irb(main):001:0> and pry(main)> run on to their `> `
    let rest = match rest.find("> ") {
        Some(i) if p.ends_with(')') => &rest[i + 2..],
        _ => rest,
    };
    Some(rest).filter(|r| !r.trim().is_empty())
}

/// Split commands into the shells' and the programs' input, in line order. `program_lines`
/// are lines at a program's prompt (see [`after_program_prompt`]): input of the program a
/// command started, when they stand between it and the next command of the shell.
pub fn split_inputs(
    commands: Vec<Command>,
    program_lines: Vec<(u64, String)>,
) -> (Vec<Command>, Vec<ProgramInput>) {
    // what each command starts, asked once
    let started: Vec<Option<&'static str>> =
        commands.iter().map(|c| interactive(&c.text)).collect();
    let (shell, mut inputs, shell_started) = split_marked(commands, &started);
    // a program started by a command reads the lines up to the shell's next command
    let mut starts: Vec<(u64, &str)> = shell
        .iter()
        .zip(&shell_started)
        .filter_map(|(c, p)| p.map(|p| (c.line, p)))
        .collect();
    starts.dedup();
    let taken: std::collections::HashSet<u64> = inputs.iter().map(|i| i.line).collect();
    for (line, text) in program_lines {
        if taken.contains(&line) {
            continue;
        }
        let Some(&(from, program)) = starts.iter().rev().find(|s| s.0 < line) else {
            continue;
        };
        let next_shell = shell
            .iter()
            .find(|c| c.line > from)
            .map_or(u64::MAX, |c| c.line);
        if line < next_shell {
            inputs.push(ProgramInput {
                program: program.to_owned(),
                line,
                text,
            });
        }
    }
    inputs.sort_by_key(|i| i.line);
    (shell, inputs)
}

/// Commands read at a program's own prompt, told apart by that prompt.
/// `started[i]`: the program `commands[i]` starts. Returns the shells' commands with what
/// each starts, and the programs' input.
fn split_marked(
    commands: Vec<Command>,
    started: &[Option<&'static str>],
) -> (Vec<Command>, Vec<ProgramInput>, Vec<Option<&'static str>>) {
    let mut shell = Vec::with_capacity(commands.len());
    let mut shell_started = Vec::with_capacity(commands.len());
    let mut inputs = Vec::new();
    // (program, the shell's prompt it was started at)
    let mut open: Option<(String, String)> = None;
    for (c, &starts) in commands.into_iter().zip(started) {
        if let Some((program, at)) = &open {
            let back = !at.is_empty() && c.prompt == *at;
            if !back {
                let done = quits(&c.text);
                inputs.push(ProgramInput {
                    program: program.clone(),
                    line: c.line,
                    text: c.text,
                });
                if done {
                    open = None;
                }
                continue;
            }
            open = None;
        }
        if let Some(p) = starts {
            if !c.prompt.is_empty() {
                open = Some((p.to_owned(), c.prompt.clone()));
            }
        }
        shell.push(c);
        shell_started.push(starts);
    }
    (shell, inputs, shell_started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attaching_is_told_from_starting() {
        for c in [
            "tmux attach",
            "tmux a -t 0",
            "tmux -L x attach-session",
            "screen -r",
            "screen -dr work",
            "sudo screen -x",
            "zellij attach",
        ] {
            assert!(is_multiplexer_attach(c), "{c}");
        }
        for c in [
            "tmux",
            "tmux new -s a",
            "screen",
            "screen -S work",
            "ls attach",
        ] {
            assert!(!is_multiplexer_attach(c), "{c}");
        }
    }
    use crate::render::Method;

    fn cmd(line: u64, prompt: &str, text: &str) -> Command {
        Command {
            text: text.into(),
            line,
            method: Method::BracketedPaste,
            confidence: 0.95,
            prompt: prompt.into(),
        }
    }

    #[test]
    fn a_repl_s_lines_are_its_input_until_the_shell_prompt_comes_back() {
        let sh = "ubuntu@ip-172-31-1-1:~$ ";
        let (shell, inputs) = split_inputs(
            vec![
                cmd(1, sh, "sqlite3 /tmp/t.db"),
                cmd(2, "sqlite> ", "create table t(x);"),
                cmd(3, "sqlite> ", "select x * 2 from t;"),
                cmd(4, "sqlite> ", ".quit"),
                cmd(5, sh, "python3 -q"),
                cmd(6, ">>> ", "import os; os.system('id')"),
                cmd(7, sh, "psql -h db"),
                cmd(8, "postgres=# ", "drop table users;"),
                cmd(9, sh, "python3 job.py"),
                cmd(10, sh, "rm -rf /tmp/x"),
            ],
            vec![(6, "import os; os.system('id')".into())],
        );
        let texts: Vec<&str> = shell.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "sqlite3 /tmp/t.db",
                "python3 -q",
                "psql -h db",
                "python3 job.py",
                "rm -rf /tmp/x"
            ]
        );
        let got: Vec<(&str, u64, &str)> = inputs
            .iter()
            .map(|i| (i.program.as_str(), i.line, i.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("sqlite3", 2, "create table t(x);"),
                ("sqlite3", 3, "select x * 2 from t;"),
                ("sqlite3", 4, ".quit"),
                ("python3", 6, "import os; os.system('id')"),
                ("psql", 8, "drop table users;"),
            ]
        );
    }
}

#[cfg(test)]
mod program_tests {
    #[test]
    fn the_program_a_command_line_runs() {
        let p = super::program_name;
        assert_eq!(p("vim -u NONE -N /tmp/x"), Some("vim"));
        assert_eq!(p("seq 1 200 | less"), Some("less"));
        assert_eq!(p("sudo -E /usr/bin/less /var/log/syslog"), Some("less"));
        assert_eq!(p("cd /srv && TERM=xterm tmux attach"), Some("tmux"));
        assert_eq!(p("env -i top"), Some("top"));
        assert_eq!(p("  "), None);
    }
}
