//! A transcript as a fact: rendered (counting lines only) for its header, size and commands.

use super::*;

pub(crate) struct CountSink(pub(crate) u64);
impl Sink for CountSink {
    fn line(&mut self, _n: u64, _t: &str) {
        self.0 += 1;
    }
}

/// Render a transcript and describe it as a fact (its lines go nowhere: the index issue
/// renders again into the index).
pub fn transcript_fact(
    source: TranscriptSource,
    location: &str,
    bytes: &[u8],
    written: Option<String>,
) -> Fact {
    let (r, _) = render_transcript(bytes, SizeChoice::default(), CountSink(0))
        .expect("reading from memory cannot fail");
    transcript_fact_from(source, location, bytes, written, &r)
}

/// The fact for a transcript already rendered.
pub fn transcript_fact_from(
    source: TranscriptSource,
    location: &str,
    bytes: &[u8],
    written: Option<String>,
    r: &crate::transcript::Rendered,
) -> Fact {
    transcript_fact_sized(
        source,
        location,
        bytes.len() as u64,
        &fnv(bytes),
        written,
        r,
    )
}

/// [`transcript_fact_from`] for a copy that was read as a stream: its size and hash.
pub fn transcript_fact_sized(
    source: TranscriptSource,
    location: &str,
    size: u64,
    hash: &str,
    written: Option<String>,
    r: &crate::transcript::Rendered,
) -> Fact {
    let sid = r
        .header
        .session_id
        .clone()
        .or_else(|| session_id_from_s3_key(location));
    let principal = sid
        .as_deref()
        .and_then(principal_of_session_id)
        .map(str::to_owned);
    let commands = r.summary.commands.len() as u64 + r.summary.commands_dropped;
    let kind = FactKind::Transcript {
        source,
        location: location.to_owned(),
        written: written.or(r.header.done.clone()),
        bytes: size,
        lines: r.summary.lines,
        commands,
        target: r.header.target.clone(),
        principal,
        started: r
            .header
            .started
            .as_deref()
            .and_then(parse_time)
            .map(rfc3339),
        versions: None,
    };
    Fact {
        key: format!("transcript:{location}:{hash}"),
        session_id: sid,
        kind,
    }
}
