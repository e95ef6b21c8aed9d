//! CloudTrail: trail files (streamed a record at a time), EventBridge events, LookupEvents
//! and DescribeSessions output, and the S3 data events and notifications of transcript
//! writes.

use super::*;

pub(crate) fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn identity(ui: &Value) -> Identity {
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

pub(crate) fn call_context(rec: &Value) -> Option<CallContext> {
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

pub(crate) fn parameters(v: Option<&Value>) -> BTreeMap<String, Vec<String>> {
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
pub(crate) fn arn_name(v: String) -> String {
    match v.rsplit_once('/') {
        Some((_, last)) => last.to_owned(),
        None => v,
    }
}

/// An ECS Exec session's target, as `ecs:<cluster>_<task id>` (Session Manager's own target
/// adds the container's runtime id, which CloudTrail does not give; the container's name is
/// a parameter). A cluster not named is `default`, as ECS takes it.
pub(crate) fn ecs_target(req: &Value, resp: &Value) -> Option<String> {
    let task = s(req, "task")
        .or_else(|| s(resp, "taskArn"))
        .map(arn_name)?;
    let cluster = s(req, "cluster")
        .or_else(|| s(resp, "clusterArn"))
        .map_or_else(|| "default".to_owned(), arn_name);
    Some(format!("ecs:{cluster}_{task}"))
}

/// A refused start: an attempt with no session.
pub(crate) fn denied(
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
pub(crate) fn ecs_exec_fact(
    rec: &Value,
    key: String,
    call: CallContext,
) -> Result<Option<Fact>, String> {
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
pub(crate) fn node_of_writer(writer: &str) -> Option<String> {
    let last = writer.rsplit([':', '/']).next()?;
    let (prefix, hex) = last.split_once('-')?;
    (matches!(prefix, "i" | "mi")
        && (8..=17).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    .then(|| last.to_owned())
}

pub(crate) fn written_fact(
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
pub(crate) fn transcript_write_data_event(rec: &Value, name: &str) -> Result<Option<Fact>, String> {
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
pub(crate) fn transcript_write_notification(
    rec: &Value,
    name: &str,
) -> Result<Option<Fact>, String> {
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

pub(crate) fn push_cloudtrail(out: &mut Decoded, source: &str, index: Option<usize>, rec: &Value) {
    match cloudtrail_fact(rec) {
        Ok(Some(f)) => out.facts.push(f),
        Ok(None) => out.skipped += 1,
        Err(e) => out.bad(source, index, e),
    }
}

/// Stream the elements of the top-level array under `field` (or of a top-level array when
/// `field` is `None`), one value at a time.
pub(crate) fn for_each_in<R: Read>(
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
