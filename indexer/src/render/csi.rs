//! Control sequences: the `vte::Perform` implementation, one CSI dispatch, modes, erasing
//! and cursor motion, and the character sets.

use super::*;

impl<S: Sink> ground::Ground for Term<S> {
    fn in_ground(&self) -> bool {
        self.ground
    }

    fn set_in_ground(&mut self, on: bool) {
        self.ground = on;
    }

    /// The part of the run that fits on the row before the last column is copied at once when
    /// [`Term::print_fast`] would take each of its characters.
    fn print_ascii(&mut self, mut run: &[u8]) {
        while let Some((&first, rest)) = run.split_first() {
            if !self.slow_print && !self.cur.pending_wrap {
                let (r, col) = (self.cur.row as usize, self.cur.col as usize);
                let k = run
                    .len()
                    .min((self.margin as usize).saturating_sub(col + 1));
                let row = if self.on_alt {
                    &mut self.alt.rows[r]
                } else {
                    &mut self.primary.rows[r]
                };
                if k > 0 && !row.spacers && row.marks.is_empty() {
                    let (now, later) = run.split_at(k);
                    for (cell, &b) in row.cells[col..col + k].iter_mut().zip(now) {
                        *cell = b as char;
                    }
                    row.len = row.len.max((col + k) as u16);
                    self.cur.col = (col + k) as u16;
                    self.last_char = now[k - 1] as char;
                    run = later;
                    continue;
                }
            }
            let c = first as char;
            if !self.print_fast(c) {
                self.print_char(c);
            }
            run = rest;
        }
    }

    fn csi(&mut self, params: &[u16], intermediates: &[u8], action: char) {
        self.ground = true;
        // SGR (colours), the most common sequence, changes no text
        if action == 'm' {
            return;
        }
        let private = match intermediates {
            [] => false,
            [b'?'] => true,
            _ => return, // `>`, `=`, `!`, ` `, `$`: queries and settings with no screen effect
        };
        let p0 = params.first().copied().unwrap_or(0);
        let p1 = params.get(1).copied().unwrap_or(0);
        let n = p0.max(1);
        let cols = self.margin;
        let height = self.height();
        if private {
            match action {
                'h' | 'l' => {
                    for &m in params {
                        self.set_mode(true, m, action == 'h');
                    }
                }
                'J' => self.erase_in_display(p0),
                'K' => self.erase_in_line(p0),
                _ => {}
            }
            return;
        }
        match action {
            'A' => {
                let min = if self.cur.row >= self.top {
                    self.top
                } else {
                    0
                };
                self.cur.row = self.cur.row.saturating_sub(n).max(min);
                self.cur.pending_wrap = false;
            }
            'B' | 'e' => {
                let max = if self.cur.row <= self.bottom {
                    self.bottom
                } else {
                    height - 1
                };
                self.cur.row = self.cur.row.saturating_add(n).min(max);
                self.cur.pending_wrap = false;
            }
            'C' | 'a' => {
                self.cur.col = self.cur.col.saturating_add(n).min(cols - 1);
                self.cur.pending_wrap = false;
            }
            'D' => {
                self.cur.col = self.cur.col.saturating_sub(n);
                self.cur.pending_wrap = false;
            }
            'E' => {
                self.cur.row = self
                    .cur
                    .row
                    .saturating_add(n)
                    .min(self.bottom.max(self.cur.row));
                self.cur.col = 0;
                self.cur.pending_wrap = false;
            }
            'F' => {
                self.cur.row = self.cur.row.saturating_sub(n);
                self.cur.col = 0;
                self.cur.pending_wrap = false;
            }
            'G' | '`' => {
                self.cur.col = (n - 1).min(cols - 1);
                self.cur.pending_wrap = false;
            }
            'd' => {
                let row = self.cur.col;
                self.goto(n - 1, row);
            }
            'H' | 'f' => self.goto(n - 1, p1.max(1) - 1),
            'J' => self.erase_in_display(p0),
            'K' => self.erase_in_line(p0),
            'L' if self.cur.row >= self.top && self.cur.row <= self.bottom => {
                self.scroll_down(self.cur.row, self.bottom, n);
                self.cur.col = 0;
            }
            'M' if self.cur.row >= self.top && self.cur.row <= self.bottom => {
                let (r, b) = (self.cur.row as usize, self.bottom as usize);
                // deleted lines are gone from the screen, not scrolled into history
                self.grid().scroll_up(r, b, n as usize, |_| {});
                self.cur.col = 0;
            }
            '@' => {
                let (r, c) = (self.cur.row as usize, self.cur.col as usize);
                let end = self.margin as usize;
                let row = &mut self.grid().rows[r];
                let k = (n as usize).min(end - c);
                row.cells[c..end].rotate_right(k);
                row.cells[c..c + k].fill(BLANK);
                row.shift_marks(c, k as isize);
                row.len = (row.len as usize + k).min(row.cells.len()) as u16;
                self.cur.pending_wrap = false;
            }
            'P' => {
                let (r, c) = (self.cur.row as usize, self.cur.col as usize);
                let len = self.margin as usize;
                let row = &mut self.grid().rows[r];
                let k = (n as usize).min(len - c);
                row.cells[c..len].rotate_left(k);
                row.cells[len - k..].fill(BLANK);
                row.shift_marks(c, -(k as isize));
                row.len = (row.len as usize).saturating_sub(k).max(c) as u16;
                self.cur.pending_wrap = false;
            }
            'X' => {
                let (r, c) = (self.cur.row as usize, self.cur.col);
                self.grid().rows[r].erase(c, c.saturating_add(n));
                self.cur.pending_wrap = false;
            }
            'S' => self.scroll_up(self.top, self.bottom, n.min(height)),
            'T' => self.scroll_down(self.top, self.bottom, n.min(height)),
            // CHT, CBT: n tab stops forward, back (bounded by the width, whatever n says)
            'I' => {
                for _ in 0..n.min(cols) {
                    self.tab_forward();
                }
            }
            'Z' => {
                for _ in 0..n.min(cols) {
                    self.tab_back();
                }
            }
            // TBC: the stop at the cursor, or all of them
            'g' => match p0 {
                0 => {
                    if let Some(t) = self.tabs.get_mut(self.cur.col as usize) {
                        *t = false;
                    }
                }
                3 => self.tabs.iter_mut().for_each(|t| *t = false),
                _ => {}
            },
            'b' => {
                // REP: bounded to one screen width, so a count of 65535 costs nothing
                let c = self.last_char;
                self.out.repeats_capped += n.saturating_sub(cols) as u64;
                let mut left = n.min(cols) as usize;
                if c.is_ascii_graphic() || c == ' ' {
                    // as a run of text: written to the row at once where it can be
                    let run = [c as u8; 256];
                    while left > 0 {
                        let k = left.min(run.len());
                        self.print_ascii(&run[..k]);
                        left -= k;
                    }
                } else {
                    for _ in 0..left {
                        self.print_char(c);
                    }
                }
            }
            'r' => {
                let top = p0.max(1) - 1;
                let bottom = if p1 == 0 { height } else { p1.min(height) } - 1;
                if top < bottom {
                    self.top = top;
                    self.bottom = bottom;
                    self.goto(0, 0);
                }
            }
            'h' | 'l' => {
                for &m in params {
                    self.set_mode(false, m, action == 'h');
                }
            }
            's' => self.save_cursor(),
            'u' => self.restore_cursor(),
            _ => {}
        }
    }

    /// Lines of printable ASCII narrower than the screen, each ended by CR LF, scrolling the
    /// whole screen: of `n` such lines, the rows above the cursor leave the screen first, then
    /// the first lines leave straight from the input without a trip through the screen, and
    /// the last ones stay on it. Taken only when there are at least a screenful.
    fn plain_lines(&mut self, bytes: &[u8]) -> usize {
        if self.plain_skip > 0 {
            self.plain_skip -= 1;
            return 0;
        }
        if !self.scrolls_plain_lines() {
            return 0;
        }
        let cols = self.margin as usize;
        let keep = self.bottom as usize;
        let mut spans = std::mem::take(&mut self.plain_spans);
        spans.clear();
        let mut at = 0;
        while spans.len() < PLAIN_LINES_AT_ONCE {
            let Some((len, end)) = ground::plain_line(&bytes[at..], cols) else {
                break;
            };
            spans.push((at, at + len));
            at += end;
        }
        if spans.len() <= keep {
            // too few: the next line feeds, over these lines, need not look again
            self.plain_skip = spans.len();
            self.plain_spans = spans;
            return 0;
        }
        for r in 0..keep {
            self.out.push_row(&self.primary.rows[r]);
        }
        let straight = spans.len() - keep;
        // printable ASCII: one check for every line that leaves straight away
        let text = std::str::from_utf8(&bytes[..spans[straight - 1].1]).unwrap_or_default();
        for &(from, to) in &spans[..straight] {
            self.out.emit(text.get(from..to).unwrap_or_default());
        }
        for (row, &(from, to)) in self.primary.rows.iter_mut().zip(&spans[straight..]) {
            row.clear();
            for (cell, &b) in row.cells.iter_mut().zip(&bytes[from..to]) {
                *cell = b as char;
            }
            row.len = (to - from) as u16;
        }
        if let Some(&(_, to)) = spans.iter().rev().find(|(from, to)| to > from) {
            self.last_char = bytes[to - 1] as char;
        }
        self.plain_spans = spans;
        at
    }
}

impl<S: Sink> Term<S> {
    // ---- cursor helpers ---------------------------------------------------------------

    pub(super) fn goto(&mut self, row: u16, col: u16) {
        let (min_row, max_row) = if self.origin {
            (self.top, self.bottom)
        } else {
            (0, self.height() - 1)
        };
        let row = if self.origin {
            row.saturating_add(self.top)
        } else {
            row
        };
        self.cur.row = row.clamp(min_row, max_row);
        self.cur.col = col.min(self.margin - 1);
        self.cur.pending_wrap = false;
    }

    pub(super) fn erase_in_display(&mut self, mode: u16) {
        let (r, c) = (self.cur.row as usize, self.cur.col);
        match mode {
            0 if r == 0 && c == 0 => self.clear_screen(),
            0 => {
                let cols = self.margin;
                let c = if self.cur.pending_wrap { cols } else { c };
                let g = self.grid();
                g.rows[r].erase(c, cols);
                g.rows[r].wrapped = false;
                for row in g.rows.range_mut(r + 1..) {
                    row.clear();
                }
            }
            1 => {
                let g = self.grid();
                for row in g.rows.range_mut(..r) {
                    row.clear();
                }
                g.rows[r].erase(0, c + 1);
            }
            2 => self.clear_screen(),
            // 3 clears the scrollback only: nothing on the screen changes
            _ => {}
        }
        self.cur.pending_wrap = false;
    }

    pub(super) fn erase_in_line(&mut self, mode: u16) {
        let (r, c) = (self.cur.row as usize, self.cur.col);
        let cols = self.margin;
        // With the wrap pending, tmux's cursor stands past the last column: erasing to the
        // end erases nothing, and the character just written stays (xterm would erase it).
        // No mode cancels the pending wrap (as in alacritty and tmux): the next character
        // goes on the next row.
        let pending = self.cur.pending_wrap;
        let row = &mut self.grid().rows[r];
        match mode {
            0 if pending => {}
            0 => {
                row.erase(c, cols);
                row.wrapped = false;
            }
            1 => row.erase(0, c + 1),
            2 => {
                row.clear();
            }
            _ => {}
        }
    }

    pub(super) fn set_mode(&mut self, private: bool, mode: u16, on: bool) {
        match (private, mode) {
            (true, 1049) => {
                if on {
                    self.enter_alt(true);
                } else {
                    self.leave_alt(true);
                }
            }
            (true, 1048) => {
                if on {
                    self.save_cursor();
                } else {
                    self.restore_cursor();
                }
            }
            (true, 47) | (true, 1047) => {
                if on {
                    self.enter_alt(false)
                } else {
                    self.leave_alt(false)
                }
            }
            (true, 2004) => self.bracketed_paste(on),
            // the cursor shown again, a synchronized update ended: a frame is drawn
            // a redraw begins (the cursor hidden, a synchronized update started): what it
            // will draw over is read first; what it draws is read at the next one, or when the
            // screen is cleared or left
            (true, 25) | (true, 2026) if on == (mode == 2026) => self.capture_mux(),
            (true, 1) => {
                self.app_cursor = on;
                if let Some(st) = &mut self.reading {
                    st.keypad = Some(!on);
                }
            }
            (true, 7) => self.autowrap = on,
            (true, 6) => {
                self.origin = on;
                self.goto(0, 0);
            }
            (false, 4) => {
                self.insert = on;
                self.sync_modes();
            }
            _ => {}
        }
    }
}

impl<S: Sink> vte::Perform for Term<S> {
    #[inline]
    fn print(&mut self, c: char) {
        if ('\u{80}'..='\u{9f}').contains(&c) {
            // vte prints a C1 control that arrived split across two reads; whole, it executes
            // it: do the same either way
            vte::Perform::execute(self, c as u8);
            return;
        }
        if !self.print_fast(c) {
            self.print_char(c);
        }
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            0x08 => {
                if self.cur.pending_wrap {
                    self.cur.pending_wrap = false;
                } else if self.cur.col > 0 {
                    self.cur.col -= 1;
                } else if self.cur.row > 0 {
                    // tmux moves back over a soft wrap
                    let r = self.cur.row as usize - 1;
                    if self.grid().rows[r].wrapped {
                        self.cur.row -= 1;
                        self.cur.col = self.margin - 1;
                    }
                }
            }
            0x09 if !self.cur.pending_wrap => self.tab_forward(),
            0x0a..=0x0c => {
                if self.lf_is_newline {
                    self.cur.col = 0;
                }
                self.linefeed()
            }
            0x0d => {
                if self.last_char == ' ' && !self.cur.pending_wrap && self.wraps[1] != 0 {
                    self.readline_wrap();
                }
                self.cur.col = 0;
                self.cur.pending_wrap = false;
            }
            // SO: G1 into GL; SI: G0
            0x0e | 0x0f => {
                self.charsets.gl = (byte == 0x0e) as u8;
                self.sync_modes();
            }
            0x84 => self.linefeed(),
            0x85 => {
                self.cur.col = 0;
                self.linefeed();
            }
            0x8d => self.reverse_index(),
            _ => {}
        }
    }

    /// vte stops handing bytes over once it is back in its ground state: see [`ground::feed`].
    #[inline(always)]
    fn terminated(&self) -> bool {
        self.ground
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        intermediates: &[u8],
        ignore: bool,
        action: char,
    ) {
        self.ground = true;
        if ignore {
            return;
        }
        let (values, n) = ground::first_values(params);
        ground::Ground::csi(self, &values[..n], intermediates, action);
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], _ignore: bool, byte: u8) {
        self.ground = true;
        match (intermediates, byte) {
            ([], b'7') => self.save_cursor(),
            // HTS: a tab stop at the cursor
            ([], b'H') => {
                if let Some(t) = self.tabs.get_mut(self.cur.col as usize) {
                    *t = true;
                }
            }
            // DECALN: the screen filled with E, margins reset
            ([b'#'], b'8') => self.decaln(),
            ([], b'8') => self.restore_cursor(),
            // SS2, SS3: G2 or G3 for the next character only
            ([], b'N') | ([], b'O') => {
                self.charsets.single = Some(if byte == b'N' { 2 } else { 3 });
                self.sync_modes();
            }
            // LS2, LS3: G2 or G3 into GL
            ([], b'n') | ([], b'o') => {
                self.charsets.gl = if byte == b'n' { 2 } else { 3 };
                self.sync_modes();
            }
            ([], b'D') => self.linefeed(),
            ([], b'E') => {
                self.cur.col = 0;
                self.linefeed();
            }
            ([], b'M') => self.reverse_index(),
            ([], b'c') => self.reset(),
            ([i @ (b'(' | b')' | b'*' | b'+')], b) => {
                self.charsets.g[(i - b'(') as usize] = Charset::designated(b);
                self.sync_modes();
            }
            _ => {}
        }
    }

    fn osc_dispatch(&mut self, params: &[&[u8]], bell_terminated: bool) {
        if bell_terminated {
            // ended by ESC instead, vte is still in the `ESC \\` that ends it (an ESC dispatch)
            self.ground = true;
        }
        if let [b"133", kind, ..] = params {
            if let Some(&k) = kind.first() {
                self.osc133(k);
            }
        }
    }
}

/// Display width of a character: 0 for combining marks, 2 for wide (CJK) characters.
#[inline]
pub(super) fn char_width(c: char) -> u8 {
    if (c as u32) < 0x300 {
        return 1;
    }
    unicode_width::UnicodeWidthChar::width(c)
        .unwrap_or(0)
        .min(2) as u8
}

/// Tab stops every 8 columns.
pub(super) fn default_tabs(cols: u16) -> Vec<bool> {
    (0..cols as usize).map(|c| c > 0 && c % 8 == 0).collect()
}

/// The DEC special graphics set (VT100): line drawing and symbols for `_` to `~`, as xterm
/// and alacritty draw them.
pub(super) fn dec_special(c: char) -> char {
    match c {
        '_' => ' ',
        '`' => '◆',
        'a' => '▒',
        'b' => '␉',
        'c' => '␌',
        'd' => '␍',
        'e' => '␊',
        'f' => '°',
        'g' => '±',
        'h' => '␤',
        'i' => '␋',
        'j' => '┘',
        'k' => '┐',
        'l' => '┌',
        'm' => '└',
        'n' => '┼',
        'o' => '⎺',
        'p' => '⎻',
        'q' => '─',
        'r' => '⎼',
        's' => '⎽',
        't' => '├',
        'u' => '┤',
        'v' => '┴',
        'w' => '┬',
        'x' => '│',
        'y' => '≤',
        'z' => '≥',
        '{' => 'π',
        '|' => '≠',
        '}' => '£',
        '~' => '·',
        _ => c,
    }
}
