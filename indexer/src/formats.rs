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

// ---- session ids, targets, keys ------------------------------------------------------------

/// `<principal>-<suffix>`: the principal is everything before the last `-`; the suffix is 17
/// lowercase hex (before 2024) or 26 of `[a-z0-9]`.
pub fn split_session_id(id: &str) -> Option<(&str, &str)> {
    if id.len() > 96 {
        return None;
    }
    let (principal, suffix) = id.rsplit_once('-')?;
    let hex17 = suffix.len() == 17
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let new26 = suffix.len() == 26
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    (!principal.is_empty() && (hex17 || new26)).then_some((principal, suffix))
}

/// The principal a session id names: its part before the suffix, except in an ECS Exec
/// session's id (`ecs-execute-command-<suffix>`), which names ECS, not who started it.
pub fn principal_of_session_id(id: &str) -> Option<&str> {
    split_session_id(id)
        .map(|(p, _)| p)
        .filter(|&p| p != "ecs-execute-command")
}

/// The session id a transcript's name gives, `[prefix/]<sessionId>.log`: an S3 key (decoded
/// already: S3 notifications' encoding is undone where they are read, with
/// [`decode_s3_event_key`]) or a local file's path, taken as it is (`+` is a `+`).
pub fn session_id_from_s3_key(key: &str) -> Option<String> {
    let name = key.rsplit(['/', std::path::MAIN_SEPARATOR]).next()?;
    // a copy someone gzipped keeps its name under the `.gz`
    let id = name
        .strip_suffix(".gz")
        .unwrap_or(name)
        .strip_suffix(".log")?;
    split_session_id(id).map(|_| id.to_owned())
}

/// Decode an object key as S3 notifications give it: URL-encoded, `+` for a space, `%XX` a
/// byte. Only keys from notifications are encoded: listed keys, EventBridge's and local file
/// names are not.
pub fn decode_s3_event_key(key: &str) -> String {
    let plus = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

// ---- input detection -----------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `script`-framed transcript or raw PTY output.
    Transcript,
    /// `{"Records":[...]}`
    TrailFile,
    /// CloudTrail digest: skipped.
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

// ---- text encodings ------------------------------------------------------------------------

/// How a text input is encoded, told from its first bytes: a byte order mark, or JSON's
/// first character with a NUL beside it (UTF-16 without a mark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 behind a byte order mark (Windows tools write one)
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

pub fn encoding(head: &[u8]) -> Encoding {
    match head {
        [0xef, 0xbb, 0xbf, ..] => Encoding::Utf8Bom,
        [0xff, 0xfe, ..] => Encoding::Utf16Le,
        [0xfe, 0xff, ..] => Encoding::Utf16Be,
        [b, 0, ..] if b.is_ascii() && *b != 0 => Encoding::Utf16Le,
        [0, b, ..] if b.is_ascii() && *b != 0 => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

/// `bytes` as UTF-8: a byte order mark dropped, UTF-16 transcoded (unpaired surrogates and an
/// odd last byte become U+FFFD). UTF-8 input is returned as it is.
pub fn to_utf8(bytes: Vec<u8>) -> Vec<u8> {
    let units = |le: bool, body: &[u8]| -> Vec<u8> {
        let u16s = body.chunks(2).map(|c| match (c, le) {
            ([a, b], true) => u16::from_le_bytes([*a, *b]),
            ([a, b], false) => u16::from_be_bytes([*a, *b]),
            _ => 0xfffd,
        });
        char::decode_utf16(u16s)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
            .into_bytes()
    };
    match encoding(&bytes) {
        Encoding::Utf8 => bytes,
        Encoding::Utf8Bom => bytes[3..].to_vec(),
        Encoding::Utf16Le => {
            let bom = bytes.starts_with(&[0xff, 0xfe]);
            units(true, &bytes[if bom { 2 } else { 0 }..])
        }
        Encoding::Utf16Be => {
            let bom = bytes.starts_with(&[0xfe, 0xff]);
            units(false, &bytes[if bom { 2 } else { 0 }..])
        }
    }
}

/// A reader that passes valid UTF-8 through and replaces each invalid sequence with U+FFFD,
/// as it streams (a sequence cut by a read is completed by the next), so one record's bad
/// bytes do not end a JSON document.
pub struct LossyUtf8<R> {
    inner: R,
    /// bytes read and not yet handed out: `buf[at..valid]`; `buf[valid..]` is a sequence cut
    /// by the last read, completed by the next
    buf: Vec<u8>,
    at: usize,
    valid: usize,
    eof: bool,
}

impl<R: Read> LossyUtf8<R> {
    pub fn new(inner: R) -> LossyUtf8<R> {
        LossyUtf8 {
            inner,
            buf: Vec::new(),
            at: 0,
            valid: 0,
            eof: false,
        }
    }

    /// Read more and make `buf[at..]` valid UTF-8 up to a possible cut sequence at its end.
    fn refill(&mut self) -> std::io::Result<()> {
        let carried: Vec<u8> = self.buf[self.valid.max(self.at)..].to_vec();
        let mut raw = carried;
        let start = raw.len();
        raw.resize(start + (64 << 10), 0);
        let n = loop {
            match self.inner.read(&mut raw[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        raw.truncate(start + n);
        self.eof = n == 0;
        let mut out = Vec::with_capacity(raw.len());
        let mut rest = &raw[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.extend_from_slice(s.as_bytes());
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    out.extend_from_slice(&rest[..good]);
                    match e.error_len() {
                        Some(bad) => {
                            out.extend_from_slice("\u{fffd}".as_bytes());
                            rest = &rest[good + bad..];
                        }
                        // cut at the end: wait for the rest, unless there is none
                        None if !self.eof => {
                            rest = &rest[good..];
                            break;
                        }
                        None => {
                            out.extend_from_slice("\u{fffd}".as_bytes());
                            rest = &[];
                            break;
                        }
                    }
                }
            }
        }
        // the cut sequence is kept at the end, behind the valid text, for the next refill
        let valid = out.len();
        out.extend_from_slice(rest);
        self.buf = out;
        self.at = 0;
        self.valid = valid;
        Ok(())
    }
}

impl<R: Read> Read for LossyUtf8<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.valid {
            if self.eof && self.at >= self.buf.len() {
                return Ok(0);
            }
            self.refill()?;
            if self.eof && self.valid == 0 && self.buf.is_empty() {
                return Ok(0);
            }
        }
        let n = dst.len().min(self.valid - self.at);
        dst[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
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

/// Inflated sizes past which gzip'd input is taken for a decompression bomb: more than
/// [`BOMB_RATIO`] times its compressed size once past [`BOMB_MIN_BYTES`] (deflate reaches
/// about 1032:1 on runs of one byte; transcripts and trails, a few to a few tens), and for
/// input inflated whole in memory (JSON evidence), past [`MAX_INFLATED_IN_MEMORY`].
pub const BOMB_RATIO: u64 = 100;
pub const BOMB_MIN_BYTES: u64 = 256 << 20;
pub const MAX_INFLATED_IN_MEMORY: u64 = 64 << 20;

fn bomb(inflated: u64, compressed: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "gzip inflates past {} MiB at more than {BOMB_RATIO}:1 ({compressed} bytes compressed): \
             taken for a decompression bomb and not read (gunzip it by hand to read it)",
            inflated >> 20
        ),
    )
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n
            .fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}

/// Inflated output, stopped with an error once it outgrows its compressed input as a bomb
/// does.
struct Guarded<R> {
    inner: R,
    compressed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    inflated: u64,
    /// an absolute cap, for input inflated whole
    cap: Option<u64>,
    /// the bomb test: past `min_bytes` inflated, at more than `ratio` to one
    min_bytes: u64,
    ratio: u64,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.inflated += k as u64;
        let compressed = self
            .compressed
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1);
        if self.cap.is_some_and(|c| self.inflated > c)
            || (self.inflated > self.min_bytes && self.inflated / compressed > self.ratio)
        {
            return Err(bomb(self.inflated, compressed));
        }
        Ok(k)
    }
}

/// Undo gzip if the bytes start with its magic: bounded, in memory, at
/// [`MAX_INFLATED_IN_MEMORY`].
pub fn maybe_gunzip(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(bytes.len() as u64));
        Guarded {
            inner: flate2::read::MultiGzDecoder::new(&bytes[..]),
            compressed,
            inflated: 0,
            cap: Some(MAX_INFLATED_IN_MEMORY),
            min_bytes: BOMB_MIN_BYTES,
            ratio: BOMB_RATIO,
        }
        .read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// A reader with gzip undone when it starts with gzip's magic, guarded against bombs.
pub fn open_maybe_gzip<R: Read + 'static>(r: R) -> std::io::Result<Box<dyn BufRead>> {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut r = BufReader::with_capacity(
        256 << 10,
        Counted {
            inner: r,
            n: n.clone(),
        },
    );
    let gz = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            256 << 10,
            Guarded {
                inner: flate2::bufread::MultiGzDecoder::new(r),
                compressed: n,
                inflated: 0,
                cap: None,
                min_bytes: BOMB_MIN_BYTES,
                ratio: BOMB_RATIO,
            },
        ))
    } else {
        Box::new(r)
    })
}

// ---- CloudTrail ----------------------------------------------------------------------------

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn identity(ui: &Value) -> Identity {
    let ty = s(ui, "type");
    let arn = s(ui, "arn");
    let issuer_arn = ui
        .pointer("/sessionContext/sessionIssuer/arn")
        .and_then(Value::as_str)
        .unwrap_or("");
    let principal = match ty.as_deref() {
        Some("Root") => Some("root".to_owned()),
        Some("IAMUser") => s(ui, "userName").or_else(|| {
            arn.as_deref()
                .and_then(|a| a.rsplit('/').next())
                .map(str::to_owned)
        }),
        Some("AssumedRole") | Some("FederatedUser") => arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .map(str::to_owned)
            .or_else(|| {
                s(ui, "principalId").and_then(|p| p.split_once(':').map(|(_, s)| s.to_owned()))
            }),
        Some("AWSService") => s(ui, "invokedBy"),
        _ => arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .map(str::to_owned)
            .or_else(|| s(ui, "userName")),
    };
    let sso = issuer_arn.contains("/aws-reserved/sso.amazonaws.com/")
        || arn
            .as_deref()
            .is_some_and(|a| a.contains(":assumed-role/AWSReservedSSO_"));
    let identity_type = if ty.as_deref() == Some("AssumedRole") && sso {
        Some("SSO".to_owned())
    } else {
        ty
    };
    Identity {
        principal,
        principal_arn: arn,
        identity_type,
        account: s(ui, "accountId"),
    }
}

fn call_context(rec: &Value) -> Option<CallContext> {
    let time = rec
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .map(rfc3339)?;
    let ui = rec.get("userIdentity").cloned().unwrap_or(Value::Null);
    let user_agent = s(rec, "userAgent");
    let console = rec
        .get("sessionCredentialFromConsole")
        .is_some_and(|v| v == "true" || v == true)
        || user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("Mozilla/") || ua.starts_with("aws-internal/"));
    let mut identity = identity(&ui);
    if identity.account.is_none() {
        identity.account = s(rec, "recipientAccountId");
    }
    Some(CallContext {
        time,
        region: s(rec, "awsRegion"),
        source_ip: s(rec, "sourceIPAddress"),
        user_agent,
        console,
        identity,
    })
}

fn parameters(v: Option<&Value>) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, v) in m {
            let vals = match v {
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                Value::Null => vec![],
                other => vec![other.to_string()],
            };
            out.insert(k.clone(), vals);
        }
    }
    out
}

/// The Session Manager document ECS Exec runs: `aws ecs execute-command` starts its sessions
/// (logged as ECS `ExecuteCommand`, with no StartSession of their own).
pub const ECS_EXEC_DOCUMENT: &str = "AmazonECS-ExecuteInteractiveCommand";

/// Who an ARN names, as far as the ARN tells: a CloudWatch stream's `principalArn` or a
/// DescribeSessions `Owner`, for a session with no CloudTrail record of its own.
pub fn identity_from_arn(arn: &str) -> Identity {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (account, resource) = match parts.as_slice() {
        ["arn", _, _, _, account, resource] => (
            Some((*account).to_owned()).filter(|a| !a.is_empty()),
            *resource,
        ),
        _ => (None, arn),
    };
    let identity_type = if resource == "root" {
        Some("Root")
    } else if resource.starts_with("assumed-role/AWSReservedSSO_") {
        Some("SSO")
    } else if resource.starts_with("assumed-role/") {
        Some("AssumedRole")
    } else if resource.starts_with("user/") {
        Some("IAMUser")
    } else if resource.starts_with("federated-user/") {
        Some("FederatedUser")
    } else {
        None
    };
    let principal = if resource == "root" {
        Some("root".to_owned())
    } else {
        resource
            .rsplit('/')
            .next()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    };
    Identity {
        principal,
        principal_arn: Some(arn.to_owned()),
        identity_type: identity_type.map(str::to_owned),
        account,
    }
}

/// The last part of an ARN (`arn:aws:ecs:...:task/prod/0a1b` gives `0a1b`), or the name.
fn arn_name(v: String) -> String {
    match v.rsplit_once('/') {
        Some((_, last)) => last.to_owned(),
        None => v,
    }
}

/// An ECS Exec session's target, as `ecs:<cluster>_<task id>` (Session Manager's own target
/// adds the container's runtime id, which CloudTrail does not give; the container's name is
/// a parameter). A cluster not named is `default`, as ECS takes it.
fn ecs_target(req: &Value, resp: &Value) -> Option<String> {
    let task = s(req, "task")
        .or_else(|| s(resp, "taskArn"))
        .map(arn_name)?;
    let cluster = s(req, "cluster")
        .or_else(|| s(resp, "clusterArn"))
        .map_or_else(|| "default".to_owned(), arn_name);
    Some(format!("ecs:{cluster}_{task}"))
}

/// A refused start: an attempt with no session.
fn denied(
    rec: &Value,
    key: String,
    call: CallContext,
    target: Option<String>,
    document: Option<String>,
    error_code: String,
) -> Fact {
    Fact {
        key,
        session_id: None,
        kind: FactKind::Denied {
            call,
            target,
            document,
            error_code,
            error_message: s(rec, "errorMessage"),
        },
    }
}

/// An ECS `ExecuteCommand` record: a session started (or refused) in a container.
fn ecs_exec_fact(rec: &Value, key: String, call: CallContext) -> Result<Option<Fact>, String> {
    let req = rec.get("requestParameters").unwrap_or(&Value::Null);
    let resp = rec.get("responseElements").unwrap_or(&Value::Null);
    let target = ecs_target(req, resp);
    let document = Some(ECS_EXEC_DOCUMENT.to_owned());
    if let Some(code) = s(rec, "errorCode") {
        return Ok(Some(denied(rec, key, call, target, document, code)));
    }
    let sid = resp
        .pointer("/session/sessionId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("ExecuteCommand without errorCode has no responseElements.session.sessionId")?;
    let mut parameters = BTreeMap::new();
    for (name, value) in [
        ("command", s(req, "command")),
        (
            "container",
            s(req, "container").or_else(|| s(resp, "containerName")),
        ),
    ] {
        if let Some(v) = value {
            parameters.insert(name.to_owned(), vec![v]);
        }
    }
    Ok(Some(Fact {
        key,
        session_id: Some(sid.to_owned()),
        kind: FactKind::Started {
            call,
            target,
            document,
            parameters,
            reason: None,
        },
    }))
}

/// One CloudTrail record into at most one fact; `Ok(None)` for records about other things.
/// Session Manager's StartSession, ResumeSession and TerminateSession, and ECS Exec's
/// ExecuteCommand.
pub fn cloudtrail_fact(rec: &Value) -> Result<Option<Fact>, String> {
    let Some(obj) = rec.as_object() else {
        return Err("not a JSON object".into());
    };
    let name = obj.get("eventName").and_then(Value::as_str).unwrap_or("");
    let ecs_exec = match obj.get("eventSource").and_then(Value::as_str) {
        None | Some("ssm.amazonaws.com") => false,
        Some("ecs.amazonaws.com") if name == "ExecuteCommand" => true,
        Some("s3.amazonaws.com") => return transcript_write_data_event(rec, name),
        Some("aws:s3") => return transcript_write_notification(rec, name),
        Some(_) => return Ok(None),
    };
    if !ecs_exec && !matches!(name, "StartSession" | "ResumeSession" | "TerminateSession") {
        return Ok(None);
    }
    let call = call_context(rec).ok_or("no readable eventTime")?;
    let event_id = s(rec, "eventID").ok_or("no eventID")?;
    let key = format!("cloudtrail:{event_id}");
    if ecs_exec {
        return ecs_exec_fact(rec, key, call);
    }
    let req = rec.get("requestParameters").unwrap_or(&Value::Null);
    let resp = rec.get("responseElements").unwrap_or(&Value::Null);
    if let Some(code) = s(rec, "errorCode") {
        if name == "StartSession" {
            let (target, document) = (s(req, "target"), s(req, "documentName"));
            return Ok(Some(denied(rec, key, call, target, document, code)));
        }
        // a failed resume or terminate says nothing about the session's life
        return Ok(None);
    }
    let fact = match name {
        "StartSession" => {
            let Some(sid) = s(resp, "sessionId") else {
                return Err(
                    "StartSession without errorCode has no responseElements.sessionId".into(),
                );
            };
            let kind = FactKind::Started {
                call,
                target: s(req, "target"),
                document: s(req, "documentName"),
                parameters: parameters(req.get("parameters")),
                reason: s(req, "reason"),
            };
            Fact {
                key,
                session_id: Some(sid),
                kind,
            }
        }
        _ => {
            let sid = s(req, "sessionId")
                .or_else(|| s(resp, "sessionId"))
                .ok_or("no requestParameters.sessionId")?;
            let kind = if name == "ResumeSession" {
                FactKind::Resumed { call }
            } else {
                FactKind::Terminated { call }
            };
            Fact {
                key,
                session_id: Some(sid),
                kind,
            }
        }
    };
    Ok(Some(fact))
}

/// The managed node a writer's role session names: EC2 instances (`i-...`) and hybrid nodes
/// (`mi-...`) write with a role session named after themselves.
fn node_of_writer(writer: &str) -> Option<String> {
    let last = writer.rsplit([':', '/']).next()?;
    let (prefix, hex) = last.split_once('-')?;
    (matches!(prefix, "i" | "mi")
        && (8..=17).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    .then(|| last.to_owned())
}

fn written_fact(
    key: String,
    bucket: &str,
    object: &str,
    time: String,
    writer: String,
) -> Option<Fact> {
    let sid = session_id_from_s3_key(object)?;
    Some(Fact {
        key,
        session_id: Some(sid),
        kind: FactKind::Written {
            location: format!("{bucket}/{object}"),
            time,
            node: node_of_writer(&writer),
            writer,
        },
    })
}

/// A CloudTrail data event writing an object: a transcript's writer, when the key names a
/// session (`<sessionId>.log`).
fn transcript_write_data_event(rec: &Value, name: &str) -> Result<Option<Fact>, String> {
    if !matches!(name, "PutObject" | "CopyObject" | "CompleteMultipartUpload")
        || s(rec, "errorCode").is_some()
    {
        return Ok(None);
    }
    let req = rec.get("requestParameters").unwrap_or(&Value::Null);
    let (Some(bucket), Some(object)) = (s(req, "bucketName"), s(req, "key")) else {
        return Ok(None);
    };
    let call = call_context(rec).ok_or("no readable eventTime")?;
    let event_id = s(rec, "eventID").ok_or("no eventID")?;
    let ui = rec.get("userIdentity").unwrap_or(&Value::Null);
    let writer = s(ui, "arn")
        .or_else(|| s(ui, "principalId"))
        .unwrap_or_default();
    Ok(written_fact(
        format!("cloudtrail:{event_id}"),
        &bucket,
        &object,
        call.time,
        writer,
    ))
}

/// An S3 event notification record (`eventSource: aws:s3`): who created an object. Its key
/// is URL-encoded.
fn transcript_write_notification(rec: &Value, name: &str) -> Result<Option<Fact>, String> {
    if !name.starts_with("ObjectCreated:") {
        return Ok(None);
    }
    let (Some(bucket), Some(object)) = (
        rec.pointer("/s3/bucket/name").and_then(Value::as_str),
        rec.pointer("/s3/object/key").and_then(Value::as_str),
    ) else {
        return Err("an S3 notification without s3.bucket.name and s3.object.key".into());
    };
    let object = decode_s3_event_key(object);
    let time = rec
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .map(rfc3339)
        .ok_or("no readable eventTime")?;
    let writer = rec
        .pointer("/userIdentity/principalId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let sequencer = rec
        .pointer("/s3/object/sequencer")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(written_fact(
        format!("s3write:{bucket}/{object}:{sequencer}:{writer}"),
        bucket,
        &object,
        time,
        writer,
    ))
}

fn push_cloudtrail(out: &mut Decoded, source: &str, index: Option<usize>, rec: &Value) {
    match cloudtrail_fact(rec) {
        Ok(Some(f)) => out.facts.push(f),
        Ok(None) => out.skipped += 1,
        Err(e) => out.bad(source, index, e),
    }
}

/// Stream the elements of the top-level array under `field` (or of a top-level array when
/// `field` is `None`), one value at a time.
fn for_each_in<R: Read>(
    reader: R,
    field: Option<&str>,
    f: &mut dyn FnMut(usize, Result<Value, String>),
) -> Result<(), String> {
    struct Each<'a> {
        f: &'a mut dyn FnMut(usize, Result<Value, String>),
    }
    impl<'de> Visitor<'de> for Each<'_> {
        type Value = ();
        fn expecting(&self, fm: &mut fmt::Formatter<'_>) -> fmt::Result {
            fm.write_str("an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            // a malformed element ends the array (the JSON is broken from there on)
            while let Some(v) = seq.next_element::<Value>()? {
                (self.f)(i, Ok(v));
                i += 1;
            }
            Ok(())
        }
    }
    struct Field<'a> {
        name: &'a str,
        each: Each<'a>,
        found: &'a mut bool,
    }
    impl<'de> Visitor<'de> for Field<'_> {
        type Value = ();
        fn expecting(&self, fm: &mut fmt::Formatter<'_>) -> fmt::Result {
            fm.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut each = Some(self.each);
            while let Some(k) = map.next_key::<String>()? {
                if k == self.name {
                    if let Some(e) = each.take() {
                        map.next_value_seed(SeqSeed(e))?;
                        *self.found = true;
                        continue;
                    }
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    struct SeqSeed<'a>(Each<'a>);
    impl<'de> DeserializeSeed<'de> for SeqSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self.0)
        }
    }
    // invalid UTF-8 in one record's strings is replaced, not the end of the file
    let mut de = serde_json::Deserializer::from_reader(LossyUtf8::new(reader));
    let res = match field {
        None => de.deserialize_seq(Each { f }),
        Some(name) => {
            let mut found = false;
            let r = de.deserialize_map(Field {
                name,
                each: Each { f },
                found: &mut found,
            });
            if r.is_ok() && !found {
                return Err(format!("no \"{name}\" array"));
            }
            r
        }
    };
    res.map_err(|e| e.to_string())
}

/// A CloudTrail trail file (`{"Records":[...]}`), read one record at a time.
pub fn decode_trail_file<R: Read>(source: &str, reader: R, out: &mut Decoded) {
    decode_trail_file_in_parts(source, reader, out, usize::MAX, &mut |_| {})
}

/// [`decode_trail_file`], handing the facts to `part` whenever `part_size` of them are
/// decoded (and leaving the rest in `out`), so memory follows the largest record, not the
/// file, however many of its records are Session Manager's.
pub fn decode_trail_file_in_parts<R: Read>(
    source: &str,
    reader: R,
    out: &mut Decoded,
    part_size: usize,
    part: &mut dyn FnMut(Vec<Fact>),
) {
    if source.contains("/CloudTrail-Digest/") || source.contains("/CloudTrail-Insight/") {
        out.skipped_why = Some("CloudTrail digest or insight file".into());
        return;
    }
    let mut f = |i: usize, v: Result<Value, String>| {
        match v {
            Ok(rec) => push_cloudtrail(out, source, Some(i), &rec),
            Err(e) => out.bad(source, Some(i), e),
        }
        if out.facts.len() >= part_size {
            part(std::mem::take(&mut out.facts));
        }
    };
    if let Err(e) = for_each_in(reader, Some("Records"), &mut f) {
        out.bad(source, None, format!("not a readable trail file: {e}"));
    }
}

/// A JSON array of bare CloudTrail records, or one record.
pub fn decode_cloudtrail_records(source: &str, v: &Value, out: &mut Decoded) {
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, r)| push_cloudtrail(out, source, Some(i), r)),
        other => push_cloudtrail(out, source, None, other),
    }
}

/// An EventBridge `AWS API Call via CloudTrail` event: the record is in `detail`.
pub fn decode_eventbridge(source: &str, v: &Value, out: &mut Decoded) {
    match v.get("detail") {
        Some(d)
            if v.get("detail-type").and_then(Value::as_str)
                == Some("AWS API Call via CloudTrail") =>
        {
            push_cloudtrail(out, source, None, d)
        }
        Some(_) => out.skipped += 1,
        None => out.bad(source, None, "EventBridge event without detail"),
    }
}

/// `aws cloudtrail lookup-events` output: each record is a JSON string in `CloudTrailEvent`.
pub fn decode_lookup_events(source: &str, v: &Value, out: &mut Decoded) {
    let events = v
        .get("Events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| match v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        });
    for (i, e) in events.iter().enumerate() {
        match e
            .get("CloudTrailEvent")
            .and_then(Value::as_str)
            .map(serde_json::from_str::<Value>)
        {
            Some(Ok(rec)) => push_cloudtrail(out, source, Some(i), &rec),
            Some(Err(err)) => out.bad(
                source,
                Some(i),
                format!("CloudTrailEvent is not JSON: {err}"),
            ),
            None => out.bad(source, Some(i), "no CloudTrailEvent string"),
        }
    }
}

/// `aws ssm describe-sessions` output (`{"Sessions":[...]}`), dates as ISO strings or epoch
/// seconds.
pub fn decode_describe_sessions(source: &str, v: &Value, out: &mut Decoded) {
    let rows = v
        .get("Sessions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, row) in rows.iter().enumerate() {
        let Some(sid) = s(row, "SessionId") else {
            out.bad(source, Some(i), "no SessionId");
            continue;
        };
        let date = |k: &str| match row.get(k) {
            Some(Value::String(t)) => parse_time(t).map(rfc3339),
            Some(Value::Number(n)) => n
                .as_f64()
                .and_then(|f| time::OffsetDateTime::from_unix_timestamp(f as i64).ok())
                .map(rfc3339),
            _ => None,
        };
        let (start, end, status) = (date("StartDate"), date("EndDate"), s(row, "Status"));
        let key = format!(
            "describe:{sid}:{}:{}",
            end.as_deref().unwrap_or("-"),
            status.as_deref().unwrap_or("-")
        );
        let kind = FactKind::Described {
            start,
            end,
            status,
            target: s(row, "Target"),
            owner: s(row, "Owner"),
            document: s(row, "DocumentName"),
            reason: s(row, "Reason"),
        };
        out.facts.push(Fact {
            key,
            session_id: Some(sid),
            kind,
        });
    }
}

// ---- CloudWatch Logs -----------------------------------------------------------------------

/// A CloudWatch log event, from a subscription or an export.
pub struct LogEvent {
    pub id: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub message: String,
}

fn ms_to_rfc3339(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .map(rfc3339)
}

/// One CloudWatch log event of a session's stream: a streamed JSON message, or a chunk of an
/// upload-at-end copy (returned as the chunk text for reassembly).
pub fn decode_log_event(
    source: &str,
    stream: Option<&str>,
    index: usize,
    ev: &LogEvent,
    out: &mut Decoded,
    chunks: &mut Vec<UploadChunk>,
) {
    let msg = ev.message.trim_start();
    if msg.starts_with('{') {
        match serde_json::from_str::<Value>(msg) {
            Ok(v) if v.get("sessionData").is_some() => {
                let sid = s(&v, "sessionId")
                    .filter(|id| split_session_id(id).is_some())
                    .or_else(|| stream.map(str::to_owned));
                let Some(sid) = sid else {
                    out.bad(source, Some(index), "streamed message without a session id");
                    return;
                };
                let lines: Vec<String> = v["sessionData"].as_array().map_or_else(Vec::new, |a| {
                    a.iter()
                        .filter_map(|l| l.as_str().map(str::to_owned))
                        .collect()
                });
                let time = s(&v, "eventTime")
                    .and_then(|t| parse_time(&t).map(rfc3339))
                    .or_else(|| ev.timestamp_ms.and_then(ms_to_rfc3339))
                    .unwrap_or_default();
                let key = match &ev.id {
                    Some(id) => format!("cwlogs:{id}"),
                    None => format!(
                        "cwlogs:{sid}:{}:{}",
                        ev.timestamp_ms.unwrap_or(0),
                        fnv(msg.as_bytes())
                    ),
                };
                let bytes = lines.iter().map(|l| l.len() as u64 + 1).sum();
                let kind = FactKind::Streamed {
                    time,
                    target: v
                        .pointer("/target/id")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    principal_arn: v
                        .pointer("/userIdentity/arn")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    run_as: s(&v, "runAsUser"),
                    lines,
                    bytes,
                };
                out.facts.push(Fact {
                    key,
                    session_id: Some(sid),
                    kind,
                });
            }
            Ok(_) => out.skipped += 1,
            Err(e) => out.bad(source, Some(index), format!("message is not JSON: {e}")),
        }
        return;
    }
    match stream {
        Some(sid) if split_session_id(sid).is_some() => chunks.push(UploadChunk {
            session_id: sid.to_owned(),
            location: source.to_owned(),
            id: ev.id.clone(),
            timestamp_ms: ev.timestamp_ms.unwrap_or(0),
            text: ev.message.clone(),
        }),
        _ => out.skipped += 1,
    }
}

/// One piece of an upload-at-end copy; [`assemble_uploads`] renders a stream's pieces.
#[derive(Clone, Debug)]
pub struct UploadChunk {
    pub session_id: String,
    pub location: String,
    pub id: Option<String>,
    pub timestamp_ms: i64,
    pub text: String,
}

/// One session's upload-at-end copy, reassembled from its chunks.
#[derive(Clone, Debug)]
pub struct Upload {
    pub session_id: String,
    /// log group/stream
    pub location: String,
    pub text: String,
    /// the last chunk's timestamp: session end
    pub written: Option<String>,
}

/// Put each session's chunks back together, in time order, duplicates dropped.
pub fn group_uploads(mut chunks: Vec<UploadChunk>) -> Vec<Upload> {
    chunks.sort_by(|a, b| {
        (&a.session_id, a.timestamp_ms, &a.id).cmp(&(&b.session_id, b.timestamp_ms, &b.id))
    });
    chunks.dedup_by(|a, b| a.session_id == b.session_id && a.id.is_some() && a.id == b.id);
    chunks
        .chunk_by(|a, b| a.session_id == b.session_id)
        .map(|group| Upload {
            session_id: group[0].session_id.clone(),
            location: format!("{}/{}", group[0].location, group[0].session_id),
            text: group.iter().map(|c| c.text.as_str()).collect(),
            written: group
                .iter()
                .map(|c| c.timestamp_ms)
                .max()
                .and_then(ms_to_rfc3339),
        })
        .collect()
}

/// The transcript fact of an upload already rendered.
pub fn upload_fact(u: &Upload, r: &crate::transcript::Rendered) -> Fact {
    let bytes = u.text.as_bytes();
    let mut fact = transcript_fact_from(
        TranscriptSource::CloudwatchUpload,
        &u.location,
        bytes,
        u.written.clone(),
        r,
    );
    fact.session_id = Some(u.session_id.clone());
    fact.key = format!("cwupload:{}:{}", u.session_id, fnv(bytes));
    fact
}

/// Render each session's upload-at-end chunks into one transcript fact (for callers that
/// only need the facts; ingest renders once and keeps the text too).
pub fn assemble_uploads(chunks: Vec<UploadChunk>, out: &mut Decoded) {
    for u in group_uploads(chunks) {
        let (r, _) = render_transcript(u.text.as_bytes(), SizeChoice::default(), CountSink(0))
            .expect("reading from memory cannot fail");
        out.facts.push(upload_fact(&u, &r));
    }
}

/// A Lambda subscription event `{"awslogs":{"data":"<base64(gzip(json))>"}}`.
pub fn decode_subscription_event(
    source: &str,
    v: &Value,
    out: &mut Decoded,
    chunks: &mut Vec<UploadChunk>,
) {
    use base64::Engine;
    let Some(data) = v.pointer("/awslogs/data").and_then(Value::as_str) else {
        out.bad(source, None, "no awslogs.data");
        return;
    };
    let raw = match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
        Ok(r) => r,
        Err(e) => return out.bad(source, None, format!("awslogs.data is not base64: {e}")),
    };
    let json = match maybe_gunzip(raw) {
        Ok(j) => j,
        Err(e) => return out.bad(source, None, format!("awslogs.data is not gzip: {e}")),
    };
    decode_subscription_payload(source, &json[..], out, chunks);
}

/// The decoded payload: `{messageType, owner, logGroup, logStream, subscriptionFilters?,
/// policyLevel?, logEvents:[{id, timestamp, message}]}`. CONTROL_MESSAGE is skipped.
pub fn decode_subscription_payload<R: Read>(
    source: &str,
    reader: R,
    out: &mut Decoded,
    chunks: &mut Vec<UploadChunk>,
) {
    let v: Value = match serde_json::from_reader(reader) {
        Ok(v) => v,
        Err(e) => {
            return out.bad(
                source,
                None,
                format!("subscription payload is not JSON: {e}"),
            )
        }
    };
    if v.get("messageType").and_then(Value::as_str) == Some("CONTROL_MESSAGE") {
        out.skipped += 1;
        return;
    }
    let group = s(&v, "logGroup").unwrap_or_default();
    let stream = s(&v, "logStream");
    let src = format!("{source} ({group}/{})", stream.as_deref().unwrap_or("?"));
    for (i, e) in v
        .get("logEvents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let ev = LogEvent {
            id: s(e, "id"),
            timestamp_ms: e.get("timestamp").and_then(Value::as_i64),
            message: s(e, "message").unwrap_or_default(),
        };
        decode_log_event(&src, stream.as_deref(), i, &ev, out, chunks);
    }
}

/// `aws logs get-log-events` (`{"events":[{timestamp, message}]}`, the stream named by the
/// caller) or `filter-log-events` (`logStreamName` and `eventId` on each event).
pub fn decode_log_export(
    source: &str,
    stream_hint: Option<&str>,
    v: &Value,
    out: &mut Decoded,
    chunks: &mut Vec<UploadChunk>,
) {
    for (i, e) in v
        .get("events")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let stream = s(e, "logStreamName").or_else(|| stream_hint.map(str::to_owned));
        let ev = LogEvent {
            id: s(e, "eventId"),
            timestamp_ms: e.get("timestamp").and_then(Value::as_i64),
            message: s(e, "message").unwrap_or_default(),
        };
        decode_log_event(source, stream.as_deref(), i, &ev, out, chunks);
    }
}

// ---- transcripts ---------------------------------------------------------------------------

struct CountSink(u64);
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
    };
    Fact {
        key: format!("transcript:{location}:{hash}"),
        session_id: sid,
        kind,
    }
}

pub use crate::hash::{fnv, Fnv};

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
