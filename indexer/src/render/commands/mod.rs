//! Commands: what the shell read (bracketed paste, OSC 133, prompts), what was typed into
//! the programs it started ([`programs`]), and which shell a line belongs to
//! ([`regions`]). A second `impl Term` block beside the emulator's: the emulator calls
//! in when a shell marks a line, and these read its screens; they change no cell.

pub mod programs;
pub(super) mod regions;

use super::*;

impl<S: Sink> Term<S> {
    /// At a CR right after a space, in a session whose window was resized: readline's wrap
    /// (a space past the last column, then CR) at another width than the margin's. The
    /// margin moves to it.
    /// - Narrower: the space stands inside the row. On that screen it went to the start of
    ///   the next row: the line wraps here.
    /// - Wider: the row continues one wrapped at the margin, and the space's column on the
    ///   line is readline's width. The continuation goes back on the row above, which
    ///   wraps there.
    #[cold]
    pub(super) fn readline_wrap(&mut self) {
        if self.on_alt || self.saw_marker && self.reading.is_none() {
            return;
        }
        let (r, s) = (self.cur.row as usize, self.cur.col.wrapping_sub(1));
        if s as usize >= self.primary.rows[r].cells.len()
            || self.primary.rows[r].cells[s as usize] != ' '
        {
            return;
        }
        if s >= 10 && s < self.margin && self.wraps.contains(&s) {
            self.margin = s;
            let row = &mut self.primary.rows[r];
            row.set(s as usize, BLANK);
            if row.len == s + 1 {
                row.len = s;
            }
            row.wrapped = true;
            self.linefeed();
            return;
        }
        let (m, c) = (self.margin, self.margin.saturating_add(s));
        if r > 0
            && self.primary.rows[r - 1].wrapped
            && c <= self.primary.cols
            && self.wraps.contains(&c)
        {
            let moved: Vec<char> = self.primary.rows[r].cells[..s as usize].to_vec();
            let above = &mut self.primary.rows[r - 1];
            above.cells[m as usize..c as usize].copy_from_slice(&moved);
            above.len = c;
            self.primary.rows[r].clear();
            self.margin = c;
        }
    }

    /// At a line feed while a command line is read: fish leaves bracketed paste on after
    /// Ctrl-C, so a line that ends in `^C` is finished here, as abandoned. What the next
    /// line's reading carries over, if so.
    #[cold]
    pub(super) fn abandon_at_ctrl_c(&mut self) -> Option<(Method, Option<bool>)> {
        let st = self.reading.as_ref()?;
        if self.on_alt || st.input.is_some() {
            return None;
        }
        let mut row = String::new();
        self.primary.rows[self.cur.row as usize].push_text(0, &mut row, true);
        if !row.ends_with("^C") {
            return None;
        }
        let st = self.reading.take()?;
        let next = (st.method, st.keypad);
        self.finish_input(st);
        Some(next)
    }

    /// The commands of the shell inside a multiplexer: its screen's lines at the prompt the
    /// multiplexer was started at (the shell inside draws the same one), each once, in order,
    /// placed at the line that started the multiplexer.
    ///
    /// A shell inside with another prompt (its own rc file, another user) is found by the
    /// prompt's shape instead, as [`prompt_pattern`] reads shells without markers: the most
    /// common shape among the lines not at the outer prompt.
    pub(super) fn multiplexer_commands(&mut self, prompt: &str, lines: &[String]) {
        let prompt = prompt.trim_end();
        let mut shapes: std::collections::HashMap<String, usize> = Default::default();
        for l in lines {
            if l.starts_with(prompt) {
                continue;
            }
            if let Some((shape, rest, _)) = prompt_pattern(l) {
                if !rest.trim().is_empty() {
                    *shapes.entry(shape).or_default() += 1;
                }
            }
        }
        let inner = shapes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(k, _)| k);
        for l in lines {
            let (text, at) = if let Some(rest) = l.strip_prefix(prompt) {
                (rest.trim(), format!("{prompt} "))
            } else {
                match prompt_pattern(l) {
                    Some((shape, rest, _)) if Some(&shape) == inner.as_ref() => {
                        (rest.trim(), l[..l.len() - rest.len()].to_owned())
                    }
                    _ => continue,
                }
            };
            if text.is_empty() {
                continue;
            }
            // the shell inside is not the one whose lines the regions follow: no region event
            self.keep_command(Command {
                text: text.to_owned(),
                line: self.alt_after_line,
                method: Method::PromptPattern,
                confidence: 0.8,
                prompt: at,
            });
        }
    }

    // ---- commands ---------------------------------------------------------------------

    /// The text of the logical line that starts at primary row `row`, column `col`, and the
    /// index of its last row.
    pub(super) fn logical_text(&self, row: i32, col: u16, trim: bool) -> (String, usize) {
        let mut text = String::new();
        let mut r = if row < 0 {
            if self.out.pending_open {
                text.push_str(&String::from_utf8_lossy(&self.out.pending));
            }
            0
        } else {
            row as usize
        };
        let mut from = if row < 0 { 0 } else { col };
        if row < 0 && !self.out.pending_open {
            return (text, 0);
        }
        loop {
            let rw = &self.primary.rows[r];
            rw.push_text(from, &mut text, trim && !rw.wrapped);
            if !rw.wrapped || r + 1 >= self.primary.rows.len() {
                return (text, r);
            }
            from = 0;
            r += 1;
        }
    }

    pub(super) fn finish_input(&mut self, st: InputStart) {
        let (mut line, end_row) = self.logical_text(st.row, st.col, false);
        let left = self.cur.row as usize > end_row || st.row < 0 && self.cur.row > 0;
        // zsh's right prompt stays on the line
        if let Some(rest) = st
            .rprompt
            .as_deref()
            .and_then(|r| line.trim_end().strip_suffix(r))
        {
            line.truncate(rest.trim_end().len());
        }
        if !left {
            // zsh overwrites what it erased with blanks: blanks past the cursor are not in the
            // line, and when the cursor was left inside it (a history search), neither are
            // blanks at its end
            let on_last_row = st.row >= 0 && self.cur.row as usize == end_row;
            let mut tail = String::new();
            if on_last_row {
                self.primary.rows[end_row].push_text(self.cur.col, &mut tail, false);
            }
            if on_last_row && tail.bytes().all(|b| b == b' ') && line.ends_with(&tail) {
                line.truncate(line.len() - tail.len());
            } else if st.after_prompt {
                line.truncate(line.trim_end_matches(' ').len());
            }
        }
        // bash turns the marker off after its newline: the cursor has left the line, unless
        // Ctrl-C (`^C`) abandoned it. zsh turns it off before its newline, on accept and on
        // Ctrl-C alike (no `^C`): its line-finish hook, where set, tells them apart.
        let cancelled = line.trim_end().ends_with("^C");
        let accepted =
            !cancelled && (left || st.method == Method::BracketedPaste && st.keypad != Some(false));
        let (text, method, confidence) = match st.input {
            Some((r, c)) if r >= 0 => {
                let (input, _) = self.logical_text(r, c, false);
                (input, Method::Osc133, 1.0)
            }
            // the prompt is before where the line started, unless bash drew it after the
            // marker, after output that did not end its line
            _ if st.after_prompt => match prompt_pattern(&line).map(|(_, rest, _)| rest.len()) {
                Some(rest) => (line[line.len() - rest..].to_owned(), st.method, 0.9),
                // the prompt (zsh's) was cut off where the marker came: it is `last_prompt`
                None => (std::mem::take(&mut line), st.method, 0.95),
            },
            _ => {
                // what the prompt was is not marked: take it off by pattern
                if line.ends_with(' ') && !accepted {
                    line.truncate(line.trim_end().len());
                }
                let (prompt_len, conf) = self.strip_prompt(&line);
                (line[prompt_len..].to_owned(), st.method, conf)
            }
        };
        let number = self.line_number_of_row(st.row.max(0) as usize);
        if accepted {
            if text.trim().is_empty() {
                self.out.regions.push(number, regions::Event::Empty);
                return;
            }
            let prompt = match line.strip_suffix(text.as_str()) {
                Some(p) if !line.is_empty() => p.to_owned(),
                _ if st.after_prompt => self.last_prompt.clone().unwrap_or_default(),
                _ => String::new(),
            };
            self.push_command(Command {
                text,
                line: number,
                method,
                confidence,
                prompt,
            });
        } else if let Some(t) = text
            .trim_end()
            .strip_suffix("^C")
            .or((st.keypad == Some(false)).then_some(text.trim_end()))
        {
            // bash toggles the marker twice after Ctrl-C: count the line once
            let seen = self
                .cancelled
                .last()
                .is_some_and(|c| c.line == number && c.text == t);
            if !t.trim().is_empty()
                && !seen
                && self.out.sink.keep_commands()
                && self.out.budget.admit(t.len(), 0)
            {
                self.cancelled.push(Command {
                    text: t.to_owned(),
                    line: number,
                    method,
                    confidence,
                    prompt: String::new(),
                });
            }
        }
    }

    /// A marked shell reads the line on `row` and those after it.
    pub(super) fn marked_prompt(&mut self, row: i32) {
        let line = self.line_number_of_row(row.max(0) as usize);
        self.out.regions.push(line, regions::Event::Marked);
    }

    pub(super) fn push_command(&mut self, c: Command) {
        let event = regions::event_of(&c.text);
        if event != regions::Event::Marked {
            self.out.regions.push(c.line, event);
        }
        self.keep_command(c);
    }

    /// Keep a command within the budget, or count it.
    pub(super) fn keep_command(&mut self, c: Command) {
        // what a full-screen program started next was started by, kept or not
        self.last_multiplexer = programs::is_multiplexer(&c.text).then(|| c.clone());
        if self.out.sink.keep_commands() {
            if self.out.budget.admit(c.text.len(), 0) {
                self.commands.push(c);
            } else {
                self.out.budget.dropped += 1;
            }
        }
    }

    /// Length of the prompt at the start of `line`, and the confidence in the split.
    pub(super) fn strip_prompt(&mut self, line: &str) -> (usize, f32) {
        if let Some(p) = &self.last_prompt {
            if line.starts_with(p.as_str()) {
                return (p.len(), 0.95);
            }
        }
        if let Some(end) = prompt_end(line) {
            self.last_prompt = Some(line[..end].to_owned());
            return (end, 0.9);
        }
        (0, 0.5)
    }

    /// The text of the cursor's row, left and right of the cursor.
    pub(super) fn row_around_cursor(&self) -> (String, String) {
        let mut row = String::new();
        self.primary.rows[self.cur.row as usize].push_text(0, &mut row, false);
        let (mut col, mut end) = (0u16, 0);
        for (i, c) in row.char_indices() {
            if col >= self.cur.col {
                break;
            }
            col += char_width(c) as u16;
            end = i + c.len_utf8();
        }
        let right = row.split_off(end);
        (row, right)
    }

    pub(super) fn bracketed_paste(&mut self, on: bool) {
        if self.on_alt {
            return; // vim and friends toggle it too
        }
        self.saw_marker = true;
        if on {
            self.marked_prompt(self.cur.row as i32);
            // zsh turns the marker on after drawing its prompt, whatever its shape (`➜  ~ `):
            // known, it is cut off the line again after Ctrl-L redraws it
            let (head, right) = if self.cur.col > 0 {
                self.row_around_cursor()
            } else {
                Default::default()
            };
            let after_prompt = !head.trim().is_empty();
            let mut rprompt = None;
            if after_prompt {
                self.last_prompt = Some(head);
                rprompt = Some(right.trim().to_owned()).filter(|r| !r.is_empty());
            }
            self.reading = Some(InputStart {
                row: self.cur.row as i32,
                col: self.cur.col,
                input: None,
                method: Method::BracketedPaste,
                keypad: self.app_cursor.then_some(false),
                after_prompt,
                rprompt,
            });
        } else if let Some(st) = self.reading.take() {
            self.finish_input(st);
        }
    }

    pub(super) fn osc133(&mut self, kind: u8) {
        if self.on_alt {
            return;
        }
        self.saw_marker = true;
        let here = (self.cur.row as i32, self.cur.col);
        self.marked_prompt(here.0);
        match kind {
            b'A' => {
                self.reading = Some(InputStart {
                    row: here.0,
                    col: here.1,
                    input: None,
                    method: Method::Osc133,
                    keypad: None,
                    after_prompt: false,
                    rprompt: None,
                })
            }
            b'B' => match &mut self.reading {
                Some(st) => st.input = Some(here),
                None => {
                    self.reading = Some(InputStart {
                        row: here.0,
                        col: here.1,
                        input: Some(here),
                        method: Method::Osc133,
                        keypad: None,
                        after_prompt: false,
                        rprompt: None,
                    })
                }
            },
            b'C' => {
                if let Some(mut st) = self.reading.take() {
                    // C comes before the newline: the line is accepted by definition
                    let (text, _) = match st.input {
                        Some((r, c)) => self.logical_text(r, c, false),
                        None => self.logical_text(st.row, st.col, false),
                    };
                    st.method = Method::Osc133;
                    if !text.trim().is_empty() {
                        let line = self.line_number_of_row(st.row.max(0) as usize);
                        let (text, confidence, prompt) = match st.input {
                            Some(_) => (text, 1.0, String::new()),
                            None => {
                                let (p, c) = self.strip_prompt(&text);
                                (text[p..].to_owned(), c, text[..p].to_owned())
                            }
                        };
                        self.push_command(Command {
                            text,
                            line,
                            method: Method::Osc133,
                            confidence,
                            prompt,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn finish(mut self) -> (RenderSummary, S) {
        if self.on_alt {
            self.leave_alt(true);
        }
        // a line still being typed when the session ended was never run
        self.reading = None;
        self.flush_primary();
        let mut commands = std::mem::take(&mut self.commands);
        let mut cancelled = std::mem::take(&mut self.cancelled);
        let mut commands_dropped = self.out.budget.dropped;
        // the unmarked shells, each group of lines on its own (one group, every line, in a
        // session without markers), merged with the marked commands by line
        let mut groups: std::collections::BTreeMap<u64, Vec<(String, Command)>> =
            Default::default();
        for (k, c, g) in std::mem::take(&mut self.out.candidates) {
            groups.entry(g).or_default().push((k, c));
        }
        // in a session with markers, the shell it began in must have started a shell (a
        // marked one): else its "prompts" are lines of output before the first marked
        // prompt (a banner)
        let outer = !self.saw_marker || self.out.regions.outer_launched;
        for (g, cands) in groups {
            if g != 0 || outer {
                let (c, x) = choose_prompt_commands(cands);
                commands.extend(c);
                cancelled.extend(x);
            }
        }
        commands.sort_by_key(|c| c.line);
        cancelled.sort_by_key(|c| c.line);
        if outer || self.out.regions.nested {
            commands_dropped += self.out.budget.candidates_dropped;
        }
        // lines typed into sqlite3, psql, python ... are theirs, not the shell's
        let program_lines = std::mem::take(&mut self.out.program_lines);
        let (commands, inputs) = programs::split_inputs(commands, program_lines);
        let summary = RenderSummary {
            lines: self.out.lines,
            commands,
            inputs,
            cancelled,
            alternate_screens: self.alt_count,
            exit_code_line: self.out.exit_code_line,
            commands_dropped,
            long_lines_split: self.out.long_lines_split,
            repeats_capped: self.out.repeats_capped,
        };
        (summary, self.out.sink)
    }
}

/// End of a prompt at the start of `line`: just past the first `$ `, `# `, `% ` or `> `.
pub(super) fn prompt_end(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let limit = bytes.len().min(256);
    (0..limit.saturating_sub(1))
        .find(|&i| matches!(bytes[i], b'$' | b'#' | b'%' | b'>') && bytes[i + 1] == b' ')
        .map(|i| i + 2)
}

/// [`prompt_end`] for [`prompt_pattern`], which takes a prompt of one word only (or a
/// bracketed or PowerShell one): its mark stands right before the line's first space, so only
/// that is looked at (a line of output costs one `memchr`, not a scan of 256 bytes).
pub(super) fn one_word_prompt_end(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    if bytes.starts_with(b"[") || bytes.starts_with(b"PS ") {
        return prompt_end(line);
    }
    let space = memchr::memchr(b' ', &bytes[..bytes.len().min(256)])?;
    (space > 0 && matches!(bytes[space - 1], b'$' | b'#' | b'%' | b'>')).then_some(space + 1)
}

/// A rendered line that starts with something shaped like a shell prompt: the prompt's shape
/// (so `user@host:~$ ` and `user@host:/tmp$ ` count as one), the command and a confidence.
pub(super) fn prompt_pattern(line: &str) -> Option<(String, &str, f32)> {
    let end = one_word_prompt_end(line)?;
    let prompt = &line[..end];
    // a prompt is one word, or a bracketed `[user@host dir]$ `
    // PowerShell's `PS C:\Windows\system32> ` (Windows) and `PS /home/ssm-user> ` (pwsh)
    let powershell = prompt.starts_with("PS ") && prompt.ends_with("> ");
    let shape_ok = if prompt.starts_with('[') {
        // `[user@host dir]$ `: spaces only inside the brackets
        prompt.find(']').is_some_and(|b| b + 3 == end)
    } else {
        powershell || !prompt[..end - 2].contains(' ')
    };
    if !shape_ok {
        return None;
    }
    if powershell {
        return Some(("PS *> ".to_owned(), &line[end..], 0.7));
    }
    let key: String = match (prompt.find(':'), prompt.find(' ')) {
        (Some(colon), _) if !prompt.starts_with('[') => {
            format!("{}:*{}", &prompt[..colon], &prompt[end - 2..])
        }
        (_, Some(space)) if prompt.starts_with('[') => {
            format!("{} *{}", &prompt[..space], &prompt[end - 2..])
        }
        _ => prompt.to_owned(),
    };
    Some((key, &line[end..], 0.7))
}

/// Keep the candidates of the most common prompt shape: lines of output that happen to start
/// with `# ` or `$ ` are then left out. A shell started from a kept line (`sh-4.2$ sudo su -`)
/// has the next prompt's shape (`[root@ip-10-0-3-17 ~]# `), kept too; so does the shell a
/// kept one was started from, whatever the more common shape is.
pub(super) fn choose_prompt_commands(
    cands: Vec<(String, Command)>,
) -> (Vec<Command>, Vec<Command>) {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (k, c) in &cands {
        if !c.text.trim().is_empty() {
            *counts.entry(k.as_str()).or_default() += 1;
        }
    }
    let Some(best) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, _)| k)
    else {
        return (Vec::new(), Vec::new());
    };
    let mut kept = std::collections::HashSet::from([best]);
    let launches: Vec<bool> = cands
        .iter()
        .map(|(_, c)| regions::starts_shell(&c.text))
        .collect();
    loop {
        let mut grew = false;
        for (i, w) in cands.windows(2).enumerate() {
            let (from, next) = (w[0].0.as_str(), w[1].0.as_str());
            if launches[i] && kept.contains(from) != kept.contains(next) {
                kept.insert(from);
                kept.insert(next);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let kept: std::collections::HashSet<String> = kept.into_iter().map(str::to_owned).collect();
    let mut commands = Vec::new();
    let mut cancelled = Vec::new();
    for (k, mut c) in cands {
        if !kept.contains(&k) || c.text.trim().is_empty() {
            continue;
        }
        if let Some(t) = c.text.trim_end().strip_suffix("^C") {
            c.text = t.to_owned();
            if !c.text.trim().is_empty() {
                cancelled.push(c);
            }
        } else {
            commands.push(c);
        }
    }
    (commands, cancelled)
}
