//! Decoders and the correlator on the real samples (tests/data/samples) and the recordings.

use proptest::prelude::*;
use serde_json::{json, Value};
use ssm_audit_core::correlate::{
    correlate, CorrelateOptions, EndSource, Flag, Kind, SessionRecord,
};
use ssm_audit_core::facts::{Fact, FactKind, TranscriptSource};
use ssm_audit_core::formats::{self, detect, Decoded, Format};

use crate::common::*;

fn sample(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(&format!("data/samples/{name}"))).unwrap())
        .unwrap()
}

fn decode(name: &str, bytes: &[u8]) -> Decoded {
    formats::decode(name, bytes.to_vec())
        .expect("readable")
        .into_decoded(name)
}

fn opts() -> CorrelateOptions {
    CorrelateOptions {
        now: time::macros::datetime!(2026-11-23 12:00 UTC),
        ..CorrelateOptions::default()
    }
}

fn record<'a>(records: &'a [SessionRecord], id: &str) -> &'a SessionRecord {
    records
        .iter()
        .find(|r| r.session_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no record {id}"))
}

fn trail(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

const PF: &str =
    "cloudtrail_StartSession_AWS-StartPortForwardingSession_FILTERED_lookupevents_evidence.json";
const EB: &str =
    "eventbridge_AWSAPICallViaCloudTrail_StartSession_console_AssumedRole_jo-thomas.json";
const IAM: &str =
    "cloudtrail_StartSession_IAMUser_cli_custom_document_2020_managedkube_readme.json";
const SSO: &str = "cloudtrail_StartSession_AssumedRole_SSO_panther_test.json";
const NULLRESP: &str =
    "cloudtrail_StartSession_IAMUser_cli_responseElements_null_elastic_test.json";
const ROOT_TERM: &str = "cloudtrail_TerminateSession_Root_console_elastic_test.json";

#[test]
fn identity_shapes_from_real_records() {
    let facts: Vec<Fact> = [IAM, SSO, ROOT_TERM]
        .iter()
        .flat_map(|n| decode(n, &trail(&[sample(n)])).facts)
        .collect();
    let recs = correlate(&facts, &opts());
    let iam = record(&recs, "garland.kan.temp-0e34861185201706f");
    assert_eq!(iam.principal.as_deref(), Some("garland.kan.temp"));
    assert_eq!(iam.identity_type.as_deref(), Some("IAMUser"));
    assert_eq!(iam.document.as_deref(), Some("SSM-sudo"));
    assert_eq!(iam.kind, Kind::Other);
    assert_eq!(iam.source_ip.as_deref(), Some("38.30.8.138"));
    assert!(!iam.console);
    let sso = record(&recs, "bobson.dugnutt-4njnyxxl8yn676nsla8j6l4bra");
    assert_eq!(sso.identity_type.as_deref(), Some("SSO"));
    assert_eq!(sso.principal.as_deref(), Some("bobson.dugnutt"));
    assert_eq!(
        sso.start.as_deref(),
        Some("2025-02-19T20:13:49Z"),
        "Panther's space-separated time"
    );
    assert_eq!(sso.kind, Kind::Shell);
    let root = record(&recs, "root-5hvouhyykagjjk3f6glxk8o6bu");
    assert_eq!(
        root.principal.as_deref(),
        Some("root"),
        "from the session id: no StartSession seen"
    );
    assert_eq!(root.end_source, EndSource::TerminateEvent);
    assert_eq!(root.end.as_deref(), Some("2024-10-29T15:31:54Z"));
    assert!(root.flags.contains(&Flag::TranscriptMissing));
}

#[test]
fn empty_session_issuer_and_no_user_agent_are_fine() {
    let mut rec = sample(NULLRESP);
    rec["userIdentity"]["sessionContext"] = json!({ "sessionIssuer": {}, "attributes": {} });
    rec.as_object_mut().unwrap().remove("userAgent");
    rec["responseElements"] = json!({ "sessionId": "test@elastic.co-0123456789abcdef0" });
    let d = decode("t.json", &trail(&[rec]));
    assert!(d.bad.is_empty(), "{:?}", d.bad);
    let recs = correlate(&d.facts, &opts());
    assert_eq!(recs[0].principal.as_deref(), Some("test@elastic.co"));
    assert_eq!(recs[0].user_agent, None);
}

#[test]
fn response_elements_null_is_counted_not_fatal() {
    let d = decode(NULLRESP, &trail(&[sample(NULLRESP), sample(IAM)]));
    assert_eq!(d.facts.len(), 1, "the good record is kept");
    assert_eq!(d.bad.len(), 1);
    let msg = d.bad[0].to_string();
    assert!(
        msg.contains(NULLRESP) && msg.contains("record 0") && msg.contains("sessionId"),
        "{msg}"
    );
}

#[test]
fn denied_start_is_an_attempt_record() {
    let mut rec = sample(IAM);
    rec["errorCode"] = json!("AccessDenied");
    rec["errorMessage"] = json!("User is not authorized to perform: ssm:StartSession");
    rec["responseElements"] = Value::Null;
    rec["eventID"] = json!("11111111-2222-3333-4444-555555555555");
    let recs = correlate(&decode("d.json", &trail(&[rec])).facts, &opts());
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.session_id, None);
    assert_eq!(r.flags, [Flag::Denied]);
    assert_eq!(r.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(r.principal.as_deref(), Some("garland.kan.temp"));
    assert_eq!(r.target.as_deref(), Some("i-02311671588e96626"));
    assert_eq!(r.source_ip.as_deref(), Some("38.30.8.138"));
    assert_eq!(r.start.as_deref(), Some("2020-05-18T17:00:24Z"));
}

#[test]
fn port_forwarding_parameters_are_arrays() {
    let v = sample(PF);
    let d = decode(PF, &serde_json::to_vec(&v).unwrap());
    assert_eq!(d.facts.len(), 2);
    let recs = correlate(&d.facts, &opts());
    let r = record(&recs, "quang.tranminh-ilpxvkhghl9vs9ia2xfdyp4dka");
    assert_eq!(r.kind, Kind::PortForward);
    let t = r.tunnel.as_ref().unwrap();
    assert_eq!(
        (t.port, t.local_port, t.host.as_deref()),
        (Some(18089), Some(8089), None)
    );
    assert!(r.flags.contains(&Flag::Tunnel));
    assert!(
        !r.flags.contains(&Flag::TranscriptMissing),
        "tunnels have no transcript by design"
    );
    assert_eq!(r.identity_type.as_deref(), Some("SSO"));
}

/// A shared document named by its ARN (and version), and a document of one's own that
/// forwards a port, are tunnels like AWS's own; a document of one's own without port
/// parameters stays `other`.
#[test]
fn documents_by_arn_and_port_forwarding_documents_of_ones_own_are_tunnels() {
    let start = |id: &str, event: &str, doc: &str, params: Value| {
        let mut v = sample(IAM);
        v["requestParameters"] =
            json!({"target": "i-0123456789abcdef0", "documentName": doc, "parameters": params});
        v["responseElements"]["sessionId"] = json!(id);
        v["eventID"] = json!(event);
        v
    };
    let remote =
        json!({"host": ["db.internal"], "portNumber": ["5432"], "localPortNumber": ["15432"]});
    let events = [
        start(
            "alice-00000000000000001",
            "e-1",
            "arn:aws:ssm:us-east-1:111122223333:document/AWS-StartPortForwardingSessionToRemoteHost",
            remote.clone(),
        ),
        start("alice-00000000000000002", "e-2", "AWS-StartSSHSession:1", json!({"portNumber": ["22"]})),
        start("alice-00000000000000003", "e-3", "Acme-DatabaseTunnel", remote),
        start(
            "alice-00000000000000004",
            "e-4",
            "Acme-LocalPort",
            json!({"portNumber": ["8080"]}),
        ),
        start("alice-00000000000000005", "e-5", "Acme-RunAsReadOnly", json!({"runAs": ["ro"]})),
    ];
    let recs = correlate(&decode("t.json", &trail(&events)).facts, &opts());
    let kind = |id: &str| {
        let r = record(&recs, id);
        (r.kind.clone(), r.tunnel.as_ref().and_then(|t| t.port))
    };
    assert_eq!(
        kind("alice-00000000000000001"),
        (Kind::PortForwardRemote, Some(5432))
    );
    assert_eq!(kind("alice-00000000000000002"), (Kind::Ssh, Some(22)));
    assert_eq!(
        kind("alice-00000000000000003"),
        (Kind::PortForwardRemote, Some(5432))
    );
    assert_eq!(
        kind("alice-00000000000000004"),
        (Kind::PortForward, Some(8080))
    );
    assert_eq!(kind("alice-00000000000000005"), (Kind::Other, None));
    let r = record(&recs, "alice-00000000000000003");
    assert_eq!(r.document.as_deref(), Some("Acme-DatabaseTunnel"));
    assert_eq!(
        r.tunnel.as_ref().unwrap().host.as_deref(),
        Some("db.internal")
    );
    assert!(r.flags.contains(&Flag::Tunnel));
}

#[test]
fn targets_of_every_shape_and_remote_host_tunnels() {
    let mut a = sample(IAM);
    a["requestParameters"] = json!({"target": "mi-0123456789abcdef0", "documentName": "AWS-StartPortForwardingSessionToRemoteHost",
        "parameters": {"host": ["db.cluster-abc.eu-west-1.rds.amazonaws.com"], "portNumber": ["5432"], "localPortNumber": ["15432"]}});
    a["responseElements"]["sessionId"] = json!("a.b=c,d+e@example.com-0e34861185201706a");
    a["eventID"] = json!("e-1");
    let mut b = sample(IAM);
    b["requestParameters"] = json!({"target": "ecs:prod_0123abcd_0123abcd-1"});
    b["responseElements"]["sessionId"] = json!("bob-abcdefghijklmnopqrstuvwxyz");
    b["eventID"] = json!("e-2");
    let recs = correlate(&decode("t.json", &trail(&[a, b])).facts, &opts());
    let ra = record(&recs, "a.b=c,d+e@example.com-0e34861185201706a");
    assert_eq!(ra.target.as_deref(), Some("mi-0123456789abcdef0"));
    assert_eq!(ra.kind, Kind::PortForwardRemote);
    let t = ra.tunnel.as_ref().unwrap();
    assert_eq!(
        (t.host.as_deref(), t.port, t.local_port),
        (
            Some("db.cluster-abc.eu-west-1.rds.amazonaws.com"),
            Some(5432),
            Some(15432)
        )
    );
    assert_eq!(
        record(&recs, "bob-abcdefghijklmnopqrstuvwxyz")
            .target
            .as_deref(),
        Some("ecs:prod_0123abcd_0123abcd-1")
    );
}

#[test]
fn subscription_payloads_control_messages_and_missing_filters() {
    // the real aws_lambda_events fixture: base64 + gzip, DATA_MESSAGE
    let raw = std::fs::read(data(
        "data/samples/cwlogs_subscription_lambda_event_raw_aws_lambda_events_fixture.json",
    ))
    .unwrap();
    assert_eq!(detect(&raw), Format::SubscriptionEvent);
    let d = decode("fixture", &raw);
    assert!(d.bad.is_empty(), "{:?}", d.bad);
    assert_eq!(
        d.skipped, 2,
        "two log events of a stream that is not a session: skipped, counted"
    );
    // CONTROL_MESSAGE, and no subscriptionFilters (policyLevel instead)
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "", "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda"}]});
    let d = decode("control", &serde_json::to_vec(&control).unwrap());
    assert_eq!((d.facts.len(), d.bad.len(), d.skipped), (0, 0, 1));
    let msg = std::fs::read_to_string(data("data/samples/synthetic/SYNTHETIC_cwlogs_streamed_event_message_via_agent_code_pborman_ansi.json")).unwrap();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/ssm/sessions", "logStream": "alice-0123456789abcdefghijklmn", "policyLevel": "ACCOUNT_LEVEL_POLICY",
        "logEvents": [{"id": "37000000000000000000000000000000000000000000000000000001", "timestamp": 1767323045000i64, "message": msg.trim()}]});
    let d = decode("payload", &serde_json::to_vec(&payload).unwrap());
    assert!(d.bad.is_empty(), "{:?}", d.bad);
    let recs = correlate(&d.facts, &opts());
    let r = record(&recs, "alice-0123456789abcdefghijklmn");
    assert_eq!(r.transcript.sources, [TranscriptSource::CloudwatchStream]);
    assert_eq!(r.run_as.as_deref(), Some("ssm-user"));
    assert_eq!(r.end_source, EndSource::LastStreamedEvent);
    assert!(r.flags.contains(&Flag::NoStartEvent));
}

#[test]
fn upload_at_end_chunks_reassemble_into_one_transcript() {
    let log = std::fs::read_to_string(data("recordings/bash5-ubuntu-80x24/session.log"))
        .unwrap()
        .replace("\r\r\n", "\r\n");
    let sid = "alice@example.com-0jtk0707txjyxr972nskibo3ej";
    // cut into chunks on line boundaries, as the agent does (200,000 bytes at most; smaller here)
    let mut events = Vec::new();
    let mut rest = log.as_str();
    let mut i = 0;
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .map(|(k, _)| k)
            .take_while(|&k| k < 4000)
            .last()
            .unwrap_or(rest.len());
        let cut = rest[..cut.max(1)].rfind('\n').map_or(rest.len(), |k| k + 1);
        events.push(json!({"logStreamName": sid, "eventId": format!("ev{i:04}"), "timestamp": 1767323045000i64 + i, "message": &rest[..cut]}));
        rest = &rest[cut..];
        i += 1;
    }
    events.reverse(); // exports and deliveries are not ordered
    let export = json!({"events": events, "searchedLogStreams": []});
    let d = decode("export.json", &serde_json::to_vec(&export).unwrap());
    assert!(d.bad.is_empty(), "{:?}", d.bad);
    let recs = correlate(&d.facts, &opts());
    let r = record(&recs, sid);
    assert_eq!(r.transcript.sources, [TranscriptSource::CloudwatchUpload]);
    let history = read_lines(&data("recordings/bash5-ubuntu-80x24/history.txt"));
    assert_eq!(r.transcript.commands, history.len() as u64);
    assert_eq!(
        r.target.as_deref(),
        Some("i-0a1b2c3d4e5f60718"),
        "from the script header"
    );
}

#[test]
fn duplicates_across_trail_files_and_eventbridge_terminate_first_and_resume() {
    let eb = sample(EB);
    let start = eb["detail"].clone();
    let sid = "jojithom-Isengard-08ea7d78b1fd0d119";
    let mk = |name: &str, id: &str, t: &str| {
        let mut r = start.clone();
        r["eventName"] = json!(name);
        r["eventID"] = json!(id);
        r["eventTime"] = json!(t);
        r["requestParameters"] = json!({"sessionId": sid});
        r["responseElements"] = json!({"sessionId": sid});
        r
    };
    let resume = mk("ResumeSession", "r-1", "2021-01-31T02:40:00Z");
    let term = mk("TerminateSession", "t-1", "2021-01-31T03:01:47Z");
    // terminate arrives first, start twice (trail file and EventBridge)
    let mut facts = decode("t1.json.gz", &trail(std::slice::from_ref(&term))).facts;
    facts.extend(decode(EB, &serde_json::to_vec(&eb).unwrap()).facts);
    facts.extend(decode("t2.json", &trail(&[start.clone(), resume.clone(), term])).facts);
    let recs = correlate(&facts, &opts());
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.start.as_deref(), Some("2021-01-31T02:31:47Z"));
    assert_eq!(r.end.as_deref(), Some("2021-01-31T03:01:47Z"));
    assert_eq!(r.duration_seconds, Some(1800));
    assert_eq!(r.end_source, EndSource::TerminateEvent);
    assert_eq!(r.resumed, ["2021-01-31T02:40:00Z"]);
    assert!(r.console, "aws-internal user agent: the console");
    assert_eq!(r.flags, [Flag::TranscriptMissing, Flag::Resumed]);
}

#[test]
fn digest_files_are_recognised_and_kept_for_verify() {
    let raw = std::fs::read(data(
        "data/samples/cloudtrail_digest_file_with_s3_key_layout_elastic_test.json",
    ))
    .unwrap();
    assert_eq!(detect(&raw), Format::Digest);
    let input = formats::decode("AWSLogs/1/CloudTrail-Digest/x.json.gz", raw.clone()).unwrap();
    // no facts: the digest itself is handed back, for verify to check
    assert_eq!(input.digest.as_deref(), Some(&raw[..]));
    let d = input.into_decoded("x");
    assert!(d.facts.is_empty() && d.bad.is_empty());
    // other API calls in a trail file are counted as skipped
    let d = decode(
        "t.json",
        &trail(&[sample(
            "cloudtrail_SendCommand_AssumedRole_SSO_panther_test.json",
        )]),
    );
    assert_eq!((d.facts.len(), d.skipped), (0, 1));
}

/// ECS Exec (`aws ecs execute-command`): CloudTrail logs ECS `ExecuteCommand`, not
/// StartSession. Its session id joins the record to the transcript; a refused call is a
/// denied attempt on the container. The record's shape is the documented one (request:
/// cluster, task, container, command, interactive; response: taskArn, containerName,
/// session.sessionId), on the real SSO sample's identity.
#[test]
fn ecs_exec_sessions_and_refusals() {
    let exec = |event: &str, cluster: Value, error: Option<&str>| {
        let mut v = sample(SSO);
        v["eventSource"] = json!("ecs.amazonaws.com");
        v["eventName"] = json!("ExecuteCommand");
        v["eventID"] = json!(event);
        v["requestParameters"] = json!({"cluster": cluster, "container": "app", "command": "/bin/sh",
            "interactive": true, "task": "arn:aws:ecs:us-east-1:111122223333:task/prod/4d5e6f0a1b2c3d4e"});
        v["responseElements"] = json!({"clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/prod",
            "containerName": "app", "interactive": true,
            "session": {"sessionId": "ecs-execute-command-s9y89par6quf78pcbnoko32g28",
                "streamUrl": "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command-s9y89par6quf78pcbnoko32g28",
                "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS"},
            "taskArn": "arn:aws:ecs:us-east-1:111122223333:task/prod/4d5e6f0a1b2c3d4e"});
        if let Some(code) = error {
            v["errorCode"] = json!(code);
            v["errorMessage"] = json!("The execute command failed because execute command was not enabled when the task was run");
            v["responseElements"] = Value::Null;
        }
        v
    };
    let d = decode(
        "t.json",
        &trail(&[
            exec("e-1", json!("prod"), None),
            exec(
                "e-2",
                json!("arn:aws:ecs:us-east-1:111122223333:cluster/prod"),
                Some("InvalidParameterException"),
            ),
        ]),
    );
    assert!(d.bad.is_empty(), "{:?}", d.bad);
    let mut facts = d.facts;
    let log = b"Script started on 2025-09-29 16:58:03+00:00 [COMMAND=\"cat ipcTempFile.log\" <not executed on terminal>]\r\n# id\r\r\nuid=0(root)\r\r\n";
    facts.extend(decode("ecs-execute-command-s9y89par6quf78pcbnoko32g28.log", log).facts);
    let recs = correlate(&facts, &opts());
    assert_eq!(recs.len(), 2);
    let r = record(&recs, "ecs-execute-command-s9y89par6quf78pcbnoko32g28");
    assert_eq!(r.kind, Kind::Command);
    assert_eq!(
        r.document.as_deref(),
        Some("AmazonECS-ExecuteInteractiveCommand")
    );
    assert_eq!(r.target.as_deref(), Some("ecs:prod_4d5e6f0a1b2c3d4e"));
    assert_eq!(r.command.as_deref(), Some("/bin/sh"));
    // the one who called ExecuteCommand, not the session id's prefix
    assert_eq!(
        r.principal.as_deref(),
        Some(
            sample(SSO)["userIdentity"]["arn"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        )
    );
    assert!(r.transcript.sources.contains(&TranscriptSource::S3));
    assert!(!r.flags.contains(&Flag::NoStartEvent));
    let denied = recs.iter().find(|r| r.session_id.is_none()).unwrap();
    assert_eq!(denied.flags, [Flag::Denied]);
    assert_eq!(
        denied.error_code.as_deref(),
        Some("InvalidParameterException")
    );
    assert_eq!(denied.target.as_deref(), Some("ecs:prod_4d5e6f0a1b2c3d4e"));
    // without its ExecuteCommand, the session id does not name a principal
    let alone = correlate(
        &decode("ecs-execute-command-s9y89par6quf78pcbnoko32g28.log", log).facts,
        &opts(),
    );
    assert_eq!(alone[0].principal, None);
    assert!(alone[0].flags.contains(&Flag::NoStartEvent));
    // other ECS calls are not evidence
    let mut other = exec("e-3", json!("prod"), None);
    other["eventName"] = json!("DescribeTasks");
    assert!(decode("o.json", &trail(&[other])).facts.is_empty());
}

#[test]
fn lookup_events_and_describe_sessions() {
    let lookup = json!({"Events": [
        {"EventId": "x", "EventName": "StartSession", "CloudTrailEvent": sample(SSO).to_string()},
        {"EventId": "y", "EventName": "StartSession", "CloudTrailEvent": "{not json"}
    ]});
    let mut d = decode("lookup.json", &serde_json::to_vec(&lookup).unwrap());
    assert_eq!((d.facts.len(), d.bad.len()), (1, 1));
    assert_eq!(d.bad[0].index, Some(1));
    let describe = json!({"Sessions": [{"SessionId": "bobson.dugnutt-4njnyxxl8yn676nsla8j6l4bra", "Target": "i-047fce8bf4806e5ee",
        "Status": "Terminated", "StartDate": "2025-02-19T20:13:49.123000+00:00", "EndDate": 1740000000.5, "Owner": "arn:aws:sts::111122223333:assumed-role/SampleRole/bobson.dugnutt"}]});
    d.facts
        .extend(decode("describe.json", &serde_json::to_vec(&describe).unwrap()).facts);
    let recs = correlate(&d.facts, &opts());
    let r = &recs[0];
    assert_eq!(r.end_source, EndSource::DescribeSessions);
    assert_eq!(r.end.as_deref(), Some("2025-02-19T21:20:00Z"));
    assert_eq!(r.duration_seconds, Some(3971));
    assert!(r.flags.contains(&Flag::TranscriptMissing));
}

/// Every kind and every flag, from the real samples and a real recording.
fn scenario() -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| {
        let d = decode(name, &bytes);
        assert!(d.bad.is_empty(), "{name}: {:?}", d.bad);
        facts.extend(d.facts);
    };
    // shell with a transcript (S3 copy of a real recording), start from CloudTrail
    let log = std::fs::read(data("recordings/bash5-ubuntu-80x24/session.log")).unwrap();
    add(
        "bucket/sessions/alice%40example.com-0jtk0707txjyxr972nskibo3ej.log",
        log.clone(),
    );
    let mut s = sample(SSO);
    s["responseElements"]["sessionId"] = json!("alice@example.com-0jtk0707txjyxr972nskibo3ej");
    s["eventTime"] = json!("2026-11-23T09:00:00Z");
    s["eventID"] = json!("scn-1");
    add("t1.json", trail(&[s]));
    // transcript with no StartSession
    add(
        "bucket/sessions/master-console-admin-ogucubv3f8zp6xxkdxv25lb3re.log",
        std::fs::read(data(
            "data/samples/s3_session_log_linux_2025_util-linux-script_header_tunnyein_readme.txt",
        ))
        .unwrap(),
    );
    // a second, different copy of it under another prefix: both kept, flagged
    add(
        "bucket/elsewhere/master-console-admin-ogucubv3f8zp6xxkdxv25lb3re.log",
        b"$ echo another copy\nanother copy\n".to_vec(),
    );
    // alice's transcript written (a CloudTrail data event says) by another node than her
    // session's target
    add(
        "t-data.json",
        trail(&[json!({
            "eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
            "eventTime": "2026-11-23T09:30:00Z", "eventID": "scn-put", "awsRegion": "us-east-1",
            "userIdentity": {"type": "AssumedRole",
                "arn": "arn:aws:sts::123456789012:assumed-role/SSMInstanceRole/i-0badbadbadbadbad0"},
            "requestParameters": {"bucketName": "bucket",
                "key": "sessions/alice@example.com-0jtk0707txjyxr972nskibo3ej.log"}
        })]),
    );
    // tunnels (port forwarding, remote host, ssh), a command, other document, a resume
    for (i, (doc, params)) in [
        (
            "AWS-StartPortForwardingSession",
            json!({"portNumber": ["3306"], "localPortNumber": ["13306"]}),
        ),
        (
            "AWS-StartPortForwardingSessionToRemoteHost",
            json!({"host": ["10.0.3.17"], "portNumber": ["5432"], "localPortNumber": ["5432"]}),
        ),
        ("AWS-StartSSHSession", json!({"portNumber": ["22"]})),
        (
            "AWS-StartNonInteractiveCommand",
            json!({"command": ["uptime"]}),
        ),
        ("SSM-sudo", json!({})),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = sample(IAM);
        r["requestParameters"] =
            json!({"target": "i-0a1b2c3d4e5f60718", "documentName": doc, "parameters": params});
        r["responseElements"]["sessionId"] = json!(format!("bob-0e3486118520170{i}f"));
        r["eventTime"] = json!(format!("2026-11-23T0{i}:00:00Z"));
        r["eventID"] = json!(format!("scn-k{i}"));
        add("t2.json", trail(&[r]));
    }
    let mut resume = sample(ROOT_TERM);
    resume["eventName"] = json!("ResumeSession");
    resume["eventID"] = json!("scn-resume");
    resume["requestParameters"] = json!({"sessionId": "bob-0e34861185201704f"});
    add("t3.json", trail(&[resume]));
    // an open shell: started an hour before "now", no end evidence
    let mut open = sample(IAM);
    open["responseElements"]["sessionId"] = json!("carol-abcdefghijklmnopqrstuvwxyz");
    open["eventTime"] = json!("2026-11-23T11:00:00Z");
    open["eventID"] = json!("scn-open");
    add("t4.json", trail(&[open]));
    // denied
    let mut denied = sample(IAM);
    denied["errorCode"] = json!("AccessDenied");
    denied["responseElements"] = Value::Null;
    denied["eventID"] = json!("scn-denied");
    add("t5.json", trail(&[denied]));
    // a terminated shell whose transcript never arrived
    add("t6.json", trail(&[sample(ROOT_TERM)]));
    // master's second copy's key had two versions when read (S3 tells at ingest): overwritten
    for f in facts.iter_mut() {
        if let FactKind::Transcript {
            location, versions, ..
        } = &mut f.kind
        {
            if location.starts_with("bucket/elsewhere/") {
                *versions = Some(2);
            }
        }
    }
    facts
}

#[test]
fn scenario_covers_every_kind_and_flag() {
    let recs = correlate(&scenario(), &opts());
    let kinds: std::collections::BTreeSet<_> = recs.iter().map(|r| r.kind.clone()).collect();
    for k in Kind::ALL {
        assert!(kinds.contains(&k), "{k:?} missing");
    }
    let flags: std::collections::BTreeSet<_> = recs.iter().flat_map(|r| r.flags.clone()).collect();
    // every flag there is: a new one must be in the scenario too (but copies-disagree, which
    // reading the texts sets: tests/e2e/proof.rs)
    for f in Flag::ALL.into_iter().filter(|f| *f != Flag::CopiesDisagree) {
        assert!(flags.contains(&f), "{f:?} missing");
    }
    let alice = record(&recs, "alice@example.com-0jtk0707txjyxr972nskibo3ej");
    assert_eq!(alice.transcript.sources, [TranscriptSource::S3]);
    assert!(alice.flags.contains(&Flag::WrittenByOtherNode));
    assert!(!alice.flags.contains(&Flag::MultipleCopies));
    assert_eq!(
        alice.transcript.copies[0].written_by,
        ["arn:aws:sts::123456789012:assumed-role/SSMInstanceRole/i-0badbadbadbadbad0"]
    );
    let two = record(&recs, "master-console-admin-ogucubv3f8zp6xxkdxv25lb3re");
    assert!(two.flags.contains(&Flag::MultipleCopies));
    assert!(!two.flags.contains(&Flag::WrittenByOtherNode));
    assert!(two.flags.contains(&Flag::TranscriptRewritten));
    assert!(!alice.flags.contains(&Flag::TranscriptRewritten));
    assert_eq!(two.transcript.copies.len(), 2);
    assert_eq!(alice.end_source, EndSource::TranscriptUpload);
    assert_eq!(
        alice.principal.as_deref(),
        Some("bobson.dugnutt"),
        "the CloudTrail principal"
    );
    // the id names another principal than CloudTrail does: both kept, and flagged
    assert_eq!(
        alice.session_id_principal.as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(
        alice.flags,
        [Flag::PrincipalMismatch, Flag::WrittenByOtherNode]
    );
    let master = record(&recs, "master-console-admin-ogucubv3f8zp6xxkdxv25lb3re");
    assert_eq!(
        master.flags,
        [
            Flag::NoStartEvent,
            Flag::MultipleCopies,
            Flag::TranscriptRewritten
        ]
    );
    assert_eq!(master.principal.as_deref(), Some("master-console-admin"));
    assert_eq!(
        master.target.as_deref(),
        Some("i-00cbf6ce81675216c"),
        "from the script header"
    );
    // its StartSession was made by another principal than the id names
    assert_eq!(
        record(&recs, "carol-abcdefghijklmnopqrstuvwxyz").flags,
        [Flag::Open, Flag::PrincipalMismatch]
    );
    let cmd = record(&recs, "bob-0e34861185201703f");
    assert_eq!(
        (cmd.kind.clone(), cmd.flags.clone()),
        (Kind::Command, vec![Flag::Open, Flag::PrincipalMismatch]),
        "9 h old, no end: still open (and started by another principal than the id names)"
    );
    assert_eq!(cmd.session_id_principal.as_deref(), Some("bob"));
    assert_ne!(cmd.principal.as_deref(), Some("bob"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The records are byte-identical whatever the order of the facts and however often each
    /// one is repeated.
    #[test]
    fn order_and_duplicates_change_nothing(seed in any::<u64>(), dups in prop::collection::vec(0usize..40, 0..40)) {
        let facts = scenario();
        let reference = serde_json::to_string(&correlate(&facts, &opts())).unwrap();
        let mut shuffled = facts.clone();
        for &d in &dups {
            shuffled.push(facts[d % facts.len()].clone());
        }
        // Fisher-Yates with a small LCG: proptest shrinks the seed
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let got = serde_json::to_string(&correlate(&shuffled, &opts())).unwrap();
        prop_assert_eq!(got, reference);
    }
}

#[test]
fn a_large_trail_file_is_read_one_record_at_a_time() {
    // ~20 MB generated on the fly: the decoder never needs the file in memory
    struct Gen {
        n: usize,
        i: usize,
        buf: Vec<u8>,
        pos: usize,
        rec: String,
    }
    impl std::io::Read for Gen {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.pos == self.buf.len() {
                self.buf.clear();
                self.pos = 0;
                if self.i == 0 {
                    self.buf.extend_from_slice(b"{\"Records\":[");
                }
                if self.i < self.n {
                    if self.i > 0 {
                        self.buf.push(b',');
                    }
                    self.buf.extend_from_slice(
                        self.rec.replace("EVID", &self.i.to_string()).as_bytes(),
                    );
                    self.i += 1;
                    if self.i == self.n {
                        self.buf.extend_from_slice(b"]}");
                    }
                } else {
                    return Ok(0);
                }
            }
            let k = out.len().min(self.buf.len() - self.pos);
            out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            Ok(k)
        }
    }
    let mut rec = sample(EB)["detail"].clone();
    rec["eventID"] = json!("EVID");
    let rec = rec.to_string();
    let n = (20 << 20) / rec.len();
    let mut out = Decoded::default();
    // the facts leave in parts: never more than a part's worth held
    let (mut parts, mut total, part_size) = (0, 0, 1000);
    let mut ids = std::collections::HashSet::new();
    formats::decode_trail_file_in_parts(
        "big.json",
        Gen {
            n,
            i: 0,
            buf: Vec::new(),
            pos: 0,
            rec,
        },
        &mut out,
        part_size,
        &mut |facts| {
            assert_eq!(facts.len(), part_size);
            parts += 1;
            total += facts.len();
            ids.extend(facts.into_iter().map(|f| f.key));
        },
    );
    assert!(out.facts.len() < part_size);
    total += out.facts.len();
    ids.extend(out.facts.iter().map(|f| f.key.clone()));
    assert_eq!((parts, total, ids.len()), (n / part_size, n, n));
    assert!(out.bad.is_empty());
}

#[test]
fn commands_carry_the_time_of_the_streamed_tick_that_showed_them() {
    // the same session as an S3 replay and as two streamed messages a minute apart
    let sid = "alice-0123456789abcdefghijklmnop";
    let s3 = std::fs::read(data(
        "data/samples/synthetic/SYNTHETIC_s3_session_log_via_util-linux-2.38_script.bin",
    ))
    .unwrap();
    let s3_fact =
        formats::transcript_fact(TranscriptSource::S3, &format!("b/{sid}.log"), &s3, None);
    let (r, _) = render_bytes(&s3, ssm_audit_core::transcript::SizeChoice::default());
    let commands: Vec<(u64, String)> = r
        .summary
        .commands
        .iter()
        .map(|c| (c.line, c.text.clone()))
        .collect();
    let msg: Value = sample(
        "synthetic/SYNTHETIC_cwlogs_streamed_event_message_via_agent_code_pborman_ansi.json",
    );
    let lines = msg["sessionData"].as_array().unwrap();
    let mk = |id: &str, t: &str, part: &[Value]| {
        let mut m = msg.clone();
        m["sessionId"] = json!(sid);
        m["eventTime"] = json!(t);
        m["sessionData"] = json!(part);
        let mut out = Decoded::default();
        let ev = formats::LogEvent {
            id: Some(id.into()),
            timestamp_ms: None,
            message: m.to_string(),
        };
        formats::decode_log_event("t", Some(sid), 0, &ev, &mut out, &mut Vec::new());
        out.facts.pop().unwrap()
    };
    let a = mk("e1", "2026-01-02T03:04:05Z", &lines[..4]);
    let b = mk("e2", "2026-01-02T03:05:05Z", &lines[4..]);
    let facts = vec![&s3_fact, &b, &a];
    let times = ssm_audit_core::rebuild::command_times(&commands, &facts);
    let by_cmd: Vec<(&str, Option<&str>)> = commands
        .iter()
        .map(|(l, c)| (c.as_str(), times.get(l).map(String::as_str)))
        .collect();
    assert_eq!(
        by_cmd,
        [
            ("ls", Some("2026-01-02T03:04:05Z")),
            ("ls --color", Some("2026-01-02T03:04:05Z")),
            // the streamed copy has `ip\b\bpwd`: rendered, it ends with pwd
            ("pwd", Some("2026-01-02T03:05:05Z")),
            // streaming mangled the euro sign: no streamed line shows this command
            ("echo café €", None),
            ("exit", Some("2026-01-02T03:05:05Z")),
        ]
    );
}
