//! From inputs to the store: decode any evidence ([`crate::formats::decode`]), keep its facts
//! and transcript copies, and render each copy's text once ([`crate::text`]). The rebuild
//! ([`crate::rebuild`]) correlates what was kept and publishes the index; the keys are in
//! [`crate::keys`].

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::facts::{Fact, TranscriptSource};
use crate::formats::{self, detect, BadRecord, Decoded, Format};
use crate::hash::{fnv, sha256_hex, Fnv};
use crate::keys::*;
use crate::provenance::{Custody, Held, Origin};
use crate::store::Store;
use crate::text::*;
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
    /// CloudTrail digest files kept for `verify`
    #[serde(default)]
    pub digests_kept: usize,
    /// take custody records (only those who keep a ledger ask: the functions keep none yet,
    /// and the hashing costs a pass over each input)
    #[serde(skip)]
    pub keep_custody: bool,
    /// what was read and kept, for the custody ledger ([`crate::custody::ledger`])
    #[serde(skip)]
    pub custody: Vec<Custody>,
}

impl IngestReport {
    /// A report that takes custody records (for the ledger).
    pub fn with_custody() -> IngestReport {
        IngestReport {
            keep_custody: true,
            ..IngestReport::default()
        }
    }

    /// Record custody of `c` when asked to.
    fn hold(&mut self, c: impl FnOnce() -> Custody) {
        if self.keep_custody {
            self.custody.push(c());
        }
    }

    /// A store failure while keeping what `input` gave (see [`IngestReport::store_failed`]).
    /// Leave the custody records taken so far for the ledger's next seal
    /// ([`crate::custody::ledger::hold`]): what a writer without the signing key does (the
    /// Lambda functions, the CLI on an S3 store). The store failing here is a store failure of
    /// `input`, so the invocation is retried.
    pub fn leave_custody(&mut self, store: &dyn Store, input: &str) {
        let records = std::mem::take(&mut self.custody);
        if let Err(e) = crate::custody::ledger::hold(store, &records) {
            self.store_failure(store, input, "leave its custody records for the ledger", e);
        }
    }

    fn store_failure(&mut self, store: &dyn Store, input: &str, what: &str, e: io::Error) {
        self.store_failed.push(io_bad(
            input,
            format!("cannot {what} in {}: {e}", store.describe()),
        ));
    }
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
    ingest_input_from(store, name, bytes, &Origin::default(), report)
}

/// [`ingest_input`] of bytes read from `origin`.
pub fn ingest_input_from(
    store: &dyn Store,
    name: &str,
    bytes: Vec<u8>,
    origin: &Origin,
    report: &mut IngestReport,
) {
    report.inputs_read += 1;
    let format = {
        let mut head = Vec::new();
        let r: Box<dyn io::Read + '_> = if bytes.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(&bytes[..]))
        } else {
            Box::new(&bytes[..])
        };
        let _ = io::Read::read_to_end(&mut io::Read::take(r, 64 << 10), &mut head);
        formats::detect(&head)
    };
    report.hold(|| custody_of(name, &bytes, format, origin));
    if format == Format::TrailFile {
        let sha = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        keep_trail(
            store,
            name,
            &sha,
            size,
            &|key| store.put(key, &bytes),
            report,
        );
    }
    let input = match formats::decode(name, bytes) {
        Ok(i) => i,
        Err(bad) => return report.failed.push(bad),
    };
    if let Some(why) = input.not_evidence {
        return report.inputs_skipped.push((name.to_owned(), why));
    }
    if let Some(d) = input.digest {
        return keep_digest(store, name, d, origin, report);
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
        let mut fact = t.fact(name, &r);
        with_versions(&mut fact, origin.versions);
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
        report.hold(|| {
            kept(
                Held::Copy,
                transcript_key(&sid, &copy),
                &sha256_hex(t.bytes()),
                t.bytes().len() as u64,
            )
        });
        let bytes = match t {
            formats::TranscriptBody::S3(b) => b,
            formats::TranscriptBody::Upload(u) => u.text.into_bytes(),
        };
        keep.push((sid, format!("{copy}.log"), bytes));
        out.facts.push(fact);
    }
    for (sid, file, bytes) in &keep {
        if let Err(e) = store.put(
            &format!("{}{file}", transcripts_dir(&session_key(sid))),
            bytes,
        ) {
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
    let key = text_key(sid, copy);
    if let Err(e) = store.put_temp_file(&key, text) {
        report.store_failure(store, name, "write its rendered text", e);
    }
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
        self.keep_custody |= other.keep_custody;
        self.custody.extend(other.custody);
        self.digests_kept += other.digests_kept;
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
    let mut report = IngestReport::with_custody();
    let parts: Vec<IngestReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut r = IngestReport::with_custody();
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
    ingest_file_from(store, path, name, &Origin::local(path), report)
}

/// [`ingest_file_named`] for a file downloaded from `origin` (an S3 object: its version,
/// ETag, time, a digest's signature).
pub fn ingest_file_from(
    store: &dyn Store,
    path: &Path,
    name: &str,
    origin: &Origin,
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
            // read, and failed: its custody says what was read all the same
            if report.keep_custody {
                let (sha256, content_sha256, size) = crate::provenance::file_hashes(path)?;
                let c = input_custody(name, None, sha256, content_sha256, size, origin);
                report.custody.push(c);
            }
            not_gzip(report, name, e);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    // UTF-8 behind a byte order mark, or UTF-16: transcoded whole (below), not streamed
    let utf8 = formats::encoding(&head) == formats::Encoding::Utf8;
    let format = detect(&head);
    // read whole below: its custody is taken there
    let whole = !matches!(
        format,
        Format::Unknown | Format::TrailFile | Format::Transcript
    ) || format == Format::TrailFile && !utf8;
    // custody of a streamed input is taken in the pass that reads it: its SHA-256 as stored
    // and of its content hashed as the bytes go by, never in a pass of its own
    let take = !whole && report.keep_custody;
    let input = |sha256: String, content_sha256: String, size: u64| {
        input_custody(name, Some(format), sha256, content_sha256, size, origin)
    };
    // (a pass that could not read to the end: hashed on its own, as it is)
    let hashed_apart = || -> io::Result<Custody> {
        let (raw, content, size) = crate::provenance::file_hashes(path)?;
        Ok(input(raw, content, size))
    };
    match format {
        Format::Unknown => {
            if take {
                report.custody.push(hashed_apart()?);
            }
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
            let (raw, raw_sha) = Tap::new(file);
            let (mut content, content_sha) = Tap::new(formats::open_maybe_gzip(raw)?);
            formats::decode_trail_file_in_parts(
                name,
                &mut content,
                &mut out,
                FACTS_PER_FILE,
                &mut |facts| {
                    parts += facts.len();
                    put_facts(store, name, &facts, report);
                },
            );
            report.facts += parts;
            // the rest (after the JSON): the hashes cover every byte; the raw file is at its
            // end once its content is
            let read_all = io::copy(&mut content, &mut io::sink()).is_ok();
            drop(content);
            let (sha, size) = raw_sha.finish();
            if take {
                report.custody.push(if read_all {
                    input(sha.clone(), content_sha.finish().0, size)
                } else {
                    hashed_apart()?
                });
            }
            // kept under its own hash
            keep_trail(
                store,
                name,
                &sha,
                size,
                &|key| store.put_file(key, path),
                report,
            );
            finish_decoded(store, name, out, report);
        }
        Format::Transcript if !gzip => {
            let h = ingest_transcript_file(store, file, path, name, origin.versions, report)?;
            if take {
                report
                    .custody
                    .push(input(h.sha256.clone(), h.sha256.clone(), h.size));
                if let Some(key) = h.copy {
                    report
                        .custody
                        .push(kept(Held::Copy, key, &h.sha256, h.size));
                }
            }
        }
        Format::Transcript => {
            // unzipped to a file of the store's first, so it is never held whole either
            let dir = store.temp_dir();
            std::fs::create_dir_all(&dir)?;
            let mut plain = tempfile::NamedTempFile::new_in(&dir)?;
            let (raw, raw_sha) = Tap::new(file);
            let unzipped = formats::open_maybe_gzip(raw)
                .and_then(|mut r| io::copy(&mut r, plain.as_file_mut()));
            if let Err(e) = unzipped {
                if take {
                    report.custody.push(hashed_apart()?);
                }
                not_gzip(report, name, e);
                return Ok(());
            }
            let (sha, size) = raw_sha.finish();
            plain.as_file_mut().rewind()?;
            let unzipped = plain.as_file().try_clone()?;
            let h = ingest_transcript_file(
                store,
                unzipped,
                plain.path(),
                name,
                origin.versions,
                report,
            )?;
            if take {
                report.custody.push(input(sha, h.sha256.clone(), size));
                if let Some(key) = h.copy {
                    report
                        .custody
                        .push(kept(Held::Copy, key, &h.sha256, h.size));
                }
            }
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
            ingest_input_from(store, name, bytes, origin, report)
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

/// What a transcript's pass read: its SHA-256 and size, and the key of the copy kept.
struct Hashed {
    sha256: String,
    size: u64,
    copy: Option<String>,
}

/// A transcript file (`file`, open at its start, is `path`), never held whole: hashed (FNV
/// for the copy's name, SHA-256 for its custody) and rendered as it is read, its copy stored
/// from the file.
fn ingest_transcript_file(
    store: &dyn Store,
    file: std::fs::File,
    path: &Path,
    name: &str,
    versions: Option<u64>,
    report: &mut IngestReport,
) -> io::Result<Hashed> {
    report.inputs_read += 1;
    // one pass: the bytes are hashed (the copy's name) as the renderer reads them
    let (tapped, sha) = Tap::new(file);
    let mut input = Hashing {
        inner: tapped,
        hash: Fnv::default(),
        size: 0,
        blank: true,
    };
    let (r, text) = render_text(store, &TranscriptSource::S3, &mut input)?;
    // (the renderer reads to the end; anything it left is hashed too)
    io::copy(&mut input, &mut io::sink())?;
    let (sha256, _) = sha.finish();
    let mut hashed = Hashed {
        sha256,
        size: input.size,
        copy: None,
    };
    if input.blank {
        report
            .inputs_skipped
            .push((name.to_owned(), "empty".into()));
        return Ok(hashed);
    }
    let (hash, size) = (input.hash.hex(), input.size);
    let mut fact =
        formats::transcript_fact_sized(TranscriptSource::S3, name, size, &hash, None, &r);
    with_versions(&mut fact, versions);
    let Some(sid) = fact.session_id.clone() else {
        report.failed.push(io_bad(name, NO_SESSION_ID));
        return Ok(hashed);
    };
    let copy = format!("s3-{hash}");
    put_text(store, name, &sid, &copy, text, report);
    let key = transcript_key(&sid, &copy);
    if let Err(e) = store.put_file(&key, path) {
        report.store_failure(store, name, "keep the transcript copy", e);
    }
    hashed.copy = Some(key);
    let out = Decoded {
        facts: vec![fact],
        ..Decoded::default()
    };
    finish_decoded(store, name, out, report);
    Ok(hashed)
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
    let sha = sha256_hex(&json);
    let key = facts_key(&sha);
    match store.put(&key, &json) {
        Ok(()) => report.hold(|| kept(Held::Facts, key, &sha, json.len() as u64)),
        Err(e) => report.store_failure(store, name, "write its facts", e),
    }
}

/// The custody of an input read whole.
fn custody_of(name: &str, bytes: &[u8], format: Format, origin: &Origin) -> Custody {
    let sha256 = sha256_hex(bytes);
    let content_sha256 = if bytes.starts_with(&[0x1f, 0x8b]) {
        crate::provenance::sha256_of(flate2::read::MultiGzDecoder::new(bytes))
            .map_or_else(|_| sha256.clone(), |(h, _)| h)
    } else {
        sha256.clone()
    };
    input_custody(
        name,
        Some(format),
        sha256,
        content_sha256,
        bytes.len() as u64,
        origin,
    )
}

/// The custody of an input read, as stored (`sha256`) and its content (gzip undone).
fn input_custody(
    name: &str,
    format: Option<Format>,
    sha256: String,
    content_sha256: String,
    size: u64,
    origin: &Origin,
) -> Custody {
    Custody {
        held: Held::Input,
        object: name.to_owned(),
        format: format.map(|f| f.describe().to_owned()),
        sha256,
        content_sha256,
        size,
        origin: origin.clone(),
        read_at: crate::provenance::now(),
    }
}

use crate::provenance::{kept, Tap};

/// An S3 transcript's fact says how many versions its key had (more than one: overwritten).
fn with_versions(fact: &mut crate::facts::Fact, n: Option<u64>) {
    if let crate::facts::FactKind::Transcript {
        source: TranscriptSource::S3,
        versions,
        ..
    } = &mut fact.kind
    {
        *versions = n;
    }
}

/// Keep a CloudTrail digest for `verify`, with the signature its S3 metadata gave, if any.
fn keep_digest(
    store: &dyn Store,
    name: &str,
    d: Vec<u8>,
    origin: &Origin,
    report: &mut IngestReport,
) {
    let sha = sha256_hex(&d);
    let key = digest_key(&sha);
    let put = store.put(&key, &d).and_then(|()| match &origin.signature {
        Some(sig) => store.put(
            &format!("{}.sig", key.trim_end_matches(".json")),
            sig.as_bytes(),
        ),
        None => Ok(()),
    });
    match put {
        Ok(()) => {
            report.digests_kept += 1;
            report.hold(|| kept(Held::Digest, key, &sha, d.len() as u64))
        }
        Err(e) => report.store_failure(store, name, "keep the digest", e),
    }
}

/// Keep a trail file as read, for `bundle` (and `verify` re-hashes it with the others).
fn keep_trail(
    store: &dyn Store,
    name: &str,
    sha256: &str,
    size: u64,
    put: &dyn Fn(&str) -> io::Result<()>,
    report: &mut IngestReport,
) {
    let key = trail_key(sha256, name);
    match put(&key) {
        Ok(()) => report.hold(|| kept(Held::Copy, key, sha256, size)),
        Err(e) => report.store_failure(store, name, "keep the trail file", e),
    }
}
