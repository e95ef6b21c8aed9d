//! Fault injection: every handler run over a store that fails its n-th get, put, list or
//! conditional put, for every n the handler makes, with Lambda's retries (two, then the
//! dead-letter queue, then a redrive once the store is back). After each run, the published
//! records equal those of the run without faults: nothing is lost, and no failure passes for
//! success. Objects come from S3 (moto); the store is a folder behind the fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use ssm_audit_core::store::{FaultStore, LocalStore, Op};
use ssm_audit_functions::handlers::{self, Ctx};
use ssm_audit_functions::s3::s3_client;
use ssm_audit_testing::{bucket, moto, session_of};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn sample(name: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(data(&format!("indexer/tests/data/samples/{name}"))).unwrap(),
    )
    .unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    IngestS3,
    IngestCloudwatch,
    IngestCloudtrail,
    Indexer,
    /// the indexer again, over a published index: its faults land between a publish's
    /// uploads, its manifest and its garbage collection
    Republish,
}

const STEPS: [Step; 5] = [
    Step::IngestS3,
    Step::IngestCloudwatch,
    Step::Indexer,
    Step::IngestCloudtrail,
    Step::Republish,
];

struct Fixture {
    conf: aws_config::SdkConfig,
    logs: String,
    s3_event: Value,
    cw: Value,
    eb: Value,
}

async fn fixture() -> Fixture {
    let conf = moto().config();
    let s3 = s3_client(&conf);
    let logs = bucket(&s3, "logs").await;
    let log = std::fs::read(data(
        "indexer/tests/recordings/bash5-audit-100x30/session.log",
    ))
    .unwrap();
    let key = format!("{}.log", session_of(&log));
    s3.put_object()
        .bucket(&logs)
        .key(&key)
        .body(log.into())
        .send()
        .await
        .unwrap();
    let s3_event = json!({
        "version": "0", "id": "fault-1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-11-23T15:44:00Z", "region": "us-east-1",
        "resources": [], "detail": {"bucket": {"name": logs}, "object": {"key": key}}
    });
    Fixture {
        conf,
        logs,
        s3_event,
        cw: subscription_event(),
        eb: sample(
            "eventbridge_AWSAPICallViaCloudTrail_StartSession_console_AssumedRole_jo-thomas.json",
        ),
    }
}

/// A subscription event carrying one streamed session message (the shared sample, its time
/// and session made valid), as CloudWatch Logs delivers it: base64 of gzip'd JSON.
fn subscription_event() -> Value {
    use base64::Engine;
    use std::io::Write;
    let mut msg = sample("cwlogs_streamed_session_event_json_systemsmanager-handson.json");
    let sid = "bob-0e34861185201706f";
    msg["eventTime"] = json!("2026-11-23T10:00:00Z");
    msg["sessionId"] = json!(sid);
    let payload = json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": "/ssm/sessions", "logStream": sid, "subscriptionFilters": ["ssm-audit"],
        "logEvents": [{"id": "1", "timestamp": 1_795_000_000_000u64, "message": msg.to_string()}]
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(payload.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    json!({ "awslogs": { "data": data } })
}

async fn invoke(ctx: &Ctx, f: &Fixture, step: Step) -> anyhow::Result<Value> {
    let ev = |v: &Value| LambdaEvent::new(v.clone(), Context::default());
    match step {
        Step::IngestS3 => handlers::ingest_s3(ctx, ev(&f.s3_event)).await,
        Step::IngestCloudwatch => handlers::ingest_cloudwatch(ctx, ev(&f.cw)).await,
        Step::IngestCloudtrail => handlers::ingest_cloudtrail(ctx, ev(&f.eb)).await,
        Step::Indexer | Step::Republish => handlers::indexer(ctx, ev(&json!({}))).await,
    }
}

/// How one invocation ended, as Lambda would have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// the fault never came (the run made fewer operations this time)
    NotHit,
    /// it failed, and a retry succeeded
    Retried,
    /// three attempts failed: the event went to the dead-letter queue, and its redrive
    /// succeeded once the store was back
    Redriven,
}

struct Run {
    dir: tempfile::TempDir,
    inner: Arc<LocalStore>,
    store: Arc<FaultStore>,
    ctx: Ctx,
}

/// What a reader sees while a publish failed half-way: the last published index, whole
/// (every file it names is there, it opens, it answers), or none yet.
fn reader_sees_a_whole_index(store: &LocalStore, dir: &Path) -> Result<(), String> {
    let cache = dir.join("reader");
    let _ = std::fs::remove_dir_all(&cache);
    match ssm_audit_core::publish::sync(store, &cache).map_err(|e| e.to_string())? {
        None => Ok(()),
        Some(_) => {
            let (idx, f) = ssm_audit_core::index::open_or_create(&cache.join("index"))
                .map_err(|e| e.to_string())?;
            ssm_audit_core::index::search(&idx, &f, "shadow", &Default::default(), 10)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

fn new_run(f: &Fixture) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let inner = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
    let store = Arc::new(FaultStore::new(inner.clone()));
    let mut ctx = Ctx::new(
        dir.path().join("store").to_str().unwrap(),
        f.conf.clone(),
        None,
    )
    .unwrap();
    ctx.store = store.clone();
    ctx.work = dir.path().join("work");
    std::fs::create_dir_all(&ctx.work).unwrap();
    Run {
        dir,
        inner,
        store,
        ctx,
    }
}

/// Every step in order, the fault armed during `faulty` only; the published records.
async fn pipeline(
    f: &Fixture,
    faulty: Option<(Step, Op, u64, bool)>,
) -> (Value, Option<Outcome>, BTreeMap<Step, BTreeMap<Op, u64>>) {
    let mut run = new_run(f);
    let mut outcome = None;
    let mut counts = BTreeMap::new();
    for step in STEPS {
        match faulty {
            Some((s, op, n, sticky)) if s == step => run.store.arm(op, n, sticky),
            _ => run.store.arm(Op::Get, u64::MAX, false),
        }
        let before = run.store.failed();
        let mut attempts = 0;
        let mut ok = false;
        while attempts < 3 && !ok {
            attempts += 1;
            // a retry may run in a new container: nothing of the last attempt's work folder
            run.ctx.work = run.dir.path().join(format!("work-{attempts}"));
            std::fs::create_dir_all(&run.ctx.work).unwrap();
            ok = invoke(&run.ctx, f, step).await.is_ok();
            if !ok {
                let (inner, dir) = (run.inner.clone(), run.dir.path().to_owned());
                tokio::task::spawn_blocking(move || reader_sees_a_whole_index(&inner, &dir))
                    .await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{step:?} failed half-way; a reader: {e}"));
            }
        }
        counts.insert(step, run.store.counts());
        run.store.heal();
        if !ok {
            // the dead-letter queue holds the event; redriven once the cause is fixed
            invoke(&run.ctx, f, step)
                .await
                .unwrap_or_else(|e| panic!("{step:?} redriven: {e:#}"));
            outcome = Some(Outcome::Redriven);
        } else if faulty.is_some_and(|x| x.0 == step) {
            outcome = Some(if run.store.failed() > before {
                Outcome::Retried
            } else {
                Outcome::NotHit
            });
        }
    }
    let store = run.ctx.store.clone();
    let records = tokio::task::spawn_blocking(move || handlers::published_records(&*store))
        .await
        .unwrap()
        .unwrap();
    drop(run.dir);
    (serde_json::to_value(records).unwrap(), outcome, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_every_operation_of_every_handler_loses_nothing() {
    let f = fixture().await;
    let (clean, _, counts) = pipeline(&f, None).await;
    assert!(
        clean.as_array().is_some_and(|a| a.len() >= 2),
        "the fault-free run published {clean}"
    );
    let mut matrix: BTreeMap<(Step, Op), BTreeMap<Outcome, u64>> = BTreeMap::new();
    for step in STEPS {
        for op in Op::ALL {
            let n_ops = counts[&step].get(&op).copied().unwrap_or(0);
            // every n, once; and the store down from the first for three attempts
            let cases = (1..=n_ops)
                .map(|n| (n, false))
                .chain((n_ops > 0).then_some((1, true)));
            for (n, sticky) in cases {
                let (records, outcome, _) = pipeline(&f, Some((step, op, n, sticky))).await;
                assert_eq!(
                    records, clean,
                    "{step:?}: {op:?} #{n} failing (sticky {sticky}) changed the answer"
                );
                *matrix
                    .entry((step, op))
                    .or_default()
                    .entry(outcome.unwrap())
                    .or_default() += 1;
            }
        }
    }
    // the matrix, for the record (cargo test -- --nocapture)
    for ((step, op), outcomes) in &matrix {
        println!("{step:?} x {op:?}: {outcomes:?}");
    }
    let _ = &f.logs;
    assert!(matrix.values().any(|o| o.contains_key(&Outcome::Retried)));
    assert!(matrix.values().any(|o| o.contains_key(&Outcome::Redriven)));
}
