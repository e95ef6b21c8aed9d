//! The session-text model: a transcript copy rendered once, at ingest (`text/<session>/<copy>.json`),
//! its lines and alternate screens within fixed budgets, and the copies of a session read back.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::facts::TranscriptSource;
use crate::render::{AlternateScreen, RenderSummary, VecSink};
use crate::store::Store;

use crate::keys::session_keys_to_read;
use crate::store::get_json;

/// The rendered text of record of one session.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionText {
    pub source: Option<TranscriptSource>,
    pub width: Option<u16>,
    pub lines: Vec<String>,
    /// (line, text) of each command run
    pub commands: Vec<(u64, String)>,
    pub cancelled: Vec<(u64, String)>,
    /// lines typed into interactive programs the shell started (sqlite3, psql, python ...)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<crate::render::ProgramInput>,
    pub alternate_screens: Vec<AlternateScreen>,
    /// line -> approximate time a command was run, from the streamed CloudWatch tick that
    /// showed it (the S3 copy has no times)
    #[serde(default)]
    pub command_times: BTreeMap<u64, String>,
    /// lines past [`MAX_TEXT_BYTES`], counted but not kept (the copy keeps them)
    #[serde(default, skip_serializing_if = "crate::render::is_zero")]
    pub lines_dropped: u64,
    /// commands past the renderer's budget ([`crate::render::MAX_COMMAND_BYTES`])
    #[serde(default, skip_serializing_if = "crate::render::is_zero")]
    pub commands_dropped: u64,
    /// alternate-screen snapshots past [`MAX_ALT_TEXT_BYTES`]
    #[serde(default, skip_serializing_if = "crate::render::is_zero")]
    pub alternate_screens_dropped: u64,
    /// see [`RenderSummary::long_lines_split`]
    #[serde(default, skip_serializing_if = "crate::render::is_zero")]
    pub long_lines_split: u64,
    /// see [`RenderSummary::repeats_capped`]
    #[serde(default, skip_serializing_if = "crate::render::is_zero")]
    pub repeats_capped: u64,
}

/// How much rendered text of one transcript copy is kept for search and `show`; past it lines
/// are only counted, so a huge transcript ingests in bounded memory. The copy itself is kept
/// whole; commands are kept whatever their line, up to the renderer's
/// [`crate::render::MAX_COMMAND_BYTES`].
pub const MAX_TEXT_BYTES: usize = 32 << 20;

/// What a line of text costs against [`MAX_TEXT_BYTES`]: its size once loaded (`show`,
/// `search -C` and the indexer hold a copy's text in memory), so blank lines count too.
pub(crate) fn line_cost(text: &str) -> usize {
    text.len() + std::mem::size_of::<String>()
}

/// What an alternate-screen snapshot costs against a text budget: its lines, and what it
/// costs to hold and index one more (a document of its own), so a flood of tiny screens is
/// bounded by count as well.
pub(crate) fn screen_cost(screen: &AlternateScreen) -> usize {
    SCREEN_OVERHEAD + screen.lines.iter().map(|l| line_cost(l)).sum::<usize>()
}

/// See [`screen_cost`].
pub(crate) const SCREEN_OVERHEAD: usize = 1 << 10;

/// How much of a copy's alternate-screen snapshots is kept (held in memory until the copy
/// ends, when they are written after its lines).
pub const MAX_ALT_TEXT_BYTES: usize = 16 << 20;

/// Writes the rendered text of one transcript copy to a temporary file as it is produced, as
/// [`SessionText`] JSON: the lines first, the rest when rendering ends. Memory holds only the
/// alternate-screen snapshots (to [`MAX_ALT_TEXT_BYTES`]), whatever the copy's size; lines
/// past [`MAX_TEXT_BYTES`] are counted, not written.
pub struct TextFile {
    out: io::BufWriter<std::fs::File>,
    path: tempfile::TempPath,
    /// [`MAX_TEXT_BYTES`] and [`MAX_ALT_TEXT_BYTES`], unless given
    limits: (usize, usize),
    bytes: usize,
    kept: u64,
    dropped: u64,
    alternate_screens: Vec<AlternateScreen>,
    alt_bytes: usize,
    alt_dropped: u64,
    /// the first write that failed: reported by [`TextFile::finish`]
    error: Option<io::Error>,
}

impl TextFile {
    /// A text file in `dir` (a store's [`Store::temp_dir`]).
    pub fn new(dir: &Path) -> io::Result<TextFile> {
        TextFile::with_limits(dir, MAX_TEXT_BYTES, MAX_ALT_TEXT_BYTES)
    }

    /// A text file that keeps `text` bytes of lines and `alt` bytes of alternate screens.
    pub fn with_limits(dir: &Path, text: usize, alt: usize) -> io::Result<TextFile> {
        let mut builder = tempfile::Builder::new();
        // the text ends up in the store as it is: readable as the store's other files are
        // (the umask applies), not private to its writer as a temporary file would be
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        std::fs::create_dir_all(dir)?;
        let (file, path) = builder.tempfile_in(dir)?.into_parts();
        let mut out = io::BufWriter::with_capacity(256 << 10, file);
        io::Write::write_all(&mut out, b"{\"lines\":[")?;
        Ok(TextFile {
            out,
            path,
            limits: (text, alt),
            bytes: 0,
            kept: 0,
            dropped: 0,
            alternate_screens: Vec::new(),
            alt_bytes: 0,
            alt_dropped: 0,
            error: None,
        })
    }

    fn write(&mut self, f: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>) {
        if self.error.is_none() {
            if let Err(e) = f(&mut self.out) {
                self.error = Some(e);
            }
        }
    }

    /// Write the rest of the text (what only the end of rendering tells) and close the file.
    pub fn finish(
        mut self,
        source: &TranscriptSource,
        width: Option<u16>,
        summary: &RenderSummary,
    ) -> io::Result<tempfile::TempPath> {
        use std::io::Write;
        // serialised as `SessionText`'s (line, text) pairs, borrowed, not copied
        fn pairs(v: &[crate::render::Command]) -> Vec<(u64, &str)> {
            v.iter().map(|c| (c.line, c.text.as_str())).collect()
        }
        let screens = std::mem::take(&mut self.alternate_screens);
        let (dropped, alt_dropped) = (self.dropped, self.alt_dropped);
        self.write(|out| {
            write!(out, "],\"source\":")?;
            serde_json::to_writer(&mut *out, source)?;
            write!(out, ",\"width\":")?;
            serde_json::to_writer(&mut *out, &width)?;
            write!(out, ",\"commands\":")?;
            serde_json::to_writer(&mut *out, &pairs(&summary.commands))?;
            write!(out, ",\"cancelled\":")?;
            serde_json::to_writer(&mut *out, &pairs(&summary.cancelled))?;
            write!(out, ",\"inputs\":")?;
            serde_json::to_writer(&mut *out, &summary.inputs)?;
            write!(out, ",\"alternate_screens\":")?;
            serde_json::to_writer(&mut *out, &screens)?;
            write!(
                out,
                ",\"lines_dropped\":{dropped},\"commands_dropped\":{},\"alternate_screens_dropped\":{alt_dropped},\"long_lines_split\":{},\"repeats_capped\":{}}}",
                summary.commands_dropped, summary.long_lines_split, summary.repeats_capped
            )?;
            out.flush()
        });
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.path),
        }
    }
}

impl crate::render::Sink for TextFile {
    fn line(&mut self, _number: u64, text: &str) {
        self.bytes = self.bytes.saturating_add(line_cost(text));
        if self.bytes > self.limits.0 {
            self.dropped += 1;
            return;
        }
        let first = self.kept == 0;
        self.kept += 1;
        self.write(|out| {
            if !first {
                io::Write::write_all(out, b",")?;
            }
            serde_json::to_writer(out, text).map_err(io::Error::from)
        });
    }

    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        self.alt_bytes = self.alt_bytes.saturating_add(screen_cost(screen));
        if self.alt_bytes > self.limits.1 {
            self.alt_dropped += 1;
        } else {
            self.alternate_screens.push(screen.clone());
        }
    }
}

/// Keeps lines up to [`MAX_TEXT_BYTES`] (each line costs its length plus its bookkeeping).
#[derive(Default, Debug)]
pub struct CappedSink {
    pub inner: VecSink,
    bytes: usize,
    pub dropped: u64,
}

impl crate::render::Sink for CappedSink {
    fn line(&mut self, number: u64, text: &str) {
        self.bytes += line_cost(text);
        if self.bytes > MAX_TEXT_BYTES {
            self.dropped += 1;
        } else {
            self.inner.line(number, text);
        }
    }
    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        self.bytes += screen_cost(screen);
        if self.bytes <= MAX_TEXT_BYTES {
            self.inner.alternate_screen(screen);
        }
    }
}

impl SessionText {
    /// The text a render produced.
    pub(crate) fn from_render(
        source: TranscriptSource,
        width: Option<u16>,
        summary: RenderSummary,
        sink: CappedSink,
    ) -> SessionText {
        let pairs =
            |v: Vec<crate::render::Command>| v.into_iter().map(|c| (c.line, c.text)).collect();
        SessionText {
            source: Some(source),
            width,
            lines: sink.inner.lines,
            commands: pairs(summary.commands),
            cancelled: pairs(summary.cancelled),
            inputs: summary.inputs,
            alternate_screens: sink.inner.alternate_screens,
            command_times: BTreeMap::new(),
            lines_dropped: sink.dropped,
            commands_dropped: summary.commands_dropped,
            alternate_screens_dropped: 0,
            long_lines_split: summary.long_lines_split,
            repeats_capped: summary.repeats_capped,
        }
    }
}

/// The keys of a session's texts, the text of record first: the S3 copies (in the store's
/// order: by content hash), the CloudWatch uploads, the streamed lines.
pub(crate) fn text_keys(store: &dyn Store, session_id: &str) -> io::Result<Vec<String>> {
    let mut keys = Vec::new();
    for k in session_keys_to_read(session_id) {
        keys.extend(store.list(&crate::keys::texts_dir(&k))?);
    }
    let rank = |k: &String| {
        ["/s3-", "/cwupload-", "/stream."]
            .iter()
            .position(|p| k.contains(p))
    };
    keys.retain(|k| rank(k).is_some());
    keys.sort_by_key(|k| rank(k));
    Ok(keys)
}

/// The key of a session's text of record: the S3 copy, else the CloudWatch upload, else the
/// streamed lines.
pub(crate) fn text_of_record_key(
    store: &dyn Store,
    session_id: &str,
) -> io::Result<Option<String>> {
    Ok(text_keys(store, session_id)?.into_iter().next())
}

/// The copy name of a text key (`text/<session>/s3-<hash>.json` -> `s3-<hash>`).
pub(crate) fn copy_of_key(key: &str) -> &str {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.strip_suffix(".json").unwrap_or(name)
}

/// The rendered text of one copy of a session's transcript (`s3-<hash>`, `cwupload-<hash>`),
/// as `show` and `search -C` read another copy than the text of record.
pub fn load_copy_text(
    store: &dyn Store,
    session_id: &str,
    copy: &str,
) -> io::Result<Option<SessionText>> {
    for key in text_keys(store, session_id)? {
        if copy_of_key(&key) == copy {
            return get_json(store, &key);
        }
    }
    Ok(None)
}

/// Every other copy's text of a session (not the text of record), as (copy name, text), one
/// read at a time.
pub fn for_each_other_copy(
    store: &dyn Store,
    session_id: &str,
    each: &mut dyn FnMut(&str, SessionText) -> io::Result<()>,
) -> io::Result<()> {
    for key in text_keys(store, session_id)?.iter().skip(1) {
        if key.contains("/stream.") {
            continue;
        }
        if let Some(t) = get_json::<SessionText>(store, key)? {
            each(copy_of_key(key), t)?;
        }
    }
    Ok(())
}

pub fn load_text(store: &dyn Store, session_id: &str) -> io::Result<Option<SessionText>> {
    match text_of_record_key(store, session_id)? {
        Some(key) => get_json(store, &key),
        None => Ok(None),
    }
}
