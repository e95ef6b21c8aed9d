//! CloudWatch Logs: subscription events and payloads, exports, streamed session messages
//! and the upload-at-end chunks that make a transcript.

use super::*;

/// A CloudWatch log event, from a subscription or an export.
pub struct LogEvent {
    pub id: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub message: String,
}

pub(crate) fn ms_to_rfc3339(ms: i64) -> Option<String> {
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

/// One piece of an upload-at-end copy; [`group_uploads`] puts a stream's pieces together.
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
