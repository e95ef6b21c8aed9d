//! Folding facts into one record per session.
//!
//! The result depends only on the *set* of facts: they are sorted and deduplicated by key
//! first, and every field is chosen by a rule that does not depend on arrival order (earliest
//! start, the end of highest-priority evidence, the first value in key order). So deliveries
//! that repeat or arrive out of order change nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::facts::{CallContext, Fact, FactKind, TranscriptSource};
use crate::formats::identity_from_arn;
use crate::ids::principal_of_session_id;
use crate::time::parse_time;

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Shell,
    Command,
    PortForward,
    PortForwardRemote,
    Ssh,
    #[default]
    Other,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndSource {
    TerminateEvent,
    DescribeSessions,
    TranscriptUpload,
    LastStreamedEvent,
    #[default]
    None,
}

/// Where a session's `time` comes from, most authoritative first. Only `start-event` and
/// `describe-sessions` are the session's start; every other is the earliest evidence of it,
/// an approximate time (shown as `~2026-11-22T09:01:19Z`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// StartSession (or ECS ExecuteCommand) in CloudTrail
    StartEvent,
    /// a DescribeSessions row's start
    DescribeSessions,
    /// the first message streamed to CloudWatch Logs
    FirstStreamedEvent,
    /// ResumeSession in CloudTrail
    ResumeEvent,
    /// TerminateSession in CloudTrail
    TerminateEvent,
    /// the transcript header's `Script started on` (written when the session ended)
    TranscriptHeader,
    /// when the transcript copy was written (S3 upload, CloudWatch upload)
    TranscriptUpload,
    /// no evidence gives a time
    #[default]
    None,
}

impl TimeSource {
    /// Whether the time is the session's start as AWS recorded it, not an approximation.
    pub fn is_start(self) -> bool {
        matches!(self, TimeSource::StartEvent | TimeSource::DescribeSessions)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    Tunnel,
    TranscriptMissing,
    NoStartEvent,
    Denied,
    Open,
    Resumed,
    /// the principal the session id names differs from the one the evidence names
    PrincipalMismatch,
    /// more than one distinct transcript copy of one source (two S3 objects, two uploads):
    /// every copy is kept, indexed and listed in `transcript.copies`
    MultipleCopies,
    /// a transcript object of the session was written by another managed node than the
    /// session's target (CloudTrail data events or S3 event notifications tell the writer)
    WrittenByOtherNode,
    /// the S3 copy and the CloudWatch copy, rendered, differ (one cut short when the agent
    /// died, lines in one and not the other): `transcript.copies_disagree` says where. Set
    /// when the texts are read (the rebuild), not by correlation.
    CopiesDisagree,
    /// an S3 transcript's key had more than one version when read: the object was
    /// overwritten after the agent uploaded it
    TranscriptRewritten,
}

impl Kind {
    /// Every kind, as `--kind` takes them.
    pub const ALL: [Kind; 6] = [
        Kind::Shell,
        Kind::Command,
        Kind::PortForward,
        Kind::PortForwardRemote,
        Kind::Ssh,
        Kind::Other,
    ];

    pub fn is_tunnel(&self) -> bool {
        matches!(
            self,
            Kind::PortForward | Kind::PortForwardRemote | Kind::Ssh
        )
    }
}

impl Flag {
    /// Every flag, as `--flag` takes them.
    pub const ALL: [Flag; 11] = [
        Flag::Tunnel,
        Flag::TranscriptMissing,
        Flag::NoStartEvent,
        Flag::Denied,
        Flag::Open,
        Flag::Resumed,
        Flag::PrincipalMismatch,
        Flag::MultipleCopies,
        Flag::WrittenByOtherNode,
        Flag::CopiesDisagree,
        Flag::TranscriptRewritten,
    ];
}

/// The kebab-case name an enum serializes to (`port-forward`, `no-start-event`).
pub fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tunnel {
    pub host: Option<String>,
    pub port: Option<u32>,
    pub local_port: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptSummary {
    /// which copies were seen: `s3`, `cloudwatch-stream`, `cloudwatch-upload`
    pub sources: Vec<TranscriptSource>,
    pub s3_bytes: Option<u64>,
    pub cloudwatch_stream_bytes: Option<u64>,
    pub cloudwatch_upload_bytes: Option<u64>,
    pub lines: u64,
    pub commands: u64,
    /// the copy the text and commands come from (S3 is the text of record)
    pub text_of_record: Option<TranscriptSource>,
    /// lines of the text of record past the text cap (`text::MAX_TEXT_BYTES`): counted in
    /// `lines`, not kept, so neither shown nor searchable
    #[serde(default)]
    pub lines_dropped: u64,
    /// every distinct copy (S3 objects, CloudWatch uploads), the text of record first: all
    /// are kept, rendered and indexed (a second copy never hides the first)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<TranscriptCopy>,
    /// other copies not indexed: past `text::MAX_TEXT_BYTES` of lines only they have
    /// (kept in the store, listed in `copies`, shown by `show`)
    #[serde(default, skip_serializing_if = "crate::render::is_zero")]
    pub copies_not_indexed: u64,
    /// where the S3 and CloudWatch copies first differ, when they do
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies_disagree: Option<Disagreement>,
}

/// The first line at which two copies of one session, rendered, differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Disagreement {
    /// the other copy (`cwupload-<hash>` when the S3 copy is the text of record)
    pub copy: String,
    /// 1-based line number
    pub line: u64,
    /// that line in the text of record, and in the other copy (`None`: past its end)
    pub text_of_record: Option<String>,
    pub other: Option<String>,
}

/// One transcript copy of a session.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TranscriptCopy {
    /// its name in the store: `s3-<hash>` or `cwupload-<hash>` (the content's hash)
    pub copy: String,
    pub source: Option<TranscriptSource>,
    pub bytes: u64,
    pub lines: u64,
    /// where the evidence held it (bucket/key, a path, log group/stream): each place seen
    pub locations: Vec<String>,
    /// who wrote it, when AWS recorded it (CloudTrail data events, S3 notifications)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub written_by: Vec<String>,
}

/// The copy name of a transcript fact: its source and content hash (the last part of the
/// fact's key), as the store names its copy and text.
pub fn copy_name(f: &Fact) -> Option<String> {
    let FactKind::Transcript { source, .. } = &f.kind else {
        return None;
    };
    let hash = f.key.rsplit(':').next()?;
    match source {
        TranscriptSource::S3 => Some(format!("s3-{hash}")),
        TranscriptSource::CloudwatchUpload => Some(format!("cwupload-{hash}")),
        TranscriptSource::CloudwatchStream => None,
    }
}

/// One session, or one denied attempt (no session id).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub session_id: Option<String>,
    pub principal: Option<String>,
    pub principal_arn: Option<String>,
    pub identity_type: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub target: Option<String>,
    pub document: Option<String>,
    pub kind: Kind,
    pub tunnel: Option<Tunnel>,
    /// the session's start as AWS recorded it (StartSession, ExecuteCommand or
    /// DescribeSessions); null when no such record is in the evidence
    pub start: Option<String>,
    /// the start, else the earliest evidence of the session: every period filter, ordering
    /// and report uses it; null only when no evidence carries a time
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub time_source: TimeSource,
    pub end: Option<String>,
    pub end_source: EndSource,
    pub duration_seconds: Option<i64>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub console: bool,
    pub run_as: Option<String>,
    pub reason: Option<String>,
    /// what a command session was started to run: the `command` parameter of
    /// AWS-StartInteractiveCommand and AWS-StartNonInteractiveCommand, or of ECS Exec
    pub command: Option<String>,
    pub transcript: TranscriptSummary,
    pub flags: Vec<Flag>,
    /// for denied attempts
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub resumed: Vec<String>,
    /// who called TerminateSession (the earliest call): from where, console or not
    #[serde(default)]
    pub terminated_by: Option<CallContext>,
    /// the principal the session id names (`<principal>-<suffix>`): written by the node, a
    /// fallback only; differs from `principal` when flagged `principal-mismatch`
    #[serde(default)]
    pub session_id_principal: Option<String>,
}

impl SessionRecord {
    /// `time` as a human reads it: an approximate time (not the recorded start) marked `~`.
    pub fn time_display(&self) -> String {
        match &self.time {
            None => "-".into(),
            Some(t) if self.time_source.is_start() => t.clone(),
            Some(t) => format!("~{t}"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CorrelateOptions {
    /// Sessions end at most this long after they start (Session Manager's maxSessionDuration,
    /// 24 h by default... up to 24 h).
    pub max_session: Duration,
    /// "Now", for deciding whether a session without end evidence is still open.
    pub now: time::OffsetDateTime,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            max_session: Duration::hours(24),
            now: time::OffsetDateTime::now_utc(),
        }
    }
}

/// The kind of session a document opens. A document may be named by its ARN
/// (`arn:aws:ssm:REGION:ACCOUNT:document/NAME`, a shared one) and carry a version
/// (`NAME:3`).
pub fn kind_of(document: Option<&str>) -> Kind {
    let name = document.map(|d| {
        let d = d.rsplit_once(":document/").map_or(d, |(_, n)| n);
        d.split_once(':').map_or(d, |(n, _)| n)
    });
    match name {
        None | Some("SSM-SessionManagerRunShell") | Some("AWS-StartInteractiveShell") => {
            Kind::Shell
        }
        Some("AWS-StartPortForwardingSession") => Kind::PortForward,
        Some("AWS-StartPortForwardingSessionToRemoteHost") => Kind::PortForwardRemote,
        Some("AWS-StartSSHSession") => Kind::Ssh,
        Some("AWS-StartInteractiveCommand")
        | Some("AWS-StartNonInteractiveCommand")
        | Some(crate::formats::ECS_EXEC_DOCUMENT) => Kind::Command,
        Some(_) => Kind::Other,
    }
}

fn first(p: &BTreeMap<String, Vec<String>>, k: &str) -> Option<String> {
    p.get(k).and_then(|v| v.first()).cloned()
}

/// Fold facts into records: sessions ordered by id, then denied attempts by time.
pub fn correlate(facts: &[Fact], opts: &CorrelateOptions) -> Vec<SessionRecord> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then_with(|| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
    });
    sorted.dedup_by(|a, b| a.key == b.key);

    let mut by_session: BTreeMap<&str, Vec<&Fact>> = BTreeMap::new();
    let mut denied = Vec::new();
    for f in sorted {
        match (&f.session_id, &f.kind) {
            (Some(id), _) => by_session.entry(id.as_str()).or_default().push(f),
            (None, FactKind::Denied { .. }) => denied.push(f),
            (None, _) => {}
        }
    }
    let mut out: Vec<SessionRecord> = by_session
        .into_iter()
        .map(|(id, fs)| fold(id, &fs, opts))
        .collect();
    let mut attempts: Vec<SessionRecord> = denied.into_iter().filter_map(denied_record).collect();
    attempts.sort_by(|a, b| (&a.time, &a.principal).cmp(&(&b.time, &b.principal)));
    out.extend(attempts);
    out
}

fn empty(id: Option<String>) -> SessionRecord {
    SessionRecord {
        session_id: id,
        principal: None,
        principal_arn: None,
        identity_type: None,
        account: None,
        region: None,
        target: None,
        document: None,
        kind: Kind::Shell,
        tunnel: None,
        start: None,
        time: None,
        time_source: TimeSource::None,
        end: None,
        end_source: EndSource::None,
        duration_seconds: None,
        source_ip: None,
        user_agent: None,
        console: false,
        run_as: None,
        reason: None,
        command: None,
        transcript: TranscriptSummary::default(),
        flags: Vec::new(),
        error_code: None,
        error_message: None,
        resumed: Vec::new(),
        terminated_by: None,
        session_id_principal: None,
    }
}

fn apply_call(r: &mut SessionRecord, c: &CallContext) {
    r.principal = c.identity.principal.clone();
    r.principal_arn = c.identity.principal_arn.clone();
    r.identity_type = c.identity.identity_type.clone();
    r.account = c.identity.account.clone();
    r.region = c.region.clone();
    r.source_ip = c.source_ip.clone();
    r.user_agent = c.user_agent.clone();
    r.console = c.console;
}

fn denied_record(f: &Fact) -> Option<SessionRecord> {
    let FactKind::Denied {
        call,
        target,
        document,
        error_code,
        error_message,
    } = &f.kind
    else {
        return None;
    };
    let mut r = empty(None);
    apply_call(&mut r, call);
    r.start = Some(call.time.clone());
    r.time = r.start.clone();
    r.time_source = TimeSource::StartEvent;
    r.target = target.clone();
    r.document = document.clone();
    r.kind = kind_of(document.as_deref());
    r.error_code = Some(error_code.clone());
    r.error_message = error_message.clone();
    r.flags = vec![Flag::Denied];
    Some(r)
}

/// What one transcript copy contributes: the copy, its commands, written, target.
type Copy = (TranscriptCopy, u64, Option<String>, Option<String>);

fn fold(id: &str, facts: &[&Fact], opts: &CorrelateOptions) -> SessionRecord {
    let mut r = empty(Some(id.to_owned()));
    // the StartSession with the earliest time (ties: key order, already sorted)
    let start = facts
        .iter()
        .filter_map(|f| match &f.kind {
            FactKind::Started {
                call,
                target,
                document,
                parameters,
                reason,
            } => Some((call, target, document, parameters, reason)),
            _ => None,
        })
        .min_by(|a, b| a.0.time.cmp(&b.0.time));
    if let Some((call, target, document, params, reason)) = start {
        apply_call(&mut r, call);
        r.start = Some(call.time.clone());
        r.target = target.clone();
        r.document = document.clone();
        r.reason = reason.clone();
        r.kind = kind_of(document.as_deref());
        if r.kind == Kind::Command {
            r.command = first(params, "command");
        }
        if r.kind == Kind::Other && params.contains_key("portNumber") {
            // a document of one's own that forwards a port (sessionType Port): a tunnel all
            // the same, to a remote host if it names one
            r.kind = if params.contains_key("host") {
                Kind::PortForwardRemote
            } else {
                Kind::PortForward
            };
        }
        if r.kind.is_tunnel() {
            let port = first(params, "portNumber").and_then(|p| p.parse().ok());
            r.tunnel = Some(Tunnel {
                host: first(params, "host"),
                port: port.or(match r.kind {
                    Kind::Ssh => Some(22),
                    Kind::PortForward => Some(80),
                    _ => None,
                }),
                local_port: first(params, "localPortNumber").and_then(|p| p.parse().ok()),
            });
        }
    }

    let mut ends: Vec<(EndSource, String)> = Vec::new();
    // evidence that the session existed at a time, for `time` when there is no start
    let mut seen: Vec<(TimeSource, String)> = Vec::new();
    // (source, copy name) -> the copy, its commands, when it was written, its target
    let mut transcripts: BTreeMap<(TranscriptSource, String), Copy> = BTreeMap::new();
    // (bucket/key, writer, node) of each recorded write of an object of the session
    let mut writes: Vec<(&String, &String, &Option<String>)> = Vec::new();
    let mut stream_bytes = 0u64;
    let mut last_stream: Option<String> = None;
    let mut first_stream: Option<String> = None;
    let mut stream_arn: Option<String> = None;
    let mut owner_arn: Option<String> = None;
    let mut rewritten = false;
    let mut calls: Vec<&CallContext> = Vec::new();
    for f in facts {
        match &f.kind {
            FactKind::Terminated { call } => {
                ends.push((EndSource::TerminateEvent, call.time.clone()));
                seen.push((TimeSource::TerminateEvent, call.time.clone()));
                if r.terminated_by.as_ref().is_none_or(|t| call.time < t.time) {
                    r.terminated_by = Some(call.clone());
                }
                calls.push(call);
            }
            FactKind::Resumed { call } => {
                r.resumed.push(call.time.clone());
                seen.push((TimeSource::ResumeEvent, call.time.clone()));
                calls.push(call);
            }
            FactKind::Described {
                start,
                end,
                target,
                owner,
                document,
                reason,
                ..
            } => {
                if let Some(e) = end {
                    ends.push((EndSource::DescribeSessions, e.clone()));
                }
                r.start = r.start.clone().or_else(|| start.clone());
                r.target = r.target.clone().or_else(|| target.clone());
                owner_arn = owner_arn.clone().or_else(|| owner.clone());
                if r.document.is_none() && document.is_some() {
                    r.document = document.clone();
                    r.kind = kind_of(document.as_deref());
                }
                r.reason = r.reason.clone().or_else(|| reason.clone());
            }
            FactKind::Transcript {
                source,
                location,
                written,
                bytes,
                lines,
                commands,
                target,
                started,
                versions,
                ..
            } => {
                rewritten |= versions.is_some_and(|n| n > 1);
                if let Some(t) = started {
                    seen.push((TimeSource::TranscriptHeader, t.clone()));
                }
                if let Some(t) = written {
                    seen.push((TimeSource::TranscriptUpload, t.clone()));
                }
                let Some(name) = copy_name(f) else { continue };
                let e = transcripts
                    .entry((source.clone(), name.clone()))
                    .or_insert_with(|| {
                        (
                            TranscriptCopy {
                                copy: name,
                                source: Some(source.clone()),
                                bytes: *bytes,
                                lines: *lines,
                                ..TranscriptCopy::default()
                            },
                            *commands,
                            written.clone(),
                            target.clone(),
                        )
                    });
                e.0.locations.push(location.clone());
                // the same content seen again: the latest upload time is its end
                if written.is_some() && *written > e.2 {
                    e.2 = written.clone();
                }
            }
            FactKind::Written {
                location,
                writer,
                node,
                ..
            } => writes.push((location, writer, node)),
            FactKind::Streamed {
                time,
                target,
                principal_arn,
                run_as,
                bytes,
                ..
            } => {
                stream_bytes += bytes;
                if !time.is_empty() {
                    last_stream = last_stream.max(Some(time.clone()));
                    first_stream =
                        Some(first_stream.map_or(time.clone(), |f: String| f.min(time.clone())));
                }
                r.run_as = r.run_as.clone().or_else(|| run_as.clone());
                r.target = r.target.clone().or_else(|| target.clone());
                stream_arn = stream_arn.clone().or_else(|| principal_arn.clone());
            }
            FactKind::Started { .. } | FactKind::Denied { .. } => {}
        }
    }
    r.resumed.sort();
    r.resumed.dedup();
    if let Some(t) = &first_stream {
        seen.push((TimeSource::FirstStreamedEvent, t.clone()));
    }

    // transcripts: S3 is the text of record (of several S3 copies, the first by content hash,
    // as the store lists their texts); every copy is listed and indexed
    let mut per_source: BTreeMap<&TranscriptSource, usize> = BTreeMap::new();
    for ((src, _), (copy, cmds, written, target)) in &transcripts {
        *per_source.entry(src).or_default() += 1;
        if r.transcript.sources.last() != Some(src) {
            r.transcript.sources.push(src.clone());
            match src {
                TranscriptSource::S3 => r.transcript.s3_bytes = Some(copy.bytes),
                TranscriptSource::CloudwatchUpload => {
                    r.transcript.cloudwatch_upload_bytes = Some(copy.bytes)
                }
                TranscriptSource::CloudwatchStream => {}
            }
        }
        if r.transcript.text_of_record.is_none() {
            r.transcript.text_of_record = Some(src.clone());
            r.transcript.lines = copy.lines;
            r.transcript.commands = *cmds;
        }
        if let Some(w) = written {
            ends.push((EndSource::TranscriptUpload, w.clone()));
        }
        r.target = r.target.clone().or_else(|| target.clone());
    }
    let multiple_copies = per_source.values().any(|n| *n > 1);
    // a write by another node than the target: any object of the session's
    let other_writer = writes.iter().any(|(_, _, node)| match (node, &r.target) {
        (Some(n), Some(t)) => n != t,
        _ => false,
    });
    for (_, (copy, ..)) in transcripts.iter_mut() {
        copy.locations.sort();
        copy.locations.dedup();
        for (location, writer, _) in &writes {
            // bucket/key; a copy is named by its key (S3) or by a path that ends with it
            let key = location.split_once('/').map_or(location.as_str(), |k| k.1);
            // (a name may be URL-encoded where the other is not)
            let same = |l: &str| l == *location || l == key || l.ends_with(&format!("/{key}"));
            if copy
                .locations
                .iter()
                .any(|l| same(l) || same(&crate::ids::decode_s3_event_key(l)))
            {
                copy.written_by.push((*writer).clone());
            }
        }
        copy.written_by.sort();
        copy.written_by.dedup();
    }
    r.transcript.copies = transcripts.into_values().map(|c| c.0).collect();
    if stream_bytes > 0 || last_stream.is_some() {
        r.transcript
            .sources
            .push(TranscriptSource::CloudwatchStream);
        r.transcript.cloudwatch_stream_bytes = Some(stream_bytes);
        if let Some(t) = &last_stream {
            ends.push((EndSource::LastStreamedEvent, t.clone()));
        }
    }

    // identity: CloudTrail's StartSession, else the ARN the stream or DescribeSessions names;
    // the session id only as a fallback
    if start.is_none() {
        if let Some(arn) = r.principal_arn.clone().or(stream_arn).or(owner_arn) {
            let who = identity_from_arn(&arn);
            r.principal = who.principal;
            r.principal_arn = who.principal_arn;
            r.identity_type = who.identity_type;
            r.account = who.account;
        }
        // the account and region of the session's calls (resume, terminate) are its own
        for c in &calls {
            r.account = r.account.clone().or_else(|| c.identity.account.clone());
            r.region = r.region.clone().or_else(|| c.region.clone());
        }
    }
    r.session_id_principal = principal_of_session_id(id).map(str::to_owned);
    let mismatch = match (&r.principal, &r.session_id_principal) {
        (Some(p), Some(q)) => p != q,
        _ => false,
    };
    if r.principal.is_none() {
        r.principal = r.session_id_principal.clone();
    }

    // the time: the recorded start, else the earliest evidence of the session
    if let Some(t) = &r.start {
        r.time = Some(t.clone());
        r.time_source = if start.is_some() {
            TimeSource::StartEvent
        } else {
            TimeSource::DescribeSessions
        };
    } else if let Some((src, t)) = seen
        .iter()
        .filter_map(|(src, t)| parse_time(t).map(|p| (p, *src, t)))
        .min()
        .map(|(_, src, t)| (src, t.clone()))
    {
        r.time = Some(t);
        r.time_source = src;
    }

    // the end: the most authoritative evidence; within one kind, the latest
    ends.sort();
    if let Some(best) = ends.first().map(|e| e.0.clone()) {
        let t = ends
            .iter()
            .filter(|e| e.0 == best)
            .map(|e| e.1.clone())
            .max();
        r.end = t;
        r.end_source = best;
    }
    // a duration runs from the start, or from the first streamed output (seconds after it);
    // the other times are taken at or after the session's end
    let from = match r.time_source {
        TimeSource::StartEvent | TimeSource::DescribeSessions | TimeSource::FirstStreamedEvent => {
            r.time.as_deref().and_then(parse_time)
        }
        _ => None,
    };
    if let (Some(s), Some(e)) = (from, r.end.as_deref().and_then(parse_time)) {
        r.duration_seconds = Some((e - s).whole_seconds().max(0));
    }

    // flags
    let mut flags = BTreeSet::new();
    let tunnel = r.kind.is_tunnel();
    if tunnel {
        flags.insert(Flag::Tunnel);
    }
    if start.is_none() {
        flags.insert(Flag::NoStartEvent);
    }
    if mismatch {
        flags.insert(Flag::PrincipalMismatch);
    }
    if multiple_copies {
        flags.insert(Flag::MultipleCopies);
    }
    if other_writer {
        flags.insert(Flag::WrittenByOtherNode);
    }
    if rewritten {
        flags.insert(Flag::TranscriptRewritten);
    }
    if !r.resumed.is_empty() {
        flags.insert(Flag::Resumed);
    }
    let started = r.time.as_deref().and_then(parse_time);
    let past_max = started.is_some_and(|s| opts.now - s > opts.max_session);
    let ended = r.end_source != EndSource::None || past_max;
    if !tunnel && r.transcript.sources.is_empty() && ended {
        flags.insert(Flag::TranscriptMissing);
    }
    let has_hard_end = matches!(
        r.end_source,
        EndSource::TerminateEvent | EndSource::DescribeSessions | EndSource::TranscriptUpload
    );
    if !has_hard_end && !past_max {
        flags.insert(Flag::Open);
    }
    r.flags = flags.into_iter().collect();
    r
}
