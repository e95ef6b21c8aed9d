//! The visible screen: a fixed grid of cells, rows x columns, whatever the session length.

/// The right half of a wide character, or the blank left at the end of a row when a wide
/// character did not fit: never part of the text.
pub(crate) const SPACER: char = '\0';

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Cell {
    pub ch: char,
    /// Combining marks on this cell; at most two are kept ('\0' for none).
    pub comb: [char; 2],
}

impl Cell {
    pub const BLANK: Cell = Cell {
        ch: ' ',
        comb: ['\0'; 2],
    };
}

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub cells: Vec<Cell>,
    /// Columns written at least once: cells at or past it are blank.
    pub len: u16,
    /// The text continues on the next row (an automatic wrap, not a line end).
    pub wrapped: bool,
}

impl Row {
    pub fn new(cols: u16) -> Row {
        Row {
            cells: vec![Cell::BLANK; cols as usize],
            len: 0,
            wrapped: false,
        }
    }

    pub fn clear(&mut self) {
        let n = self.len as usize;
        self.cells[..n].fill(Cell::BLANK);
        self.len = 0;
        self.wrapped = false;
    }

    /// Blank the columns `from..to`.
    pub fn erase(&mut self, from: u16, to: u16) {
        let to = to.min(self.cells.len() as u16);
        if from >= to {
            return;
        }
        if to >= self.len {
            // erasing the tail: the row ends at `from`
            if from < self.len {
                self.cells[from as usize..self.len as usize].fill(Cell::BLANK);
                self.len = from;
            }
        } else {
            self.cells[from as usize..to as usize].fill(Cell::BLANK);
        }
    }

    pub fn is_blank(&self) -> bool {
        self.cells[..self.len as usize]
            .iter()
            .all(|c| c.ch == ' ' || c.ch == SPACER)
    }

    /// Append the row's text from column `from` to `out`, without trailing blanks when
    /// `trim` is set (a command keeps the blanks that were typed).
    pub fn push_text(&self, from: u16, out: &mut String, trim: bool) {
        let start = out.len();
        let from = (from as usize).min(self.len as usize);
        for cell in &self.cells[from..self.len as usize] {
            if cell.ch == SPACER {
                continue;
            }
            out.push(cell.ch);
            for &m in &cell.comb {
                if m != '\0' {
                    out.push(m);
                }
            }
        }
        if trim {
            let trimmed = out[start..].trim_end_matches(' ').len();
            out.truncate(start + trimmed);
        }
    }
}

/// One screen (primary or alternate).
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    pub rows: Vec<Row>,
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
        for r in &mut self.rows[top..top + n] {
            gone(r);
            r.clear();
        }
        self.rows[top..=bottom].rotate_left(n);
    }

    /// Scroll rows `top..=bottom` down by `n`: blank rows appear at `top`.
    pub fn scroll_down(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        for r in &mut self.rows[bottom + 1 - n..=bottom] {
            r.clear();
        }
        self.rows[top..=bottom].rotate_right(n);
        // the row above the region can no longer continue into the region
        if top > 0 {
            self.rows[top - 1].wrapped = false;
        }
    }
}
