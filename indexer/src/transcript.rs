//! Session Manager transcripts: the `script` framing around the PTY output, and rendering a
//! whole transcript from a reader with bounded memory.
//!
//! The agent keeps the shell's raw PTY output in `ipcTempFile.log` and, at session end,
//! replays it through util-linux `script -c "cat <ipcTempFile.log>"` (agent
//! `session/shell/shell_unix.go`, `generateLogData`). So an S3 object, and the CloudWatch
//! copy uploaded at session end, look like (../shared/DESIGN.md section 2.2):
//!
//! ```text
//! Script started on 2025-09-29 16:58:03+00:00 [COMMAND="cat /var/lib/amazon/ssm/<target>/session/orchestration/<sessionId>/Standard_Stream/ipcTempFile.log" <not executed on terminal>]
//! ...PTY output, with \r\r\n line ends (\r\n in the CloudWatch copy)...
//!
//! Script done on 2025-09-29 16:58:03+00:00 [COMMAND_EXIT_CODE="0"]
//! ```
//!
//! Older util-linux writes `Script started on 2020-05-27 23:00:48+0000` with no command, and
//! agents before 2.3.978.0 ran `/usr/bin/ssm-session-logger <ipcTempFile.log> false` in a
//! root shell inside `script`: the first lines are that command and seelog's chatter, and the
//! last two are the wrapper shell's `exit`.

use std::io::{self, Read};

use serde::Serialize;

use crate::render::{
    self, width, AlternateScreen, RenderOptions, RenderSummary, Renderer, Sink, WidthSource,
};
use crate::time::normalize_script_time;

const STARTED: &[u8] = b"Script started on ";
const DONE: &[u8] = b"\nScript done on ";
/// Bytes held back from the renderer until the next read, so the trailer can be cut off.
const TAIL: usize = 4096;
const CHUNK: usize = 256 << 10;

/// How the transcript was framed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// util-linux 2.35+ `script` header naming the command (agents since 2020).
    #[default]
    Script,
    /// `Script started on <time>` alone (older util-linux).
    ScriptLegacy,
    /// The pre-2020 agent's `ssm-session-logger` run inside `script`.
    SessionLogger,
    /// No header: raw PTY output (an ipcTempFile, or a fragment).
    Raw,
}

/// What the framing says about the session. Times are RFC 3339 in UTC; they are the time of
/// the conversion at session end, not of the session start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Header {
    pub framing: Framing,
    pub started: Option<String>,
    pub done: Option<String>,
    pub target: Option<String>,
    pub session_id: Option<String>,
    pub plugin: Option<String>,
    /// `script`'s `COMMAND_EXIT_CODE` (of the `cat` replay, 0 in practice).
    pub command_exit_code: Option<i32>,
    /// A NonInteractiveCommands session's final `EXIT_CODE: <n>`.
    pub exit_code: Option<i32>,
}

/// A rendered transcript (the lines went to the sink).
#[derive(Clone, Debug, Serialize)]
pub struct Rendered {
    pub width: u16,
    pub height: u16,
    pub width_source: WidthSource,
    pub header: Header,
    #[serde(flatten)]
    pub summary: RenderSummary,
}

/// Size choice for [`render_transcript`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SizeChoice {
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

/// Render a transcript from `input`, streaming lines to `sink`. Memory stays bounded by the
/// screen and [`width::PROBE_BYTES`], whatever the input size.
pub fn render_transcript<R: Read, S: Sink>(
    mut input: R,
    size: SizeChoice,
    sink: S,
) -> io::Result<(Rendered, S)> {
    // the head is read whole (for the width probe): its room is made once, when the first
    // 64 KiB are not all, so a growing buffer is not copied and left behind at each doubling
    let first = 64 << 10;
    let mut head = Vec::with_capacity(first);
    (&mut input).take(first as u64).read_to_end(&mut head)?;
    if head.len() == first {
        head.reserve_exact(width::PROBE_BYTES - first);
        (&mut input)
            .take((width::PROBE_BYTES - first) as u64)
            .read_to_end(&mut head)?;
    }

    let mut header = Header {
        framing: Framing::Raw,
        ..Header::default()
    };
    let mut start = 0;
    if head.starts_with(STARTED) {
        let end = memchr::memchr(b'\n', &head).map_or(head.len(), |i| i + 1);
        parse_started(&String::from_utf8_lossy(&head[..end]), &mut header);
        start = end;
    }

    let inferred = width::infer(&head[start..]);
    let (cols, source, wraps) = match size.cols {
        Some(c) => (
            c.clamp(2, render::MAX_COLS),
            WidthSource::Given,
            [0; width::MAX_WRAP_WIDTHS],
        ),
        None => (inferred.cols, inferred.source, inferred.wraps),
    };
    let rows = size
        .rows
        .unwrap_or(inferred.rows)
        .clamp(2, render::MAX_ROWS);

    let mut onlcr = Onlcr::detect(header.framing, &head[start..]);
    let filter = Framed::new(sink, header.framing != Framing::Script);
    let lf_is_newline =
        !head[start..].is_empty() && memchr::memchr(b'\r', &head[start..]).is_none();
    let mut renderer = Renderer::new(
        RenderOptions {
            cols,
            rows,
            lf_is_newline,
            wraps,
            ..RenderOptions::default()
        },
        filter,
    );

    // Feed all but the last TAIL bytes; the trailer is looked for in what is held back. The
    // bytes not fed yet start at `from` (the head is not copied: most transcripts are all head).
    let mut held = head;
    let mut from = start;
    loop {
        if held.len() - from > TAIL {
            let cut = held.len() - TAIL;
            onlcr.advance(&mut renderer, &held[from..cut]);
            held.drain(..cut);
            from = 0;
        }
        // appended in place: no buffer to fill with zeroes first
        if (&mut input).take(CHUNK as u64).read_to_end(&mut held)? == 0 {
            break;
        }
    }
    held.drain(..from);
    if let Some(p) = memchr::memmem::rfind(&held, DONE) {
        parse_done(&String::from_utf8_lossy(&held[p + 1..]), &mut header);
        held.truncate(p);
    }
    onlcr.advance(&mut renderer, &held);
    onlcr.finish(&mut renderer);
    let (mut summary, framed) = renderer.finish();
    let sink = framed.finish(&mut summary, &mut header);
    header.exit_code = summary.exit_code_line;
    let rendered = Rendered {
        width: cols,
        height: rows,
        width_source: source,
        header,
        summary,
    };
    Ok((rendered, sink))
}

/// The agent makes the S3 transcript by replaying the PTY output through `script` with no
/// terminal on stdin (DESIGN.md 2.2): the tty's `onlcr` turned every `\n` into `\r\n`. A
/// shell's line end (`\r\n`) became `\r\r\n`; a bare `\n`, which full-screen programs (tmux,
/// vim, less) use to move the cursor down in its column, became `\r\n` and would move it to
/// column 0 as well: tmux's `ESC[K \n ESC[K` then erases a split pane's border and the pane
/// beside it. Undone: the `\r` written before each `\n` is dropped.
///
/// Only when the transcript shows it: a script-framed transcript whose head has no `\n`
/// without a `\r` before it, and `\r\r\n` at a quarter of its line ends or more.
struct Onlcr {
    on: bool,
    /// the last chunk ended in `\r`: dropped if the next starts with `\n`
    cr_held: bool,
    buf: Vec<u8>,
}

impl Onlcr {
    fn detect(framing: Framing, head: &[u8]) -> Onlcr {
        let script = matches!(framing, Framing::Script | Framing::ScriptLegacy);
        // `script`'s own trailer (`\nScript done on ...\n`) is not PTY output
        let head = &head[..memchr::memmem::rfind(head, DONE).unwrap_or(head.len())];
        // CloudWatch's copy turned `\r\r\n` back into `\r\n`: its `\r\r\n` are rare (a line
        // that ended in `\r` before its line end), not a quarter of the line ends
        let line_ends = memchr::memchr_iter(b'\n', head).count();
        let doubled = memchr::memmem::find_iter(head, b"\r\r\n").count();
        let on = script
            && doubled > 0
            && doubled * 4 >= line_ends
            && memchr::memchr_iter(b'\n', head).all(|i| i > 0 && head[i - 1] == b'\r');
        Onlcr {
            on,
            cr_held: false,
            buf: Vec::new(),
        }
    }

    fn advance<S: Sink>(&mut self, renderer: &mut Renderer<S>, bytes: &[u8]) {
        if !self.on {
            renderer.advance(bytes);
            return;
        }
        if bytes.is_empty() {
            return;
        }
        let buf = &mut self.buf;
        buf.clear();
        if std::mem::take(&mut self.cr_held) && bytes[0] != b'\n' {
            buf.push(b'\r');
        }
        let mut last = 0;
        for i in memchr::memchr_iter(b'\n', bytes) {
            let end = if i > last && bytes[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            buf.extend_from_slice(&bytes[last..end]);
            last = i;
        }
        let mut end = bytes.len();
        if bytes[end - 1] == b'\r' {
            self.cr_held = true;
            end -= 1;
        }
        buf.extend_from_slice(&bytes[last..end]);
        renderer.advance(buf);
    }

    fn finish<S: Sink>(&mut self, renderer: &mut Renderer<S>) {
        if std::mem::take(&mut self.cr_held) {
            renderer.advance(b"\r");
        }
    }
}

/// The header a transcript's first line gives (`Script started on ...`), if it has one.
pub fn header_of(log: &[u8]) -> Header {
    let head = String::from_utf8_lossy(&log[..log.len().min(1024)]);
    let mut h = Header::default();
    parse_started(head.lines().next().unwrap_or(""), &mut h);
    h
}

/// Parse `Script started on <time> [COMMAND="..." <not executed on terminal>]`.
pub fn parse_started(line: &str, header: &mut Header) {
    let rest = line
        .trim_end()
        .strip_prefix("Script started on ")
        .unwrap_or("");
    let (time, tail) = match rest.find(" [") {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    header.started = normalize_script_time(time);
    header.framing = Framing::ScriptLegacy;
    if let Some(cmd) = tail.strip_prefix(" [COMMAND=\"") {
        header.framing = Framing::Script;
        let cmd = cmd.split('"').next().unwrap_or("");
        parse_ipc_path(cmd, header);
    }
}

/// Parse `Script done on <time> [COMMAND_EXIT_CODE="0"]`.
pub fn parse_done(line: &str, header: &mut Header) {
    let rest = line.trim().strip_prefix("Script done on ").unwrap_or("");
    let (time, tail) = match rest.find(" [") {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    header.done = normalize_script_time(time);
    if let Some(code) = tail.strip_prefix(" [COMMAND_EXIT_CODE=\"") {
        header.command_exit_code = code.split('"').next().and_then(|c| c.parse().ok());
    }
}

/// Take target, session id and plugin from `.../ssm/<target>/session/orchestration/<sessionId>/<Plugin>/ipcTempFile.log`.
fn parse_ipc_path(text: &str, header: &mut Header) {
    const MARK: &str = "/session/orchestration/";
    let Some(i) = text.find(MARK) else { return };
    header.target = text[..i]
        .rsplit('/')
        .next()
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let mut parts = text[i + MARK.len()..].split('/');
    header.session_id = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
    header.plugin = parts
        .next()
        .filter(|p| !p.is_empty() && !p.ends_with(".log"))
        .map(|p| p.split_whitespace().next().unwrap_or(p).to_owned());
}

const SEELOG_CHATTER: [&str; 3] = [
    "Error occurred fetching the seelog config file path",
    "Initializing new seelog logger",
    "New Seelog Logger Creation Complete",
];

/// Takes the pre-2020 agent's wrapper lines out of the text and renumbers the rest.
struct Framed<S> {
    inner: S,
    /// still looking at the first lines for the wrapper
    prelude: bool,
    logger: Option<String>,
    dropped: u64,
    /// the last two lines, held while the wrapper's closing `exit` may follow
    held: Vec<(u64, String)>,
    hold: bool,
    passed: u64,
}

impl<S: Sink> Framed<S> {
    fn new(inner: S, legacy: bool) -> Framed<S> {
        Framed {
            inner,
            prelude: legacy,
            logger: None,
            dropped: 0,
            held: Vec::new(),
            hold: false,
            passed: 0,
        }
    }

    fn pass(&mut self, text: &str) {
        self.passed += 1;
        self.inner.line(self.passed, text);
    }

    fn finish(mut self, summary: &mut RenderSummary, header: &mut Header) -> S {
        let mut held = std::mem::take(&mut self.held);
        let wrapper_exit = held.len() == 2 && held[0].1.ends_with("# exit") && held[1].1 == "exit";
        if self.hold && wrapper_exit {
            let first_dropped = held[0].0;
            held.clear();
            summary.commands.retain(|c| c.line < first_dropped);
            summary.cancelled.retain(|c| c.line < first_dropped);
        }
        for (_, text) in held {
            self.pass(&text);
        }
        if let Some(logger) = &self.logger {
            header.framing = Framing::SessionLogger;
            parse_ipc_path(logger, header);
        }
        let d = self.dropped;
        for c in summary
            .commands
            .iter_mut()
            .chain(summary.cancelled.iter_mut())
        {
            c.line = c.line.saturating_sub(d);
        }
        summary.commands.retain(|c| c.line > 0);
        summary.cancelled.retain(|c| c.line > 0);
        summary.lines = self.passed;
        self.inner
    }
}

impl<S: Sink> Sink for Framed<S> {
    fn line(&mut self, number: u64, text: &str) {
        if self.prelude {
            if number == 1 && text.contains("ssm-session-logger ") {
                self.logger = Some(text.trim_end().to_owned());
                self.hold = true;
                self.dropped += 1;
                return;
            }
            // a copy that lost its carriage returns splits the logger's long command line
            // where readline wrapped it: join the pieces up to its last argument, `false`
            if let Some(logger) = &mut self.logger {
                if !logger.ends_with(" false") && logger.len() < 4096 {
                    logger.push_str(text.trim_end());
                    self.dropped += 1;
                    return;
                }
            }
            if self.logger.is_some() && SEELOG_CHATTER.iter().any(|c| text.starts_with(c)) {
                self.dropped += 1;
                return;
            }
            self.prelude = false;
        }
        if self.hold {
            self.held.push((number, text.to_owned()));
            if self.held.len() > 2 {
                let (_, t) = self.held.remove(0);
                self.pass(&t);
            }
            return;
        }
        self.pass(text);
    }

    fn keep_commands(&self) -> bool {
        self.inner.keep_commands()
    }

    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        let mut s = screen.clone();
        s.after_line = s.after_line.saturating_sub(self.dropped);
        self.inner.alternate_screen(&s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_2025() {
        let mut h = Header::default();
        parse_started("Script started on 2025-09-29 16:58:03+00:00 [COMMAND=\"cat /var/lib/amazon/ssm/i-00cbf6ce81675216c/session/orchestration/master-console-admin-ogucubv3f8zp6xxkdxv25lb3re/Standard_Stream/ipcTempFile.log\" <not executed on terminal>]\n", &mut h);
        assert_eq!(h.framing, Framing::Script);
        assert_eq!(h.started.as_deref(), Some("2025-09-29T16:58:03Z"));
        assert_eq!(h.target.as_deref(), Some("i-00cbf6ce81675216c"));
        assert_eq!(
            h.session_id.as_deref(),
            Some("master-console-admin-ogucubv3f8zp6xxkdxv25lb3re")
        );
        assert_eq!(h.plugin.as_deref(), Some("Standard_Stream"));
        parse_done(
            "Script done on 2025-09-29 16:58:03+00:00 [COMMAND_EXIT_CODE=\"0\"]",
            &mut h,
        );
        assert_eq!(h.done.as_deref(), Some("2025-09-29T16:58:03Z"));
        assert_eq!(h.command_exit_code, Some(0));
    }

    #[test]
    fn header_2020() {
        let mut h = Header::default();
        parse_started("Script started on 2020-05-27 23:00:48+0000\n", &mut h);
        assert_eq!(h.framing, Framing::ScriptLegacy);
        assert_eq!(h.started.as_deref(), Some("2020-05-27T23:00:48Z"));
        assert_eq!(h.target, None);
    }

    #[test]
    fn onlcr_is_undone_wherever_the_input_is_cut() {
        use crate::render::VecSink;
        // tmux's "erase, line feed, erase" down a pane, as `script` wrote it (each \n after a
        // \r it added), and shell lines (\r\r\n)
        let raw = b"$ ls\r\r\nab\r\r\n\x1b[?1049h\x1b[1;5Hx\x1b[2;5H|\r\n|\x1b[?1049l$ \r\r\n";
        let mut on = Onlcr::detect(Framing::Script, raw);
        assert!(on.on);
        let render = |cut: usize, on: &mut Onlcr| {
            let mut r = Renderer::new(RenderOptions::default(), VecSink::default());
            on.advance(&mut r, &raw[..cut]);
            on.advance(&mut r, &raw[cut..]);
            on.finish(&mut r);
            let (_, sink) = r.finish();
            (sink.lines, sink.alternate_screens[0].lines.clone())
        };
        let whole = render(raw.len(), &mut on);
        // the bare \n kept its column (the second bar follows the first, a row down), where
        // the \r before it would have put it at column 0
        assert_eq!(whole.1, ["    x", "    |", "     |"]);
        assert_eq!(whole.0[..2], ["$ ls", "ab"]);
        for cut in 0..raw.len() {
            assert_eq!(render(cut, &mut on), whole, "cut at {cut}");
        }
        // CloudWatch's copy (\r\r\n made \r\n again) is left alone
        let cw = String::from_utf8_lossy(raw).replace("\r\r\n", "\r\n");
        assert!(!Onlcr::detect(Framing::Script, cw.as_bytes()).on);
        assert!(!Onlcr::detect(Framing::Raw, raw).on);
    }
}
