//! Evidence pulled from the AWS APIs, page by page, in the shapes the core reads: CloudTrail
//! LookupEvents (`{"Events":[...]}`), Systems Manager DescribeSessions (`{"Sessions":[...]}`),
//! CloudWatch Logs events (`{"events":[...]}`) and S3 listings. Used by the reconcile
//! function and by `ssm-audit ingest`.

use std::time::Duration;

use anyhow::{Context as _, Result};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use serde_json::{json, Value};

/// The CloudTrail events that make or end sessions: Session Manager's, and ECS Exec's
/// `ExecuteCommand` (it starts a session with no StartSession of its own).
pub const SESSION_EVENTS: [&str; 4] = [
    "StartSession",
    "ResumeSession",
    "TerminateSession",
    "ExecuteCommand",
];

/// At most `per_second` calls a second.
pub struct Pace {
    gap: Duration,
    last: Option<tokio::time::Instant>,
}

impl Pace {
    pub fn per_second(n: u32) -> Pace {
        Pace {
            gap: Duration::from_secs(1) / n.max(1),
            last: None,
        }
    }
    pub async fn wait(&mut self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.gap).await;
        }
        self.last = Some(tokio::time::Instant::now());
    }
}

fn smithy_time(t: time::OffsetDateTime) -> DateTime {
    DateTime::from_secs(t.unix_timestamp())
}

fn iso(t: Option<&DateTime>) -> Value {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.secs()).ok())
        .map_or(Value::Null, |t| json!(ssm_audit_core::time::rfc3339(t)))
}

/// CloudTrail LookupEvents for [`SESSION_EVENTS`] between `since` and `until`, at most two
/// requests a second (the API's limit), paginated; `page` gets each page as
/// `{"Events":[...]}` (each event's record in `CloudTrailEvent`, as the API gives it).
pub async fn lookup_session_events(
    ct: &aws_sdk_cloudtrail::Client,
    since: time::OffsetDateTime,
    until: time::OffsetDateTime,
    page: &mut (dyn FnMut(Value) -> Result<()> + Send),
) -> Result<usize> {
    let mut pace = Pace::per_second(2);
    let mut n = 0;
    for name in SESSION_EVENTS {
        let mut token: Option<String> = None;
        loop {
            pace.wait().await;
            let out = ct
                .lookup_events()
                .lookup_attributes(
                    LookupAttribute::builder()
                        .attribute_key(LookupAttributeKey::EventName)
                        .attribute_value(name)
                        .build()?,
                )
                .start_time(smithy_time(since))
                .end_time(smithy_time(until))
                .max_results(50)
                .set_next_token(token.take())
                .send()
                .await
                .with_context(|| format!("CloudTrail LookupEvents {name}"))?;
            let events: Vec<Value> = out
                .events()
                .iter()
                .map(|e| {
                    json!({
                        "EventId": e.event_id(),
                        "EventName": e.event_name(),
                        "EventTime": iso(e.event_time()),
                        "Username": e.username(),
                        "CloudTrailEvent": e.cloud_trail_event(),
                    })
                })
                .collect();
            n += events.len();
            if !events.is_empty() {
                page(json!({ "Events": events }))?;
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(n)
}

/// CloudTrail ListPublicKeys: the keys that signed digest files between `since` and `until`,
/// paginated, as `aws cloudtrail list-public-keys` prints them (`{"PublicKeyList": [...]}`,
/// each key's `Value` base64 DER), for `ssm-audit verify`.
pub async fn list_public_keys(
    ct: &aws_sdk_cloudtrail::Client,
    since: time::OffsetDateTime,
    until: time::OffsetDateTime,
) -> Result<Value> {
    use base64::Engine as _;
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ct
            .list_public_keys()
            .start_time(smithy_time(since))
            .end_time(smithy_time(until))
            .set_next_token(token.take())
            .send()
            .await
            .context("CloudTrail ListPublicKeys")?;
        for k in out.public_key_list() {
            keys.push(json!({
                "Value": k.value().map(|v| base64::engine::general_purpose::STANDARD.encode(v.as_ref())),
                "ValidityStartTime": iso(k.validity_start_time()),
                "ValidityEndTime": iso(k.validity_end_time()),
                "Fingerprint": k.fingerprint(),
            }));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(json!({ "PublicKeyList": keys }))
}

/// Systems Manager DescribeSessions with `State=History` (sessions that ended in the last 30
/// days: their end times), paginated; `page` gets `{"Sessions":[...]}` as the CLI prints it.
pub async fn describe_history(
    ssm: &aws_sdk_ssm::Client,
    page: &mut (dyn FnMut(Value) -> Result<()> + Send),
) -> Result<usize> {
    let mut pages = ssm
        .describe_sessions()
        .state(aws_sdk_ssm::types::SessionState::History)
        .into_paginator()
        .send();
    let mut n = 0;
    while let Some(out) = pages.next().await {
        let out = out.context("Systems Manager DescribeSessions")?;
        let rows: Vec<Value> = out
            .sessions()
            .iter()
            .map(|s| {
                json!({
                    "SessionId": s.session_id(),
                    "Target": s.target(),
                    "Status": s.status().map(|x| x.as_str()),
                    "StartDate": iso(s.start_date()),
                    "EndDate": iso(s.end_date()),
                    "DocumentName": s.document_name(),
                    "Owner": s.owner(),
                    "Reason": s.reason(),
                    "Details": s.details(),
                    "MaxSessionDuration": s.max_session_duration(),
                })
            })
            .collect();
        n += rows.len();
        if !rows.is_empty() {
            page(json!({ "Sessions": rows }))?;
        }
    }
    Ok(n)
}

/// Every event of a log group (optionally of streams with a prefix), paginated, as
/// `aws logs filter-log-events` prints it; throttling is retried by the SDK.
pub async fn log_group_events(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    page: &mut (dyn FnMut(Value) -> Result<()> + Send),
) -> Result<usize> {
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        .into_paginator()
        .send();
    let mut n = 0;
    while let Some(out) = pages.next().await {
        let out = out.with_context(|| format!("CloudWatch Logs FilterLogEvents {group}"))?;
        let events: Vec<Value> = out
            .events()
            .iter()
            .map(|e| {
                json!({
                    "logStreamName": e.log_stream_name(),
                    "timestamp": e.timestamp(),
                    "message": e.message(),
                    "ingestionTime": e.ingestion_time(),
                    "eventId": e.event_id(),
                })
            })
            .collect();
        n += events.len();
        if !events.is_empty() {
            page(json!({ "events": events }))?;
        }
    }
    Ok(n)
}

/// The keys under `s3://bucket/prefix`, paginated.
pub async fn list_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>> {
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    while let Some(out) = pages.next().await {
        let out = out.with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    Ok(keys)
}
