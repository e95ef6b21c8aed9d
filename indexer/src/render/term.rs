//! The emulator's screens: the cursor, scrolling, printing, the alternate screen and the
//! multiplexer's; what leaves the primary screen goes to the [`Output`]. It knows nothing
//! of shells: the command tracking in [`super::commands`] reads what it keeps.

use super::*;

impl<S: Sink> Term<S> {
    pub(super) fn new(opts: RenderOptions, sink: S) -> Term<S> {
        let cols = opts.cols.clamp(2, MAX_COLS);
        let rows = opts.rows.clamp(2, MAX_ROWS);
        Term {
            ground: true,
            out: Output {
                sink,
                lines: 0,
                pending: Vec::new(),
                pending_open: false,
                long_lines_split: 0,
                repeats_capped: 0,
                exit_code_line: None,
                candidates: Vec::new(),
                program_lines: Vec::new(),
                budget: CommandBudget::new(opts.max_command_bytes),
                regions: regions::Regions::default(),
            },
            primary: Grid::new(cols, rows),
            alt: Grid::new(cols, rows),
            on_alt: false,
            cur: Cursor::default(),
            saved: [Saved::default(); 2],
            tabs: default_tabs(cols),
            top: 0,
            bottom: rows - 1,
            autowrap: true,
            slow_print: false,
            lf_is_newline: opts.lf_is_newline,
            wraps: {
                // those that fit, first, so `wraps[1] == 0` says there is one width at most
                let mut w = opts.wraps.map(|w| if w <= cols { w } else { 0 });
                w.sort_unstable_by(|a, b| b.cmp(a));
                w
            },
            margin: cols,
            insert: false,
            origin: false,
            charsets: Charsets::default(),
            last_char: ' ',
            reading: None,
            app_cursor: false,
            saw_marker: false,
            last_prompt: None,
            commands: Vec::new(),
            cancelled: Vec::new(),
            alt_scrolled: Vec::new(),
            alt_truncated: false,
            alt_after_line: 0,
            alt_count: 0,
            last_snapshot: None,
            multiplexer: None,
            mux: None,
            mux_detached: None,
            last_multiplexer: None,
            plain_spans: Vec::new(),
            plain_skip: 0,
        }
    }

    pub(super) fn height(&self) -> u16 {
        self.primary.height()
    }

    pub(super) fn grid(&mut self) -> &mut Grid {
        if self.on_alt {
            &mut self.alt
        } else {
            &mut self.primary
        }
    }

    // ---- output of the primary screen -------------------------------------------------

    /// The number the logical line holding primary row `r` will get when it is emitted.
    pub(super) fn line_number_of_row(&self, r: usize) -> u64 {
        let r = r.min(self.primary.rows.len());
        let starts = self
            .primary
            .rows
            .range(..r)
            .filter(|row| !row.wrapped)
            .count() as u64;
        self.out.lines + 1 + starts
    }

    /// Emit every used row of the primary screen, then blank it.
    pub(super) fn flush_primary(&mut self) {
        if let Some(last) = self.primary.last_used_row() {
            for row in self.primary.rows.range(..=last) {
                self.out.push_row(row);
            }
        }
        self.out.close_pending();
        self.primary.clear_all();
    }

    pub(super) fn scroll_up(&mut self, top: u16, bottom: u16, n: u16) {
        let (top, bottom, n) = (top as usize, bottom as usize, n as usize);
        if let (true, Some(m)) = (self.on_alt, &mut self.mux) {
            self.alt.scroll_up(top, bottom, n, |row| {
                let mut s = String::new();
                row.push_text(0, &mut s, true);
                m.scrolled_off(top, s, MAX_ALT_SCROLLBACK);
            });
        } else if self.on_alt {
            let scrolled = &mut self.alt_scrolled;
            let truncated = &mut self.alt_truncated;
            self.alt.scroll_up(top, bottom, n, |row| {
                if top == 0 {
                    if scrolled.len() < MAX_ALT_SCROLLBACK {
                        let mut s = String::new();
                        row.push_text(0, &mut s, true);
                        scrolled.push(s);
                    } else {
                        *truncated = true;
                    }
                }
            });
        } else {
            let out = &mut self.out;
            // Rows leaving a region that does not start at the top row never reach a
            // terminal's scrollback either; they are not part of the text.
            self.primary.scroll_up(top, bottom, n, |row| {
                if top == 0 {
                    out.push_row(row);
                }
            });
            if let Some(st) = &mut self.reading {
                shift_row(&mut st.row, top, bottom, -(n as i32));
                if let Some((r, _)) = &mut st.input {
                    shift_row(r, top, bottom, -(n as i32));
                }
            }
        }
    }

    pub(super) fn scroll_down(&mut self, top: u16, bottom: u16, n: u16) {
        let (top, bottom, n) = (top as usize, bottom as usize, n as usize);
        self.grid().scroll_down(top, bottom, n);
        if !self.on_alt {
            if let Some(st) = &mut self.reading {
                shift_row(&mut st.row, top, bottom, n as i32);
            }
        }
    }

    pub(super) fn linefeed(&mut self) {
        self.cur.pending_wrap = false;
        let next = if self.reading.is_some() {
            self.abandon_at_ctrl_c()
        } else {
            None
        };
        if self.cur.row == self.bottom {
            self.scroll_up(self.top, self.bottom, 1);
        } else if self.cur.row + 1 < self.height() {
            self.cur.row += 1;
        }
        if let Some((method, keypad)) = next {
            // the next line is read on the next row
            self.reading = Some(InputStart {
                row: self.cur.row as i32,
                col: 0,
                input: None,
                method,
                keypad,
                after_prompt: false,
                rprompt: None,
            });
        }
    }

    pub(super) fn reverse_index(&mut self) {
        self.cur.pending_wrap = false;
        if self.cur.row == self.top {
            self.scroll_down(self.top, self.bottom, 1);
        } else if self.cur.row > 0 {
            self.cur.row -= 1;
        }
    }

    // ---- printing ---------------------------------------------------------------------

    pub(super) fn sync_modes(&mut self) {
        self.slow_print = !self.charsets.is_plain() || self.insert;
    }

    /// The common case, kept small enough to inline into vte's loop: printable ASCII inside
    /// the row, nothing pending, no special mode.
    #[inline(always)]
    pub(super) fn print_fast(&mut self, c: char) -> bool {
        if (c as u32) >= 0x7f || self.slow_print || self.cur.pending_wrap {
            return false;
        }
        let (r, col) = (self.cur.row as usize, self.cur.col as usize);
        if col + 1 >= self.margin as usize {
            return false;
        }
        let row = if self.on_alt {
            &mut self.alt.rows[r]
        } else {
            &mut self.primary.rows[r]
        };
        if row.spacers || !row.marks.is_empty() {
            return false;
        }
        row.cells[col] = c;
        if col as u16 >= row.len {
            row.len = col as u16 + 1;
        }
        self.cur.col += 1;
        self.last_char = c;
        true
    }
}

impl<S: Sink> Term<S> {
    /// Output scrolling the whole primary screen, one plain line at a time, is the bulk of a
    /// long transcript: the cursor at the start of a blank bottom row, nothing being typed.
    pub(super) fn scrolls_plain_lines(&self) -> bool {
        let bottom = self.bottom as usize;
        let rows = &self.primary.rows;
        let blank = |r: &Row| r.len == 0 && !r.wrapped && !r.spacers && r.marks.is_empty();
        !self.on_alt
            && self.reading.is_none()
            && !self.slow_print
            && self.cur.col == 0
            && !self.cur.pending_wrap
            && self.top == 0
            && self.cur.row == self.bottom
            && bottom + 1 == rows.len()
            && !self.out.pending_open
            && blank(&rows[bottom])
            && (bottom == 0 || !rows[bottom - 1].wrapped)
    }

    #[inline(never)]
    pub(super) fn print_char(&mut self, c: char) {
        let c = if self.charsets.is_plain() {
            c
        } else {
            let c = self.charsets.active().map(c);
            if self.charsets.single.take().is_some() {
                self.sync_modes();
            }
            c
        };
        let w = char_width(c);
        if w == 0 {
            self.combine(c);
            return;
        }
        self.last_char = c;
        let cols = self.margin;
        if self.cur.pending_wrap {
            if self.autowrap {
                self.wrap();
            } else {
                self.cur.pending_wrap = false;
            }
        }
        if w == 2 && self.cur.col + 1 >= cols {
            if self.autowrap {
                // the wide character does not fit: the last column stays empty
                let (r, col) = (self.cur.row as usize, self.cur.col as usize);
                let row = &mut self.grid().rows[r];
                row.set(col, SPACER);
                row.spacers = true;
                row.len = row.len.max(col as u16 + 1);
                self.wrap();
            } else {
                self.cur.col = cols.saturating_sub(2);
            }
        }
        let (r, col) = (self.cur.row as usize, self.cur.col as usize);
        let insert = self.insert;
        let ncols = self.margin as usize;
        let row = &mut self.grid().rows[r];
        if insert {
            row.cells[col..ncols].rotate_right(w as usize);
            row.shift_marks(col, w as isize);
            row.len = (row.len + w as u16).min(ncols as u16);
        }
        // overwriting half of a wide character blanks the other half
        if row.cells[col] == SPACER && col > 0 && char_width(row.cells[col - 1]) == 2 {
            row.set(col - 1, BLANK);
        }
        if col + (w as usize) < ncols && row.cells[col + w as usize] == SPACER {
            row.set(col + w as usize, BLANK);
        }
        row.set(col, c);
        if w == 2 {
            row.set(col + 1, SPACER);
            row.spacers = true;
        }
        let end = (col + w as usize) as u16;
        if end > row.len {
            row.len = end;
        }
        if end >= cols {
            self.cur.col = cols - 1;
            self.cur.pending_wrap = true;
        } else {
            self.cur.col = end;
        }
    }

    pub(super) fn wrap(&mut self) {
        let r = self.cur.row as usize;
        let margin = self.margin;
        let row = &mut self.grid().rows[r];
        row.wrapped = true;
        // the row runs to the margin, blanks too (a row erased with the wrap pending): the
        // line continues on the next row after them
        row.len = row.len.max(margin.min(row.cells.len() as u16));
        self.linefeed();
        self.cur.col = 0;
    }

    /// A zero-width character joins the character before the cursor.
    pub(super) fn combine(&mut self, c: char) {
        let (r, mut col) = (self.cur.row as usize, self.cur.col as usize);
        if !self.cur.pending_wrap {
            if col == 0 {
                return;
            }
            col -= 1;
        }
        let row = &mut self.grid().rows[r];
        if col > 0 && row.cells[col] == SPACER {
            col -= 1;
        }
        if col as u16 >= row.len {
            return;
        }
        row.mark(col, c);
    }

    // ---- screens ----------------------------------------------------------------------

    /// To the next tab stop, or the last column.
    pub(super) fn tab_forward(&mut self) {
        let last = self.margin - 1;
        let from = self.cur.col as usize + 1;
        let next = (from..=last as usize).find(|&c| self.tabs.get(c).copied().unwrap_or(false));
        self.cur.col = next.map_or(last, |c| c as u16);
    }

    /// To the previous tab stop, or the first column.
    pub(super) fn tab_back(&mut self) {
        let to = self.cur.col as usize;
        let prev = (1..to)
            .rev()
            .find(|&c| self.tabs.get(c).copied().unwrap_or(false));
        self.cur.col = prev.unwrap_or(0) as u16;
        self.cur.pending_wrap = false;
    }

    pub(super) fn decaln(&mut self) {
        self.top = 0;
        self.bottom = self.height() - 1;
        self.origin = false;
        let cols = self.grid().cols as usize;
        for row in self.grid().rows.iter_mut() {
            // one pass: what was past the margin is blanked, the rest overwritten
            let len = row.len as usize;
            if len > cols {
                row.cells[cols..len].fill(grid::BLANK);
            }
            row.cells[..cols].fill('E');
            row.marks.clear();
            row.len = cols as u16;
            row.wrapped = false;
            row.spacers = false;
        }
        // the cursor stays where it was, as alacritty and tmux leave it (VT510 homes it)
        self.cur.pending_wrap = false;
    }

    /// DECSC: into the slot of the screen shown.
    pub(super) fn save_cursor(&mut self) {
        self.saved[self.on_alt as usize] = Saved {
            cur: self.cur,
            charsets: self.charsets,
            origin: self.origin,
        };
    }

    /// DECRC: from the slot of the screen shown (never saved: the home position, ASCII).
    pub(super) fn restore_cursor(&mut self) {
        let s = self.saved[self.on_alt as usize];
        self.cur = s.cur;
        self.charsets = s.charsets;
        self.origin = s.origin;
        self.cur.row = self.cur.row.min(self.height() - 1);
        self.cur.col = self.cur.col.min(self.margin - 1);
        self.sync_modes();
    }

    pub(super) fn enter_alt(&mut self, save_cursor: bool) {
        if self.on_alt {
            return;
        }
        if save_cursor {
            self.save_cursor();
        }
        // the last shell line shown before the program took the screen
        let mut r = self.cur.row as usize;
        if r > 0 && self.primary.rows[r].is_blank() {
            r -= 1;
        }
        self.alt_after_line = self.line_number_of_row(r);
        self.on_alt = true;
        // a full-screen program draws to the window's width, which may have grown since
        // readline last wrapped: the widest seen holds it (readline narrows it again after)
        self.margin = self.primary.cols;
        self.alt.clear_all();
        self.alt_scrolled.clear();
        self.alt_truncated = false;
        self.last_snapshot = None;
        // a multiplexer started by the last command, at the prompt that command was read at
        let started = self.last_multiplexer.as_ref();
        self.multiplexer = started
            .filter(|c| !c.prompt.trim().is_empty())
            .map(|c| c.prompt.clone());
        self.mux = started.map(|c| {
            // reattached: the redraw shows what the detached one had shown
            let attach = programs::is_multiplexer_attach(&c.text);
            let kept = self.mux_detached.take().filter(|_| attach);
            kept.unwrap_or_default()
        });
    }

    pub(super) fn leave_alt(&mut self, restore_cursor: bool) {
        if !self.on_alt {
            return;
        }
        self.snapshot_alt();
        if let Some(m) = self.mux.take() {
            self.mux_detached = Some(m);
        }
        self.on_alt = false;
        if restore_cursor {
            self.restore_cursor();
        }
        self.cur.row = self.cur.row.min(self.height() - 1);
    }

    /// A frame of the multiplexer's screen is complete: read what it shows.
    pub(super) fn capture_mux(&mut self) {
        if let (true, Some(m)) = (self.on_alt, &mut self.mux) {
            let cursor = (self.cur.row as usize, self.cur.col);
            m.capture(&self.alt, self.margin, cursor, MAX_ALT_SCROLLBACK);
        }
    }

    pub(super) fn snapshot_alt(&mut self) {
        if self.mux.is_some() {
            self.capture_mux();
            if let Some(m) = &mut self.mux {
                let (lines, truncated) = m.take();
                self.emit_alt(lines, truncated);
            }
            return;
        }
        let mut lines = std::mem::take(&mut self.alt_scrolled);
        let last = self.alt.last_used_row();
        if let Some(last) = last {
            for row in self.alt.rows.range(..=last) {
                let mut s = String::new();
                row.push_text(0, &mut s, true);
                lines.push(s);
            }
        }
        let truncated = std::mem::take(&mut self.alt_truncated);
        self.emit_alt(lines, truncated);
    }

    /// Give out an alternate screen's lines (and the commands typed on a multiplexer's).
    pub(super) fn emit_alt(&mut self, mut lines: Vec<String>, truncated: bool) {
        // rows never written (a program that starts drawing at the bottom) are not content
        let first = lines.iter().position(|l| !l.trim_end().is_empty());
        let Some(first) = first else { return };
        lines.drain(..first);
        while lines.last().is_some_and(|l| l.trim_end().is_empty()) {
            lines.pop();
        }
        if self.last_snapshot.as_ref() == Some(&lines) {
            return;
        }
        if let Some(prompt) = self.multiplexer.clone() {
            self.multiplexer_commands(&prompt, &lines);
        }
        self.alt_count += 1;
        let screen = AlternateScreen {
            index: self.alt_count,
            after_line: self.alt_after_line,
            lines,
            truncated,
        };
        self.out.sink.alternate_screen(&screen);
        self.last_snapshot = Some(screen.lines);
    }

    /// Erase the whole screen: what is on it is flushed first (an audit keeps what was seen).
    pub(super) fn clear_screen(&mut self) {
        if self.on_alt {
            self.snapshot_alt();
            self.alt.clear_all();
        } else {
            self.flush_primary();
            if let Some(st) = &mut self.reading {
                // Ctrl-L: readline redraws the prompt where the cursor is
                st.row = self.cur.row as i32;
                st.col = 0;
                st.input = None;
                st.after_prompt = false;
            }
        }
    }

    pub(super) fn reset(&mut self) {
        if self.on_alt {
            self.leave_alt(false);
        }
        self.flush_primary();
        self.cur = Cursor::default();
        self.top = 0;
        self.bottom = self.height() - 1;
        self.autowrap = true;
        self.insert = false;
        self.origin = false;
        self.charsets = Charsets::default();
        self.saved = [Saved::default(); 2];
        self.tabs = default_tabs(self.primary.cols);
        self.sync_modes();
        self.reading = None;
        self.app_cursor = false;
    }
}

pub(super) fn shift_row(row: &mut i32, top: usize, bottom: usize, by: i32) {
    if *row >= top as i32 && *row <= bottom as i32 {
        *row += by;
        if by > 0 && *row > bottom as i32 {
            *row = bottom as i32;
        }
    }
}
