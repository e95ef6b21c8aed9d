//! Telling a shell's commands from the input of the interactive programs it starts.
//!
//! sqlite3, psql, mysql, python and anything linked with readline turn bracketed paste on and
//! off as bash does, and draw a prompt as a shell does: their lines look like commands. A
//! command that starts one of them opens its input; its lines, at prompts other than the
//! shell's, are that program's input until the shell's prompt comes back (or the program is
//! told to quit). The shell's prompt is the one the program was started at.

use super::{Command, ProgramInput};

/// Programs that read lines at a prompt of their own. (`python3 script.py` runs no REPL: the
/// shell's prompt comes back at once, so a script's run opens nothing.)
const INTERACTIVE: &[&str] = &[
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

/// Terminal multiplexers: their screen is the user's terminal, with a shell inside.
const MULTIPLEXERS: &[&str] = &[
    "tmux", "screen", "byobu", "zellij", "tmate", "dtach", "abduco",
];

/// Whether a command line starts a terminal multiplexer.
pub fn is_multiplexer(cmd: &str) -> bool {
    crate::ingest::program_name(cmd).is_some_and(|p| MULTIPLEXERS.contains(&p))
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
fn interactive(cmd: &str) -> Option<&str> {
    let p = crate::ingest::program_name(cmd)?;
    INTERACTIVE.contains(&p).then_some(p)
}

/// The prompts of interactive programs that draw no markers of their own (python's REPL
/// without readline's bracketed paste): the input typed after one, if `line` starts with one.
pub fn after_program_prompt(line: &str) -> Option<&str> {
    const PROMPTS: [&str; 6] = [
        ">>> ",
        "sqlite> ",
        "mysql> ",
        "redis> ",
        "irb(main)",
        "pry(main)",
    ];
    let p = PROMPTS.iter().find(|p| line.starts_with(*p))?;
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
    let (shell, mut inputs) = split_marked(commands);
    // a program started by a command reads the lines up to the shell's next command
    let mut starts: Vec<(u64, &str)> = shell
        .iter()
        .filter_map(|c| interactive(&c.text).map(|p| (c.line, p)))
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
fn split_marked(commands: Vec<Command>) -> (Vec<Command>, Vec<ProgramInput>) {
    let mut shell = Vec::with_capacity(commands.len());
    let mut inputs = Vec::new();
    // (program, the shell's prompt it was started at)
    let mut open: Option<(String, String)> = None;
    for c in commands {
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
        if let Some(p) = interactive(&c.text) {
            if !c.prompt.is_empty() {
                open = Some((p.to_owned(), c.prompt.clone()));
            }
        }
        shell.push(c);
    }
    (shell, inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
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
