//! The visible screen: a fixed grid of cells, rows x columns, whatever the session length.

use std::collections::VecDeque;

/// The right half of a wide character, or the blank left at the end of a row when a wide
/// character did not fit: never part of the text.
pub(crate) const SPACER: char = '\0';
pub(crate) const BLANK: char = ' ';
/// Combining marks kept on one cell.
const MARKS_PER_CELL: usize = 2;

#[derive(Clone, Debug)]
pub(crate) struct Row {
    /// One character a column: 4 bytes, so writing, clearing and reading rows stay cheap.
    pub cells: Vec<char>,
    /// Combining marks, by column: rare, so kept apart (at most two a cell).
    pub marks: Vec<(u16, char)>,
    /// Columns written at least once: cells at or past it are blank.
    pub len: u16,
    /// The text continues on the next row (an automatic wrap, not a line end).
    pub wrapped: bool,
    /// A [`SPACER`] was written since the row was last cleared: printing must look for wide
    /// characters it would cut.
    pub spacers: bool,
}

impl Row {
    pub fn new(cols: u16) -> Row {
        Row {
            cells: vec![BLANK; cols as usize],
            marks: Vec::new(),
            len: 0,
            wrapped: false,
            spacers: false,
        }
    }

    pub fn clear(&mut self) {
        let n = self.len as usize;
        self.cells[..n].fill(BLANK);
        self.marks.clear();
        self.len = 0;
        self.wrapped = false;
        self.spacers = false;
    }

    /// Write `c` at `col`, dropping the marks the old character had.
    #[inline]
    pub fn set(&mut self, col: usize, c: char) {
        self.cells[col] = c;
        if !self.marks.is_empty() {
            self.marks.retain(|m| m.0 as usize != col);
        }
    }

    /// Add a combining mark to the character at `col`.
    pub fn mark(&mut self, col: usize, m: char) {
        let on_cell = self.marks.iter().filter(|x| x.0 as usize == col).count();
        if on_cell < MARKS_PER_CELL && self.marks.len() < self.cells.len() * MARKS_PER_CELL {
            self.marks.push((col as u16, m));
        }
    }

    /// Move the marks at or right of `from` by `by` columns (insert/delete characters);
    /// marks pushed off the row, or onto deleted columns, go.
    pub fn shift_marks(&mut self, from: usize, by: isize) {
        if self.marks.is_empty() {
            return;
        }
        let cols = self.cells.len() as isize;
        self.marks.retain_mut(|m| {
            let c = m.0 as isize;
            if c < from as isize {
                return true;
            }
            if by < 0 && c < from as isize - by {
                return false;
            }
            let n = c + by;
            m.0 = n as u16;
            (0..cols).contains(&n)
        });
    }

    /// Blank the columns `from..to`.
    pub fn erase(&mut self, from: u16, to: u16) {
        let to = to.min(self.cells.len() as u16);
        if from >= to {
            return;
        }
        if !self.marks.is_empty() {
            self.marks.retain(|m| m.0 < from || m.0 >= to);
        }
        if to >= self.len {
            // erasing the tail: the row ends at `from`
            if from < self.len {
                self.cells[from as usize..self.len as usize].fill(BLANK);
                self.len = from;
            }
        } else {
            self.cells[from as usize..to as usize].fill(BLANK);
        }
    }

    /// Append the whole row's text, blanks included, as UTF-8 to `out`: the path every line of
    /// output takes, so a row of ASCII is copied in one vectorised pass.
    pub fn push_utf8(&self, out: &mut Vec<u8>) {
        let cells = &self.cells[..self.len as usize];
        if self.marks.is_empty() && is_ascii_text(cells) {
            out.extend(cells.iter().map(|&c| c as u8));
            return;
        }
        let mut buf = [0u8; 4];
        for (col, &c) in cells.iter().enumerate() {
            if c == SPACER {
                continue;
            }
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            for m in self.marks.iter().filter(|m| m.0 as usize == col) {
                out.extend_from_slice(m.1.encode_utf8(&mut buf).as_bytes());
            }
        }
    }

    pub fn is_blank(&self) -> bool {
        self.cells[..self.len as usize]
            .iter()
            .all(|&c| c == BLANK || c == SPACER)
    }

    /// Append the text of the columns `from..to` (a pane of a split screen) to `out`,
    /// without trailing blanks.
    pub fn push_range(&self, from: u16, to: u16, out: &mut String) {
        let start = out.len();
        let to = (to as usize).min(self.len as usize);
        let from = (from as usize).min(to);
        for (i, &c) in self.cells[from..to].iter().enumerate() {
            if c == SPACER {
                continue;
            }
            out.push(c);
            if !self.marks.is_empty() {
                let col = (from + i) as u16;
                out.extend(self.marks.iter().filter(|m| m.0 == col).map(|m| m.1));
            }
        }
        out.truncate(start + trim_blanks(&out[start..]).len());
    }

    /// Append the row's text from column `from` to `out`, without trailing blanks when
    /// `trim` is set (a command keeps the blanks that were typed).
    pub fn push_text(&self, from: u16, out: &mut String, trim: bool) {
        let start = out.len();
        let from = (from as usize).min(self.len as usize);
        let cells = &self.cells[from..self.len as usize];
        out.reserve(cells.len());
        if self.marks.is_empty() && is_ascii_text(cells) {
            // as bytes, a run at a time, rather than a character at a time
            let mut buf = [0u8; 256];
            for run in cells.chunks(buf.len()) {
                for (b, &c) in buf.iter_mut().zip(run) {
                    *b = c as u8;
                }
                out.push_str(std::str::from_utf8(&buf[..run.len()]).unwrap_or_default());
            }
        } else if self.marks.is_empty() {
            out.extend(cells.iter().filter(|&&c| c != SPACER));
        } else {
            for (i, &c) in cells.iter().enumerate() {
                if c == SPACER {
                    continue;
                }
                out.push(c);
                let col = (from + i) as u16;
                out.extend(self.marks.iter().filter(|m| m.0 == col).map(|m| m.1));
            }
        }
        if trim {
            out.truncate(start + trim_blanks(&out[start..]).len());
        }
    }
}

/// `text` without the blanks at its end: a byte scan (the blank is ASCII, so where it stops
/// is a character boundary).
pub(crate) fn trim_blanks(text: &str) -> &str {
    if !text.ends_with(' ') {
        return text;
    }
    let end = text
        .as_bytes()
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(0, |i| i + 1);
    text.get(..end).unwrap_or(text)
}

/// Every cell holds an ASCII character (no [`SPACER`]): a branch-free scan, so it vectorises.
fn is_ascii_text(cells: &[char]) -> bool {
    let max = cells
        .iter()
        .fold(0u32, |m, &c| m.max((c as u32).wrapping_sub(1)));
    max < 0x7f
}

/// One screen (primary or alternate). A ring of rows, so scrolling the whole screen moves
/// no row.
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    pub rows: VecDeque<Row>,
    pub cols: u16,
}

impl Grid {
    pub fn new(cols: u16, lines: u16) -> Grid {
        Grid {
            rows: (0..lines).map(|_| Row::new(cols)).collect(),
            cols,
        }
    }

    pub fn height(&self) -> u16 {
        self.rows.len() as u16
    }

    pub fn clear_all(&mut self) {
        for r in &mut self.rows {
            r.clear();
        }
    }

    /// Index of the last row holding any text, if any.
    pub fn last_used_row(&self) -> Option<usize> {
        self.rows.iter().rposition(|r| !r.is_blank() || r.wrapped)
    }

    /// Scroll rows `top..=bottom` up by `n`; each row leaving through the top is shown to
    /// `gone` first, oldest first.
    pub fn scroll_up(&mut self, top: usize, bottom: usize, n: usize, mut gone: impl FnMut(&Row)) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        for r in self.rows.range_mut(top..top + n) {
            gone(r);
            r.clear();
        }
        if top == 0 && bottom + 1 == self.rows.len() {
            // the whole screen: the cleared rows move from the front of the ring to its back
            // (the whole screen at once is no move at all)
            self.rows.rotate_left(n % self.rows.len());
        } else {
            rotate(&mut self.rows, top, bottom, n);
        }
    }

    /// Scroll rows `top..=bottom` down by `n`: blank rows appear at `top`.
    pub fn scroll_down(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        for r in self.rows.range_mut(bottom + 1 - n..=bottom) {
            r.clear();
        }
        rotate(&mut self.rows, top, bottom, bottom + 1 - top - n);
        // the row above the region can no longer continue into the region
        if top > 0 {
            self.rows[top - 1].wrapped = false;
        }
    }
}

/// Rotate rows `top..=bottom` left by `n` (`n` at most their count). One row, the common case
/// (a line feed in a scroll region), is taken out of the ring and put back: the ring moves the
/// fewer rows of either side, where a rotation moves every row of the region.
fn rotate(rows: &mut VecDeque<Row>, top: usize, bottom: usize, n: usize) {
    if n == 1 {
        if let Some(row) = rows.remove(top) {
            rows.insert(bottom, row);
        }
    } else if n + 1 == bottom + 1 - top {
        if let Some(row) = rows.remove(bottom) {
            rows.insert(top, row);
        }
    } else {
        rows.make_contiguous()[top..=bottom].rotate_left(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotating_rows_moves_them_as_a_slice_rotation_does() {
        let label = |rows: &VecDeque<Row>| -> Vec<u16> { rows.iter().map(|r| r.len).collect() };
        for len in 1..7 {
            for top in 0..len {
                for bottom in top..len {
                    for n in 1..=bottom + 1 - top {
                        // a ring that wraps around its buffer, as the screen's does
                        let mut rows: VecDeque<Row> = VecDeque::with_capacity(len);
                        for i in 0..len {
                            let mut r = Row::new(2);
                            r.len = i as u16;
                            rows.push_front(r);
                        }
                        let mut want = label(&rows);
                        want[top..=bottom].rotate_left(n);
                        rotate(&mut rows, top, bottom, n);
                        assert_eq!(label(&rows), want, "{len} rows, {top}..={bottom} by {n}");
                    }
                }
            }
        }
    }

    #[test]
    fn blanks_trimmed_at_the_end_only() {
        for (text, want) in [
            ("", ""),
            ("   ", ""),
            ("a b  ", "a b"),
            ("é ", "é"),
            (" x", " x"),
        ] {
            assert_eq!(trim_blanks(text), want);
        }
    }

    #[test]
    fn marks_follow_their_characters() {
        let mut r = Row::new(10);
        for (i, c) in "cafe".chars().enumerate() {
            r.set(i, c);
        }
        r.len = 4;
        r.mark(3, '\u{301}');
        let mut s = String::new();
        r.push_text(0, &mut s, true);
        assert_eq!(s, "cafe\u{301}");
        r.shift_marks(0, 2);
        assert_eq!(r.marks, [(5, '\u{301}')]);
        r.shift_marks(4, -2);
        assert_eq!(r.marks, []);
        r.set(2, 'x');
        assert!(r.marks.is_empty());
    }
}
