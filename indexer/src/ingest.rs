//! From inputs to an index: decode any evidence, keep its facts and transcript copies in the
//! [`Store`], then correlate everything into session records and rebuild the index.
//!
//! Store layout (keys):
//! - `facts/<input>.json`: the facts one input gave, named by a hash of its name and content,
//!   so ingesting the same input again writes the same object;
//! - `transcripts/<sessionId>/<source>-<hash>.log`: transcript copies, the evidence itself;
//! - `state/facts.json.gz`: every fact read so far, with the fact files it came from;
//! - `records.json`: every session record, the result of the last correlation;
//! - `text/<sessionId>/<copy>.json`: each copy rendered once, at ingest (the text of record
//!   is picked from these: S3 first, then the CloudWatch upload, then the streamed lines).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::correlate::{correlate, CorrelateOptions, SessionRecord};
use crate::facts::{Fact, FactKind, TranscriptSource};
use crate::formats::{self, detect, BadRecord, Decoded, Format};
use crate::hash::{fnv, sha256_hex, Fnv};
use crate::ids::split_session_id;
use crate::index::{self, SessionDoc};
use crate::render::{AlternateScreen, RenderOptions, RenderSummary, Renderer, VecSink};
use crate::store::Store;
use crate::transcript::{render_transcript, SizeChoice};

/// What ingesting a batch of inputs did.
#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub inputs_read: usize,
    pub facts: usize,
    pub records_skipped: usize,
    /// (input, why) for whole inputs that were not evidence (digests, unknown formats)
    pub inputs_skipped: Vec<(String, String)>,
    /// records or inputs that could not be read, with the cause: a retry cannot cure them
    pub failed: Vec<BadRecord>,
    /// inputs read that could not be kept: the store (or its temporary space) failed. Never
    /// the input's fault: a retry may cure it, so the functions fail the invocation (Lambda
    /// retries it) and never dead-letter these as bad input
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub store_failed: Vec<BadRecord>,
}

impl IngestReport {
    /// A store failure while keeping what `input` gave (see [`IngestReport::store_failed`]).
    fn store_failure(&mut self, store: &dyn Store, input: &str, what: &str, e: io::Error) {
        self.store_failed.push(io_bad(
            input,
            format!("cannot {what} in {}: {e}", store.describe()),
        ));
    }
}

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
fn line_cost(text: &str) -> usize {
    text.len() + std::mem::size_of::<String>()
}

/// What an alternate-screen snapshot costs against a text budget: its lines, and what it
/// costs to hold and index one more (a document of its own), so a flood of tiny screens is
/// bounded by count as well.
fn screen_cost(screen: &AlternateScreen) -> usize {
    SCREEN_OVERHEAD + screen.lines.iter().map(|l| line_cost(l)).sum::<usize>()
}

/// See [`screen_cost`].
const SCREEN_OVERHEAD: usize = 1 << 10;

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
    fn from_render(
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

/// The store folder of a session: the id itself when it has the documented shape in
/// characters every file system keeps apart (lowercase IAM name characters: so no two ids
/// meet on a case-insensitive file system, and none is a separator, NUL, `..` or a Windows
/// device name), else `x` and the SHA-256 of the id. A session id is data, never a path: it
/// comes from evidence the audited nodes write.
pub fn session_key(id: &str) -> String {
    if is_plain_session_id(id) {
        id.to_owned()
    } else {
        format!("x{}", &sha256_hex(id.as_bytes())[..32])
    }
}

fn is_plain_session_id(id: &str) -> bool {
    const RESERVED: [&str; 22] = [
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
        "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    split_session_id(id).is_some()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+=,.@_-".contains(&b))
        && !RESERVED.contains(&id.split(['.', '-']).next().unwrap_or(""))
}

/// The store folders a session's copies and texts may be under: [`session_key`], and the
/// one stores written before it used (the id as is when it had the documented shape), when
/// that one differs and is a valid key.
pub fn session_keys_to_read(id: &str) -> Vec<String> {
    let mut keys = vec![session_key(id)];
    if split_session_id(id).is_some()
        && !id.contains(['/', '\\', '\0'])
        && crate::store::check_key(id).is_ok()
        && keys[0] != id
    {
        keys.push(id.to_owned());
    }
    keys
}

fn io_bad(input: &str, e: impl std::fmt::Display) -> BadRecord {
    BadRecord {
        input: input.to_owned(),
        index: None,
        reason: e.to_string(),
    }
}

/// Ingest one input (a file's or object's bytes). `name` is its path or key: it names the
/// input in messages, and an S3-style `<sessionId>.log` name gives a transcript its session.
pub fn ingest_input(store: &dyn Store, name: &str, bytes: Vec<u8>, report: &mut IngestReport) {
    report.inputs_read += 1;
    let input = match formats::decode(name, bytes) {
        Ok(i) => i,
        Err(bad) => return report.failed.push(bad),
    };
    if let Some(why) = input.not_evidence {
        return report.inputs_skipped.push((name.to_owned(), why));
    }
    let mut out = input.decoded;
    let mut keep: Vec<(String, String, Vec<u8>)> = Vec::new(); // (session, file, bytes)
    for t in input.transcripts {
        let source = t.source();
        let (r, text) = match render_text(store, &source, t.bytes()) {
            Ok(x) => x,
            Err(e) => {
                report.store_failure(store, name, TEMP, e);
                continue;
            }
        };
        let fact = t.fact(name, &r);
        let Some(sid) = fact.session_id.clone() else {
            report.failed.push(io_bad(name, NO_SESSION_ID));
            continue;
        };
        let prefix = match source {
            TranscriptSource::S3 => "s3",
            _ => "cwupload",
        };
        let copy = format!("{prefix}-{}", fnv(t.bytes()));
        put_text(store, name, &sid, &copy, text, report);
        let bytes = match t {
            formats::TranscriptBody::S3(b) => b,
            formats::TranscriptBody::Upload(u) => u.text.into_bytes(),
        };
        keep.push((sid, format!("{copy}.log"), bytes));
        out.facts.push(fact);
    }
    for (sid, file, bytes) in &keep {
        if let Err(e) = store.put(&format!("transcripts/{}/{file}", session_key(sid)), bytes) {
            report.store_failure(store, name, "keep the transcript copy", e);
        }
    }
    finish_decoded(store, name, out, report);
}

/// Ingest a JSON document pulled from an API or delivered as an event, named by its content
/// (`<what>-<hash>`), so a repeat or a redelivery is the same input.
pub fn ingest_json(
    store: &dyn Store,
    what: &str,
    doc: &serde_json::Value,
    report: &mut IngestReport,
) {
    let bytes = serde_json::to_vec(doc).expect("JSON serialises");
    let name = format!("{what}-{}", fnv(&bytes));
    ingest_input(store, &name, bytes, report);
}

const NO_SESSION_ID: &str = "a transcript with no session id: neither named <sessionId>.log nor with a script header naming it";

/// What failed when a transcript could not be rendered to a temporary file.
const TEMP: &str = "render it to a temporary file";

/// Render one transcript copy as it is read, its text written to a temporary file of the
/// store's.
fn render_text(
    store: &dyn Store,
    source: &TranscriptSource,
    input: impl io::Read,
) -> io::Result<(crate::transcript::Rendered, tempfile::TempPath)> {
    let (r, sink) = render_transcript(
        input,
        SizeChoice::default(),
        TextFile::new(&store.temp_dir())?,
    )?;
    let path = sink.finish(source, Some(r.width), &r.summary)?;
    Ok((r, path))
}

fn put_text(
    store: &dyn Store,
    name: &str,
    sid: &str,
    copy: &str,
    text: tempfile::TempPath,
    report: &mut IngestReport,
) {
    let key = format!("text/{}/{copy}.json", session_key(sid));
    if let Err(e) = store.put_temp_file(&key, text) {
        report.store_failure(store, name, "write its rendered text", e);
    }
}

/// The keys of a session's texts, the text of record first: the S3 copies (in the store's
/// order: by content hash), the CloudWatch uploads, the streamed lines.
fn text_keys(store: &dyn Store, session_id: &str) -> io::Result<Vec<String>> {
    let mut keys = Vec::new();
    for k in session_keys_to_read(session_id) {
        keys.extend(store.list(&format!("text/{k}/"))?);
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
fn text_of_record_key(store: &dyn Store, session_id: &str) -> io::Result<Option<String>> {
    Ok(text_keys(store, session_id)?.into_iter().next())
}

/// The copy name of a text key (`text/<session>/s3-<hash>.json` -> `s3-<hash>`).
fn copy_of_key(key: &str) -> &str {
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

/// Times for commands, from streamed messages: each command is matched, in order, to the first
/// later streamed line that ends with it; that message's tick is its time.
pub fn command_times(commands: &[(u64, String)], facts: &[&Fact]) -> BTreeMap<u64, String> {
    let mut ticks: Vec<(&str, &str, &Vec<String>)> = facts
        .iter()
        .filter_map(|f| match &f.kind {
            FactKind::Streamed { time, lines, .. } if !time.is_empty() => {
                Some((time.as_str(), f.key.as_str(), lines))
            }
            _ => None,
        })
        .collect();
    let mut out = BTreeMap::new();
    if ticks.is_empty() || commands.is_empty() {
        return out;
    }
    ticks.sort();
    ticks.dedup_by(|a, b| a.1 == b.1);
    // the agent strips escapes unreliably: render each streamed line alone to plain text
    let plain: Vec<(&str, String)> = ticks
        .iter()
        .flat_map(|(t, _, lines)| lines.iter().map(move |l| (*t, l)))
        .map(|(t, l)| {
            let mut r = Renderer::new(
                RenderOptions {
                    cols: 1000,
                    rows: 2,
                    ..RenderOptions::default()
                },
                VecSink::default(),
            );
            r.advance_line(l);
            let (_, sink) = r.finish();
            (t, sink.lines.join(" "))
        })
        .collect();
    let mut at = 0;
    for (line, cmd) in commands {
        let want = cmd.trim();
        if want.is_empty() {
            continue;
        }
        if let Some(k) = plain[at..]
            .iter()
            .position(|(_, l)| l.trim_end().ends_with(want))
        {
            out.insert(*line, plain[at + k].0.to_owned());
            at += k + 1;
        }
    }
    out
}

impl IngestReport {
    /// Add another report's counts (from another thread).
    pub fn merge(&mut self, other: IngestReport) {
        self.inputs_read += other.inputs_read;
        self.facts += other.facts;
        self.records_skipped += other.records_skipped;
        self.inputs_skipped.extend(other.inputs_skipped);
        self.failed.extend(other.failed);
        self.store_failed.extend(other.store_failed);
    }
}

/// Ingest files on all cores. `read` gives a file's bytes (or why not); `progress` is called
/// once a file.
pub fn ingest_files(
    store: &dyn Store,
    files: &[std::path::PathBuf],
    progress: &(dyn Fn(&std::path::Path) + Sync),
) -> IngestReport {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let mut report = IngestReport::default();
    let parts: Vec<IngestReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut r = IngestReport::default();
                    for f in files.iter().skip(t).step_by(threads) {
                        let name = f.display().to_string();
                        if let Err(e) = ingest_file(store, f, &mut r) {
                            r.failed.push(io_bad(&name, e));
                        }
                        progress(f);
                    }
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an ingest thread panicked"))
            .collect()
    });
    for p in parts {
        report.merge(p);
    }
    // the order threads finished in must not show
    report.inputs_skipped.sort();
    report
        .failed
        .sort_by(|a, b| (&a.input, a.index, &a.reason).cmp(&(&b.input, b.index, &b.reason)));
    report
}

/// Ingest one file. A CloudTrail trail file is decoded as it is read, one record at a time,
/// and a transcript is rendered as it is read, so memory follows the largest record or the
/// text kept, not the file; anything else is read whole.
pub fn ingest_file(store: &dyn Store, path: &Path, report: &mut IngestReport) -> io::Result<()> {
    ingest_file_named(store, path, &path.display().to_string(), report)
}

/// [`ingest_file`] for a file that stands for another input: `name` (an S3 key, say) names it
/// in messages and gives a transcript its session.
pub fn ingest_file_named(
    store: &dyn Store,
    path: &Path,
    name: &str,
    report: &mut IngestReport,
) -> io::Result<()> {
    use std::io::{Read, Seek};
    // one open: the first 64 KiB (unzipped if gzip) tell the format, then the file is read
    // again from its start
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic)?;
    let gzip = magic[..n] == [0x1f, 0x8b];
    file.rewind()?;
    let head = {
        let mut r: Box<dyn io::Read + '_> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(
                &mut file,
            )))
        } else {
            Box::new(&mut file)
        };
        read_head(&mut r)
    };
    file.rewind()?;
    let head = match head {
        Ok(h) => h,
        Err(e) if gzip => {
            not_gzip(report, name, e);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    // UTF-8 behind a byte order mark, or UTF-16: transcoded whole (below), not streamed
    let utf8 = formats::encoding(&head) == formats::Encoding::Utf8;
    match detect(&head) {
        Format::Unknown => {
            report.inputs_read += 1;
            report.inputs_skipped.push((
                name.to_owned(),
                "not Session Manager evidence (unknown JSON)".into(),
            ));
        }
        Format::TrailFile if utf8 => {
            report.inputs_read += 1;
            let mut out = Decoded::default();
            let mut parts = 0usize;
            formats::decode_trail_file_in_parts(
                name,
                formats::open_maybe_gzip(file)?,
                &mut out,
                FACTS_PER_FILE,
                &mut |facts| {
                    parts += facts.len();
                    put_facts(store, name, &facts, report);
                },
            );
            report.facts += parts;
            finish_decoded(store, name, out, report);
        }
        Format::Transcript if !gzip => ingest_transcript_file(store, file, path, name, report)?,
        Format::Transcript => {
            // unzipped to a file of the store's first, so it is never held whole either
            let dir = store.temp_dir();
            std::fs::create_dir_all(&dir)?;
            let mut plain = tempfile::NamedTempFile::new_in(&dir)?;
            let unzipped = formats::open_maybe_gzip(file)
                .and_then(|mut r| io::copy(&mut r, plain.as_file_mut()));
            if let Err(e) = unzipped {
                not_gzip(report, name, e);
                return Ok(());
            }
            plain.as_file_mut().rewind()?;
            let unzipped = plain.as_file().try_clone()?;
            ingest_transcript_file(store, unzipped, plain.path(), name, report)?
        }
        _ => {
            // JSON documents of other kinds are read whole: within the same bound as inflated
            let size = file.metadata()?.len();
            if size > formats::MAX_INFLATED_IN_MEMORY {
                report.inputs_read += 1;
                report.failed.push(io_bad(
                    name,
                    format!(
                        "a JSON document of {size} bytes: past the {} MiB read whole (only trail \
                         files and transcripts are streamed)",
                        formats::MAX_INFLATED_IN_MEMORY >> 20
                    ),
                ));
                return Ok(());
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            ingest_input(store, name, bytes, report)
        }
    }
    Ok(())
}

/// The first 64 KiB of an input that tell its format, from its first byte that is not ASCII
/// whitespace (JSON may be behind any amount of it: up to [`formats::MAX_INFLATED_IN_MEMORY`]
/// is looked through).
fn read_head(r: &mut dyn io::Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0; 64 << 10];
    let mut skipped = 0u64;
    loop {
        let n = read_up_to(r, &mut head)?;
        head.truncate(n);
        // UTF-16 text has NULs between: its whitespace is not skipped here
        let blank = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if n == 0 || blank < n || head.get(1) == Some(&0) {
            if blank > 0 && head.get(1) != Some(&0) {
                // drop the blanks and fill the head up again
                head.drain(..blank);
                let kept = head.len();
                head.resize(64 << 10, 0);
                let more = read_up_to(r, &mut head[kept..])?;
                head.truncate(kept + more);
            }
            return Ok(head);
        }
        skipped += n as u64;
        if skipped > formats::MAX_INFLATED_IN_MEMORY {
            return Ok(Vec::new());
        }
        head.resize(64 << 10, 0);
    }
}

/// Fill `buf` from `r`, or as much of it as `r` holds: how much.
fn read_up_to(r: &mut (impl io::Read + ?Sized), buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// An input read, and failed: its gzip cannot be read.
fn not_gzip(report: &mut IngestReport, name: &str, e: io::Error) {
    report.inputs_read += 1;
    report
        .failed
        .push(io_bad(name, format!("not readable gzip: {e}")));
}

/// A transcript file (`file`, open at its start, is `path`), never held whole: hashed and
/// rendered as it is read, its copy stored from the file.
fn ingest_transcript_file(
    store: &dyn Store,
    file: std::fs::File,
    path: &Path,
    name: &str,
    report: &mut IngestReport,
) -> io::Result<()> {
    report.inputs_read += 1;
    // one pass: the bytes are hashed (the copy's name) as the renderer reads them
    let mut input = Hashing {
        inner: file,
        hash: Fnv::default(),
        size: 0,
        blank: true,
    };
    let (r, text) = render_text(store, &TranscriptSource::S3, &mut input)?;
    if input.blank {
        report
            .inputs_skipped
            .push((name.to_owned(), "empty".into()));
        return Ok(());
    }
    let (hash, size) = (input.hash.hex(), input.size);
    let fact = formats::transcript_fact_sized(TranscriptSource::S3, name, size, &hash, None, &r);
    let Some(sid) = fact.session_id.clone() else {
        report.failed.push(io_bad(name, NO_SESSION_ID));
        return Ok(());
    };
    let copy = format!("s3-{hash}");
    put_text(store, name, &sid, &copy, text, report);
    let key = format!("transcripts/{}/{copy}.log", session_key(&sid));
    if let Err(e) = store.put_file(&key, path) {
        report.store_failure(store, name, "keep the transcript copy", e);
    }
    let out = Decoded {
        facts: vec![fact],
        ..Decoded::default()
    };
    finish_decoded(store, name, out, report);
    Ok(())
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Fnv,
    size: u64,
    /// nothing but whitespace so far
    blank: bool,
}

impl<R: io::Read> io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        self.blank = self.blank && buf[..n].iter().all(|b| b.is_ascii_whitespace());
        Ok(n)
    }
}

/// Count a decoded input in the report and keep its facts.
fn finish_decoded(store: &dyn Store, name: &str, mut out: Decoded, report: &mut IngestReport) {
    if let Some(why) = out.skipped_why.take() {
        report.inputs_skipped.push((name.to_owned(), why));
    }
    report.records_skipped += out.skipped;
    report.failed.extend(out.take_bad(name));
    report.facts += out.facts.len();
    put_facts(store, name, &out.facts, report);
}

/// Facts of one input are written in files of at most this many (a large trail file gives
/// several), so an input's facts are never all in memory.
pub const FACTS_PER_FILE: usize = 10_000;

/// Keep facts of the input `name` in a fact file named by the facts alone (their SHA-256):
/// the same evidence read from two paths is one file, and no input can choose a name that
/// overwrites another's facts.
fn put_facts(store: &dyn Store, name: &str, facts: &[Fact], report: &mut IngestReport) {
    if facts.is_empty() {
        return;
    }
    let json = serde_json::to_vec(facts).expect("facts serialise");
    let key = format!("facts/{}.json", sha256_hex(&json));
    if let Err(e) = store.put(&key, &json) {
        report.store_failure(store, name, "write its facts", e);
    }
}

/// Where the facts read so far are kept together, with the keys of the fact files they came
/// from: a rebuild reads only the fact files that came since (fact files are named by their
/// content, so a key never changes what it holds).
pub const FACTS_SNAPSHOT: &str = "state/facts.json.gz";

#[derive(Default, Serialize, Deserialize)]
struct FactsSnapshot {
    /// the fact files folded in, sorted
    keys: Vec<String>,
    facts: Vec<Fact>,
}

fn read_snapshot(store: &dyn Store) -> Option<FactsSnapshot> {
    let bytes = store.get(FACTS_SNAPSHOT).ok()??;
    // serde_json reads a byte at a time: from a buffer, not through the decoder each time
    let gz = flate2::read::GzDecoder::new(&bytes[..]);
    serde_json::from_reader(io::BufReader::with_capacity(256 << 10, gz)).ok()
}

/// Every fact in the store: the snapshot's, and those of the fact files that came since;
/// the snapshot is brought up to date. A snapshot that cannot be read, or that names a fact
/// file no longer in the store, is made again from every fact file.
pub fn load_facts(store: &dyn Store) -> io::Result<Vec<Fact>> {
    let keys = store.list("facts/")?;
    let mut snap = read_snapshot(store).unwrap_or_default();
    if snap.keys.iter().any(|k| keys.binary_search(k).is_err()) {
        snap = FactsSnapshot::default();
    }
    let new: Vec<&String> = keys
        .iter()
        .filter(|k| snap.keys.binary_search(k).is_err())
        .collect();
    if new.is_empty() {
        return Ok(snap.facts);
    }
    for key in new {
        let Some(mut v) = get_json::<Vec<Fact>>(store, key)? else {
            continue;
        };
        snap.facts.append(&mut v);
        snap.keys.push(key.clone());
    }
    snap.keys.sort();
    // serde_json writes a few bytes at a time, and flate2 zeroes its output buffer on every
    // write: 4% of an ingest's CPU went to that before the buffer
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut w = io::BufWriter::with_capacity(256 << 10, gz);
    serde_json::to_writer(&mut w, &snap)?;
    let gz = w.into_inner().map_err(io::IntoInnerError::into_error)?;
    store.put(FACTS_SNAPSHOT, &gz.finish()?)?;
    Ok(snap.facts)
}

/// The JSON object at `key`, if there is one; one that cannot be read is an error naming it.
fn get_json<T: serde::de::DeserializeOwned>(store: &dyn Store, key: &str) -> io::Result<Option<T>> {
    match store.get(key)? {
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{key}: {e}"))),
        None => Ok(None),
    }
}

/// [`get_json`] read as it streams from the store, where the store can (a text of up to
/// [`MAX_TEXT_BYTES`] is not held twice, as bytes and as parsed).
fn get_json_streamed<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> io::Result<Option<T>> {
    match store.open_read(key)? {
        Some(r) => serde_json::from_reader(io::BufReader::with_capacity(256 << 10, r))
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{key}: {e}"))),
        None => Ok(None),
    }
}

pub fn load_records(store: &dyn Store) -> io::Result<Vec<SessionRecord>> {
    Ok(get_json(store, "records.json")?.unwrap_or_default())
}

pub fn load_text(store: &dyn Store, session_id: &str) -> io::Result<Option<SessionText>> {
    match text_of_record_key(store, session_id)? {
        Some(key) => get_json(store, &key),
        None => Ok(None),
    }
}

/// What the indexer reads of a session's [`SessionText`]: its lines in one buffer, read
/// without an allocation a line, and the lines its commands stand on (their text and the
/// other fields are skipped).
#[derive(Debug, Default, Deserialize)]
struct TextForIndex {
    source: Option<TranscriptSource>,
    lines: index::Lines,
    commands: Vec<(u64, String)>,
    #[serde(default)]
    inputs: Vec<crate::render::ProgramInput>,
    #[serde(default)]
    alternate_screens: Vec<ScreenForIndex>,
    #[serde(default)]
    lines_dropped: u64,
    #[serde(default)]
    commands_dropped: u64,
}

/// An alternate screen's lines, to index.
#[derive(Debug, Default, Deserialize)]
struct ScreenForIndex {
    index: u32,
    after_line: u64,
    lines: index::Lines,
}

impl TextForIndex {
    /// What a chunk document needs: the command and input line numbers, ascending, and the
    /// alternate screens.
    fn for_doc(&self) -> (Vec<u64>, Vec<u64>, Vec<index::Screen<'_>>) {
        let mut commands: Vec<u64> = self.commands.iter().map(|c| c.0).collect();
        commands.sort_unstable();
        commands.dedup();
        let mut inputs: Vec<u64> = self.inputs.iter().map(|i| i.line).collect();
        inputs.sort_unstable();
        inputs.dedup();
        let screens = self
            .alternate_screens
            .iter()
            .map(|a| index::Screen {
                index: a.index,
                program: self.program_of(a.after_line),
                lines: &a.lines,
            })
            .collect();
        (commands, inputs, screens)
    }

    /// The program each alternate screen belongs to: the one the command on its line ran.
    fn program_of(&self, after_line: u64) -> Option<&str> {
        let (_, cmd) = self.commands.iter().find(|c| c.0 == after_line)?;
        crate::render::programs::program_name(cmd)
    }

    fn of(t: &SessionText) -> TextForIndex {
        TextForIndex {
            source: t.source.clone(),
            lines: t.lines.iter().collect(),
            commands: t.commands.clone(),
            inputs: t.inputs.clone(),
            alternate_screens: t
                .alternate_screens
                .iter()
                .map(|a| ScreenForIndex {
                    index: a.index,
                    after_line: a.after_line,
                    lines: a.lines.iter().collect(),
                })
                .collect(),
            lines_dropped: t.lines_dropped,
            commands_dropped: t.commands_dropped,
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn session_ids_are_data_never_paths() {
        // the documented shape, lowercase: as is
        let ok = "alice@example.com-0jtk0707txjyxr972nskibo3ej";
        assert_eq!(session_key(ok), ok);
        let hostile = [
            "a\0b-0e34861185201706f",
            "..\\x-0e34861185201706f",
            "../x-0e34861185201706f",
            "a/b-0e34861185201706f",
            "con.x-0e34861185201706f",
            "nul-0e34861185201706f",
            ".hidden-0e34861185201706f",
            "Alice-0e34861185201706f",
            "not a session id",
            "",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for id in hostile {
            let k = session_key(id);
            assert!(k.starts_with('x') && k.len() == 33, "{id:?}: {k}");
            assert!(k.bytes().all(|b| b.is_ascii_hexdigit() || b == b'x'), "{k}");
            crate::store::check_key(&format!("text/{k}/s3.json")).unwrap();
            assert!(seen.insert(k.to_lowercase()), "{id:?} collides");
        }
        // ids that differ in case only are two folders on a case-insensitive file system too
        assert_ne!(
            session_key("Alice-0e34861185201706f").to_lowercase(),
            session_key("alice-0e34861185201706f").to_lowercase()
        );
        // a store written before reads its uppercase ids where they were
        assert_eq!(
            session_keys_to_read("Alice-0e34861185201706f")[1],
            "Alice-0e34861185201706f"
        );
        assert_eq!(session_keys_to_read("a\0b-0e34861185201706f").len(), 1);
    }
}

/// A session's texts, to index: the text of record, the streamed text when it was made here
/// (to be stored), and the other copies, each less the lines the text of record has.
struct TextsForIndex {
    text: TextForIndex,
    streamed: Option<SessionText>,
    /// (copy name, its text with the lines the text of record has blanked)
    others: Vec<(String, TextForIndex)>,
    /// other copies past [`MAX_TEXT_BYTES`] of their own lines: listed, not indexed
    others_not_indexed: u64,
}

/// Another copy's text less the lines `known` has (blank, so every line keeps its number):
/// what only this copy shows. `None` when nothing is left.
fn only_in_copy(known: &std::collections::HashSet<&str>, t: &TextForIndex) -> Option<TextForIndex> {
    let keep = |lines: &index::Lines| -> index::Lines {
        (0..lines.len())
            .map(|i| {
                let l = lines.slice(i, i + 1);
                if known.contains(l) {
                    ""
                } else {
                    l
                }
            })
            .collect()
    };
    let lines = keep(&t.lines);
    let blank = |l: &index::Lines| (0..l.len()).all(|i| l.slice(i, i + 1).trim().is_empty());
    let screens: Vec<ScreenForIndex> = t
        .alternate_screens
        .iter()
        .map(|a| ScreenForIndex {
            index: a.index,
            after_line: a.after_line,
            lines: keep(&a.lines),
        })
        .filter(|a| !blank(&a.lines))
        .collect();
    if blank(&lines) && screens.is_empty() {
        return None;
    }
    let commands = t
        .commands
        .iter()
        .filter(|(n, _)| {
            let i = *n as usize;
            i >= 1 && !lines.slice(i - 1, i).is_empty()
        })
        .cloned()
        .collect();
    Some(TextForIndex {
        source: t.source.clone(),
        lines,
        commands,
        inputs: Vec::new(),
        alternate_screens: screens,
        lines_dropped: 0,
        commands_dropped: 0,
    })
}

/// The other copies of a session, less what `primary` has (see [`TextsForIndex`]).
fn other_copies(
    store: &dyn Store,
    keys: &[String],
    primary: &TextForIndex,
) -> io::Result<(Vec<(String, TextForIndex)>, u64)> {
    let mut known: std::collections::HashSet<&str> = Default::default();
    for l in [&primary.lines]
        .into_iter()
        .chain(primary.alternate_screens.iter().map(|a| &a.lines))
    {
        known.extend((0..l.len()).map(|i| l.slice(i, i + 1)));
    }
    let (mut others, mut bytes, mut not_indexed) = (Vec::new(), 0usize, 0u64);
    for key in keys.iter().skip(1) {
        if key.contains("/stream.") {
            continue;
        }
        if bytes > MAX_TEXT_BYTES {
            not_indexed += 1;
            continue;
        }
        let Some(t) = get_json_streamed::<TextForIndex>(store, key)? else {
            continue;
        };
        if let Some(only) = only_in_copy(&known, &t) {
            bytes += only.lines.slice(0, only.lines.len()).len();
            others.push((copy_of_key(key).to_owned(), only));
        }
    }
    Ok((others, not_indexed))
}

/// The text of record of one session, to index: the S3 copy, else the CloudWatch upload, else
/// the streamed lines rendered in time order (returned whole as well: it is stored here); and
/// the other copies.
fn session_text(store: &dyn Store, id: &str, facts: &[&Fact]) -> io::Result<TextsForIndex> {
    // listed once: the text of record is the first key, the other copies the rest
    let keys = text_keys(store, id)?;
    let (text, streamed) = record_text(store, keys.first(), facts)?;
    let (others, others_not_indexed) = match text.source {
        Some(_) => other_copies(store, &keys, &text)?,
        None => (Vec::new(), 0),
    };
    Ok(TextsForIndex {
        text,
        streamed,
        others,
        others_not_indexed,
    })
}

fn record_text(
    store: &dyn Store,
    record_key: Option<&String>,
    facts: &[&Fact],
) -> io::Result<(TextForIndex, Option<SessionText>)> {
    if let Some(key) = record_key {
        if !key.contains("/stream.") {
            return Ok((get_json_streamed(store, key)?.unwrap_or_default(), None));
        }
    }
    let mut streamed: Vec<(&str, &str, &Vec<String>)> = facts
        .iter()
        .filter_map(|f| match &f.kind {
            FactKind::Streamed { time, lines, .. } => Some((time.as_str(), f.key.as_str(), lines)),
            _ => None,
        })
        .collect();
    if streamed.is_empty() {
        return Ok((TextForIndex::default(), None));
    }
    streamed.sort();
    streamed.dedup_by(|a, b| a.1 == b.1);
    // the agent already split lines: render them wide, one by one
    let mut r = Renderer::new(
        RenderOptions {
            cols: 1000,
            ..RenderOptions::default()
        },
        CappedSink::default(),
    );
    for (_, _, lines) in &streamed {
        for l in lines.iter() {
            r.advance_line(l);
        }
    }
    let (summary, sink) = r.finish();
    let mut text =
        SessionText::from_render(TranscriptSource::CloudwatchStream, None, summary, sink);
    text.command_times = command_times(&text.commands, facts);
    Ok((TextForIndex::of(&text), Some(text)))
}

/// Correlate every fact in the store, write `records.json` and the rendered texts, and bring
/// the index in `index_dir` up to date with them. Only sessions whose record changed since
/// the last rebuild (its `records.json`) are indexed again, each replacing its own documents,
/// so a session is never found twice; without an index or previous records, it is built
/// afresh.
pub fn rebuild(
    store: &dyn Store,
    index_dir: &Path,
    opts: &CorrelateOptions,
) -> Result<Vec<SessionRecord>, Box<dyn std::error::Error + Send + Sync>> {
    let previous = if index_dir.join("meta.json").exists() {
        load_records(store).ok()
    } else {
        None
    };
    rebuild_from(store, index_dir, opts, previous.as_deref())
}

/// [`rebuild`] for an index synced from a published manifest (`publish::sync`): the records
/// it holds are the `records.json` beside it.
pub fn rebuild_synced(
    store: &dyn Store,
    index_dir: &Path,
    opts: &CorrelateOptions,
) -> Result<Vec<SessionRecord>, Box<dyn std::error::Error + Send + Sync>> {
    let beside = index_dir.parent().map(|p| p.join("records.json"));
    let previous: Option<Vec<SessionRecord>> = beside
        .filter(|_| index_dir.join("meta.json").exists())
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    rebuild_from(store, index_dir, opts, previous.as_deref())
}

/// What decides whether a session must be indexed again: its record, less the counts that
/// indexing itself fills in from the text of record.
fn index_digest(r: &SessionRecord) -> String {
    let mut r = r.clone();
    r.transcript.lines = 0;
    r.transcript.commands = 0;
    r.transcript.text_of_record = None;
    r.transcript.lines_dropped = 0;
    r.transcript.copies_not_indexed = 0;
    serde_json::to_string(&r).expect("records serialise")
}

/// `f` of `0..n` on `threads` threads (none but this one if 1), each result handed to
/// `consume` in order as soon as it and those before it are ready. A thread runs at most two
/// ahead of `consume`, so memory holds a few results, not all. The first error `consume`
/// returns stops it all.
fn in_order<T: Send, E>(
    n: usize,
    threads: usize,
    f: impl Fn(usize) -> T + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).try_for_each(|i| consume(i, f(i)));
    }
    std::thread::scope(|s| {
        let f = &f;
        let results: Vec<std::sync::mpsc::Receiver<T>> = (0..threads)
            .map(|t| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                // a send fails once `consume` has stopped: the thread stops too
                s.spawn(move || (t..n).step_by(threads).try_for_each(|i| tx.send(f(i))));
                rx
            })
            .collect();
        // returning drops the receivers first, so no thread is left waiting to send
        (0..n).try_for_each(|i| {
            let r = results[i % threads]
                .recv()
                .expect("a thread reading ahead panicked");
            consume(i, r)
        })
    })
}

/// [`rebuild`], given the records the index in `index_dir` holds (`None`: build it afresh).
pub fn rebuild_from(
    store: &dyn Store,
    index_dir: &Path,
    opts: &CorrelateOptions,
    previous: Option<&[SessionRecord]>,
) -> Result<Vec<SessionRecord>, Box<dyn std::error::Error + Send + Sync>> {
    let facts = load_facts(store)?;
    let mut records = correlate(&facts, opts);
    let mut by_session: BTreeMap<&str, Vec<&Fact>> = BTreeMap::new();
    for f in &facts {
        if let Some(id) = &f.session_id {
            by_session.entry(id.as_str()).or_default().push(f);
        }
    }
    let (idx, fields, previous) = match index::open_or_create(index_dir) {
        Err(index::IndexError::OtherVersion(_)) => {
            // made by another version: built afresh, from the store
            std::fs::remove_dir_all(index_dir)?;
            let (idx, fields) = index::open_or_create(index_dir)?;
            (idx, fields, None)
        }
        r => {
            let (idx, fields) = r?;
            // the records the index was built from are those its last commit names: a
            // process killed after the commit and before `records.json` leaves another one,
            // and the index is then built afresh (never updated from records it does not hold)
            let payload = idx.load_metas()?.payload;
            let previous =
                previous.filter(|p| payload.as_deref() == Some(records_digest(p).as_str()));
            (idx, fields, previous)
        }
    };
    let mut writer: tantivy::IndexWriter = idx.writer(index::WRITER_BUDGET)?;
    let mut before: BTreeMap<&str, &SessionRecord> = BTreeMap::new();
    match previous {
        Some(prev) => {
            for r in prev {
                if let Some(id) = r.session_id.as_deref() {
                    before.insert(id, r);
                }
            }
        }
        None => {
            writer.delete_all_documents()?;
        }
    }
    let now: std::collections::HashSet<&str> = records
        .iter()
        .filter_map(|r| r.session_id.as_deref())
        .collect();
    for (id, _) in before.iter().filter(|(id, _)| !now.contains(*id)) {
        writer.delete_term(tantivy::Term::from_field_text(fields.session_id, id));
    }
    // the sessions to index: new, or changed since the index was made
    let mut todo: Vec<(usize, String)> = Vec::new();
    for (i, rec) in records.iter_mut().enumerate() {
        let Some(id) = rec.session_id.clone() else {
            continue;
        };
        if let Some(prev) = before.get(id.as_str()) {
            if index_digest(prev) == index_digest(rec) {
                // unchanged: its documents stay; keep the counts its text gave
                rec.transcript.lines = prev.transcript.lines;
                rec.transcript.commands = prev.transcript.commands;
                rec.transcript.text_of_record = prev.transcript.text_of_record.clone();
                rec.transcript.lines_dropped = prev.transcript.lines_dropped;
                rec.transcript.copies_not_indexed = prev.transcript.copies_not_indexed;
                continue;
            }
            writer.delete_term(tantivy::Term::from_field_text(fields.session_id, &id));
        }
        todo.push((i, id));
    }
    let facts_of = |id: &str| by_session.get(id).map(Vec::as_slice).unwrap_or(&[]);
    // texts are read ahead, on as many threads as the store serves reads well at once, and
    // indexed in order
    in_order(
        todo.len(),
        store.parallel_reads(),
        |k| session_text(store, &todo[k].1, facts_of(&todo[k].1)),
        |k, text| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            let TextsForIndex {
                text,
                streamed,
                others,
                others_not_indexed,
            } = text?;
            let (rec, id) = (&mut records[todo[k].0], &todo[k].1);
            // the text of record decides the counts (S3 first)
            if text.source.is_some() {
                rec.transcript.lines = text.lines.len() as u64 + text.lines_dropped;
                rec.transcript.lines_dropped = text.lines_dropped;
                rec.transcript.commands = text.commands.len() as u64 + text.commands_dropped;
                rec.transcript.text_of_record = text.source.clone();
            }
            rec.transcript.copies_not_indexed = others_not_indexed;
            let flags: Vec<String> = rec.flags.iter().map(crate::correlate::enum_name).collect();
            let kind = crate::correlate::enum_name(&rec.kind);
            let (commands, inputs, screens) = text.for_doc();
            let parts: Vec<_> = others.iter().map(|(_, t)| t.for_doc()).collect();
            let copies: Vec<index::CopyDoc<'_>> = others
                .iter()
                .zip(&parts)
                .enumerate()
                .map(|(i, ((name, t), (commands, _, screens)))| index::CopyDoc {
                    number: i as u32 + 1,
                    name,
                    lines: &t.lines,
                    commands,
                    screens,
                })
                .collect();
            index::add_session(
                &writer,
                &fields,
                &SessionDoc {
                    session_id: id,
                    lines: &text.lines,
                    commands: &commands,
                    inputs: &inputs,
                    principal: rec.principal.as_deref(),
                    target: rec.target.as_deref(),
                    kind: &kind,
                    flags: &flags,
                    time: rec.time.as_deref(),
                    screens: &screens,
                    copies: &copies,
                },
            )?;
            // streamed text is made here, from the facts: keep it for `show` and `search -C`
            if let Some(streamed) = streamed {
                let key = format!("text/{}/stream.json", session_key(id));
                store.put(&key, &serde_json::to_vec(&streamed)?)?;
            }
            Ok(())
        },
    )?;
    let json = serde_json::to_vec_pretty(&records)?;
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&records_digest_of(&json));
    commit.commit()?;
    // merges finish, and the files they replaced are gone, before anyone copies the folder
    writer.wait_merging_threads()?;
    store.put("records.json", &json)?;
    Ok(records)
}

/// What an index commit names as the records it was built from: the SHA-256 of their JSON.
fn records_digest(records: &[SessionRecord]) -> String {
    records_digest_of(&serde_json::to_vec_pretty(records).expect("records serialise"))
}

fn records_digest_of(json: &[u8]) -> String {
    format!("records-sha256:{}", sha256_hex(json))
}

#[cfg(test)]
mod tests {
    use super::in_order;

    #[test]
    fn results_are_consumed_in_order_whatever_the_threads() {
        for threads in [0, 1, 2, 3, 16, 100] {
            for n in [0, 1, 2, 5, 33] {
                let mut seen = Vec::new();
                let done: Result<(), ()> = in_order(
                    n,
                    threads,
                    |i| {
                        // later items finish first
                        std::thread::sleep(std::time::Duration::from_micros(((n - i) * 50) as u64));
                        i * 10
                    },
                    |i, v| {
                        seen.push((i, v));
                        Ok(())
                    },
                );
                assert_eq!(done, Ok(()));
                let want: Vec<_> = (0..n).map(|i| (i, i * 10)).collect();
                assert_eq!(seen, want, "{threads} threads, {n} items");
            }
        }
    }

    #[test]
    fn the_first_error_stops_it_and_no_thread_is_left_waiting() {
        let started = std::sync::atomic::AtomicUsize::new(0);
        let mut seen = Vec::new();
        let r = in_order(
            1000,
            4,
            |i| {
                started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                i
            },
            |i, v| {
                seen.push(v);
                if i == 10 {
                    Err(format!("stopped at {i}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err("stopped at 10".to_owned()));
        assert_eq!(seen, (0..=10).collect::<Vec<_>>());
        // each thread runs at most two ahead (one waiting in its channel, one being sent)
        let n = started.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n <= 11 + 4 * 2, "{n} started");
    }
}
