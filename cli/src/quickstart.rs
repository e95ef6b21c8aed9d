//! `ssm-audit quickstart`: a demo folder of real-shaped evidence, ingested and queried.
//!
//! The evidence: real recorded sessions as S3 transcripts (bash; dash, then a bash started
//! from it), a real 2025 agent transcript with no StartSession, a gzip CloudTrail trail file
//! (SSO and IAM users, port forwarding to an instance and to an RDS host, SSH, ECS Exec into a
//! container with no transcript, a denied attempt, a console TerminateSession, a duplicate
//! delivery), an EventBridge event, and a CloudWatch subscription payload of a streamed
//! session still open.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::audit::{self, DataArgs, FilterArgs, IngestArgs, LedgerArgs, SearchArgs, SessionsArgs};

const REC_UBUNTU: &[u8] =
    include_bytes!("../../indexer/tests/recordings/bash5-ubuntu-80x24/session.log");
const REC_POSIX: &[u8] =
    include_bytes!("../../indexer/tests/recordings/bash5-posix-sh-100x30/session.log");
const REC_AUDIT: &[u8] =
    include_bytes!("../../indexer/tests/recordings/bash5-audit-100x30/session.log");
const REC_NESTED: &[u8] =
    include_bytes!("../../indexer/tests/recordings/dash-nested-bash-80x24/session.log");
const AGENT_2025: &[u8] = include_bytes!("../../indexer/tests/data/samples/s3_session_log_linux_2025_util-linux-script_header_tunnyein_readme.txt");
const PORT_FWD: &str = include_str!("../../indexer/tests/data/samples/cloudtrail_StartSession_AWS-StartPortForwardingSession_FILTERED_lookupevents_evidence.json");
const ROOT_TERM: &str = include_str!(
    "../../indexer/tests/data/samples/cloudtrail_TerminateSession_Root_console_elastic_test.json"
);
const EVENTBRIDGE: &str = include_str!("../../indexer/tests/data/samples/eventbridge_AWSAPICallViaCloudTrail_StartSession_console_AssumedRole_jo-thomas.json");
const SSO_START: &str = include_str!(
    "../../indexer/tests/data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json"
);
const IAM_START: &str = include_str!("../../indexer/tests/data/samples/cloudtrail_StartSession_IAMUser_cli_custom_document_2020_managedkube_readme.json");
const STREAMED: &str = include_str!("../../indexer/tests/data/samples/synthetic/SYNTHETIC_cwlogs_streamed_event_message_via_agent_code_pborman_ansi.json");

#[derive(clap::Args, Debug)]
pub struct QuickstartArgs {
    /// Folder for the demo (evidence/ and data/ are made in it) [default: a new temporary folder]
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

fn session_of(log: &[u8]) -> (String, String) {
    let h = ssm_audit_core::transcript::header_of(log);
    (
        h.session_id.unwrap_or_default(),
        h.started.unwrap_or_default(),
    )
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes)?;
    Ok(e.finish()?)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(path.parent().expect("demo paths have parents"))?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn at(t: OffsetDateTime) -> String {
    ssm_audit_core::time::rfc3339(t)
}

/// The demo's evidence, written under `dir`.
pub fn write_evidence(dir: &Path, now: OffsetDateTime) -> Result<()> {
    let (alice1, done1) = session_of(REC_UBUNTU);
    let (alice2, done2) = session_of(REC_POSIX);
    let (alice3, done3) = session_of(REC_AUDIT);
    let (alice4, done4) = session_of(REC_NESTED);
    write(
        &dir.join(format!("s3/session-logs/{alice1}.log")),
        REC_UBUNTU,
    )?;
    write(
        &dir.join(format!("s3/session-logs/{alice2}.log")),
        REC_POSIX,
    )?;
    write(
        &dir.join(format!("s3/session-logs/{alice3}.log")),
        REC_AUDIT,
    )?;
    write(
        &dir.join(format!("s3/session-logs/{alice4}.log")),
        REC_NESTED,
    )?;
    write(
        &dir.join("s3/session-logs/master-console-admin-ogucubv3f8zp6xxkdxv25lb3re.log"),
        AGENT_2025,
    )?;

    let day = now - time::Duration::days(1);
    let t = |h: i64, m: i64| {
        at(day.replace_time(time::Time::MIDNIGHT)
            + time::Duration::hours(h)
            + time::Duration::minutes(m))
    };
    let sso: Value = serde_json::from_str(SSO_START)?;
    let iam: Value = serde_json::from_str(IAM_START)?;
    let start = |base: &Value,
                 id: &str,
                 sid: &str,
                 time: String,
                 target: &str,
                 doc: Option<&str>,
                 params: Value| {
        let mut r = base.clone();
        r["eventID"] = json!(id);
        r["eventTime"] = json!(time);
        r["responseElements"] =
            json!({"sessionId": sid, "tokenValue": "Value hidden due to security reasons."});
        let mut req = json!({"target": target});
        if let Some(d) = doc {
            req["documentName"] = json!(d);
            req["parameters"] = params;
        }
        r["requestParameters"] = req;
        r
    };
    let mut alice_sso = sso.clone();
    alice_sso["userIdentity"]["arn"] = json!("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com");
    alice_sso["sourceIPAddress"] = json!("203.0.113.10");
    // a recording's header time is its conversion at session end: the session began earlier
    let before = |done: &str, mins: i64| {
        ssm_audit_core::time::parse_time(done)
            .map_or_else(|| t(9, 0), |d| at(d - time::Duration::minutes(mins)))
    };
    let user = |base: &Value, name: &str| {
        let mut r = base.clone();
        r["userIdentity"]["userName"] = json!(name);
        r["userIdentity"]["arn"] = json!(format!("arn:aws:iam::111122223333:user/{name}"));
        r
    };
    let (bob, carol) = (user(&iam, "bob"), user(&iam, "carol"));
    let mut records = vec![
        start(
            &alice_sso,
            "demo-0001",
            &alice1,
            before(&done1, 25),
            "i-0a1b2c3d4e5f60718",
            None,
            json!({}),
        ),
        start(
            &alice_sso,
            "demo-0002",
            &alice2,
            before(&done2, 12),
            "i-0a1b2c3d4e5f60718",
            None,
            json!({}),
        ),
        start(
            &alice_sso,
            "demo-0006",
            &alice3,
            before(&done3, 4),
            "i-0db1a2b3c4d5e6f70",
            None,
            json!({}),
        ),
        start(
            &bob,
            "demo-0003",
            "bob-0e34861185201706a",
            t(11, 0),
            "i-0a1b2c3d4e5f60718",
            Some("AWS-StartPortForwardingSessionToRemoteHost"),
            json!({"host": ["db-prod.cluster-c1x2y3.us-east-1.rds.amazonaws.com"], "portNumber": ["5432"], "localPortNumber": ["15432"]}),
        ),
        start(
            &carol,
            "demo-0004",
            "carol-abcdefghij0123456789klmnop",
            t(13, 15),
            "mi-0123456789abcdef0",
            Some("AWS-StartSSHSession"),
            json!({"portNumber": ["22"]}),
        ),
    ];
    records.push(start(
        &alice_sso,
        "demo-0007",
        &alice4,
        before(&done4, 6),
        "i-0c1d2e3f4a5b6c7d8",
        None,
        json!({}),
    ));
    // ECS Exec into a container (ECS logs ExecuteCommand, not StartSession); its log never came
    let mut exec = bob.clone();
    exec["eventSource"] = json!("ecs.amazonaws.com");
    exec["eventName"] = json!("ExecuteCommand");
    exec["eventID"] = json!("demo-0008");
    exec["eventTime"] = json!(t(15, 30));
    exec["requestParameters"] = json!({"cluster": "prod", "container": "api", "command": "/bin/sh",
        "interactive": true, "task": "arn:aws:ecs:us-east-1:111122223333:task/prod/4d5e6f0a1b2c3d4e"});
    exec["responseElements"] = json!({"containerName": "api", "interactive": true,
        "session": {"sessionId": "ecs-execute-command-q0w9e8r7t6y5u4i3o2p1a0s9d8", "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        "taskArn": "arn:aws:ecs:us-east-1:111122223333:task/prod/4d5e6f0a1b2c3d4e"});
    records.push(exec);
    // the same StartSession delivered twice
    records.push(records[0].clone());
    let mut denied = iam.clone();
    denied["eventID"] = json!("demo-0005");
    denied["eventTime"] = json!(t(8, 45));
    denied["errorCode"] = json!("AccessDenied");
    denied["errorMessage"] = json!("User: arn:aws:iam::111122223333:user/garland.kan.temp is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:111122223333:instance/i-0fedcba9876543210");
    denied["responseElements"] = Value::Null;
    denied["requestParameters"] = json!({"target": "i-0fedcba9876543210"});
    records.push(denied);
    records.extend(serde_json::from_str::<Vec<Value>>(PORT_FWD)?);
    records.push(serde_json::from_str(ROOT_TERM)?);
    let trail = serde_json::to_vec(&json!({"Records": records}))?;
    write(&dir.join("cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/demo/111122223333_CloudTrail_us-east-1_demo.json.gz"), &gzip(&trail)?)?;
    write(
        &dir.join("eventbridge/start-session.json"),
        EVENTBRIDGE.as_bytes(),
    )?;

    // a streamed session that is still going: a subscription payload as Lambda receives it
    let mut msg: Value = serde_json::from_str(STREAMED)?;
    let dave = "dave-0123456789abcdefghijklmnop";
    msg["sessionId"] = json!(dave);
    msg["eventTime"] = json!(at(now - time::Duration::minutes(20)));
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/ssm/sessions", "logStream": dave,
        "subscriptionFilters": ["ssm-audit"], "logEvents": [{"id": "3800000000000000000000000000000000000000000000000000000001", "timestamp": (now.unix_timestamp() - 1200) * 1000, "message": msg.to_string()}]});
    let data =
        base64::engine::general_purpose::STANDARD.encode(gzip(&serde_json::to_vec(&payload)?)?);
    write(
        &dir.join("cloudwatch/subscription-event.json"),
        serde_json::to_vec_pretty(&json!({"awslogs": {"data": data}}))?.as_slice(),
    )?;
    Ok(())
}

pub fn run(args: &QuickstartArgs, out: &mut dyn Write) -> Result<bool> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => tempfile::Builder::new()
            .prefix("ssm-audit-quickstart-")
            .tempdir()?
            .keep(),
    };
    let evidence = dir.join("evidence");
    let data = DataArgs {
        data_dir: Some(dir.join("data")),
        ..DataArgs::default()
    };
    write_evidence(&evidence, OffsetDateTime::now_utc())?;
    let shown = dir.display();
    writeln!(out, "# demo evidence in {}/evidence: S3 transcripts, a CloudTrail trail file, EventBridge, CloudWatch\n", shown)?;
    writeln!(
        out,
        "$ ssm-audit --data-dir {shown}/data ingest {shown}/evidence"
    )?;
    audit::run_ingest(
        &data,
        &IngestArgs {
            paths: vec![evidence.display().to_string()],
            since: "90d".into(),
            json: false,
            follow: false,
        },
        out,
    )?;
    type Step<'a> = Box<dyn Fn(&mut dyn Write) -> Result<bool> + 'a>;
    let steps: Vec<(&str, Step<'_>)> = vec![
        (
            "sessions",
            Box::new(|o: &mut dyn Write| {
                audit::run_sessions(
                    &data,
                    &SessionsArgs {
                        filter: FilterArgs::default(),
                        json: false,
                    },
                    o,
                )
            }),
        ),
        (
            "tunnels",
            Box::new(|o: &mut dyn Write| {
                audit::run_tunnels(
                    &data,
                    &LedgerArgs {
                        filter: FilterArgs::default(),
                        json: false,
                    },
                    o,
                )
            }),
        ),
        (
            "gaps",
            Box::new(|o: &mut dyn Write| {
                audit::run_gaps(
                    &data,
                    &LedgerArgs {
                        filter: FilterArgs::default(),
                        json: false,
                    },
                    o,
                )
            }),
        ),
        (
            "search 'command:vim OR command:top'",
            Box::new(|o: &mut dyn Write| {
                audit::run_search(&data, &search("command:vim OR command:top"), o)
            }),
        ),
        (
            "search \"rm -rf\"",
            Box::new(|o: &mut dyn Write| audit::run_search(&data, &search("\"rm -rf\""), o)),
        ),
        (
            "search データベース",
            Box::new(|o: &mut dyn Write| audit::run_search(&data, &search("データベース"), o)),
        ),
    ];
    for (cmd, f) in steps {
        writeln!(out, "\n$ ssm-audit --data-dir {shown}/data {cmd}")?;
        f(out)?;
    }
    writeln!(
        out,
        "\n# next: ssm-audit --data-dir {shown}/data show SESSION_ID"
    )?;
    Ok(true)
}

fn search(q: &str) -> SearchArgs {
    SearchArgs {
        query: q.to_owned(),
        filter: FilterArgs::default(),
        context: 0,
        sessions_only: false,
        json: false,
        count: false,
        max_count: None,
        color: audit::ColorChoice::Auto,
    }
}
