#!/usr/bin/env python3
"""Record real shell sessions and convert them to Session Manager's S3 transcript format.

Each scenario starts a real shell (bash 5, `bash --posix` as Amazon Linux's `sh`, bash with
bracketed paste off as on bash 4.2, dash, zsh or fish) inside tmux at a fixed size, drives it with
`tmux send-keys`, and records the PTY output with util-linux `script --log-out`. That output
is what the SSM agent keeps in `ipcTempFile.log`. The agent then converts it at session end
by running `script -c "cat <ipcTempFile.log>" <log>` with no terminal on stdin
(agent/session/shell/shell_unix.go, generateLogData; ../shared/DESIGN.md section 2.2); this
script does the same, at the same path layout, so the header names target, session id and
plugin as a real agent's does.

Output, per scenario, in indexer/tests/recordings/<name>/:
  session.log      the S3 transcript (what the agent uploads)
  ipc.raw          the raw PTY output (the agent's ipcTempFile.log)
  history.txt      the shell's own history file: the answer key for the commands (bash, zsh)
  expected_commands.txt  the command lines as typed, for shells without an in-order history
                   file (dash, fish)
  meta.json        shell, terminal size, session id, target

Run it by hand (it takes a few minutes); the recordings are committed:
  python3 scripts/record_corpus.py [scenario ...]
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "indexer", "tests", "recordings")
TARGET = "i-0a1b2c3d4e5f60718"

UBUNTU_PS1 = (
    r"\[\e]0;\u@\h: \w\a\]${debian_chroot:+($debian_chroot)}"
    r"\[\033[01;32m\]\u@\h\[\033[00m\]:\[\033[01;34m\]\w\[\033[00m\]\$ "
)


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", "ssmrec", *args], check=check, capture_output=True)


class Driver:
    def __init__(self, pause):
        self.pause = pause

    def keys(self, *keys, wait=None):
        """Send tmux key names (Enter, Left, C-a, ...)."""
        for k in keys:
            tmux("send-keys", "-t", "rec", k)
            time.sleep(self.pause)
        if wait:
            time.sleep(wait)

    def type(self, text, wait=None):
        """Type literal text, one key at a time, as a person would."""
        for ch in text:
            # tmux reads a lone ";" argument as its own command separator
            tmux("send-keys", "-t", "rec", "-l", "\\;" if ch == ";" else ch)
            time.sleep(self.pause / 3)
        if wait:
            time.sleep(wait)

    def run(self, text, wait=0.6):
        self.type(text)
        self.keys("Enter", wait=wait)


def readline_session(d, width):
    """Everything a readline shell gets: editing, history, completion, full-screen programs."""
    d.run("echo hello world")
    d.run("ls --color=always /")
    # edit inside a line: arrows, Home/End, insert, delete
    d.type("echo helo wrld")
    d.keys("Left", "Left", "Left", "Left", "Left", "o", "End", "Left", "Left", "o")
    d.keys("Home")
    d.keys("Right", "Right", "Right", "Right", "Right", "Delete", "e", "Enter", wait=0.5)
    # Ctrl-A / Ctrl-E / Ctrl-U / Ctrl-W / Ctrl-K
    d.type("junk that will be killed")
    d.keys("C-u")
    d.run("echo after ctrl-u")
    d.type("echo abc def ghi")
    d.keys("C-w", "Enter", wait=0.5)
    d.type("echo keep cut-this")
    d.keys(*["Left"] * 9, "C-k", "Enter", wait=0.5)
    d.type("cho start-fixed")
    d.keys("C-a", "e", "C-e")
    d.run(" end")
    # backspace
    d.type("echo tpyo")
    d.keys("BSpace", "BSpace", "BSpace")
    d.run("ypo fixed")
    # history recall and Ctrl-R
    d.keys("Up", "Up", "Enter", wait=0.5)
    d.keys("C-r")
    d.type("after")
    d.keys("Enter", wait=0.5)
    # tab completion
    d.type("ls -d /us")
    d.keys("Tab", wait=0.3)
    d.keys("Enter", wait=0.5)
    # Ctrl-C abandons a line: not a command
    abandon_with_ctrl_c(d)
    # a command longer than the width, edited in the middle
    long = "echo " + " ".join(f"word{i:03d}" for i in range(max(14, width // 6)))
    d.type(long)
    d.keys(*["Left"] * (width - 10))
    d.type("INSERTED")
    d.keys(*["BSpace"] * 3)
    d.keys("Enter", wait=0.6)
    # typing while a command runs (the tty echoes it, readline takes it afterwards)
    d.run("sleep 1.5", wait=0.1)
    d.run("echo typed-ahead", wait=2.0)
    # a \r progress bar
    d.run("for i in 1 2 3 4 5; do printf '\\rprogress %3d%%' $((i*20)); sleep 0.1; done; echo", wait=1.0)
    # clear and Ctrl-L
    d.run("echo before-clear")
    d.run("clear")
    d.run("echo before-ctrl-l")
    d.keys("C-l", wait=0.3)
    d.run("echo after-ctrl-l")
    # colour output
    d.run("grep --color=always root /etc/passwd")
    # CJK wide characters and combining marks
    d.run("echo '本番環境のデータベース に接続'")
    d.run("echo 'cafe\u0301 nai\u0308ve'")
    # thousands of lines of output
    d.run("seq 1 3000", wait=1.0)
    # full-screen programs
    d.run("rm -f /tmp/ssmrec-vim.txt")
    d.run("vim -u NONE -N /tmp/ssmrec-vim.txt", wait=1.0)
    d.keys("i")
    d.type("written in vim")
    d.keys("Escape")
    d.type(":wq")
    d.keys("Enter", wait=0.8)
    d.run("seq 1 200 | less", wait=0.8)
    d.keys("Space", wait=0.3)
    d.keys("q", wait=0.5)
    d.run("top -b -n 1 | head -5", wait=1.0)
    d.run("top -d 0.5", wait=1.2)
    d.keys("q", wait=0.5)
    d.run("cat /tmp/ssmrec-vim.txt")
    d.run("exit", wait=1.0)


def abandon_with_ctrl_c(d):
    """A line typed, then abandoned with Ctrl-C: never run."""
    d.type("rm -rf /tmp/not-run")
    d.keys("C-c", wait=0.3)


def typo_then_ctrl_c(d, typed):
    """A typo fixed with backspace, then a line abandoned with Ctrl-C (never run)."""
    d.type("echo tpyo")
    d.keys("BSpace", "BSpace", "BSpace")
    d.type("ypo fixed")
    d.keys("Enter", wait=0.5)
    typed.append("echo typo fixed")
    abandon_with_ctrl_c(d)


def keyed(d):
    """A `run` that keeps what it typed, in order: the answer key of a session whose shells
    keep no history in order (dash, fish, a session that changes shells)."""
    typed = []

    def run(text, wait=0.6):
        typed.append(text)
        d.run(text, wait=wait)

    return typed, run


def dash_session(d, width):
    """dash has no line editing: the tty echoes keys, erase and kill are the tty's."""
    typed, run = keyed(d)

    run("echo hello from dash")
    run("ls /")
    typo_then_ctrl_c(d, typed)
    d.type("junk")
    d.keys("C-u")
    run("echo after kill")
    run("printf 'a\\tb\\n'")
    run("for i in 1 2 3; do printf '\\rstep %d' $i; sleep 0.1; done; echo")
    run("echo " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    run("seq 1 1500")
    run("echo '本番環境のデータベース'")
    run("exit")
    return typed


def nested_session(d, width):
    """Ubuntu's default: dash (`$ `, no line editing), then an interactive bash started from it
    (as `bash` or `sudo -i` does), then back to dash after `exit`: the way of reading commands
    changes twice within one transcript."""
    typed, run = keyed(d)

    run("echo in dash")
    run("bash", wait=1.0)
    run("echo in bash")
    run("cd /tmp && ls -d /usr/share")
    typo_then_ctrl_c(d, typed)
    run("seq 1 40")
    run("exit", wait=1.0)
    run("echo back in dash")
    abandon_with_ctrl_c(d)
    run("exit", wait=1.0)
    return typed


def al2_session(d, width):
    """Amazon Linux 2's default: `sh-4.2$ ` (bash as sh, no bracketed paste), then a root-style
    bash without markers started from it, then back: two prompt shapes, no markers at all."""
    typed, run = keyed(d)

    run("whoami")
    run("bash", wait=1.0)
    run("cd /var/log")
    run("ls -d /var/log")
    abandon_with_ctrl_c(d)
    run("tail -2 /etc/shells")
    run("exit", wait=1.0)
    run("echo back in sh")
    run("exit", wait=1.0)
    return typed


# the window sizes of the session resized twice, in order
RESIZES = [(80, 24), (120, 30), (70, 20)]


def resize_session(d, width):
    """The window resized twice during the session (wider, then narrower), as users do:
    readline wraps long lines at each width in turn; lines are edited and recalled at each."""

    def long(tag, n):
        return "echo " + " ".join(f"{tag}{i:03d}" for i in range(n))

    d.run("echo at 80 columns")
    d.run(long("a", 22))
    # edited at the start of a wrapped line: readline redraws both rows
    d.type(long("e", 20))
    d.keys("C-a", "Right", "Right", "Right", "Right")
    d.type("X")
    d.keys("Enter", wait=0.5)
    for cols, rows in RESIZES[1:]:
        tmux("resize-window", "-t", "rec", "-x", str(cols), "-y", str(rows))
        time.sleep(0.6)
        d.run(f"echo at {cols} columns")
        d.run(long(f"w{cols}x", cols // 4))
        # the previous command recalled and run again: redrawn at this width
        d.keys("Up", wait=0.3)
        d.keys("Enter", wait=0.5)
        d.run("seq 1 3")
    d.run("exit", wait=1.0)


def audit_session(d, width):
    """What auditors search for: secrets, credentials, destructive and network commands."""
    d.run("sudo -n true 2>/dev/null; echo privileged")
    d.run("cat /etc/shadow | head -3")
    d.run("export DB_PASSWORD='hunter2-not-real'")
    d.run("echo connecting to 10.0.3.17 port 5432")
    d.run("kubectl get secrets -n prod", wait=0.8)
    d.run("mkdir -p /tmp/ssmrec-scratch && rm -rf /tmp/ssmrec-scratch")
    d.run("history | tail -3")
    d.run("exit", wait=1.0)


def repl_session(d, width):
    """Interactive programs started from bash, both linked with readline (bracketed paste on
    and off as bash does): what is typed into them is their input, not shell commands. The
    shell's history is the key for its commands; the inputs are returned, in order."""
    inputs = []

    def feed(program, text, wait=0.6):
        inputs.append(f"{program}\t{text}")
        d.run(text, wait=wait)

    d.run("sqlite3 /tmp/ssmrec-t.db", wait=1.0)
    feed("sqlite3", "create table t(x);")
    feed("sqlite3", "insert into t values (21);")
    feed("sqlite3", "select x * 2 from t;")
    feed("sqlite3", ".quit", wait=1.0)
    d.run("python3 -q", wait=1.5)
    feed("python3", "import os")
    feed("python3", "print(os.getcwd() == os.getcwd())")
    feed("python3", "exit()", wait=1.0)
    d.run("rm -f /tmp/ssmrec-t.db")
    # a line longer than the window: readline's wrap tells the width
    d.run("echo back in bash " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    d.run("exit", wait=1.0)
    return inputs


def tmux_session(d, width):
    """A multiplexer started from bash: work done inside tmux (a marker, a file, output that
    scrolls inside the pane), then its shell's exit. The outer shell's history is its key;
    the inner shell's commands are returned, in order."""
    inner = []

    def run_inner(text, wait=0.8):
        inner.append(text)
        d.run(text, wait=wait)

    d.run("echo before tmux")
    d.run("tmux -f /dev/null -L ssmrec-inner", wait=2.0)
    run_inner("echo inside-tmux-marker")
    run_inner("cat /etc/hostname")
    run_inner("seq 1 80", wait=1.2)
    run_inner("exit", wait=1.5)
    d.run("echo after tmux")
    d.run("echo after tmux " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    d.run("exit", wait=1.0)
    return inner


def tmux_split_session(d, width):
    """tmux with its window split in two side by side: output that scrolls inside a half-width
    pane (tmux redraws the pane's rows in place), then a detach and a reattach, whose redraw
    shows the same commands again. The key is every command as typed, in order."""
    typed, run = keyed(d)

    run("echo before tmux")
    run("tmux -f /dev/null -L ssmrec-inner", wait=2.0)
    run("echo left-pane-marker")
    d.keys("C-b", "%", wait=1.5)
    run("echo right-pane-marker")
    run("seq 101 160", wait=1.2)
    run("exit", wait=1.5)
    run("seq 201 230", wait=1.2)
    d.keys("C-b", "d", wait=1.5)
    run("echo detached-from-tmux")
    run("tmux -L ssmrec-inner attach", wait=2.0)
    run("echo after-attach-marker")
    run("exit", wait=1.5)
    run("echo after tmux " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    run("exit", wait=1.0)
    return typed


def tmux_prompt_session(d, width):
    """tmux whose shell has another prompt than the shell that started it: the inner commands
    are found by the prompt's shape. The key is every command as typed, in order."""
    typed, run = keyed(d)

    run("echo before tmux")
    run("tmux -f /dev/null -L ssmrec-inner new-session \"env PS1='[inner \\\\W]\\\\$ ' bash --norc\"",
        wait=2.0)
    run("echo inner-prompt-marker")
    run("cat /etc/hostname")
    run("exit", wait=1.5)
    run("echo after tmux " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    run("exit", wait=1.0)
    return typed


def screen_session(d, width):
    """GNU screen started from bash: work inside it, output that scrolls inside the window,
    then its shell's exit. Both shells append to one history file, the inner one first: the
    key is every command as typed, in order."""
    typed, run = keyed(d)

    run("echo before screen")
    run("screen -c $HOME/screenrc", wait=2.0)
    run("echo inside-screen-marker")
    run("cat /etc/hostname")
    run("seq 1 60", wait=1.2)
    run("exit", wait=1.5)
    run("echo after screen")
    run("echo after screen " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    run("exit", wait=1.0)
    return typed


PG_DIR = "/tmp/ssmrec-pg"


def start_postgres():
    """A PostgreSQL server of its own on a Unix socket in PG_DIR, run as the postgres user."""
    stop_postgres()
    os.makedirs(PG_DIR)
    shutil.chown(PG_DIR, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, "initdb", "-A", "trust", "-U", "postgres", "-D", f"{PG_DIR}/data"],
                   check=True, capture_output=True)
    subprocess.run([*as_pg, "pg_ctl", "-D", f"{PG_DIR}/data", "-l", f"{PG_DIR}/log", "-w",
                    "-o", f"-k {PG_DIR} -c listen_addresses=''", "start"],
                   check=True, capture_output=True)


def stop_postgres():
    if os.path.exists(f"{PG_DIR}/data"):
        subprocess.run(["runuser", "-u", "postgres", "--", "pg_ctl", "-D", f"{PG_DIR}/data",
                        "-m", "fast", "stop"], capture_output=True)
    shutil.rmtree(PG_DIR, ignore_errors=True)


def psql_session(d, width):
    """psql (readline) against a real server: what is typed into it is its input."""
    inputs = []

    def feed(text, wait=0.8):
        inputs.append(f"psql\t{text}")
        d.run(text, wait=wait)

    d.run(f"psql -h {PG_DIR} -U postgres", wait=1.5)
    feed("create table audit_t(x int);")
    feed("insert into audit_t values (21);")
    feed("select x * 2 as doubled from audit_t;")
    feed("drop table audit_t;")
    feed("\\q", wait=1.0)
    d.run("echo back in bash " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    d.run("exit", wait=1.0)
    return inputs


def vi_session(d, width):
    """bash in vi mode: editing in command mode (Escape, motions, x, i, A), history with k."""
    d.run("echo hello world")
    d.type("echo helo wrld")
    d.keys("Escape", "0", "w", "e", "i", "l", "Escape", "w", "a", "o", "Enter", wait=0.5)
    d.type("echo one two three")
    d.keys("Escape", "b", "d", "w", "A", "!", "Enter", wait=0.5)
    d.keys("Escape", "k", "k", "Enter", wait=0.5)
    abandon_with_ctrl_c(d)
    d.run("echo " + " ".join(f"word{i:03d}" for i in range(width // 6 + 4)))
    d.run("seq 1 50", wait=0.8)
    d.run("exit", wait=1.0)


def omz_session(d, width):
    """zsh with an oh-my-zsh-style prompt (no `$ `/`% ` in it) and a right prompt: a redirect
    in a command, Ctrl-C, Ctrl-L in the middle of a line, a line longer than the width."""
    d.run("echo hello > /tmp/ssmrec-omz.txt")
    d.run("cat /tmp/ssmrec-omz.txt")
    abandon_with_ctrl_c(d)
    d.type("echo after")
    d.keys("C-l", wait=0.3)
    d.run(" ctrl-l")
    d.run("echo " + " ".join(f"w{i:03d}" for i in range(width // 4 + 5)))
    d.run("sudo -n true 2>/dev/null; echo privileged")
    d.run("cat /etc/shadow | head -3")
    d.run("rm -f /tmp/ssmrec-omz.txt")
    d.run("exit", wait=1.0)


def fish_session(d, width):
    """fish: its own line editor (autosuggestions, syntax colours, repaints), no history file
    in order (fish keeps each command once), so the commands typed are the key."""
    typed, run = keyed(d)

    run("echo hello world")
    # the autosuggestion (the rest of the line above, dimmed) is not typed: not run
    d.type("echo hel")
    d.keys("Enter", wait=0.5)
    typed.append("echo hel")
    run("ls /")
    typo_then_ctrl_c(d, typed)
    # edit inside the line: the suggestion of the first command shows while it is typed
    d.type("echo helo world")
    d.keys(*["Left"] * 7, "l", "Enter", wait=0.5)
    typed.append("echo hello world")
    run("echo " + " ".join(f"word{i:03d}" for i in range(width // 6 + 4)))
    run("for i in 1 2 3; printf '\\rstep %d' $i; sleep 0.1; end; echo", wait=1.0)
    run("grep --color=always root /etc/passwd")
    run("echo '本番環境のデータベース に接続'")
    run("seq 1 1500", wait=1.0)
    run("exit", wait=1.0)
    return typed


def ubuntu_rc(home):
    rc = os.path.join(home, ".bashrc")
    with open(rc, "w") as f:
        f.write(f"PS1='{UBUNTU_PS1}'\n")
        f.write("HISTFILE=$HOME/history.txt\nHISTSIZE=100000\nHISTFILESIZE=100000\n")
        f.write("HISTCONTROL=\nunset HISTIGNORE\nshopt -s histappend\n")
        f.write("PROMPT_COMMAND='history -a'\n")
        f.write("alias ls='ls'\n")
    return rc


SCENARIOS = {
    # name: (shell kind, width, height)
    "bash5-ubuntu-80x24": ("bash", 80, 24),
    "bash5-ubuntu-132x40": ("bash", 132, 40),
    "bash5-ubuntu-60x20": ("bash", 60, 20),
    "bash5-posix-sh-100x30": ("posix", 100, 30),
    "bash-nomarker-80x24": ("nomarker", 80, 24),
    "dash-80x24": ("dash", 80, 24),
    "dash-nested-bash-80x24": ("nested", 80, 24),
    "sh-nested-bash-nomarker-80x24": ("al2", 80, 24),
    "bash5-resized-80-120-70": ("resize", 80, 24),
    "bash5-audit-100x30": ("audit", 100, 30),
    "bash5-vi-80x24": ("vi", 80, 24),
    "bash5-repl-80x24": ("repl", 80, 24),
    "bash5-tmux-80x24": ("tmux", 80, 24),
    "bash5-tmux-split-80x24": ("tmux-split", 80, 24),
    "bash5-tmux-prompt-80x24": ("tmux-prompt", 80, 24),
    "bash5-screen-80x24": ("screen", 80, 24),
    "bash5-psql-80x24": ("psql", 80, 24),
    "zsh-80x24": ("zsh", 80, 24),
    "zsh-omz-90x30": ("zsh-omz", 90, 30),
    "fish-100x30": ("fish", 100, 30),
}


def shell_command(kind, home):
    env = f"env -i HOME={home} USER=ssm-user LOGNAME=ssm-user TERM=xterm-256color LANG=C.UTF-8 PATH=/usr/bin:/bin"
    if kind in ("bash", "audit", "resize", "repl", "tmux", "tmux-split", "tmux-prompt", "psql"):
        rc = ubuntu_rc(home)
        return f"{env} bash --noprofile --rcfile {rc} -i"
    if kind == "screen":
        rc = ubuntu_rc(home)
        with open(os.path.join(home, "screenrc"), "w") as f:
            f.write("startup_message off\nshell /bin/bash\n")
        return f"{env} bash --noprofile --rcfile {rc} -i"
    if kind == "vi":
        rc = ubuntu_rc(home)
        with open(rc, "a") as f:
            f.write("set -o vi\n")
        return f"{env} bash --noprofile --rcfile {rc} -i"
    if kind == "posix":
        rc = ubuntu_rc(home)
        with open(rc, "a") as f:
            f.write("PS1='\\s-\\v\\$ '\n")
        return f"{env} ENV={rc} bash -c 'exec -a sh bash --posix -i'"
    if kind == "nomarker":
        rc = ubuntu_rc(home)
        with open(rc, "a") as f:
            # what bash 4.2 (Amazon Linux 2) does: no bracketed paste, so no 2004 markers
            f.write("bind 'set enable-bracketed-paste off'\nPS1='[ssm-user@ip-10-0-3-17 ~]\\$ '\n")
        return f"{env} bash --noprofile --rcfile {rc} -i"
    if kind == "dash":
        return f"{env} PS1='$ ' dash -i"
    if kind == "al2":
        # both without bracketed paste, as bash 4.2 on Amazon Linux 2: `sh` reads $ENV, the
        # bash started from it ~/.bashrc
        outer = os.path.join(home, "sh.rc")
        with open(outer, "w") as f:
            f.write("bind 'set enable-bracketed-paste off'\nPS1='\\s-4.2\\$ '\n")
        with open(os.path.join(home, ".bashrc"), "w") as f:
            f.write("bind 'set enable-bracketed-paste off'\n")
            f.write("PS1='[root@ip-10-0-3-17 \\W]# '\n")
        return f"{env} ENV={outer} bash -c 'exec -a sh bash --posix -i'"
    if kind == "nested":
        # the bash started from dash reads ~/.bashrc: Ubuntu's prompt, history kept
        ubuntu_rc(home)
        return f"{env} PS1='$ ' dash -i"
    if kind in ("zsh", "zsh-omz"):
        with open(os.path.join(home, ".zshrc"), "w") as f:
            if kind == "zsh":
                f.write("PROMPT='%n@%m:%~%# '\n")
            else:
                # oh-my-zsh's default theme (robbyrussell), and a right prompt
                f.write("PROMPT='%F{green}➜  %F{cyan}%c%f '\nRPROMPT='%F{yellow}[%n@%m]%f'\n")
            f.write("HISTFILE=$HOME/history.txt\nHISTSIZE=100000\nSAVEHIST=100000\n")
            f.write("setopt INC_APPEND_HISTORY\nunsetopt EXTENDED_HISTORY\nbindkey -e\n")
            # else zle shows a combining mark as <0301>, which the history does not hold
            f.write("setopt COMBINING_CHARS\n")
        return f"{env} zsh -i"
    if kind == "fish":
        return f"{env} fish -i"
    raise ValueError(kind)


def unmetafy(data):
    """zsh writes its history "metafied": a byte it treats as special (most of 0x83-0x9f,
    which UTF-8 text is full of) as 0x83 then the byte xor 0x20."""
    out = bytearray()
    it = iter(data)
    for b in it:
        out.append(next(it) ^ 0x20 if b == 0x83 else b)
    return bytes(out)


def record(name, kind, width, height, pause):
    # a 2024-style session id: principal, '-', 26 characters of [a-z0-9], stable per scenario
    digest = hashlib.sha256(name.encode()).hexdigest()
    session_id = "alice@example.com-" + "".join(
        "abcdefghijklmnopqrstuvwxyz0123456789"[int(digest[i:i + 2], 16) % 36] for i in range(0, 52, 2))
    home = tempfile.mkdtemp(prefix="ssmrec-")
    raw = os.path.join(home, "ipc.raw")
    cmd = shell_command(kind, home)
    tmux("kill-server", check=False)
    tmux("new-session", "-d", "-s", "rec", "-x", str(width), "-y", str(height),
         f"script -q -f --log-out {raw} -c \"{cmd}\"")
    tmux("set-option", "-t", "rec", "status", "off")
    time.sleep(1.0)
    d = Driver(pause)
    typed = None
    inputs = None
    inner = None
    if kind == "dash":
        typed = dash_session(d, width)
    elif kind == "nested":
        typed = nested_session(d, width)
    elif kind == "al2":
        typed = al2_session(d, width)
    elif kind == "fish":
        typed = fish_session(d, width)
    elif kind == "zsh-omz":
        omz_session(d, width)
    elif kind == "vi":
        vi_session(d, width)
    elif kind == "repl":
        inputs = repl_session(d, width)
    elif kind == "tmux":
        inner = tmux_session(d, width)
    elif kind == "tmux-split":
        typed = tmux_split_session(d, width)
    elif kind == "tmux-prompt":
        typed = tmux_prompt_session(d, width)
    elif kind == "screen":
        typed = screen_session(d, width)
    elif kind == "psql":
        start_postgres()
        try:
            inputs = psql_session(d, width)
        finally:
            stop_postgres()
    elif kind == "audit":
        audit_session(d, width)
    elif kind == "resize":
        resize_session(d, width)
    else:
        readline_session(d, width)
    time.sleep(1.0)
    tmux("kill-server", check=False)
    time.sleep(0.3)

    with open(raw, "rb") as f:
        data = f.read()
    # `script --log-out` frames the PTY output with its own header and trailer lines;
    # the agent's ipcTempFile.log holds only the PTY output.
    first_nl = data.index(b"\n") + 1
    trailer = data.rfind(b"\nScript done on ")
    pty = data[first_nl: trailer if trailer >= 0 else len(data)]

    dest = os.path.join(OUT, name)
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "ipc.raw"), "wb") as f:
        f.write(pty)
    # Convert as the agent does: script -c "cat <ipcTempFile.log>" <log>, stdin not a tty.
    ipc_dir = f"/var/lib/amazon/ssm/{TARGET}/session/orchestration/{session_id}/Standard_Stream"
    os.makedirs(ipc_dir, exist_ok=True)
    ipc = os.path.join(ipc_dir, "ipcTempFile.log")
    shutil.copyfile(os.path.join(dest, "ipc.raw"), ipc)
    log = os.path.join(dest, "session.log")
    subprocess.run(["script", "-q", "-c", f"cat {ipc}", log], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, check=True)
    shutil.rmtree(f"/var/lib/amazon/ssm/{TARGET}/session/orchestration/{session_id}")
    hist = os.path.join(home, "history.txt")
    # with the commands typed as the key, a history (of a nested shell's part) would hide it
    if os.path.exists(hist) and typed is None:
        with open(hist, "rb") as f:
            lines = f.read()
        if kind.startswith("zsh"):
            lines = unmetafy(lines)
        with open(os.path.join(dest, "history.txt"), "wb") as f:
            f.write(lines)
    if typed is not None:
        with open(os.path.join(dest, "expected_commands.txt"), "w") as f:
            f.write("\n".join(typed) + "\n")
    if inner is not None:
        # the commands of the shell inside the multiplexer, in order
        with open(os.path.join(dest, "expected_inner_commands.txt"), "w") as f:
            f.write("\n".join(inner) + "\n")
    if inputs is not None:
        # program<TAB>line typed into it: the key for the inputs apart from the commands
        with open(os.path.join(dest, "expected_inputs.txt"), "w") as f:
            f.write("\n".join(inputs) + "\n")
    meta = {
        "shell": kind, "width": width, "height": height, "session_id": session_id,
        "target": TARGET,
        "provenance": "recorded on this machine by scripts/record_corpus.py: real "
                      f"{ {'bash': 'bash 5.2', 'audit': 'bash 5.2', 'posix': 'bash 5.2 --posix as sh', 'nomarker': 'bash 5.2, bracketed paste off', 'dash': 'dash 0.5.12', 'nested': 'dash 0.5.12, then bash 5.2 started from it', 'resize': 'bash 5.2, its window resized from 80 to 120 to 70 columns', 'al2': 'bash 5.2 --posix as sh, then bash 5.2 started from it, both with bracketed paste off (as bash 4.2 on Amazon Linux 2)', 'vi': 'bash 5.2 in vi mode', 'repl': 'bash 5.2 running sqlite3 3.40 and python 3.11 (readline)', 'tmux': 'bash 5.2 running tmux 3.3a, a bash 5.2 inside it', 'tmux-split': 'bash 5.2 running tmux 3.3a split in two panes, a bash 5.2 in each, detached and reattached', 'tmux-prompt': 'bash 5.2 running tmux 3.3a, a bash 5.2 with another prompt inside it', 'screen': 'bash 5.2 running GNU screen 4.9.0, a bash 5.2 inside it', 'psql': 'bash 5.2 running psql 15 against a PostgreSQL 15 server', 'zsh': 'zsh 5.9', 'zsh-omz': 'zsh 5.9 with an oh-my-zsh-style prompt and a right prompt', 'fish': 'fish 3.6.0'}[kind] } "
                      f"in tmux {width}x{height}, util-linux script 2.38.1",
    }
    if kind == "resize":
        meta["widths"] = [w for w, _ in RESIZES]
    with open(os.path.join(dest, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    shutil.rmtree(home)
    print(f"{name}: {len(pty)} bytes of PTY output")


def main():
    names = sys.argv[1:] or list(SCENARIOS)
    for name in names:
        kind, w, h = SCENARIOS[name]
        record(name, kind, w, h, pause=0.12)


if __name__ == "__main__":
    main()
