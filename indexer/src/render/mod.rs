//! A streaming terminal renderer built on the `vte` parser.
//!
//! It turns raw PTY output into the text the user saw and the commands they ran. Only the
//! visible screen is kept as a grid; rows that scroll off the top, or that a clear or reset
//! is about to wipe, go straight to a [`Sink`], with soft-wrapped rows joined back into one
//! logical line. Memory is bounded by the screen size (plus [`MAX_LINE_BYTES`] for one
//! logical line in progress), not by the transcript.
//!
//! Terminal semantics follow xterm as tmux implements it (tmux is the test oracle).

mod commands;
mod csi;
mod grid;
mod ground;
mod mux;
mod term;
pub mod width;

pub use commands::programs;
use commands::*;
use csi::*;

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
