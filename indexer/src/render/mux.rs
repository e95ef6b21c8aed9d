//! A terminal multiplexer's screen (tmux, screen, byobu, zellij) is the user's terminal: every
//! line its panes showed is kept, once, whatever the redraws.
//!
//! A multiplexer draws rows in place: a pane of a split window scrolls by drawing each of its
//! rows again, a window switch or a reattach draws the whole screen again. So its screen is
//! read whole when a redraw begins (the cursor hidden, `?25l`; a synchronized update started:
//! what is about to be drawn over), before it is cleared and when it is left; a screen
//! unchanged since it was last read (its fingerprint) is not read again:
//! - The screen is cut into panes at the borders the multiplexer draws: a column of `│` (or
//!   `|`) down three rows or more, a row of `─` across a pane.
//! - A pane's rows are its lines; a row that fills its pane to the last column runs on into the
//!   next (a line wrapped inside the pane).
//! - Each pane keeps the tail of the lines it showed. A frame's lines are aligned with that
//!   tail: those past the overlap are new (output that scrolled the pane by redrawing it);
//!   a frame found whole inside the tail is a redraw and adds nothing (a window switched back,
//!   a reattach); a frame that matches nothing is new screen content, added whole.
//! - The line the cursor was on may still be being typed: a frame that shows it longer
//!   replaces it.
//! - Rows that scroll off a scroll region between two frames are put in front of the next
//!   frame of their pane, so they align as what the pane showed before it.
//!
//! So a command typed twice is kept twice, and a redraw adds nothing. A pane that moves (a
//! resize, a new split) is a new pane: its lines may be kept a second time.

use std::collections::VecDeque;

use super::grid::{Grid, BLANK, SPACER};

/// Lines of a pane remembered to align frames with: a window switched back after this many
/// lines of other output is kept again.
const TAIL: usize = 2_000;
/// Rows scrolled off since the last frame beyond this are aligned at once, as a frame.
const MAX_PENDING: usize = 1_000;
/// A line running on through the rows of a pane is cut here.
const MAX_LINE_BYTES: usize = 64 * 1024;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x100_0000_01b3;

/// A line's hash: FNV-1a over its characters, so a line read from the grid's cells hashes as
/// its text does (see [`FrameLine`]).
fn hash(s: &str) -> u64 {
    s.chars()
        .fold(FNV_OFFSET, |h, c| (h ^ c as u64).wrapping_mul(FNV_PRIME))
}

/// A row's part of a line: (row, first column, end column).
type Segment = (usize, u16, u16);

/// One line of a frame: its hash, and where its text is (built only when the line is new).
struct FrameLine {
    hash: u64,
    src: Src,
}

enum Src {
    /// blank, or nothing but border characters
    Blank,
    /// rows of the grid: (row, first column, end column), the first apart (most lines are
    /// one row: no allocation)
    Rows(Segment, Vec<Segment>),
    /// a row that scrolled off, or a status line
    Text(String),
}

impl FrameLine {
    fn text(&self, grid: &Grid) -> String {
        match &self.src {
            Src::Blank => String::new(),
            Src::Text(t) => t.clone(),
            Src::Rows(first, more) => {
                let mut s = String::new();
                for &(r, a, b) in std::iter::once(first).chain(more) {
                    grid.rows[r].push_range(a, b, &mut s);
                }
                s
            }
        }
    }

    fn of_text(text: String) -> FrameLine {
        if is_border_or_blank(&text) {
            return FrameLine {
                hash: FNV_OFFSET,
                src: Src::Blank,
            };
        }
        FrameLine {
            hash: hash(&text),
            src: Src::Text(text),
        }
    }
}

/// A cheap fingerprint of what the screen shows (every cell, the rows' lengths and wraps):
/// a frame edge with nothing drawn since the last is not read again (tmux hides and shows
/// the cursor around every move). The cursor is left out: where it stands only says which
/// line may still be typed on.
fn fingerprint(grid: &Grid) -> u64 {
    let mut h = FNV_OFFSET;
    for row in &grid.rows {
        h = (h ^ u64::from(row.len) ^ u64::from(row.wrapped) << 20).wrapping_mul(FNV_PRIME);
        for &c in &row.cells[..row.len as usize] {
            h = (h ^ c as u64).wrapping_mul(FNV_PRIME);
        }
        h = (h ^ row.marks.len() as u64).wrapping_mul(FNV_PRIME);
    }
    h
}

fn is_vertical_border(c: char) -> bool {
    matches!(c, '│' | '|' | '┃' | '║' | '┼' | '├' | '┤' | '┬' | '┴')
}

fn is_horizontal_border(c: char) -> bool {
    matches!(
        c,
        '─' | '━' | '═' | '┼' | '├' | '┤' | '┬' | '┴' | '┌' | '┐' | '└' | '┘'
    )
}

/// Nothing but blanks and border characters: not content.
fn is_border_or_blank(s: &str) -> bool {
    s.chars()
        .all(|c| c == BLANK || is_vertical_border(c) || is_horizontal_border(c))
}

/// A rectangle of the screen: columns `col..end`, rows `row..row_end`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    col: u16,
    end: u16,
    row: usize,
    row_end: usize,
}

/// tmux's status line (`[session] 0:bash* ... "host" 10:40 06-Dec-26`): the window list, the
/// host and a clock, not a pane.
fn is_status_line(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('[') else {
        return false;
    };
    let Some((_, after)) = rest.split_once("] ") else {
        return false;
    };
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && after.as_bytes().get(digits) == Some(&b':')
}

/// A status line's text with its digits (the clock) blanked: it changes every minute.
fn status_key(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

/// The panes of the screen's first `height` rows, left to right, then top to bottom, and the
/// border columns between them.
fn panes(grid: &Grid, margin: u16, height: usize) -> (Vec<Rect>, Vec<u16>) {
    let width = margin.min(grid.cols) as usize;
    // rows outer, columns inner: one pass over the cells
    let mut counts = vec![0usize; width];
    for row in grid.rows.range(..height) {
        let n = (row.len as usize).min(width);
        for (c, &ch) in row.cells[..n].iter().enumerate() {
            if is_vertical_border(ch) {
                counts[c] += 1;
            }
        }
    }
    let mut borders: Vec<u16> = Vec::new();
    for (c, &n) in counts.iter().enumerate() {
        // two borders side by side leave no pane between them: the second is read as text
        if n >= 3 && n * 3 >= height && borders.last().is_none_or(|&b| b + 1 < c as u16) {
            borders.push(c as u16);
        }
    }
    let mut cols = Vec::new();
    let mut start = 0u16;
    for b in borders.iter().copied().chain([width as u16]) {
        if b > start {
            cols.push((start, b));
        }
        start = b + 1;
    }
    let mut out = Vec::new();
    for (col, end) in cols {
        let mut row = 0;
        for r in 0..height {
            let cells = &grid.rows[r].cells[col as usize..end as usize];
            let line = cells.iter().filter(|&&c| is_horizontal_border(c)).count();
            if line * 2 >= cells.len() && line >= 2 {
                if r > row {
                    out.push(Rect {
                        col,
                        end,
                        row,
                        row_end: r,
                    });
                }
                row = r + 1;
            }
        }
        if height > row {
            out.push(Rect {
                col,
                end,
                row,
                row_end: height,
            });
        }
    }
    (out, borders)
}

/// The lines a pane shows, top to bottom, without the blank rows at its end; the index of the
/// line the cursor is on.
fn pane_lines(
    grid: &Grid,
    p: Rect,
    borders: &[u16],
    width: usize,
    cursor: (usize, u16),
) -> (Vec<FrameLine>, Option<usize>) {
    let mut lines = Vec::new();
    let mut at_cursor = None;
    let mut r = p.row;
    while r < p.row_end {
        let mut h = FNV_OFFSET;
        let mut rows: Option<(Segment, Vec<Segment>)> = None;
        let mut content = false;
        let mut bytes = 0usize;
        let first = r;
        loop {
            let row = &grid.rows[r];
            let border_at = |c: usize| c < row.len as usize && is_vertical_border(row.cells[c]);
            // a row not cut by the border (written over it) is read whole with the pane left
            // of it: its part here was read there
            let mut start = p.col;
            if p.col > 0 && !border_at(p.col as usize - 1) {
                let left_pane = p.col >= 2 && !borders.contains(&(p.col - 2));
                if left_pane {
                    r += 1;
                    break;
                }
                // no pane left of it: the column is read with this one
                start -= 1;
            }
            let mut end = p.end;
            while (end as usize) < width && !border_at(end as usize) {
                end = borders
                    .iter()
                    .copied()
                    .find(|&b| b > end)
                    .unwrap_or(width as u16);
            }
            // the segment as push_range reads it: spacers skipped, blanks at its end cut
            let to = (end as usize).min(row.len as usize);
            let from = (start as usize).min(to);
            let cells = &row.cells[from..to];
            let used = cells.iter().rposition(|&c| c != BLANK).map_or(0, |i| i + 1);
            for &c in &cells[..used] {
                if c == SPACER {
                    continue;
                }
                content |= !(c == BLANK || is_vertical_border(c) || is_horizontal_border(c));
                h = (h ^ c as u64).wrapping_mul(FNV_PRIME);
            }
            bytes += used;
            match &mut rows {
                None => rows = Some(((r, start, end), Vec::new())),
                Some((_, more)) => more.push((r, start, end)),
            }
            let last = end as usize - 1;
            let full = (last < row.len as usize && row.cells[last] != BLANK)
                || (end == grid.cols && row.wrapped);
            r += 1;
            if !full || r >= p.row_end || bytes > MAX_LINE_BYTES {
                break;
            }
        }
        if (first..r).contains(&cursor.0) && (p.col..=p.end).contains(&cursor.1) {
            at_cursor = Some(lines.len());
        }
        lines.push(if let (true, Some((first, more))) = (content, rows) {
            FrameLine {
                hash: h,
                src: Src::Rows(first, more),
            }
        } else {
            FrameLine {
                hash: FNV_OFFSET,
                src: Src::Blank,
            }
        });
    }
    while lines.last().is_some_and(|l| matches!(l.src, Src::Blank)) {
        lines.pop();
    }
    if at_cursor.is_some_and(|i| i >= lines.len()) {
        at_cursor = None;
    }
    (lines, at_cursor)
}

#[derive(Debug, Default)]
struct Pane {
    col: u16,
    row: usize,
    /// a status line: its clock is not content
    status: bool,
    tail: VecDeque<u64>,
    /// the last line's text, and its index in [`History::lines`] while it is not taken
    last: String,
    last_index: Option<usize>,
    /// the cursor was on the last line: it may still be being typed
    provisional: bool,
}

impl Pane {
    fn push(
        &mut self,
        hash: u64,
        text: String,
        out: &mut Vec<String>,
        limit: usize,
        truncated: &mut bool,
    ) {
        self.tail.push_back(hash);
        if self.tail.len() > TAIL {
            self.tail.pop_front();
        }
        if out.len() < limit {
            out.push(text.clone());
            self.last_index = Some(out.len() - 1);
        } else {
            *truncated = true;
            self.last_index = None;
        }
        self.last = text;
        self.provisional = false;
    }

    /// Add what frame `f` shows that the pane had not shown.
    fn align(
        &mut self,
        grid: &Grid,
        f: Vec<FrameLine>,
        at_cursor: Option<usize>,
        out: &mut Vec<String>,
        limit: usize,
        truncated: &mut bool,
    ) {
        if f.is_empty() {
            return;
        }
        let hashes: Vec<u64> = if self.status {
            f.iter().map(|l| hash(&status_key(&l.text(grid)))).collect()
        } else {
            f.iter().map(|l| l.hash).collect()
        };
        let t = self.tail.len();
        // the longest overlap: the tail's last k lines are the frame's first k, the very last
        // of them possibly typed on since
        let mut start = None;
        for k in (1..=f.len().min(t)).rev() {
            let same = self.tail[t - 1] == hashes[k - 1];
            // cheap first: the tail's last line against the frame's k-th
            if !same && !self.provisional {
                continue;
            }
            let body = self.tail.range(t - k..t - 1).eq(hashes[..k - 1].iter());
            if !body {
                continue;
            }
            let longer = !same && self.provisional && {
                let t = f[k - 1].text(grid);
                t.len() > self.last.len() && t.starts_with(self.last.as_str())
            };
            if same || longer {
                if !same {
                    // the line typed on: it replaces what was kept
                    let text = f[k - 1].text(grid);
                    self.tail[t - 1] = hashes[k - 1];
                    match self.last_index {
                        Some(i) => out[i] = text.clone(),
                        // given out already: the longer line is a line of its own
                        None if out.len() < limit => {
                            out.push(text.clone());
                            self.last_index = Some(out.len() - 1);
                        }
                        None => *truncated = true,
                    }
                    self.last = text;
                }
                start = Some(k);
                break;
            }
        }
        let start = match start {
            Some(k) => k,
            // drawn again whole (a window switched back): nothing new
            None if self.contains(&hashes) => {
                self.provisional = false;
                return;
            }
            // older lines drawn again, then new ones (a pane grown back after a split closed,
            // then output): two lines or more in a row, so one common line is no match
            None => self
                .longest_known_prefix(&hashes)
                .filter(|&k| k >= 2)
                .unwrap_or(0),
        };
        let n = f.len();
        for (i, line) in f.into_iter().enumerate().skip(start) {
            let h = hashes[i];
            self.push(h, line.text(grid), out, limit, truncated);
            if i + 1 == n {
                self.provisional = at_cursor == Some(i);
            }
        }
        if start == n {
            self.provisional = at_cursor == Some(n - 1);
        }
    }

    /// The most lines at the start of `hashes` found in a row anywhere in the tail.
    fn longest_known_prefix(&self, hashes: &[u64]) -> Option<usize> {
        let t = self.tail.len();
        (0..t)
            .filter(|&i| self.tail[i] == hashes[0])
            .map(|i| {
                self.tail
                    .range(i..)
                    .zip(hashes)
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
    }

    fn contains(&self, hashes: &[u64]) -> bool {
        let t = self.tail.len();
        if hashes.len() > t {
            return false;
        }
        (0..=t - hashes.len()).any(|i| {
            self.tail[i] == hashes[0] && self.tail.range(i..i + hashes.len()).eq(hashes.iter())
        })
    }
}

/// A multiplexer's screen, read as the lines it showed.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// the screen's [`fingerprint`] at the last capture
    last_seen: u64,
    panes: Vec<Pane>,
    /// lines shown since the last [`History::take`]
    lines: Vec<String>,
    truncated: bool,
    /// rows scrolled off a region since the last frame: (the region's top row, the text)
    scrolled: Vec<(usize, String)>,
}

impl History {
    /// A row left the scroll region starting at row `top`.
    pub fn scrolled_off(&mut self, top: usize, text: String, limit: usize) {
        self.scrolled.push((top, text));
        if self.scrolled.len() >= MAX_PENDING {
            self.flush_scrolled(limit);
        }
    }

    fn pane_mut(&mut self, col: u16, row: usize) -> &mut Pane {
        let i = match self.panes.iter().position(|p| p.col == col && p.row == row) {
            Some(i) => i,
            None => {
                self.panes.push(Pane {
                    col,
                    row,
                    ..Pane::default()
                });
                self.panes.len() - 1
            }
        };
        &mut self.panes[i]
    }

    fn flush_scrolled(&mut self, limit: usize) {
        let scrolled = std::mem::take(&mut self.scrolled);
        let mut i = 0;
        while i < scrolled.len() {
            let top = scrolled[i].0;
            let run: Vec<FrameLine> = scrolled[i..]
                .iter()
                .take_while(|s| s.0 == top)
                .map(|s| FrameLine::of_text(s.1.clone()))
                .collect();
            i += run.len();
            let pane = self.pane_at(top);
            let (lines, truncated) = (&mut self.lines, &mut self.truncated);
            // lines of text only: no grid is read
            let none = Grid::new(2, 2);
            self.panes[pane].align(&none, run, None, lines, limit, truncated);
        }
    }

    /// The known pane at column 0 holding row `row` (or a new one starting there).
    fn pane_at(&mut self, row: usize) -> usize {
        let found = self
            .panes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.col == 0 && p.row <= row)
            .max_by_key(|(_, p)| p.row)
            .map(|(i, _)| i);
        match found {
            Some(i) => i,
            None => {
                self.pane_mut(0, row);
                self.panes.len() - 1
            }
        }
    }

    /// Read the screen: what each pane shows that it had not shown is added.
    pub fn capture(&mut self, grid: &Grid, margin: u16, cursor: (usize, u16), limit: usize) {
        let seen = fingerprint(grid);
        if seen == self.last_seen && self.scrolled.is_empty() {
            return;
        }
        self.last_seen = seen;
        let mut height = grid.rows.len();
        let mut status = String::new();
        if let Some(last) = grid.rows.back() {
            last.push_range(0, margin, &mut status);
        }
        let mut rects = Vec::new();
        if is_status_line(&status) {
            height -= 1;
        }
        let (found, borders) = panes(grid, margin, height);
        rects.extend(found);
        let width = margin.min(grid.cols) as usize;
        if height < grid.rows.len() {
            rects.push(Rect {
                col: 0,
                end: margin,
                row: height,
                row_end: height + 1,
            });
        }
        let mut scrolled = std::mem::take(&mut self.scrolled);
        for p in rects {
            let (mut lines, mut at_cursor) = pane_lines(grid, p, &borders, width, cursor);
            if p.col == 0 {
                // rows that left this pane's region since the last frame come first
                let before: Vec<FrameLine> = scrolled
                    .iter()
                    .filter(|s| (p.row..p.row_end).contains(&s.0))
                    .map(|s| FrameLine::of_text(s.1.clone()))
                    .collect();
                if !before.is_empty() {
                    scrolled.retain(|s| !(p.row..p.row_end).contains(&s.0));
                    at_cursor = at_cursor.map(|i| i + before.len());
                    lines.splice(0..0, before);
                }
            }
            let (out, truncated) = (&mut self.lines, &mut self.truncated);
            let pane = {
                let i = self
                    .panes
                    .iter()
                    .position(|x| x.col == p.col && x.row == p.row);
                match i {
                    Some(i) => i,
                    None => {
                        self.panes.push(Pane {
                            col: p.col,
                            row: p.row,
                            status: p.row == height,
                            ..Pane::default()
                        });
                        self.panes.len() - 1
                    }
                }
            };
            self.panes[pane].align(grid, lines, at_cursor, out, limit, truncated);
        }
        // rows of a region no pane holds now
        if !scrolled.is_empty() {
            self.scrolled = scrolled;
            self.flush_scrolled(limit);
        }
    }

    /// The lines shown since the last call, and whether some were not kept (past `limit`).
    pub fn take(&mut self) -> (Vec<String>, bool) {
        for p in &mut self.panes {
            p.last_index = None;
            // the screen is cleared or left: what follows is new
            p.provisional = false;
        }
        (
            std::mem::take(&mut self.lines),
            std::mem::take(&mut self.truncated),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A screen one column wider than its longest row (no row fills it).
    fn grid(rows: &[&str]) -> Grid {
        let cols = rows.iter().map(|r| r.chars().count()).max().unwrap_or(1) as u16 + 1;
        grid_of(cols, rows)
    }

    fn grid_of(cols: u16, rows: &[&str]) -> Grid {
        let mut g = Grid::new(cols, rows.len() as u16);
        for (r, text) in rows.iter().enumerate() {
            for (c, ch) in text.chars().enumerate() {
                g.rows[r].cells[c] = ch;
            }
            g.rows[r].len = text.chars().count() as u16;
        }
        g
    }

    fn capture(h: &mut History, rows: &[&str]) -> Vec<String> {
        let g = grid(rows);
        h.capture(&g, g.cols, (usize::MAX, 0), 1000);
        h.take().0
    }

    #[test]
    fn a_pane_redrawn_after_a_scroll_adds_only_the_new_lines() {
        let mut h = History::default();
        assert_eq!(capture(&mut h, &["a", "b", "c"]), ["a", "b", "c"]);
        assert_eq!(capture(&mut h, &["b", "c", "d"]), ["d"]);
        // a redraw of what was shown (a reattach) adds nothing
        assert_eq!(capture(&mut h, &["b", "c", "d"]), Vec::<String>::new());
        // a line shown twice is kept twice
        assert_eq!(capture(&mut h, &["c", "d", "c"]), ["c"]);
        // older lines drawn again, then new ones
        assert_eq!(capture(&mut h, &["a", "b", "x"]), ["x"]);
        // one common line is no match: all of it is new
        assert_eq!(capture(&mut h, &["a", "y", "z"]), ["a", "y", "z"]);
    }

    #[test]
    fn side_by_side_panes_are_read_apart() {
        let mut h = History::default();
        let got = capture(&mut h, &["l1 │r1", "l2 │r2", "   │r3"]);
        assert_eq!(got, ["l1", "l2", "r1", "r2", "r3"]);
        // the right pane scrolls: only its new line
        let got = capture(&mut h, &["l1 │r2", "l2 │r3", "   │r4"]);
        assert_eq!(got, ["r4"]);
    }

    #[test]
    fn a_line_filling_its_pane_runs_on_into_the_next_row() {
        let mut h = History::default();
        let g = grid_of(6, &["abc│x", "de │y", "   │z"]);
        h.capture(&g, g.cols, (usize::MAX, 0), 1000);
        let got = h.take().0;
        assert_eq!(got, ["abcde", "x", "y", "z"]);
    }

    #[test]
    fn the_line_being_typed_is_replaced_when_typed_on() {
        let mut h = History::default();
        let g = grid(&["$ ls", "a", "$ ec"]);
        h.capture(&g, g.cols, (2, 4), 1000);
        let g = grid(&["$ ls", "a", "$ echo hi", "hi"]);
        h.capture(&g, g.cols, (3, 2), 1000);
        assert_eq!(h.take().0, ["$ ls", "a", "$ echo hi", "hi"]);
    }

    #[test]
    fn rows_scrolled_off_between_frames_come_before_the_frame() {
        let mut h = History::default();
        assert_eq!(capture(&mut h, &["1", "2"]), ["1", "2"]);
        for r in ["1", "2", "3"] {
            h.scrolled_off(0, r.into(), 1000);
        }
        assert_eq!(capture(&mut h, &["4", "5"]), ["3", "4", "5"]);
    }
}
