//! The Lambda handlers, called with `LambdaEvent`s built here, against a local S3 and SQS
//! (moto). Evidence is real: recordings of real shells and the shared AWS samples.

use std::path::{Path, PathBuf};

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use ssm_audit_core::{index, publish};
use ssm_audit_functions::handlers::{self, Ctx};
use ssm_audit_functions::s3::s3_client;
use ssm_audit_testing::{bucket, moto, session_of};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(data(&format!("indexer/tests/data/samples/{name}"))).unwrap()
}

fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// An S3 notification for objects, from the fixture, keys URL-encoded as S3 does.
fn s3_event(objects: &[(&str, &str)]) -> Value {
    let fixture: Value =
        serde_json::from_str(include_str!("events/s3-object-created.json")).unwrap();
    let one = &fixture["Records"][0];
    let records: Vec<Value> = objects
        .iter()
        .map(|(b, k)| {
            let mut r = one.clone();
            r["s3"]["bucket"]["name"] = json!(b);
            r["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{b}"));
            let enc = percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%2F", "/")
                .replace("%2E", ".")
                .replace("%2D", "-")
                .replace("%20", "+");
            r["s3"]["object"]["key"] = json!(enc);
            r
        })
        .collect();
    json!({ "Records": records })
}

struct Env {
    ctx: Ctx,
    logs: String,
    work: tempfile::TempDir,
}

async fn env(dlq: Option<String>) -> Env {
    let conf = moto().config();
    let client = s3_client(&conf);
    let store = bucket(&client, "store").await;
    let logs = bucket(&client, "logs").await;
    let work = tempfile::tempdir().unwrap();
    let mut ctx = Ctx::new(&format!("s3://{store}/audit"), conf, dlq).unwrap();
    ctx.work = work.path().to_owned();
    Env { ctx, logs, work }
}

async fn upload(env: &Env, key: &str, body: Vec<u8>) {
    env.ctx
        .s3
        .put_object()
        .bucket(&env.logs)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Every object of the store, key and content.
async fn snapshot(env: &Env) -> Vec<(String, Vec<u8>)> {
    let store = env.ctx.store.clone();
    tokio::task::spawn_blocking(move || {
        store
            .list("")
            .unwrap()
            .into_iter()
            .map(|k| {
                let b = store.get(&k).unwrap().unwrap();
                (k, b)
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_transcripts_and_trail_files_are_ingested_once_however_often_delivered() {
    let env = env(None).await;
    let log = std::fs::read(data(
        "indexer/tests/recordings/bash5-audit-100x30/session.log",
    ))
    .unwrap();
    let sid = session_of(&log);
    let log_key = format!("session logs/{sid}.log");
    upload(&env, &log_key, log).await;
    let record: Value = serde_json::from_slice(&sample(
        "cloudtrail_StartSession_AssumedRole_SSO_panther_test.json",
    ))
    .unwrap();
    let trail_key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/111122223333_CloudTrail_us-east-1_20261122T0940Z_x.json.gz";
    upload(
        &env,
        trail_key,
        gzip(json!({ "Records": [record] }).to_string().as_bytes()),
    )
    .await;

    let ev = s3_event(&[(&env.logs, &log_key), (&env.logs, trail_key)]);
    assert!(ev.to_string().contains("session+logs%2F") || ev.to_string().contains("session+logs/"));
    let out = handlers::ingest_s3(&env.ctx, event(ev.clone()))
        .await
        .unwrap();
    assert_eq!(out["inputs_read"], 2, "{out}");
    assert_eq!(out["failed"], json!([]), "{out}");
    let first = snapshot(&env).await;
    let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("transcripts/{sid}/s3-"))),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("text/{sid}/s3-"))),
        "{keys:?}"
    );
    assert_eq!(
        keys.iter().filter(|k| k.starts_with("facts/")).count(),
        2,
        "{keys:?}"
    );
    // at least once: the same event again, and again, changes nothing but the custody
    // records, which say each read (for the indexer to seal into the ledger)
    for _ in 0..2 {
        handlers::ingest_s3(&env.ctx, event(ev.clone()))
            .await
            .unwrap();
    }
    let (pending, rest): (Vec<_>, Vec<_>) = snapshot(&env)
        .await
        .into_iter()
        .partition(|(k, _)| k.starts_with("custody/pending/"));
    let without = |s: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        s.into_iter()
            .filter(|(k, _)| !k.starts_with("custody/pending/"))
            .collect()
    };
    assert_eq!(rest, without(first));
    let mut read: Vec<(String, String)> = pending
        .iter()
        .flat_map(|(_, b)| serde_json::from_slice::<Vec<Value>>(b).unwrap())
        .filter(|c| c["held"] == "input")
        .map(|c| {
            (
                c["origin"]["key"].as_str().unwrap().to_owned(),
                c["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    read.sort();
    read.dedup();
    assert_eq!(read.len(), 2, "{read:?}");
    // one object per input read, per delivery (two reads in the same second are one object)
    assert!((2..=6).contains(&pending.len()), "{}", pending.len());
    drop(env.work);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_read_goes_to_the_dead_letter_queue_and_the_rest_goes_on() {
    let conf = moto().config();
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let q = sqs
        .create_queue()
        .queue_name(format!("dlq-{}", std::process::id()))
        .send()
        .await
        .unwrap();
    let url = q.queue_url().unwrap().to_owned();
    let env = env(Some(url.clone())).await;
    let good = std::fs::read(data("indexer/tests/recordings/dash-80x24/session.log")).unwrap();
    let good_key = format!("{}.log", session_of(&good));
    upload(&env, &good_key, good).await;
    upload(&env, "broken.json.gz", vec![0x1f, 0x8b, 8, 0, 1, 2, 3]).await;
    let ev = s3_event(&[(&env.logs, "broken.json.gz"), (&env.logs, &good_key)]);
    let out = handlers::ingest_s3(&env.ctx, event(ev)).await.unwrap();
    assert_eq!(out["inputs_read"], 2, "{out}");
    assert_eq!(out["failed"].as_array().unwrap().len(), 1, "{out}");
    assert!(snapshot(&env)
        .await
        .iter()
        .any(|(k, _)| k.starts_with("transcripts/")));
    let msgs = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let bodies: Vec<Value> = msgs
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["function"], "ssm-audit-ingest-s3");
    assert_eq!(bodies[0]["input"], "broken.json.gz");
    assert!(
        bodies[0]["reason"].as_str().unwrap().contains("gzip"),
        "{bodies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_is_gone_fails_the_invocation_so_lambda_retries_it() {
    let env = env(None).await;
    let ev = s3_event(&[(&env.logs, "no-such-session.log")]);
    let err = handlers::ingest_s3(&env.ctx, event(ev)).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("no-such-session.log"),
        "{err:#}"
    );
    // an S3 test event names no object
    let out = handlers::ingest_s3(
        &env.ctx,
        event(json!({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"})),
    )
    .await
    .unwrap();
    assert_eq!(out["inputs_read"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_and_eventbridge_events_then_the_index_is_published_and_found() {
    let env = env(None).await;
    let cw: Value = serde_json::from_slice(&sample(
        "cwlogs_subscription_lambda_event_raw_aws_lambda_events_fixture.json",
    ))
    .unwrap();
    let out = handlers::ingest_cloudwatch(&env.ctx, event(cw.clone()))
        .await
        .unwrap();
    assert_eq!(
        (out["inputs_read"].clone(), out["failed"].clone()),
        (json!(1), json!([])),
        "{out}"
    );
    let eb: Value = serde_json::from_slice(&sample(
        "eventbridge_AWSAPICallViaCloudTrail_StartSession_console_AssumedRole_jo-thomas.json",
    ))
    .unwrap();
    let out = handlers::ingest_cloudtrail(&env.ctx, event(eb.clone()))
        .await
        .unwrap();
    assert_eq!(out["facts"], 1, "{out}");
    // ECS Exec's ExecuteCommand comes from aws.ecs (its own rule): a session on a container
    let mut ecs = eb.clone();
    ecs["source"] = json!("aws.ecs");
    ecs["id"] = json!("ecs-exec-event");
    ecs["detail"]["eventSource"] = json!("ecs.amazonaws.com");
    ecs["detail"]["eventName"] = json!("ExecuteCommand");
    ecs["detail"]["eventID"] = json!("ecs-exec-1");
    // another day than the console session's, whose daily report is checked below
    ecs["time"] = json!("2021-02-03T10:00:00Z");
    ecs["detail"]["eventTime"] = json!("2021-02-03T10:00:00Z");
    ecs["detail"]["requestParameters"] =
        json!({"cluster": "prod", "container": "app", "command": "/bin/sh", "task": "4d5e6f0a"});
    ecs["detail"]["responseElements"] =
        json!({"session": {"sessionId": "ecs-execute-command-s9y89par6quf78pcbnoko32g28"}});
    let out = handlers::ingest_cloudtrail(&env.ctx, event(ecs))
        .await
        .unwrap();
    assert_eq!(
        (out["facts"].clone(), out["failed"].clone()),
        (json!(1), json!([])),
        "{out}"
    );
    // not Session Manager's: refused, with why
    let mut other = eb.clone();
    other["source"] = json!("aws.ec2");
    let err = handlers::ingest_cloudtrail(&env.ctx, event(other))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("aws.ec2"), "{err}");
    assert!(handlers::ingest_cloudwatch(&env.ctx, event(eb.clone()))
        .await
        .is_err());

    // and a transcript through S3
    let log = std::fs::read(data(
        "indexer/tests/recordings/bash5-audit-100x30/session.log",
    ))
    .unwrap();
    let sid = session_of(&log);
    upload(&env, &format!("{sid}.log"), log).await;
    handlers::ingest_s3(
        &env.ctx,
        event(s3_event(&[(&env.logs, &format!("{sid}.log"))])),
    )
    .await
    .unwrap();

    let stats = handlers::indexer(&env.ctx, event(json!({}))).await.unwrap();
    assert_eq!(stats["generation"], 1, "{stats}");
    let session_id = eb["detail"]["responseElements"]["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    // a reader anywhere: sync the published index and query it
    let cache = tempfile::tempdir().unwrap();
    let store = env.ctx.store.clone();
    let cache_dir = cache.path().to_owned();
    let (records, hits) = tokio::task::spawn_blocking(move || {
        publish::sync(&*store, &cache_dir).unwrap().unwrap();
        let records: Vec<ssm_audit_core::correlate::SessionRecord> =
            serde_json::from_slice(&std::fs::read(cache_dir.join("records.json")).unwrap())
                .unwrap();
        let (idx, fields) = index::open_or_create(&cache_dir.join("index")).unwrap();
        let hits = index::search(
            &idx,
            &fields,
            "command:\"cat /etc/shadow\"",
            &index::Filters::default(),
            10,
        )
        .unwrap();
        (records, hits)
    })
    .await
    .unwrap();
    let ids: Vec<&str> = records
        .iter()
        .filter_map(|r| r.session_id.as_deref())
        .collect();
    assert!(
        ids.contains(&sid.as_str())
            && ids.contains(&session_id.as_str())
            && ids.contains(&"ecs-execute-command-s9y89par6quf78pcbnoko32g28"),
        "{ids:?}"
    );
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].session_id, sid);
    assert!(
        hits[0].is_command && hits[0].text.ends_with("cat /etc/shadow | head -3"),
        "{hits:?}"
    );

    // a second run with nothing new publishes a generation that reuses nothing stale
    let again = handlers::indexer(&env.ctx, event(json!({}))).await.unwrap();
    assert_eq!(again["generation"], 2, "{again}");

    // the scheduled report of the day the console session began, in every format
    let rec = records
        .iter()
        .find(|r| r.session_id.as_deref() == Some(session_id.as_str()))
        .unwrap();
    let start = ssm_audit_core::time::parse_time(rec.start.as_deref().unwrap()).unwrap();
    let at = ssm_audit_core::time::rfc3339(start + time::Duration::days(1));
    let day = start.date().to_string();
    let ask = json!({"period": "daily", "tz": "UTC", "at": at});
    let out = handlers::report(&env.ctx, event(ask.clone()))
        .await
        .unwrap();
    assert_eq!(out["period"], format!("daily/{day}"), "{out}");
    let read = |name: &str| {
        let store = env.ctx.store.clone();
        let key = format!("reports/daily/{day}/{name}");
        async move {
            tokio::task::spawn_blocking(move || store.get(&key).unwrap())
                .await
                .unwrap()
        }
    };
    let json_report: Value = serde_json::from_slice(&read("report.json").await.unwrap()).unwrap();
    assert_eq!(json_report["summary"]["sessions"], 1, "{json_report}");
    let html = read("report.html").await.unwrap();
    assert!(String::from_utf8_lossy(&html).contains(&session_id));
    for name in ["report.md", "csv/report.csv", "csv/risky_commands.csv"] {
        assert!(read(name).await.is_some(), "{name}");
    }
    // the same period again: the same bytes
    handlers::report(&env.ctx, event(ask)).await.unwrap();
    assert_eq!(read("report.html").await.unwrap(), html);
}

/// An SQS message carrying an S3 notification, as Lambda delivers it from a queue.
fn sqs_record(id: &str, s3_event: &Value) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": s3_event.to_string(),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1763804467512",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1763804467520"
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:session-log-events",
        "awsRegion": "us-east-1"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_queue_only_the_failed_messages_are_retried() {
    let env = env(None).await;
    let good = std::fs::read(data(
        "indexer/tests/recordings/bash5-ubuntu-60x20/session.log",
    ))
    .unwrap();
    let key = format!("{}.log", session_of(&good));
    upload(&env, &key, good).await;
    let ev = json!({ "Records": [
        sqs_record("msg-good", &s3_event(&[(&env.logs, &key)])),
        sqs_record("msg-gone", &s3_event(&[(&env.logs, "vanished.log")])),
        sqs_record("msg-bad", &json!("not an S3 event")),
    ]});
    let out = handlers::ingest_s3(&env.ctx, event(ev)).await.unwrap();
    assert_eq!(
        out["batchItemFailures"],
        json!([{"itemIdentifier": "msg-gone"}, {"itemIdentifier": "msg-bad"}]),
        "{out}"
    );
    assert_eq!(out["inputs_read"], 1, "{out}");
    assert!(snapshot(&env)
        .await
        .iter()
        .any(|(k, _)| k.starts_with("transcripts/")));
}
