//! The rebuild: every fact correlated into session records, each session's texts read back and
//! the index published; apart from ingest, which only adds facts and copies.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::correlate::{correlate, CorrelateOptions, Disagreement, SessionRecord};
use crate::facts::{Fact, FactKind, TranscriptSource};
use crate::hash::sha256_hex;
use crate::index::{self, SessionDoc};
use crate::render::{RenderOptions, Renderer, VecSink};
use crate::store::Store;

use crate::keys::*;
use crate::store::{get_json, get_json_streamed};
use crate::text::*;

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

#[derive(Default, Serialize, Deserialize)]
pub(crate) struct FactsSnapshot {
    /// the fact files folded in, sorted
    keys: Vec<String>,
    facts: Vec<Fact>,
}

pub(crate) fn read_snapshot(store: &dyn Store) -> Option<FactsSnapshot> {
    let bytes = store.get(FACTS_SNAPSHOT).ok()??;
    // serde_json reads a byte at a time: from a buffer, not through the decoder each time
    let gz = flate2::read::GzDecoder::new(&bytes[..]);
    serde_json::from_reader(io::BufReader::with_capacity(256 << 10, gz)).ok()
}

/// Whether the facts snapshot holds exactly the facts of the fact files it lists: the rebuild
/// trusts it, so `verify` checks it. `Ok(None)` without a snapshot (or one the rebuild would
/// make again: unreadable, or naming a file that is gone); else the facts it holds that its
/// files do not, and those it lacks.
pub fn check_snapshot(store: &dyn Store) -> io::Result<Option<(u64, u64)>> {
    let Some(bytes) = store.get(FACTS_SNAPSHOT)? else {
        return Ok(None);
    };
    // read as it streams: each fact hashed and dropped, never all of them held
    let gz = flate2::read::GzDecoder::new(&bytes[..]);
    let mut de = serde_json::Deserializer::from_reader(io::BufReader::with_capacity(256 << 10, gz));
    let Ok(snap) = <HashedSnapshot as Deserialize>::deserialize(&mut de) else {
        return Ok(None);
    };
    drop(bytes);
    let keys = store.list(FACTS)?;
    if snap.keys.iter().any(|k| keys.binary_search(k).is_err()) {
        return Ok(None);
    }
    let mut count = snap.facts;
    for key in &snap.keys {
        for f in get_json::<Vec<Fact>>(store, key)?.unwrap_or_default() {
            *count.entry(fact_hash(&f)).or_default() -= 1;
        }
    }
    let extra = count.values().filter(|n| **n > 0).map(|n| *n as u64).sum();
    let lacking = count
        .values()
        .filter(|n| **n < 0)
        .map(|n| n.unsigned_abs())
        .sum();
    Ok(Some((extra, lacking)))
}

/// The first 128 bits of a fact's SHA-256, as serialised.
fn fact_hash(f: &Fact) -> u128 {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(serde_json::to_vec(f).unwrap_or_default());
    u128::from_be_bytes(d[..16].try_into().expect("16 bytes"))
}

/// A [`FactsSnapshot`] read for [`check_snapshot`]: its keys, and how many times each fact
/// (by [`fact_hash`]) occurs.
#[derive(Deserialize)]
struct HashedSnapshot {
    keys: Vec<String>,
    #[serde(deserialize_with = "hashed_facts")]
    facts: std::collections::HashMap<u128, i64>,
}

fn hashed_facts<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::collections::HashMap<u128, i64>, D::Error> {
    struct Counts;
    impl<'de> serde::de::Visitor<'de> for Counts {
        type Value = std::collections::HashMap<u128, i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of facts")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = std::collections::HashMap::new();
            while let Some(f) = seq.next_element::<Fact>()? {
                *out.entry(fact_hash(&f)).or_default() += 1;
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Counts)
}

/// Every fact in the store: the snapshot's, and those of the fact files that came since;
/// the snapshot is brought up to date. A snapshot that cannot be read, or that names a fact
/// file no longer in the store, is made again from every fact file.
pub fn load_facts(store: &dyn Store) -> io::Result<Vec<Fact>> {
    let keys = store.list(FACTS)?;
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

pub fn load_records(store: &dyn Store) -> io::Result<Vec<SessionRecord>> {
    Ok(get_json(store, RECORDS)?.unwrap_or_default())
}

/// What the indexer reads of a session's [`SessionText`]: its lines in one buffer, read
/// without an allocation a line, and the lines its commands stand on (their text and the
/// other fields are skipped).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TextForIndex {
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
pub(crate) struct ScreenForIndex {
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

/// A session's texts, to index: the text of record, the streamed text when it was made here
/// (to be stored), and the other copies, each less the lines the text of record has.
pub(crate) struct TextsForIndex {
    text: TextForIndex,
    streamed: Option<SessionText>,
    /// (copy name, its text with the lines the text of record has blanked)
    others: Vec<(String, TextForIndex)>,
    /// other copies past [`MAX_TEXT_BYTES`] of their own lines: listed, not indexed
    others_not_indexed: u64,
    /// where the other source's copy first differs from the text of record
    disagree: Option<Disagreement>,
}

/// Another copy's text less the lines `known` has (blank, so every line keeps its number):
/// what only this copy shows. `None` when nothing is left.
pub(crate) fn only_in_copy(
    known: &std::collections::HashSet<&str>,
    t: &TextForIndex,
) -> Option<TextForIndex> {
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
/// The other copies (name, the lines only it has), how many were not indexed, and where the
/// other source's copy first differs from the text of record.
pub(crate) type OtherCopies = (Vec<(String, TextForIndex)>, u64, Option<Disagreement>);

pub(crate) fn other_copies(
    store: &dyn Store,
    keys: &[String],
    primary: &TextForIndex,
) -> io::Result<OtherCopies> {
    let mut disagree = None;
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
        // the other source's copy (S3 beside the CloudWatch upload) compared whole
        if disagree.is_none() && t.source != primary.source {
            disagree =
                first_difference(&primary.lines, &t.lines).map(|(line, a, b)| Disagreement {
                    copy: copy_of_key(key).to_owned(),
                    line,
                    text_of_record: a,
                    other: b,
                });
        }
        if let Some(only) = only_in_copy(&known, &t) {
            bytes += only.lines.slice(0, only.lines.len()).len();
            others.push((copy_of_key(key).to_owned(), only));
        }
    }
    Ok((others, not_indexed, disagree))
}

/// The first line (1-based) where two texts differ, blank lines at their ends aside, with
/// that line of each (`None` past a text's end).
fn first_difference(
    a: &index::Lines,
    b: &index::Lines,
) -> Option<(u64, Option<String>, Option<String>)> {
    let end = |l: &index::Lines| {
        (0..l.len())
            .rev()
            .find(|&i| !l.slice(i, i + 1).trim().is_empty())
            .map_or(0, |i| i + 1)
    };
    let (na, nb) = (end(a), end(b));
    let line = |l: &index::Lines, n: usize, i: usize| (i < n).then(|| l.slice(i, i + 1).to_owned());
    (0..na.max(nb))
        .find(|&i| line(a, na, i) != line(b, nb, i))
        .map(|i| (i as u64 + 1, line(a, na, i), line(b, nb, i)))
}

/// Record where a session's copies disagree, with its flag.
fn set_disagreement(rec: &mut SessionRecord, d: Option<Disagreement>) {
    let flag = crate::correlate::Flag::CopiesDisagree;
    rec.flags.retain(|f| *f != flag);
    if d.is_some() {
        rec.flags.push(flag);
        rec.flags.sort();
    }
    rec.transcript.copies_disagree = d;
}

/// The text of record of one session, to index: the S3 copy, else the CloudWatch upload, else
/// the streamed lines rendered in time order (returned whole as well: it is stored here); and
/// the other copies.
pub(crate) fn session_text(
    store: &dyn Store,
    id: &str,
    facts: &[&Fact],
) -> io::Result<TextsForIndex> {
    // listed once: the text of record is the first key, the other copies the rest
    let keys = text_keys(store, id)?;
    let (text, streamed) = record_text(store, keys.first(), facts)?;
    let (others, others_not_indexed, disagree) = match text.source {
        Some(_) => other_copies(store, &keys, &text)?,
        None => (Vec::new(), 0, None),
    };
    Ok(TextsForIndex {
        text,
        streamed,
        others,
        others_not_indexed,
        disagree,
    })
}

pub(crate) fn record_text(
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
    let beside = index_dir.parent().map(|p| p.join(RECORDS));
    let previous: Option<Vec<SessionRecord>> = beside
        .filter(|_| index_dir.join("meta.json").exists())
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    rebuild_from(store, index_dir, opts, previous.as_deref())
}

/// What decides whether a session must be indexed again: its record, less the counts that
/// indexing itself fills in from the text of record.
pub(crate) fn index_digest(r: &SessionRecord) -> String {
    let mut r = r.clone();
    r.transcript.lines = 0;
    r.transcript.commands = 0;
    r.transcript.text_of_record = None;
    r.transcript.lines_dropped = 0;
    r.transcript.copies_not_indexed = 0;
    r.transcript.copies_disagree = None;
    r.flags
        .retain(|f| *f != crate::correlate::Flag::CopiesDisagree);
    serde_json::to_string(&r).expect("records serialise")
}

/// `f` of `0..n` on `threads` threads (none but this one if 1), each result handed to
/// `consume` in order as soon as it and those before it are ready. A thread runs at most two
/// ahead of `consume`, so memory holds a few results, not all. The first error `consume`
/// returns stops it all.
pub(crate) fn in_order<T: Send, E>(
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
                set_disagreement(rec, prev.transcript.copies_disagree.clone());
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
                disagree,
            } = text?;
            set_disagreement(&mut records[todo[k].0], disagree);
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
                let key = text_key(id, "stream");
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
    store.put(RECORDS, &json)?;
    Ok(records)
}

/// What an index commit names as the records it was built from: the SHA-256 of their JSON.
pub(crate) fn records_digest(records: &[SessionRecord]) -> String {
    records_digest_of(&serde_json::to_vec_pretty(records).expect("records serialise"))
}

pub(crate) fn records_digest_of(json: &[u8]) -> String {
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
