//! Inferring the terminal size, which no transcript records.
//!
//! A wrong width garbles edited command lines, so the renderer looks for evidence first:
//! - readline at the right margin of a terminal with the `xn` glitch prints `' '` then `'\r'`
//!   to force the wrap; the space stands in column `width` (counted from 0) of its line;
//! - full-screen programs (vim, less, top) fill rows to the last column of the screen and set
//!   the scroll region to the screen height;
//! - absolute cursor moves give lower bounds.
//!
//! Without evidence it assumes [`DEFAULT_COLS`] x [`DEFAULT_ROWS`], the size of a new xterm
//! and of most terminals' first window.
//!
//! A window resized during the session leaves readline wraps at more than one width. The
//! renderer is then given the widest, and every width seen ([`Inferred::wraps`]): where a
//! narrower one wraps, it wraps there too (a line drawn for a narrower screen fits in a wider
//! one, not the other way round).

use std::collections::HashMap;

use super::{WidthSource, MAX_COLS, MAX_ROWS};

pub const DEFAULT_COLS: u16 = 80;
pub const DEFAULT_ROWS: u16 = 24;

/// How many bytes of a transcript the probe reads at most.
pub const PROBE_BYTES: usize = 8 << 20;

/// How many distinct readline wrap widths are kept: a session resized more often than this
/// keeps its most common ones.
pub const MAX_WRAP_WIDTHS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inferred {
    pub cols: u16,
    pub rows: u16,
    pub source: WidthSource,
    /// The widths readline wrapped at, the most common first, 0 past the last.
    pub wraps: [u16; MAX_WRAP_WIDTHS],
}

/// Infer the size from the first bytes of a transcript.
pub fn infer(bytes: &[u8]) -> Inferred {
    probe(bytes, true)
}

/// [`infer`] with every byte through vte: for tests that compare the two.
#[doc(hidden)]
pub fn infer_with_vte_alone(bytes: &[u8]) -> Inferred {
    probe(bytes, false)
}

fn probe(bytes: &[u8], fast_path: bool) -> Inferred {
    let mut probe = Probe {
        ground: true,
        ..Probe::default()
    };
    let mut parser = vte::Parser::<256>::default();
    let bytes = &bytes[..bytes.len().min(PROBE_BYTES)];
    if fast_path {
        super::ground::feed(&mut parser, &mut probe, bytes);
    } else {
        parser.advance(&mut probe, bytes);
    }
    probe.confirm_wrap();
    probe.result()
}

#[derive(Default)]
struct Probe {
    /// vte is in its ground state (see [`super::ground::Ground`])
    ground: bool,
    /// column on an infinitely wide line, reset by `\r`
    col: i64,
    on_alt: bool,
    /// printed a space at this column, as the last action
    space_at: Option<i64>,
    /// `' '` `'\r'` seen, waiting to see what follows
    wrap_candidate: Option<i64>,
    /// first characters of the line before the `\r` and after it, to tell a progress bar
    /// (which redraws the same text) from a wrap
    line_head: String,
    after_cr: String,
    wraps: HashMap<i64, u32>,
    alt_col: i64,
    alt_max_col: i64,
    alt_region_bottom: u16,
    max_cup_col: u16,
    max_cup_row: u16,
}

impl Probe {
    fn confirm_wrap(&mut self) {
        if let Some(c) = self.wrap_candidate.take() {
            // the same text drawn again from column 0 (a progress bar, a prompt redrawn): the
            // line's head and what follows the `\r` agree as far as both go
            let n = self.after_cr.len().min(self.line_head.len());
            let progress =
                n >= 3 && self.line_head.as_bytes()[..n] == self.after_cr.as_bytes()[..n];
            // readline's incremental search rewrites the prompt line from column 0
            let search = ["(reverse-i-search)", "(i-search)", "(arg: ", "(failed "]
                .iter()
                .any(|p| self.after_cr.starts_with(p) || p.starts_with(self.after_cr.as_str()));
            if !progress && !search {
                if (10..=MAX_COLS as i64).contains(&c) {
                    *self.wraps.entry(c).or_default() += 1;
                }
                // a new row began: its head is what was printed after the `\r`
                self.line_head = self.after_cr.chars().take(8).collect();
            }
        }
        self.after_cr.clear();
    }

    /// zsh's PROMPT_SP and fish's missing-newline mark, at each prompt: a mark (`%`, `#`,
    /// `⏎`), spaces to the last column, CR, then a space or the mark and a space, and CR
    /// again. Not a wrap: the last space stands in column width - 1, not width.
    fn prompt_sp(&self) -> bool {
        let mut after = self.after_cr.chars();
        match (after.next(), after.next(), after.next()) {
            (Some(' '), None, _) => self.line_head.trim_end().chars().count() == 1,
            (Some(mark), Some(' '), None) => {
                mark != ' ' && self.line_head.trim_end().chars().eq([mark])
            }
            _ => false,
        }
    }

    fn result(&self) -> Inferred {
        let rows = if self.alt_region_bottom >= 5 {
            self.alt_region_bottom
        } else if self.max_cup_row >= 5 {
            self.max_cup_row
        } else {
            DEFAULT_ROWS
        }
        .min(MAX_ROWS);
        // every width readline wrapped at, the most common first
        let mut seen: Vec<(u32, u16)> = self
            .wraps
            .iter()
            .map(|(&w, &n)| (n, w.min(MAX_COLS as i64) as u16))
            .collect();
        seen.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut wraps = [0; MAX_WRAP_WIDTHS];
        for (slot, (_, w)) in wraps.iter_mut().zip(&seen) {
            *slot = *w;
        }
        let (cols, source) = if let Some(&widest) = wraps.iter().max().filter(|&&w| w > 0) {
            // the widest: the others are followed as they come (see the module)
            (widest, WidthSource::InferredReadlineWrap)
        } else if self.alt_max_col >= 20 {
            (
                self.alt_max_col.min(MAX_COLS as i64) as u16,
                WidthSource::InferredFullScreen,
            )
        } else if self.max_cup_col > DEFAULT_COLS {
            (
                self.max_cup_col.min(MAX_COLS),
                WidthSource::InferredCursorMoves,
            )
        } else {
            (DEFAULT_COLS, WidthSource::Assumed)
        };
        Inferred {
            cols,
            rows,
            source,
            wraps,
        }
    }
}

impl super::ground::Ground for Probe {
    fn in_ground(&self) -> bool {
        self.ground
    }

    fn set_in_ground(&mut self, on: bool) {
        self.ground = on;
    }

    fn csi(&mut self, params: &[u16], intermediates: &[u8], action: char) {
        self.ground = true;
        self.space_at = None;
        if self.wrap_candidate.is_some() {
            if self.after_cr.is_empty()
                && intermediates.is_empty()
                && matches!(
                    action,
                    'A' | 'B' | 'C' | 'D' | 'G' | '`' | 'H' | 'f' | 'd' | 'K'
                )
            {
                // the program places the cursor itself right after the `\r` (fish redrawing
                // its line, `\r` then `CSI n C`), or erases the row to draw it again (bash
                // redrawing its prompt after a resize: `PROMPT \r ESC[K PROMPT`): not a wrap
                self.wrap_candidate = None;
            } else if !self.after_cr.is_empty() {
                self.confirm_wrap();
            }
        }
        let p0 = params.first().copied().unwrap_or(0);
        let p1 = params.get(1).copied().unwrap_or(0);
        let n = p0.max(1) as i64;
        if intermediates == b"?" {
            if matches!(p0, 1049 | 47 | 1047) {
                self.on_alt = action == 'h';
                self.alt_col = 0;
            }
            return;
        }
        if !intermediates.is_empty() {
            return;
        }
        let col = if self.on_alt {
            &mut self.alt_col
        } else {
            &mut self.col
        };
        match action {
            'C' => *col += n,
            'D' => *col = (*col - n).max(0),
            'G' | '`' => *col = n - 1,
            'H' | 'f' => {
                *col = p1.max(1) as i64 - 1;
                self.max_cup_col = self.max_cup_col.max(p1);
                self.max_cup_row = self.max_cup_row.max(p0);
            }
            'r' if self.on_alt => self.alt_region_bottom = self.alt_region_bottom.max(p1),
            _ => {}
        }
    }

    /// Plain lines leave nothing behind in the probe: what their text sets, their line feed
    /// clears (a wrap is a CR not followed by a LF); only the column is left at 0.
    fn plain_lines(&mut self, bytes: &[u8]) -> usize {
        if self.on_alt {
            return 0;
        }
        let mut at = 0;
        while let Some((_, end)) = super::ground::plain_line(&bytes[at..], usize::MAX) {
            at += end;
        }
        if at > 0 {
            self.col = 0;
        }
        at
    }

    fn print_ascii(&mut self, run: &[u8]) {
        let n = run.len() as i64;
        if self.on_alt {
            self.alt_col += n;
            self.alt_max_col = self.alt_max_col.max(self.alt_col);
        } else if self.wrap_candidate.is_none() {
            // no wrap to confirm: the line's head takes what falls in its first 8 columns, then
            // only the column and a last space matter
            if self.col < 8 {
                let k = ((8 - self.col) as usize)
                    .min(32usize.saturating_sub(self.line_head.len()))
                    .min(run.len());
                self.line_head
                    .extend(run[..k].iter().map(|&b| char::from(b)));
            }
            self.space_at = (run.last() == Some(&b' ')).then_some(self.col + n - 1);
            self.col += n;
        } else {
            for &b in run {
                vte::Perform::print(self, b as char);
            }
        }
    }
}

impl vte::Perform for Probe {
    fn terminated(&self) -> bool {
        self.ground
    }

    fn osc_dispatch(&mut self, _params: &[&[u8]], bell_terminated: bool) {
        if bell_terminated {
            self.ground = true;
        }
    }

    fn print(&mut self, c: char) {
        let w = super::char_width(c) as i64;
        if self.on_alt {
            self.alt_col += w;
            self.alt_max_col = self.alt_max_col.max(self.alt_col);
            return;
        }
        if self.wrap_candidate.is_some() {
            self.after_cr.push(c);
            if self.after_cr.len() >= 20 {
                self.confirm_wrap();
            }
        }
        if self.wrap_candidate.is_none() && self.col < 8 && self.line_head.len() < 32 {
            self.line_head.push(c);
        }
        self.space_at = (c == ' ').then_some(self.col);
        self.col += w;
    }

    fn execute(&mut self, byte: u8) {
        if self.on_alt {
            if byte == b'\r' {
                self.alt_col = 0;
            }
            return;
        }
        match byte {
            b'\r' => {
                if let Some(c) = self.wrap_candidate.filter(|_| self.prompt_sp()) {
                    // the spaces ended in the last column: evidence of width c + 1
                    if (10..MAX_COLS as i64).contains(&c) {
                        *self.wraps.entry(c + 1).or_default() += 1;
                    }
                    self.wrap_candidate = None;
                    self.after_cr.clear();
                    self.space_at = None;
                    self.col = 0;
                    return;
                }
                if let Some(c) = self.space_at.take() {
                    self.confirm_wrap();
                    self.wrap_candidate = Some(c);
                }
                self.col = 0;
            }
            b'\n' => {
                // a line end, not a wrap
                self.wrap_candidate = None;
                self.after_cr.clear();
                self.line_head.clear();
                self.space_at = None;
            }
            0x08 => {
                self.col = (self.col - 1).max(0);
                self.space_at = None;
            }
            _ => self.space_at = None,
        }
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        intermediates: &[u8],
        _ignore: bool,
        action: char,
    ) {
        let (values, n) = super::ground::first_values(params);
        super::ground::Ground::csi(self, &values[..n], intermediates, action);
    }

    fn esc_dispatch(&mut self, _intermediates: &[u8], _ignore: bool, _byte: u8) {
        self.ground = true;
        self.space_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bash redraws its prompt on SIGWINCH as `PROMPT \r ESC[K PROMPT`: the prompt's space
    /// then `\r` is no wrap, whatever the prompt's length.
    #[test]
    fn a_prompt_redrawn_after_a_resize_is_not_a_wrap() {
        for prompt in ["ubuntu@ip-172-31-1-1:~$ ", "[ec2-user@ip-10-0-0-5 ~]$ "] {
            let mut b = Vec::new();
            for _ in 0..3 {
                b.extend_from_slice(prompt.as_bytes());
                b.extend_from_slice(b"\r\x1b[K");
            }
            b.extend_from_slice(prompt.as_bytes());
            b.extend_from_slice(b"ls\r\n");
            let got = infer(&b);
            assert_eq!(got.source, WidthSource::Assumed, "{prompt}: {got:?}");
            // without the erase, as some bash versions draw it: the same text again
            let mut b = Vec::new();
            for _ in 0..3 {
                b.extend_from_slice(prompt.as_bytes());
                b.extend_from_slice(b"\r");
            }
            b.extend_from_slice(prompt.as_bytes());
            b.extend_from_slice(b"ls\r\n");
            assert_eq!(
                infer(&b).source,
                WidthSource::Assumed,
                "{prompt} without EL"
            );
        }
    }

    /// readline's wrap (a space, then CR with no LF) at column 38, after output that left the
    /// column elsewhere: the plain lines between them bring it back to 0, taken at once or not.
    #[test]
    fn plain_lines_leave_the_column_at_zero() {
        let mut t = b"no carriage return: column 29\n".to_vec();
        for _ in 0..3 {
            t.extend_from_slice(b"output\r\n");
        }
        t.extend_from_slice(b"$ echo 0123456789012345678901234567890 \rcontinues past the margin");
        let mut wraps = [0; MAX_WRAP_WIDTHS];
        wraps[0] = 38;
        let want = Inferred {
            cols: 38,
            rows: DEFAULT_ROWS,
            source: WidthSource::InferredReadlineWrap,
            wraps,
        };
        assert_eq!(infer(&t), want);
        assert_eq!(infer_with_vte_alone(&t), want);
    }
}
