//! Lenient decoders for every delivery of Session Manager evidence (../shared/DESIGN.md
//! section 2), turning each into [`Fact`]s.
//!
//! Every field AWS may omit is optional, unknown fields are ignored, and a record that cannot
//! be read is reported as a [`BadRecord`] naming its source and index, and the rest goes on.
//! Trail files and subscription batches are read one record at a time, so memory is bounded
//! by the largest record, not the file.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::Value;

use crate::facts::{CallContext, Fact, FactKind, Identity, TranscriptSource};
use crate::render::Sink;
use crate::time::{parse_time, rfc3339};
use crate::transcript::{render_transcript, SizeChoice};

mod cloudtrail;
mod cloudwatch;
mod encoding;
mod transcripts;

pub use crate::hash::{fnv, Fnv};
pub use crate::ids::*;
pub use cloudtrail::*;
pub use cloudwatch::*;
pub use encoding::*;
pub use transcripts::*;

/// A record that could not be used, and why. `source` names the file, key or stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{input}{}: {reason}", .index.map(|i| format!(" record {i}")).unwrap_or_default())]
pub struct BadRecord {
    /// the file, S3 key or log stream
    pub input: String,
    pub index: Option<usize>,
    pub reason: String,
}

/// How many bad records of one input are listed; past it they are counted
/// ([`Decoded::bad_unlisted`]): a small input of millions of bad records must not take the
/// memory (or the dead-letter queue) with it.
pub const MAX_BAD_LISTED: usize = 100;

/// What decoding one input gave.
#[derive(Debug, Default)]
pub struct Decoded {
    pub facts: Vec<Fact>,
    /// the first [`MAX_BAD_LISTED`] bad records
    pub bad: Vec<BadRecord>,
    /// bad records past those listed
    pub bad_unlisted: usize,
    /// Records read but not about Session Manager sessions (other API calls, digests).
    pub skipped: usize,
    /// Why the whole input was skipped, if it was (a digest or insight file).
    pub skipped_why: Option<String>,
}

impl Decoded {
    fn bad(&mut self, source: &str, index: Option<usize>, reason: impl Into<String>) {
        if self.bad.len() >= MAX_BAD_LISTED {
            self.bad_unlisted += 1;
            return;
        }
        self.bad.push(BadRecord {
            input: source.to_owned(),
            index,
            reason: reason.into(),
        });
    }

    /// The bad records, with one more that counts those not listed.
    pub fn take_bad(&mut self, source: &str) -> Vec<BadRecord> {
        let mut bad = std::mem::take(&mut self.bad);
        let more = std::mem::take(&mut self.bad_unlisted);
        if more > 0 {
            bad.push(BadRecord {
                input: source.to_owned(),
                index: None,
                reason: format!(
                    "and {more} more bad records, counted, not listed (the first {MAX_BAD_LISTED} are)"
                ),
            });
        }
        bad
    }
}

// ---- input detection -----------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `script`-framed transcript or raw PTY output.
    Transcript,
    /// `{"Records":[...]}`
    TrailFile,
    /// CloudTrail digest: kept for `verify`, no facts.
    Digest,
    /// EventBridge `AWS API Call via CloudTrail`.
    EventBridge,
    /// `aws cloudtrail lookup-events` output, `{"Events":[{"CloudTrailEvent":"..."}]}`.
    LookupEvents,
    /// `{"awslogs":{"data":"..."}}`
    SubscriptionEvent,
    /// Decoded subscription payload `{"messageType":...,"logEvents":[...]}`.
    SubscriptionPayload,
    /// `aws logs get-log-events` / `filter-log-events` output.
    LogExport,
    /// One streamed session message `{"sessionData":[...],...}`.
    StreamedMessage,
    /// `aws ssm describe-sessions` output.
    DescribeSessions,
    /// A bare CloudTrail record or a JSON array of them.
    CloudTrailRecords,
    Unknown,
}

impl Format {
    /// What an input of this format is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Transcript => "a transcript",
            Format::TrailFile => "a CloudTrail trail file",
            Format::Digest => "a CloudTrail digest file",
            Format::EventBridge => "an EventBridge event",
            Format::LookupEvents => "CloudTrail LookupEvents output",
            Format::SubscriptionEvent => "a CloudWatch Logs subscription event",
            Format::SubscriptionPayload => "a CloudWatch Logs subscription payload",
            Format::LogExport => "a CloudWatch Logs export (get-log-events output)",
            Format::StreamedMessage => "a streamed Session Manager message (CloudWatch JSON)",
            Format::DescribeSessions => "DescribeSessions output",
            Format::CloudTrailRecords => "CloudTrail records",
            Format::Unknown => "JSON that is not evidence ssm-audit knows",
        }
    }
}

/// Tell the format from the first bytes (gzip already undone).
pub fn detect(head: &[u8]) -> Format {
    if encoding(head) != Encoding::Utf8 {
        return detect(&to_utf8(head.to_vec()));
    }
    // most inputs are told by their first byte, before the head is made text (anything past
    // ASCII or a vertical tab is left to the text's own whitespace rules below)
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|&b| b < 0x80 && !matches!(b, b'{' | b'[' | 0x0b)) {
        return Format::Transcript;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(64 << 10)]);
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) || !json_opens(t) {
        return Format::Transcript;
    }
    let has = |k: &str| t.contains(k);
    if has("\"digestStartTime\"") || has("\"digestS3Object\"") {
        Format::Digest
    } else if has("\"Records\"") {
        Format::TrailFile
    } else if has("\"awslogs\"") {
        Format::SubscriptionEvent
    } else if has("\"logEvents\"") && has("\"messageType\"") {
        Format::SubscriptionPayload
    } else if has("\"CloudTrailEvent\"") {
        Format::LookupEvents
    } else if has("\"detail-type\"") {
        Format::EventBridge
    } else if has("\"Sessions\"") && has("\"SessionId\"") {
        Format::DescribeSessions
    } else if has("\"events\"") && has("\"message\"") {
        Format::LogExport
    } else if has("\"sessionData\"") {
        Format::StreamedMessage
    } else if has("\"eventSource\"") || has("\"eventName\"") {
        Format::CloudTrailRecords
    } else {
        Format::Unknown
    }
}

/// Whether text starting with `{` or `[` goes on as JSON does: a prompt such as
/// `[ec2-user@ip-10-0-0-5 ~]$ ` or `[root@host ~]# ` starts a transcript, not an array.
fn json_opens(t: &str) -> bool {
    let rest = t[1..].trim_start();
    let Some(c) = rest.chars().next() else {
        return true;
    };
    if t.starts_with('{') {
        return c == '"' || c == '}';
    }
    matches!(c, '{' | '[' | ']' | '"' | '-' | '0'..='9')
        || ["true", "false", "null"].iter().any(|w| {
            rest.strip_prefix(w).is_some_and(|r| {
                r.trim_start().starts_with([',', ']']) || r.trim_start().is_empty()
            })
        })
}

/// A transcript an input holds, still to be rendered: the S3 object itself, or a session's
/// upload-at-end copy put back together from CloudWatch chunks.
#[derive(Debug)]
pub enum TranscriptBody {
    S3(Vec<u8>),
    Upload(Upload),
}

impl TranscriptBody {
    pub fn bytes(&self) -> &[u8] {
        match self {
            TranscriptBody::S3(b) => b,
            TranscriptBody::Upload(u) => u.text.as_bytes(),
        }
    }

    pub fn source(&self) -> TranscriptSource {
        match self {
            TranscriptBody::S3(_) => TranscriptSource::S3,
            TranscriptBody::Upload(_) => TranscriptSource::CloudwatchUpload,
        }
    }

    /// Its fact, from its rendering `r`; `name` is the input's (an S3 transcript's session
    /// comes from its name or its header).
    pub fn fact(&self, name: &str, r: &crate::transcript::Rendered) -> Fact {
        match self {
            TranscriptBody::S3(b) => transcript_fact_from(TranscriptSource::S3, name, b, None, r),
            TranscriptBody::Upload(u) => upload_fact(u, r),
        }
    }
}

/// One input decoded: the facts of its JSON records, and the transcripts it holds.
#[derive(Debug, Default)]
pub struct Input {
    pub decoded: Decoded,
    pub transcripts: Vec<TranscriptBody>,
    /// Why the input is not evidence at all (empty, or JSON ssm-audit does not know), if so.
    pub not_evidence: Option<String>,
    /// A CloudTrail digest file (UTF-8), kept as it is for `verify`.
    pub digest: Option<Vec<u8>>,
}

impl Input {
    /// Every fact, the transcripts' too (rendered for their header and commands, the text not
    /// kept): what ingest gives the correlator, without a store.
    pub fn into_decoded(self, name: &str) -> Decoded {
        let mut out = self.decoded;
        for t in self.transcripts {
            let (r, _) = render_transcript(t.bytes(), SizeChoice::default(), CountSink(0))
                .expect("reading from memory cannot fail");
            out.facts.push(t.fact(name, &r));
        }
        out
    }
}

/// Decode one input, whatever it is: the single entry from bytes to facts. gzip is undone,
/// the format told from the content; JSON gets a byte order mark or UTF-16 undone and
/// invalid UTF-8 replaced (one bad string spoils its own record at most); a transcript, or
/// CloudWatch's upload-at-end chunks put back together, is handed back to be rendered.
/// `name` (a path or key) names the input in messages, and an S3-style `<sessionId>.log` name
/// gives a transcript its session. An input that cannot be read at all is an error; one that
/// is not evidence says why in `not_evidence`.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<Input, BadRecord> {
    let bytes = maybe_gunzip(bytes).map_err(|e| BadRecord {
        input: name.to_owned(),
        index: None,
        reason: format!("not readable gzip: {e}"),
    })?;
    let mut input = Input::default();
    match detect(&bytes) {
        Format::Transcript if bytes.iter().all(u8::is_ascii_whitespace) => {
            input.not_evidence = Some("empty".into());
        }
        Format::Transcript => input.transcripts.push(TranscriptBody::S3(bytes)),
        Format::Unknown => {
            input.not_evidence = Some("not Session Manager evidence (unknown JSON)".into());
        }
        Format::Digest => input.digest = Some(to_utf8(bytes)),
        format => {
            let bytes = match String::from_utf8(to_utf8(bytes)) {
                Ok(s) => s.into_bytes(),
                Err(e) => String::from_utf8_lossy(e.as_bytes())
                    .into_owned()
                    .into_bytes(),
            };
            let mut chunks = Vec::new();
            decode_json(format, name, &bytes, &mut input.decoded, &mut chunks);
            input.transcripts.extend(
                group_uploads(chunks)
                    .into_iter()
                    .map(TranscriptBody::Upload),
            );
        }
    }
    Ok(input)
}

/// Decode one JSON input whose format is known.
pub fn decode_json(
    format: Format,
    source: &str,
    bytes: &[u8],
    out: &mut Decoded,
    chunks: &mut Vec<UploadChunk>,
) {
    if format == Format::TrailFile {
        return decode_trail_file(source, bytes, out);
    }
    if format == Format::SubscriptionPayload {
        return decode_subscription_payload(source, bytes, out, chunks);
    }
    if format == Format::Digest {
        out.skipped_why = Some("CloudTrail digest file".into());
        return;
    }
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return out.bad(source, None, format!("not JSON: {e}")),
    };
    match format {
        Format::EventBridge => decode_eventbridge(source, &v, out),
        Format::LookupEvents => decode_lookup_events(source, &v, out),
        Format::SubscriptionEvent => decode_subscription_event(source, &v, out, chunks),
        Format::LogExport => {
            decode_log_export(source, stream_from_name(source).as_deref(), &v, out, chunks)
        }
        Format::StreamedMessage => {
            let stream = stream_from_name(source);
            let ev = LogEvent {
                id: None,
                timestamp_ms: None,
                message: v.to_string(),
            };
            decode_log_event(source, stream.as_deref(), 0, &ev, out, chunks);
        }
        Format::DescribeSessions => decode_describe_sessions(source, &v, out),
        Format::CloudTrailRecords => decode_cloudtrail_records(source, &v, out),
        _ => out.bad(source, None, "not a known Session Manager evidence format"),
    }
}

/// A session id in a file name (an export saved as `<sessionId>.json`).
fn stream_from_name(source: &str) -> Option<String> {
    let name = source.rsplit('/').next()?;
    let stem = name.split('.').next()?;
    let stem = name.strip_suffix(".json").unwrap_or(stem);
    split_session_id(stem).map(|_| stem.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_split_on_the_last_dash() {
        assert_eq!(
            split_session_id("garland.kan.temp-0e34861185201706f"),
            Some(("garland.kan.temp", "0e34861185201706f"))
        );
        assert_eq!(
            split_session_id("master-console-admin-ogucubv3f8zp6xxkdxv25lb3re"),
            Some(("master-console-admin", "ogucubv3f8zp6xxkdxv25lb3re"))
        );
        assert_eq!(
            split_session_id("a.b=c,d+e@example.com-0e34861185201706f").map(|p| p.0),
            Some("a.b=c,d+e@example.com")
        );
        assert_eq!(
            split_session_id("root-5hvouhyykagjjk3f6glxk8o6bu").map(|p| p.0),
            Some("root")
        );
        assert_eq!(
            split_session_id("bob-0E34861185201706F"),
            None,
            "suffix is lowercase"
        );
        assert_eq!(split_session_id("bob-123"), None);
        assert_eq!(split_session_id("-0e34861185201706f"), None);
    }

    #[test]
    fn a_prompt_in_brackets_starts_a_transcript_not_json() {
        for t in [
            "[ec2-user@ip-10-0-0-5 ~]$ ls\r\n",
            "[root@host ~]# id\r\n",
            "[undeadleech@archhq sgr]$ echo\r\n",
            "[true story]$ ",
            "{ not json at all",
        ] {
            assert_eq!(detect(t.as_bytes()), Format::Transcript, "{t}");
        }
        assert_eq!(detect(br#"{"Records": []}"#), Format::TrailFile);
        assert_eq!(
            detect(b"[ {\"eventName\": \"StartSession\"} ]"),
            Format::CloudTrailRecords
        );
        assert_eq!(detect(b"[]"), Format::Unknown);
        assert_eq!(detect(b"[true, 1]"), Format::Unknown);
    }

    #[test]
    fn millions_of_bad_records_are_counted_not_listed() {
        // 200,000 records that are not objects, in one small trail file
        let trail = format!("{{\"Records\": [{}1]}}", "1,".repeat(199_999));
        let mut out = Decoded::default();
        decode_trail_file("t.json", trail.as_bytes(), &mut out);
        assert_eq!(out.bad.len(), MAX_BAD_LISTED);
        assert_eq!(out.bad_unlisted, 200_000 - MAX_BAD_LISTED);
        let bad = out.take_bad("t.json");
        assert_eq!(bad.len(), MAX_BAD_LISTED + 1);
        assert!(
            bad[MAX_BAD_LISTED]
                .reason
                .contains("199900 more bad records"),
            "{bad:?}"
        );
    }

    #[test]
    fn a_decompression_bomb_is_stopped_and_named() {
        use std::io::Write;
        let gz = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let read = |compressed: &[u8]| {
            let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(compressed.len() as u64));
            let mut out = Vec::new();
            Guarded {
                inner: flate2::read::MultiGzDecoder::new(compressed),
                compressed: n,
                inflated: 0,
                cap: None,
                min_bytes: 1 << 20,
                ratio: BOMB_RATIO,
            }
            .read_to_end(&mut out)
            .map(|_| out.len())
        };
        // 8 MiB of zeros: about 1000:1, a bomb past 1 MiB
        let e = read(&gz(&vec![0u8; 8 << 20])).unwrap_err().to_string();
        assert!(e.contains("decompression bomb"), "{e}");
        // a transcript-like text compresses far less: read whole
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| {
                format!("line {i} root@vm:~# ls -la /var/log/{}\r\n", i * 7919).into_bytes()
            })
            .collect();
        assert_eq!(read(&gz(&text)).unwrap(), text.len());
        // in memory, the absolute cap holds too
        assert!(maybe_gunzip(gz(b"small")).is_ok());
    }

    #[test]
    fn event_keys_are_decoded_once_and_names_taken_as_they_are() {
        let key =
            decode_s3_event_key("session-logs/alice%40example.com-ilpxvkhghl9vs9ia2xfdyp4dka.log");
        assert_eq!(
            session_id_from_s3_key(&key).as_deref(),
            Some("alice@example.com-ilpxvkhghl9vs9ia2xfdyp4dka")
        );
        assert_eq!(
            decode_s3_event_key("p/a+b%2Bc%3Dd%2Ce-0e34861185201706f.log"),
            "p/a b+c=d,e-0e34861185201706f.log"
        );
        // a local file, or a listed key: a `+` is a `+`, `%40` is not decoded twice
        assert_eq!(
            session_id_from_s3_key("/evidence/a+b-0e34861185201706f.log").as_deref(),
            Some("a+b-0e34861185201706f")
        );
        assert_eq!(session_id_from_s3_key("p/notes.txt"), None);
    }
}
