//! A streaming terminal renderer built on the `vte` parser.
//!
//! It turns raw PTY output into the text the user saw and the commands they ran. Only the
//! visible screen is kept as a grid; rows that scroll off the top, or that a clear or reset
//! is about to wipe, go straight to a [`Sink`], with soft-wrapped rows joined back into one
//! logical line. Memory is bounded by the screen size (plus [`MAX_LINE_BYTES`] for one
//! logical line in progress), not by the transcript.
//!
//! Terminal semantics follow xterm as tmux implements it (tmux is the test oracle).

mod grid;
mod ground;
mod mux;
pub mod programs;
mod regions;
pub mod width;

use grid::{Grid, Row, BLANK, SPACER};
use std::borrow::Cow;

use serde::Serialize;

/// A logical line longer than this is cut into pieces of this size (a single 100 MB line must
/// not be held whole).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Commands (cancelled lines and prompt-pattern candidates too) are kept up to this many bytes
/// in all; past it they are only counted ([`RenderSummary::commands_dropped`]), so memory stays
/// bounded however many commands a transcript holds.
pub const MAX_COMMAND_BYTES: usize = 16 << 20;
/// The most rows of an alternate screen's scrolled-off text kept in one snapshot.
pub const MAX_ALT_SCROLLBACK: usize = 10_000;
/// Limits for a width or height given by a caller or inferred.
pub const MAX_COLS: u16 = 4096;
pub const MAX_ROWS: u16 = 1000;
/// Plain lines are taken at once this many at most (so their list stays small).
const PLAIN_LINES_AT_ONCE: usize = 4096;

/// Receives the rendered output as it is produced.
pub trait Sink {
    /// A finished logical line of the shell (primary screen) text, numbered from 1.
    fn line(&mut self, number: u64, text: &str);
    /// A snapshot of a full-screen program's alternate screen, taken before it was left or
    /// cleared.
    fn alternate_screen(&mut self, _screen: &AlternateScreen) {}
    /// Whether the renderer should keep the commands for [`RenderSummary`]; a sink that only
    /// streams text says no, so memory stays flat however many commands a transcript holds.
    fn keep_commands(&self) -> bool {
        true
    }
}

/// Collects everything in memory: for tests and small inputs.
#[derive(Default, Debug)]
pub struct VecSink {
    pub lines: Vec<String>,
    pub alternate_screens: Vec<AlternateScreen>,
}

impl Sink for VecSink {
    fn line(&mut self, _number: u64, text: &str) {
        self.lines.push(text.to_owned());
    }
    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        self.alternate_screens.push(screen.clone());
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn line(&mut self, number: u64, text: &str) {
        (**self).line(number, text)
    }
    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        (**self).alternate_screen(screen)
    }
    fn keep_commands(&self) -> bool {
        (**self).keep_commands()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AlternateScreen {
    /// 1-based count of alternate-screen snapshots in this transcript.
    pub index: u32,
    /// The shell text line on which the full-screen program was started.
    pub after_line: u64,
    pub lines: Vec<String>,
    /// Rows scrolled off this screen beyond [`MAX_ALT_SCROLLBACK`] were not kept.
    pub truncated: bool,
}

/// How a command line was recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// bash 5.1+ turns bracketed paste off (`CSI ? 2004 l`) the moment a line is accepted.
    BracketedPaste,
    /// FinalTerm / OSC 133 semantic prompt marks (`B` input start, `C` executed).
    Osc133,
    /// A line that starts with the session's prompt: shells without markers (dash, bash 4).
    PromptPattern,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Command {
    pub text: String,
    /// The line of the rendered text on which the command stands.
    pub line: u64,
    pub method: Method,
    /// 0..=1: how sure the renderer is that this is exactly the command run.
    pub confidence: f32,
    /// The prompt the line was read at (the line's text before the command).
    #[serde(skip)]
    pub prompt: String,
}

/// A line typed into an interactive program a shell command started (sqlite3, psql,
/// python ...): that program's input, not a shell command.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ProgramInput {
    /// the program, as the command that started it names it
    pub program: String,
    pub line: u64,
    pub text: String,
}

/// Where the width came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WidthSource {
    /// Given by the caller (`--width`).
    Given,
    /// Readline's wrap at the right margin (`' '` then `'\r'`).
    InferredReadlineWrap,
    /// The widest row a full-screen program drew.
    InferredFullScreen,
    /// The largest absolute cursor column used.
    InferredCursorMoves,
    /// Nothing in the transcript tells: [`width::DEFAULT_COLS`].
    Assumed,
}

#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub cols: u16,
    pub rows: u16,
    /// Treat LF as CR LF: for copies that lost their carriage returns (a PTY always sends
    /// them, so a transcript with none has been through a text tool).
    pub lf_is_newline: bool,
    /// How much of the commands found is kept ([`MAX_COMMAND_BYTES`] by default).
    pub max_command_bytes: usize,
    /// Widths readline wrapped at besides `cols` (a window resized during the session), 0
    /// for none: a line readline wraps at one of them is wrapped there (see
    /// [`width::Inferred::wraps`]).
    pub wraps: [u16; width::MAX_WRAP_WIDTHS],
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            cols: width::DEFAULT_COLS,
            rows: width::DEFAULT_ROWS,
            lf_is_newline: false,
            max_command_bytes: MAX_COMMAND_BYTES,
            wraps: [0; width::MAX_WRAP_WIDTHS],
        }
    }
}

/// What is left when rendering ends, besides the lines already given to the sink.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RenderSummary {
    pub lines: u64,
    /// What the shells ran.
    pub commands: Vec<Command>,
    /// Lines typed into interactive programs the shells started.
    pub inputs: Vec<ProgramInput>,
    /// Lines abandoned with Ctrl-C: typed, never run.
    pub cancelled: Vec<Command>,
    pub alternate_screens: u32,
    /// The last line, when it is a NonInteractiveCommands `EXIT_CODE: <n>` line.
    pub exit_code_line: Option<i32>,
    /// Commands past [`RenderOptions::max_command_bytes`]: counted, not kept (cancelled lines
    /// past it are not counted; without bracketed-paste or OSC 133 markers, every line past it
    /// that looks like a prompt and a command is).
    #[serde(skip_serializing_if = "is_zero")]
    pub commands_dropped: u64,
    /// logical lines longer than [`MAX_LINE_BYTES`], given as several lines (nothing lost)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub long_lines_split: u64,
    /// characters a REP (`CSI n b`) asked for past one screen width: not drawn (a terminal
    /// would repeat the same character on and on)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeats_capped: u64,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What keeping commands (marked ones, cancelled lines and prompt-pattern candidates alike)
/// has cost so far, against [`MAX_COMMAND_BYTES`].
#[derive(Debug)]
struct CommandBudget {
    used: usize,
    limit: usize,
    /// marked commands past the limit
    dropped: u64,
    /// prompt-pattern candidates past the limit
    candidates_dropped: u64,
}

impl CommandBudget {
    fn new(limit: usize) -> CommandBudget {
        CommandBudget {
            used: 0,
            limit,
            dropped: 0,
            candidates_dropped: 0,
        }
    }

    /// Whether a command of `text_len` bytes (plus `extra`) may still be kept.
    fn admit(&mut self, text_len: usize, extra: usize) -> bool {
        self.used = self
            .used
            .saturating_add(text_len + extra + std::mem::size_of::<Command>());
        self.used <= self.limit
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    row: u16,
    col: u16,
    /// The last column was written: the next printable character wraps first.
    pending_wrap: bool,
}

/// A character set a G0-G3 slot can hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Charset {
    #[default]
    Ascii,
    /// DEC special graphics (`ESC ( 0`): line drawing
    DecSpecial,
    /// the UK set (`ESC ( A`): `#` is `£`
    Uk,
}

impl Charset {
    fn designated(b: u8) -> Charset {
        match b {
            b'0' => Charset::DecSpecial,
            b'A' => Charset::Uk,
            _ => Charset::Ascii,
        }
    }

    fn map(self, c: char) -> char {
        match self {
            Charset::Ascii => c,
            Charset::DecSpecial => dec_special(c),
            Charset::Uk if c == '#' => '£',
            Charset::Uk => c,
        }
    }
}

/// The character sets: G0-G3 and which is shifted into GL (SI: G0, SO: G1), with a single
/// shift (SS2, SS3) for the next character.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Charsets {
    g: [Charset; 4],
    gl: u8,
    single: Option<u8>,
}

impl Charsets {
    /// The set the next printed character is drawn from.
    fn active(&self) -> Charset {
        self.g[self.single.unwrap_or(self.gl) as usize & 3]
    }

    /// Whether printing must look at the sets at all.
    fn is_plain(&self) -> bool {
        self.active() == Charset::Ascii && self.single.is_none()
    }
}

/// What DECSC (`ESC 7`, `CSI s`, `?1049h`) saves and DECRC restores, as xterm does: the cursor,
/// the character sets with their shift state, and origin mode. One slot a screen.
#[derive(Clone, Copy, Debug, Default)]
struct Saved {
    cur: Cursor,
    charsets: Charsets,
    origin: bool,
}

/// Where the line being read by the shell starts: the prompt (2004h, OSC 133 A) and, when
/// known, the first column of the input (OSC 133 B). `row` is an index into the primary
/// grid, kept up to date as it scrolls; negative once the row has left the screen.
#[derive(Clone, Debug)]
struct InputStart {
    row: i32,
    col: u16,
    input: Option<(i32, u16)>,
    method: Method,
    /// application cursor keys (`CSI ? 1 h`) on while the line was read, and whether they
    /// were turned off again before it ended: zsh's line-finish hook does that on accept,
    /// not on Ctrl-C (Debian's, Ubuntu's and oh-my-zsh's setups set the hooks)
    keypad: Option<bool>,
    /// the marker came after text on its row, the prompt (zsh): the line is input from
    /// `col` on
    after_prompt: bool,
    /// text right of the cursor then: zsh's right prompt, which stays on the line
    rprompt: Option<String>,
}

/// The output side: finished lines, numbering and the logical line in progress.
struct Output<S> {
    sink: S,
    lines: u64,
    /// A logical line whose first rows have scrolled off while it was still wrapping: UTF-8,
    /// cut only between rows.
    pending: Vec<u8>,
    pending_open: bool,
    /// see [`RenderSummary::long_lines_split`]
    long_lines_split: u64,
    /// see [`RenderSummary::repeats_capped`]
    repeats_capped: u64,
    exit_code_line: Option<i32>,
    /// prompt-pattern candidates: the prompt's shape, the command, and the group of lines
    /// of one unmarked shell they are on (see [`regions::Region::group`])
    candidates: Vec<(String, Command, u64)>,
    /// lines that start with an interactive program's prompt (`>>> `, `sqlite> `): that
    /// program's input when one was started there and draws no markers (python's REPL)
    program_lines: Vec<(u64, String)>,
    budget: CommandBudget,
    /// which lines marked shells read (no prompt-pattern candidates there)
    regions: regions::Regions,
}

impl<S: Sink> Output<S> {
    fn push_row(&mut self, row: &Row) {
        if row.len == 0 && !row.wrapped && self.pending.is_empty() {
            // a blank row on its own: a blank line, without the text path
            self.pending_open = false;
            self.lines += 1;
            self.sink.line(self.lines, "");
            return;
        }
        // untrimmed: a command line keeps the blanks that were typed at its end
        row.push_utf8(&mut self.pending);
        if row.wrapped {
            self.pending_open = true;
            if self.pending.len() > MAX_LINE_BYTES {
                self.long_lines_split += 1;
                self.end_line();
            }
        } else {
            self.end_line();
        }
    }

    fn end_line(&mut self) {
        let bytes = std::mem::take(&mut self.pending);
        // whole rows of characters: always valid UTF-8
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&bytes),
        };
        self.pending_open = false;
        self.emit(&text);
        drop(text);
        self.pending = bytes;
        self.pending.clear();
    }

    /// A finished logical line, blanks at its end included.
    fn emit(&mut self, text: &str) {
        self.lines += 1;
        let trimmed = grid::trim_blanks(text);
        if trimmed.is_empty() {
            // a blank line is no prompt, command or exit code, and changes no region (a
            // screen scrolled by `CSI n S` again and again gives little else)
            self.sink.line(self.lines, trimmed);
            return;
        }
        if let Some(code) = trimmed.strip_prefix("EXIT_CODE: ") {
            self.exit_code_line = code.trim().parse().ok();
        } else if trimmed.ends_with(|c: char| !c.is_whitespace()) || !trimmed.trim_end().is_empty()
        {
            self.exit_code_line = None;
        }
        // (rows reach here when they leave the screen, after later commands may have run:
        // which program they belong to is decided at the end, by line)
        if let Some(input) = programs::after_program_prompt(trimmed) {
            if self.sink.keep_commands() && self.budget.admit(input.len(), 0) {
                self.program_lines.push((self.lines, input.to_owned()));
            }
        }
        let region = self.regions.of(self.lines);
        if region == regions::Region::Marked {
            self.regions.marked_line(self.lines, trimmed);
        }
        if let Some(group) = region.group() {
            let found = prompt_pattern(text).filter(|(key, cmd, _)| {
                if group == 0 && !self.regions.outer_launched {
                    self.regions.outer_launched = regions::starts_shell(cmd);
                }
                let ok = self.budget.admit(cmd.len(), key.len());
                self.budget.candidates_dropped += u64::from(!ok);
                ok
            });
            if let Some((key, cmd, conf)) = found {
                let prompt = trimmed.strip_suffix(cmd).unwrap_or_default().to_owned();
                self.candidates.push((
                    key,
                    Command {
                        text: cmd.to_owned(),
                        line: self.lines,
                        method: Method::PromptPattern,
                        confidence: conf,
                        prompt,
                    },
                    group,
                ));
            }
        }
        self.sink.line(self.lines, trimmed);
    }

    fn close_pending(&mut self) {
        if self.pending_open {
            self.end_line();
        }
    }
}

/// The renderer: feed it bytes with [`Renderer::advance`], then call [`Renderer::finish`].
///
/// vte is built without its `std` feature, so an OSC string is cut at 4096 bytes however long
/// it runs (with `std`, vte grows the buffer without bound; only the benchmark's baselines
/// turn it on, in test builds).
pub struct Renderer<S: Sink> {
    parser: vte::Parser<4096>,
    term: Term<S>,
    /// An incomplete UTF-8 sequence held back from the end of the last buffer (see `advance`).
    carry: [u8; 4],
    carry_len: usize,
    /// Take text in the ground state without vte (see [`Renderer::feed`]); off only to check
    /// that it changes nothing.
    fast_path: bool,
}

impl<S: Sink> Renderer<S> {
    pub fn new(opts: RenderOptions, sink: S) -> Renderer<S> {
        Renderer {
            parser: vte::Parser::<4096>::default(),
            term: Term::new(opts, sink),
            carry: [0; 4],
            carry_len: 0,
            fast_path: true,
        }
    }

    /// Every byte through vte, as before the fast path: for tests that compare the two.
    #[doc(hidden)]
    pub fn without_fast_path(mut self) -> Self {
        self.fast_path = false;
        self
    }

    /// Feed the next bytes of the transcript; where the input is cut does not change the result.
    ///
    /// vte 0.15 keeps a UTF-8 sequence cut by the end of a buffer and completes it on the next
    /// call, but when the completed character is short and followed by another character and an
    /// incomplete one within four bytes, it skips the characters in between (its
    /// `advance_partial_utf8` returns `valid_up_to` instead of the first character's length).
    /// So vte never sees a cut sequence: an incomplete tail is held back here and joined to the
    /// start of the next buffer.
    pub fn advance(&mut self, mut bytes: &[u8]) {
        if self.carry_len > 0 {
            let c = self.carry_len;
            let m = bytes.len().min(3);
            let mut buf = [0u8; 7];
            buf[..c].copy_from_slice(&self.carry[..c]);
            buf[c..c + m].copy_from_slice(&bytes[..m]);
            let joined = &buf[..c + m];
            let hold = incomplete_utf8_tail(joined);
            if hold == joined.len() {
                // still incomplete: only when `bytes` is shorter than the sequence
                self.carry[..hold].copy_from_slice(joined);
                self.carry_len = hold;
                return;
            }
            let fed = joined.len() - hold;
            self.feed(&joined[..fed]);
            self.carry_len = 0;
            bytes = &bytes[fed - c..];
        }
        let hold = incomplete_utf8_tail(bytes);
        let (now, later) = bytes.split_at(bytes.len() - hold);
        self.feed(now);
        self.carry[..hold].copy_from_slice(later);
        self.carry_len = hold;
    }

    /// Hand `bytes` (whole UTF-8 sequences only) to the terminal, text in vte's ground state
    /// without vte ([`ground::feed`]): a run of printable ASCII is written to the row at once
    /// instead of one character a call.
    fn feed(&mut self, bytes: &[u8]) {
        if self.fast_path {
            ground::feed(&mut self.parser, &mut self.term, bytes);
        } else {
            self.parser.advance(&mut self.term, bytes);
        }
    }

    /// Render one line of a CloudWatch streamed `sessionData` array: the agent has already
    /// split the text into lines and removed `\r`.
    pub fn advance_line(&mut self, line: &str) {
        self.advance(line.as_bytes());
        self.advance(b"\r\n");
    }

    /// Flush what is still on screen and return the commands found.
    pub fn finish(mut self) -> (RenderSummary, S) {
        // an incomplete sequence at the very end goes to vte, which drops it as it would have
        let c = self.carry_len;
        self.parser.advance(&mut self.term, &self.carry[..c]);
        self.term.finish()
    }
}

/// The length of the incomplete UTF-8 sequence that ends `bytes` (a lead byte and fewer
/// continuation bytes than it announces, valid so far), or 0.
fn incomplete_utf8_tail(bytes: &[u8]) -> usize {
    for k in 1..=bytes.len().min(3) {
        let tail = &bytes[bytes.len() - k..];
        match tail[0] {
            0x80..=0xbf => continue,
            0xc0..=0xff => {
                return match std::str::from_utf8(tail) {
                    Err(e) if e.valid_up_to() == 0 && e.error_len().is_none() => k,
                    _ => 0,
                }
            }
            _ => return 0,
        }
    }
    0
}

struct Term<S: Sink> {
    /// vte is in its ground state (see [`ground::Ground`]).
    ground: bool,
    out: Output<S>,
    primary: Grid,
    alt: Grid,
    on_alt: bool,
    cur: Cursor,
    /// DECSC's slots: the primary screen's, the alternate screen's
    saved: [Saved; 2],
    /// tab stops by column (HTS sets one, TBC clears); every 8 columns at first
    tabs: Vec<bool>,
    top: u16,
    bottom: u16,
    autowrap: bool,
    /// dec_graphics or insert mode: printing takes the full path
    slow_print: bool,
    lf_is_newline: bool,
    /// readline's wrap widths (see [`RenderOptions::wraps`]), 0 past the last
    wraps: [u16; width::MAX_WRAP_WIDTHS],
    /// The screen's width now: the grid's, unless readline wrapped at a narrower one since
    /// (the window was resized). Rows keep the grid's cells; what lies past the margin was
    /// written before.
    margin: u16,
    insert: bool,
    origin: bool,
    charsets: Charsets,
    last_char: char,
    // commands
    reading: Option<InputStart>,
    /// application cursor keys (`CSI ? 1 h`): zsh's line-init hook turns them on
    app_cursor: bool,
    saw_marker: bool,
    last_prompt: Option<String>,
    commands: Vec<Command>,
    cancelled: Vec<Command>,
    // alternate screens
    alt_scrolled: Vec<String>,
    alt_truncated: bool,
    alt_after_line: u64,
    alt_count: u32,
    last_snapshot: Option<Vec<String>>,
    /// the alternate screen is a terminal multiplexer's (tmux, screen ...) started at this
    /// shell prompt: the shell inside draws the same prompt, so its commands are found there
    multiplexer: Option<String>,
    /// the multiplexer's screen read as the lines it showed (see [`mux`])
    mux: Option<mux::History>,
    /// a detached multiplexer's: its reattach draws the same lines again
    mux_detached: Option<mux::History>,
    /// the last command, when it started a multiplexer (whether the budget kept it or not)
    last_multiplexer: Option<Command>,
    // plain lines taken at once (see `plain_lines`)
    plain_spans: Vec<(usize, usize)>,
    /// line feeds still to come over lines already found too few to take at once
    plain_skip: usize,
}

impl<S: Sink> Term<S> {
    fn new(opts: RenderOptions, sink: S) -> Term<S> {
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

    fn height(&self) -> u16 {
        self.primary.height()
    }

    fn grid(&mut self) -> &mut Grid {
        if self.on_alt {
            &mut self.alt
        } else {
            &mut self.primary
        }
    }

    // ---- output of the primary screen -------------------------------------------------

    /// The number the logical line holding primary row `r` will get when it is emitted.
    fn line_number_of_row(&self, r: usize) -> u64 {
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
    fn flush_primary(&mut self) {
        if let Some(last) = self.primary.last_used_row() {
            for row in self.primary.rows.range(..=last) {
                self.out.push_row(row);
            }
        }
        self.out.close_pending();
        self.primary.clear_all();
    }

    fn scroll_up(&mut self, top: u16, bottom: u16, n: u16) {
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

    fn scroll_down(&mut self, top: u16, bottom: u16, n: u16) {
        let (top, bottom, n) = (top as usize, bottom as usize, n as usize);
        self.grid().scroll_down(top, bottom, n);
        if !self.on_alt {
            if let Some(st) = &mut self.reading {
                shift_row(&mut st.row, top, bottom, n as i32);
            }
        }
    }

    fn linefeed(&mut self) {
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

    /// At a CR right after a space, in a session whose window was resized: readline's wrap
    /// (a space past the last column, then CR) at another width than the margin's. The
    /// margin moves to it.
    /// - Narrower: the space stands inside the row. On that screen it went to the start of
    ///   the next row: the line wraps here.
    /// - Wider: the row continues one wrapped at the margin, and the space's column on the
    ///   line is readline's width. The continuation goes back on the row above, which
    ///   wraps there.
    #[cold]
    fn readline_wrap(&mut self) {
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
    fn abandon_at_ctrl_c(&mut self) -> Option<(Method, Option<bool>)> {
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

    fn reverse_index(&mut self) {
        self.cur.pending_wrap = false;
        if self.cur.row == self.top {
            self.scroll_down(self.top, self.bottom, 1);
        } else if self.cur.row > 0 {
            self.cur.row -= 1;
        }
    }

    // ---- printing ---------------------------------------------------------------------

    fn sync_modes(&mut self) {
        self.slow_print = !self.charsets.is_plain() || self.insert;
    }

    /// The common case, kept small enough to inline into vte's loop: printable ASCII inside
    /// the row, nothing pending, no special mode.
    #[inline(always)]
    fn print_fast(&mut self, c: char) -> bool {
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
    /// Output scrolling the whole primary screen, one plain line at a time, is the bulk of a
    /// long transcript: the cursor at the start of a blank bottom row, nothing being typed.
    fn scrolls_plain_lines(&self) -> bool {
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
    fn print_char(&mut self, c: char) {
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

    fn wrap(&mut self) {
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
    fn combine(&mut self, c: char) {
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
    fn tab_forward(&mut self) {
        let last = self.margin - 1;
        let from = self.cur.col as usize + 1;
        let next = (from..=last as usize).find(|&c| self.tabs.get(c).copied().unwrap_or(false));
        self.cur.col = next.map_or(last, |c| c as u16);
    }

    /// To the previous tab stop, or the first column.
    fn tab_back(&mut self) {
        let to = self.cur.col as usize;
        let prev = (1..to)
            .rev()
            .find(|&c| self.tabs.get(c).copied().unwrap_or(false));
        self.cur.col = prev.unwrap_or(0) as u16;
        self.cur.pending_wrap = false;
    }

    fn decaln(&mut self) {
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
    fn save_cursor(&mut self) {
        self.saved[self.on_alt as usize] = Saved {
            cur: self.cur,
            charsets: self.charsets,
            origin: self.origin,
        };
    }

    /// DECRC: from the slot of the screen shown (never saved: the home position, ASCII).
    fn restore_cursor(&mut self) {
        let s = self.saved[self.on_alt as usize];
        self.cur = s.cur;
        self.charsets = s.charsets;
        self.origin = s.origin;
        self.cur.row = self.cur.row.min(self.height() - 1);
        self.cur.col = self.cur.col.min(self.margin - 1);
        self.sync_modes();
    }

    fn enter_alt(&mut self, save_cursor: bool) {
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

    fn leave_alt(&mut self, restore_cursor: bool) {
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
    fn capture_mux(&mut self) {
        if let (true, Some(m)) = (self.on_alt, &mut self.mux) {
            let cursor = (self.cur.row as usize, self.cur.col);
            m.capture(&self.alt, self.margin, cursor, MAX_ALT_SCROLLBACK);
        }
    }

    fn snapshot_alt(&mut self) {
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
    fn emit_alt(&mut self, mut lines: Vec<String>, truncated: bool) {
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

    /// The commands of the shell inside a multiplexer: its screen's lines at the prompt the
    /// multiplexer was started at (the shell inside draws the same one), each once, in order,
    /// placed at the line that started the multiplexer.
    ///
    /// A shell inside with another prompt (its own rc file, another user) is found by the
    /// prompt's shape instead, as [`prompt_pattern`] reads shells without markers: the most
    /// common shape among the lines not at the outer prompt.
    fn multiplexer_commands(&mut self, prompt: &str, lines: &[String]) {
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

    /// Erase the whole screen: what is on it is flushed first (an audit keeps what was seen).
    fn clear_screen(&mut self) {
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

    fn reset(&mut self) {
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

    // ---- commands ---------------------------------------------------------------------

    /// The text of the logical line that starts at primary row `row`, column `col`, and the
    /// index of its last row.
    fn logical_text(&self, row: i32, col: u16, trim: bool) -> (String, usize) {
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

    fn finish_input(&mut self, st: InputStart) {
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
    fn marked_prompt(&mut self, row: i32) {
        let line = self.line_number_of_row(row.max(0) as usize);
        self.out.regions.push(line, regions::Event::Marked);
    }

    fn push_command(&mut self, c: Command) {
        let event = regions::event_of(&c.text);
        if event != regions::Event::Marked {
            self.out.regions.push(c.line, event);
        }
        self.keep_command(c);
    }

    /// Keep a command within the budget, or count it.
    fn keep_command(&mut self, c: Command) {
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
    fn strip_prompt(&mut self, line: &str) -> (usize, f32) {
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
    fn row_around_cursor(&self) -> (String, String) {
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

    fn bracketed_paste(&mut self, on: bool) {
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

    fn osc133(&mut self, kind: u8) {
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

    fn finish(mut self) -> (RenderSummary, S) {
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

    // ---- cursor helpers ---------------------------------------------------------------

    fn goto(&mut self, row: u16, col: u16) {
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

    fn erase_in_display(&mut self, mode: u16) {
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

    fn erase_in_line(&mut self, mode: u16) {
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

    fn set_mode(&mut self, private: bool, mode: u16, on: bool) {
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
            // the cursor hidden (a redraw begins: what it draws over is read first) or shown
            // again (a frame is drawn), a synchronized update ended
            (true, 25) => self.capture_mux(),
            (true, 2026) if !on => self.capture_mux(),
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

fn shift_row(row: &mut i32, top: usize, bottom: usize, by: i32) {
    if *row >= top as i32 && *row <= bottom as i32 {
        *row += by;
        if by > 0 && *row > bottom as i32 {
            *row = bottom as i32;
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
fn char_width(c: char) -> u8 {
    if (c as u32) < 0x300 {
        return 1;
    }
    unicode_width::UnicodeWidthChar::width(c)
        .unwrap_or(0)
        .min(2) as u8
}

/// Tab stops every 8 columns.
fn default_tabs(cols: u16) -> Vec<bool> {
    (0..cols as usize).map(|c| c > 0 && c % 8 == 0).collect()
}

/// The DEC special graphics set (VT100): line drawing and symbols for `_` to `~`, as xterm
/// and alacritty draw them.
fn dec_special(c: char) -> char {
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

/// End of a prompt at the start of `line`: just past the first `$ `, `# `, `% ` or `> `.
fn prompt_end(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let limit = bytes.len().min(256);
    (0..limit.saturating_sub(1))
        .find(|&i| matches!(bytes[i], b'$' | b'#' | b'%' | b'>') && bytes[i + 1] == b' ')
        .map(|i| i + 2)
}

/// [`prompt_end`] for [`prompt_pattern`], which takes a prompt of one word only (or a
/// bracketed or PowerShell one): its mark stands right before the line's first space, so only
/// that is looked at (a line of output costs one `memchr`, not a scan of 256 bytes).
fn one_word_prompt_end(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    if bytes.starts_with(b"[") || bytes.starts_with(b"PS ") {
        return prompt_end(line);
    }
    let space = memchr::memchr(b' ', &bytes[..bytes.len().min(256)])?;
    (space > 0 && matches!(bytes[space - 1], b'$' | b'#' | b'%' | b'>')).then_some(space + 1)
}

/// A rendered line that starts with something shaped like a shell prompt: the prompt's shape
/// (so `user@host:~$ ` and `user@host:/tmp$ ` count as one), the command and a confidence.
fn prompt_pattern(line: &str) -> Option<(String, &str, f32)> {
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
fn choose_prompt_commands(cands: Vec<(String, Command)>) -> (Vec<Command>, Vec<Command>) {
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
