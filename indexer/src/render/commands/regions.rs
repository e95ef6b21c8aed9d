//! Which shell reads the command lines where, in a session that changes shells.
//!
//! A shell with markers (bracketed paste, OSC 133) tells where each of its command lines is.
//! One without (dash, bash 4, busybox) does not: its command lines are found by prompt
//! pattern. One session often has both: Ubuntu's Session Manager shell is dash, and the first
//! thing typed is `bash` or `sudo -i`; the marked shell may start an unmarked one (`sh`), and
//! after its `exit` the unmarked shell that started it reads lines again.
//!
//! Lines are told apart by line number, from what the marked shells did: a marked shell shows
//! a prompt on a line (it reads the lines after it, until a command of its own ends it); its
//! accepted `exit` hands the lines after it back to the shell that started it; its accepted
//! `bash`, `sudo -i`, `su -` ... hands them to a nested shell. Lines the marked shell reads
//! (its commands' output) are never taken for prompts: `cat` of a config file is full of
//! `# ` lines.

use std::collections::VecDeque;

/// Who reads the lines after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::render) enum Event {
    /// a marked shell showed its prompt, or ran a command of its own
    Marked,
    /// a marked shell accepted `exit` or `logout`
    Exited,
    /// a marked shell accepted a command that starts an interactive shell
    Launched,
    /// a marked shell's line ended with nothing on it: Enter, or Ctrl-D, after which bash
    /// writes `exit` (or `logout`) on the next line and ends
    Empty,
}

/// Which prompt-pattern candidates a line may give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::render) enum Region {
    /// the unmarked shell the session began in (before any marker, or after a marked shell
    /// exited): group 0
    Outer,
    /// a shell started by a marked shell's command on the given line: a group of its own
    Nested(u64),
    /// a marked shell reads it, or it is a marked shell's prompt line: no candidate
    Marked,
}

impl Region {
    /// Candidates of one group share a shell, hence a prompt shape.
    pub(in crate::render) fn group(self) -> Option<u64> {
        match self {
            Region::Outer => Some(0),
            Region::Nested(line) => Some(line),
            Region::Marked => None,
        }
    }
}

/// The events of the marked shells by line, as far back as the lines not yet emitted need.
#[derive(Debug, Default)]
pub(in crate::render) struct Regions {
    /// the last event on a line before the last line asked about
    last: Option<(u64, Event)>,
    /// the events since, in line order
    events: VecDeque<(u64, Event)>,
    /// a line of the shell the session began in ran a command that starts a shell: it is a
    /// shell, and its lines are read (see [`Region::Outer`])
    pub(in crate::render) outer_launched: bool,
    /// a marked shell started another shell
    pub(in crate::render) nested: bool,
}

/// Events kept at most, whatever happens: older ones are forgotten (lines are emitted long
/// before this many commands pile up on one screen).
const MAX_EVENTS: usize = 4096;

impl Regions {
    pub(in crate::render) fn push(&mut self, line: u64, event: Event) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.nested |= event == Event::Launched;
        self.events.push_back((line, event));
    }

    /// The region of line `n`. Lines are asked about in increasing order (a line for each
    /// line of text: this is on the renderer's hot path).
    #[inline]
    pub(in crate::render) fn of(&mut self, n: u64) -> Region {
        match self.events.front() {
            Some(&(line, _)) if line < n => return self.past(n),
            Some(&(line, _)) if line == n => return self.at(n),
            _ => {}
        }
        self.after_last()
    }

    /// [`Regions::of`] once events before `n` are to be dropped.
    #[cold]
    fn past(&mut self, n: u64) -> Region {
        while self.events.front().is_some_and(|e| e.0 < n) {
            self.last = self.events.pop_front();
        }
        self.at(n)
    }

    /// [`Regions::of`] once the next event is at `n` or after.
    fn at(&self, n: u64) -> Region {
        if self
            .events
            .iter()
            .take_while(|e| e.0 == n)
            .any(|e| e.1 == Event::Marked)
        {
            return Region::Marked;
        }
        self.after_last()
    }

    /// The region after the last event before the line asked about.
    #[inline]
    fn after_last(&self) -> Region {
        match self.last {
            None | Some((_, Event::Exited)) => Region::Outer,
            Some((_, Event::Marked | Event::Empty)) => Region::Marked,
            Some((line, Event::Launched)) => Region::Nested(line),
        }
    }

    /// Line `n`, of text `text`, is in a marked shell's region: if it is the `exit` bash
    /// writes on Ctrl-D (right after an empty line), the shell ended there.
    #[inline]
    pub(in crate::render) fn marked_line(&mut self, n: u64, text: &str) {
        if matches!(self.last, Some((l, Event::Empty)) if l + 1 == n)
            && matches!(text.trim_end(), "exit" | "logout")
        {
            self.last = Some((n, Event::Exited));
        }
    }
}

/// What an accepted command does to the shell reading the lines after it.
pub(in crate::render) fn event_of(command: &str) -> Event {
    let mut words = command.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("exit" | "logout"), None, _) | (Some("exit"), Some(_), None) => Event::Exited,
        _ if starts_shell(command) => Event::Launched,
        _ => Event::Marked,
    }
}

/// [`launches_shell`] for a command line.
pub(in crate::render) fn starts_shell(command: &str) -> bool {
    // most commands start with none of these: told at once, with no allocation
    let first = command.split_whitespace().next().unwrap_or_default();
    let name = first.rsplit('/').next().unwrap_or(first);
    if !matches!(name, "exec" | "sudo" | "su" | "busybox" | "ssh")
        && !SHELLS.contains(&name)
        && !INTO.contains(&name)
    {
        return false;
    }
    launches_shell(&command.split_whitespace().collect::<Vec<_>>())
}

const SHELLS: [&str; 10] = [
    "sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "csh", "tcsh", "fish",
];

/// Tools that run a program somewhere else (a container, a pod, a root): a shell when the
/// program named last is one (`docker exec -it web bash`, `kubectl exec -it api -- /bin/sh`).
const INTO: [&str; 10] = [
    "docker",
    "podman",
    "nerdctl",
    "kubectl",
    "oc",
    "chroot",
    "nsenter",
    "lxc-attach",
    "machinectl",
    "toolbox",
];

/// ssh's options that take a value.
const SSH_VALUE_OPTIONS: &str = "BbcDEeFIiJLlmOopQRSWw";

/// Whether a command starts an interactive shell: `bash`, `sh -l`, `exec bash`, `sudo -i`,
/// `sudo -s`, `sudo su -`, `su - alice`, `sudo -u bob bash`, `busybox sh`, `ssh host`,
/// `docker exec -it web bash`. A shell given a script or `-c`, or ssh given a command, is
/// not one.
pub(in crate::render) fn launches_shell(words: &[&str]) -> bool {
    let mut w = words;
    if w.first() == Some(&"exec") {
        w = &w[1..];
    }
    if w.first() == Some(&"sudo") {
        w = &w[1..];
        let mut login = false;
        while let Some(&o) = w.first().filter(|o| o.starts_with('-')) {
            w = &w[1..];
            if o == "--login" || o == "--shell" {
                login = true;
            } else if let Some(flags) = o.strip_prefix('-').filter(|f| !f.starts_with('-')) {
                // short options, alone or together (`-iu alice`); the last may take a value
                login |= flags.contains(['i', 's']);
                if flags.ends_with(['u', 'g', 'h', 'p', 'C', 'D', 'r', 't', 'U']) {
                    w = w.get(1..).unwrap_or_default();
                }
            }
        }
        if w.is_empty() {
            return login;
        }
    }
    let Some((&first, rest)) = w.split_first() else {
        return false;
    };
    let name = first.rsplit('/').next().unwrap_or(first);
    let options_only = |r: &[&str]| r.iter().all(|a| a.starts_with('-') && *a != "-c");
    match name {
        "su" => {
            // `su`, `su -`, `su - alice`, `su -l alice`: options and at most a user
            !rest.contains(&"-c")
                && !rest.contains(&"--command")
                && rest.iter().filter(|a| !a.starts_with('-')).count() <= 1
        }
        "busybox" => matches!(rest.split_first(), Some((&("sh" | "ash"), r)) if options_only(r)),
        "ssh" => {
            // options (some with a value) and the host alone: no remote command
            let mut hosts = 0;
            let mut r = rest;
            while let Some((&a, more)) = r.split_first() {
                r = more;
                match a.strip_prefix('-') {
                    // `-tt`, `-p 22`, `-p22`, `-oBatchMode=yes`: the first option that takes
                    // a value takes the rest of the word, or the next word
                    Some(o) => {
                        let value = o.find(|c| SSH_VALUE_OPTIONS.contains(c));
                        if value.is_some_and(|i| i + 1 == o.len()) {
                            r = r.get(1..).unwrap_or_default();
                        }
                    }
                    None => hosts += 1,
                }
            }
            hosts == 1
        }
        _ if INTO.contains(&name) => rest.last().is_some_and(|l| {
            let last = l.rsplit('/').next().unwrap_or(l);
            SHELLS.contains(&last) && !rest.contains(&"-c")
        }),
        _ if SHELLS.contains(&name) => options_only(rest),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_that_start_a_shell() {
        for c in [
            "bash",
            "sh",
            "bash -l",
            "/bin/bash --login",
            "exec bash",
            "sudo -i",
            "sudo -s",
            "sudo su",
            "sudo su -",
            "sudo -u postgres bash",
            "sudo -iu alice",
            "sudo -E -s",
            "su - alice",
            "su",
            "busybox sh",
            "zsh",
            "ssh bastion",
            "ssh -i ~/.ssh/id -p 2222 ec2-user@10.0.3.17",
            "ssh -oStrictHostKeyChecking=no -tt -p2222 bastion",
            "docker exec -it web bash",
            "kubectl exec -it api-0 -- /bin/sh",
            "sudo chroot /mnt bash",
        ] {
            let w: Vec<&str> = c.split_whitespace().collect();
            assert!(launches_shell(&w), "{c}");
        }
        for c in [
            "bash script.sh",
            "sh -c 'ls'",
            "sudo ls",
            "sudo cat /etc/shadow",
            "sudo -u bob ls",
            "su -c id alice",
            "ls",
            "sudo",
            "exec",
            "busybox ls",
            "ssh bastion uptime",
            "ssh -p 2222",
            "docker ps",
            "kubectl exec api-0 -- sh -c ls",
            "",
        ] {
            let w: Vec<&str> = c.split_whitespace().collect();
            assert!(!launches_shell(&w), "{c}");
        }
    }

    #[test]
    fn exit_hands_lines_back() {
        assert_eq!(event_of("exit"), Event::Exited);
        assert_eq!(event_of("exit 0"), Event::Exited);
        assert_eq!(event_of("logout"), Event::Exited);
        assert_eq!(event_of("exit; echo"), Event::Marked);
        assert_eq!(event_of("sudo -i"), Event::Launched);
        assert_eq!(event_of("ls -l"), Event::Marked);
    }

    #[test]
    fn regions_follow_the_events_by_line() {
        let mut r = Regions::default();
        // dash on lines 1-2; bash's prompt on 3 (`exit` accepted there); dash again from 5;
        // `bash` again on 7, then bash runs `sh` on 8
        r.push(3, Event::Marked);
        r.push(3, Event::Exited);
        r.push(7, Event::Marked);
        r.push(8, Event::Marked);
        r.push(8, Event::Launched);
        let got: Vec<Region> = (1..=10).map(|n| r.of(n)).collect();
        use Region::*;
        let (o, m, n) = (Outer, Marked, Nested(8));
        assert_eq!(got, [o, o, m, o, o, o, m, m, n, n]);
        // Ctrl-D: an empty line, then `exit` on the next; `exit` written by a command is not it
        let mut r = Regions::default();
        r.push(2, Event::Marked);
        r.push(2, Event::Empty);
        r.push(5, Event::Marked);
        r.push(7, Event::Marked);
        r.push(7, Event::Empty);
        let mut got = Vec::new();
        for (line, text) in (1..=9).zip(["a", "b", "exit", "d", "$ x", "exit", "g", "exit", "$ y"])
        {
            let region = r.of(line);
            if region == Marked {
                r.marked_line(line, text);
            }
            got.push(region);
        }
        assert_eq!(got, [o, m, m, o, m, m, m, m, o]);
    }
}
