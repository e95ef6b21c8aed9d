//! The Lambda handlers. Each binary in `src/bin/` is `lambda_runtime::run` around one of these;
//! tests call them with a `LambdaEvent` built by hand.
//!
//! Delivery is at least once: every handler is idempotent (facts and copies are stored under
//! keys made from their content, so a redelivery writes the same objects). What a handler
//! cannot read (not evidence, a malformed record) will not improve with a retry: it is
//! counted, reported in the result, and sent to the dead-letter queue with its reason, and
//! the rest of the batch goes on. What may succeed later (S3 or the store failing) fails the
//! invocation, so Lambda retries it and, in the end, sends the event to the function's own
//! dead-letter queue with the error.

use ssm_audit_core::{rebuild, text};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context as _, Result};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use ssm_audit_core::correlate::CorrelateOptions;
use ssm_audit_core::custody::ledger;
use ssm_audit_core::ingest::{self, IngestReport};
use ssm_audit_core::publish;
use ssm_audit_core::store::Store;

use crate::s3::{s3_client, S3Store};

/// What every handler needs, made once per cold start from the environment:
/// - `SSM_AUDIT_STORE`: `s3://bucket/prefix` (or a folder, for trying things locally);
/// - `SSM_AUDIT_DLQ_URL` (optional): the SQS queue for what cannot be processed;
/// - `SSM_AUDIT_WORK_DIR` (optional, default the temporary folder): room for downloads and the
///   index being updated;
/// - `SSM_AUDIT_LEDGER_KEY_ID` (the indexer's): the KMS key that signs the custody ledger;
///   without it the records wait unsigned, and the indexer's result says so;
/// - the standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub conf: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub dlq: Option<(aws_sdk_sqs::Client, String)>,
    pub work: PathBuf,
    /// the KMS key that signs the ledger (`SSM_AUDIT_LEDGER_KEY_ID`)
    pub ledger_key: Option<String>,
}

impl Ctx {
    pub async fn from_env() -> Result<Ctx> {
        let spec = std::env::var("SSM_AUDIT_STORE")
            .context("SSM_AUDIT_STORE is not set: give the store as s3://bucket/prefix")?;
        let conf = crate::s3::aws_config().await;
        Ctx::new(&spec, conf, std::env::var("SSM_AUDIT_DLQ_URL").ok())
    }

    pub fn new(spec: &str, conf: aws_config::SdkConfig, dlq: Option<String>) -> Result<Ctx> {
        let s3 = s3_client(&conf);
        let store = open_store(spec, &s3, tokio::runtime::Handle::current())?;
        let dlq = dlq
            .filter(|u| !u.is_empty())
            .map(|u| (aws_sdk_sqs::Client::new(&conf), u));
        let work = std::env::var_os("SSM_AUDIT_WORK_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let ledger_key = std::env::var("SSM_AUDIT_LEDGER_KEY_ID")
            .ok()
            .filter(|k| !k.is_empty());
        Ok(Ctx {
            store,
            conf,
            s3,
            dlq,
            work,
            ledger_key,
        })
    }

    /// Run blocking work (the core, the store) off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> T + Send + 'static,
    ) -> Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| anyhow!("a worker thread failed: {e}"))
    }

    /// Send what could not be processed to the dead-letter queue, with the reason, when, and
    /// the event that sends the input to `function` again (`ssm-audit dead-letters
    /// --redrive`, once the input is fixed); logged when there is no queue.
    async fn dead_letter(
        &self,
        function: &str,
        report: &IngestReport,
        event_of: &(dyn Fn(&str) -> Value + Sync),
    ) -> Result<()> {
        let time = ssm_audit_core::time::rfc3339(time::OffsetDateTime::now_utc());
        for bad in &report.failed {
            let mut event = event_of(&bad.input);
            if event.to_string().len() > MAX_EVENT_IN_MESSAGE {
                event = Value::Null;
            }
            let body = json!({
                "function": function,
                "input": bad.input,
                "record": bad.index,
                "reason": bad.reason,
                "time": time,
                "event": event,
            });
            tracing::warn!(%body, "cannot process");
            if let Some((sqs, url)) = &self.dlq {
                sqs.send_message()
                    .queue_url(url)
                    .message_body(body.to_string())
                    .send()
                    .await
                    .with_context(|| format!("cannot send to the dead-letter queue {url}"))?;
            }
        }
        Ok(())
    }
}

/// A dead-letter message carries the event that redrives it up to this size (SQS takes
/// 256 KiB a message); a larger one is left out (`event: null`) and redriven from its source.
const MAX_EVENT_IN_MESSAGE: usize = 200 << 10;

/// The event that sends one S3 object to `ssm-audit-ingest-s3` again.
pub fn object_event(bucket: &str, key: &str) -> Value {
    json!({
        "version": "0", "id": "ssm-audit-redrive", "detail-type": "Object Created",
        "source": "aws.s3", "detail": {"bucket": {"name": bucket}, "object": {"key": key}}
    })
}

/// `s3://bucket/prefix` or a folder.
pub fn open_store(
    spec: &str,
    s3: &aws_sdk_s3::Client,
    rt: tokio::runtime::Handle,
) -> Result<Arc<dyn Store>> {
    if spec.starts_with("s3://") {
        let url = spec.parse().map_err(|e: String| anyhow!(e))?;
        Ok(Arc::new(S3Store::new(s3.clone(), url, rt)))
    } else {
        Ok(Arc::new(
            ssm_audit_core::store::LocalStore::open(spec)
                .with_context(|| format!("cannot open the store folder {spec}"))?,
        ))
    }
}

/// Fail the invocation when what was read could not be stored: the store, not the input,
/// failed, and a retry may cure it (Lambda retries, then dead-letters the event with this
/// error; `ssm-audit dead-letters --redrive` sends it back). Bad input never comes here.
fn retry_if_not_stored(report: &IngestReport) -> Result<()> {
    match report.store_failed.first() {
        None => Ok(()),
        Some(b) => Err(anyhow!(
            "{} of the inputs read could not be stored (a retry may cure it): {b}",
            report.store_failed.len()
        )),
    }
}

/// The report as a handler's result.
fn summary(report: &IngestReport) -> Value {
    json!({
        "inputs_read": report.inputs_read,
        "facts": report.facts,
        "records_skipped": report.records_skipped,
        "inputs_skipped": report.inputs_skipped,
        "failed": report.failed,
    })
}

/// An S3 object key as S3 notifications give it: URL-encoded, with `+` for a space.
pub use ssm_audit_core::ids::decode_s3_event_key as decode_s3_key;

/// The objects an event names: S3 notifications (`Records[].s3`, keys URL-encoded), the same
/// wrapped in SNS or SQS bodies, and EventBridge `Object Created` events (keys plain).
/// S3's `s3:TestEvent` names none.
pub fn objects_of(event: &Value) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    if event.get("detail-type").and_then(Value::as_str) == Some("Object Created") {
        let d = &event["detail"];
        let (b, k) = (d["bucket"]["name"].as_str(), d["object"]["key"].as_str());
        let (Some(b), Some(k)) = (b, k) else {
            return Err(anyhow!(
                "an Object Created event without bucket.name and object.key"
            ));
        };
        out.push((b.to_owned(), k.to_owned()));
        return Ok(out);
    }
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        if event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
            return Ok(out);
        }
        return Err(anyhow!("not an S3 event: no Records"));
    };
    for r in records {
        // SQS and SNS carry the S3 event as a JSON string
        let inner = r
            .get("body")
            .or_else(|| r.get("Sns").and_then(|s| s.get("Message")))
            .and_then(Value::as_str);
        if let Some(inner) = inner {
            let v: Value = serde_json::from_str(inner).context("a wrapped S3 event is not JSON")?;
            out.extend(objects_of(&v)?);
            continue;
        }
        let rec: aws_lambda_events::s3::S3EventRecord =
            serde_json::from_value(r.clone()).context("not an S3 event record")?;
        if !rec
            .event_name
            .as_deref()
            .unwrap_or("ObjectCreated")
            .starts_with("ObjectCreated")
        {
            continue;
        }
        let (Some(b), Some(k)) = (rec.s3.bucket.name, rec.s3.object.key) else {
            return Err(anyhow!("an S3 event record without bucket or key"));
        };
        out.push((b, decode_s3_key(&k)));
    }
    Ok(out)
}

/// `ssm-audit-ingest-s3`: transcripts and CloudTrail trail files as they land in S3. Each
/// object is streamed to a temporary file and read from there, never held whole.
///
/// From an SQS queue (S3 notifications sent to a queue), each message is one item: the
/// result then carries `batchItemFailures` with the messages to retry, so one failing object
/// does not redeliver the others.
pub async fn ingest_s3(ctx: &Ctx, event: LambdaEvent<Value>) -> Result<Value> {
    let mut report = IngestReport::default();
    // each input's bucket, for the event that redrives it
    let mut buckets: std::collections::HashMap<String, String> = Default::default();
    let mut named = |objects: Vec<(String, String)>| {
        for (b, k) in &objects {
            buckets.insert(k.clone(), b.clone());
        }
        objects
    };
    let mut failures = Vec::new();
    let sqs = sqs_messages(&event.payload);
    if let Some(messages) = &sqs {
        for (id, body) in messages {
            let done = async {
                let v: Value = serde_json::from_str(body).context("the message is not JSON")?;
                ingest_objects(ctx, named(objects_of(&v)?), &mut report).await
            };
            if let Err(e) = done.await {
                tracing::warn!(message = %id, error = %format!("{e:#}"), "will be retried");
                failures.push(json!({ "itemIdentifier": id }));
            }
        }
    } else {
        ingest_objects(ctx, named(objects_of(&event.payload)?), &mut report).await?;
    }
    let event_of = |key: &str| {
        buckets
            .get(key)
            .map_or(Value::Null, |b| object_event(b, key))
    };
    ctx.dead_letter("ssm-audit-ingest-s3", &report, &event_of)
        .await?;
    let mut out = summary(&report);
    if sqs.is_some() {
        out["batchItemFailures"] = json!(failures);
    }
    Ok(out)
}

/// (messageId, body) of an SQS event's records, if it is one.
fn sqs_messages(event: &Value) -> Option<Vec<(String, String)>> {
    let records = event.get("Records")?.as_array()?;
    if records.is_empty() || records.iter().any(|r| r["eventSource"] != "aws:sqs") {
        return None;
    }
    let parsed: aws_lambda_events::sqs::SqsEvent = serde_json::from_value(event.clone()).ok()?;
    Some(
        parsed
            .records
            .into_iter()
            .map(|m| (m.message_id.unwrap_or_default(), m.body.unwrap_or_default()))
            .collect(),
    )
}

async fn ingest_objects(
    ctx: &Ctx,
    objects: Vec<(String, String)>,
    report: &mut IngestReport,
) -> Result<()> {
    for (bucket, key) in objects {
        let name = format!("s3://{bucket}/{key}");
        let tmp = tempfile::NamedTempFile::new_in(&ctx.work)
            .with_context(|| format!("no room for {name} in {}", ctx.work.display()))?;
        let origin = ssm_audit_aws::s3::download(&ctx.s3, &bucket, &key, tmp.path())
            .await
            .with_context(|| format!("cannot read {name}"))?;
        let path = tmp.path().to_owned();
        let one = ctx
            .blocking(move |store| {
                let mut r = IngestReport::with_custody();
                ingest::ingest_file_from(store, &path, &key, &origin, &mut r)?;
                r.leave_custody(store, &key);
                Ok::<_, std::io::Error>(r)
            })
            .await?
            .with_context(|| format!("cannot ingest {name}"))?;
        retry_if_not_stored(&one)?;
        report.merge(one);
    }
    Ok(())
}

/// Ingest a JSON event as one input named by its content, so a redelivery is the same input.
async fn ingest_json(ctx: &Ctx, function: &'static str, what: &str, event: Value) -> Result<Value> {
    let what = what.to_owned();
    let again = event.clone();
    let report = ctx
        .blocking(move |store| {
            let mut r = IngestReport::with_custody();
            ingest::ingest_json(store, &what, &event, &mut r);
            r.leave_custody(store, &what);
            r
        })
        .await?;
    // the store failing is worth a retry; a record that cannot be read is not
    retry_if_not_stored(&report)?;
    ctx.dead_letter(function, &report, &|_| again.clone())
        .await?;
    Ok(summary(&report))
}

/// `ssm-audit-ingest-cloudwatch`: CloudWatch Logs subscription payloads
/// (`{"awslogs":{"data":...}}`, base64 and gzip) from the session log group.
pub async fn ingest_cloudwatch(ctx: &Ctx, event: LambdaEvent<Value>) -> Result<Value> {
    if event.payload.get("awslogs").is_none() {
        return Err(anyhow!(
            "not a CloudWatch Logs subscription event: no awslogs"
        ));
    }
    ingest_json(
        ctx,
        "ssm-audit-ingest-cloudwatch",
        "cloudwatch",
        event.payload,
    )
    .await
}

/// `ssm-audit-ingest-cloudtrail`: EventBridge `AWS API Call via CloudTrail` events for
/// StartSession, ResumeSession and TerminateSession (`aws.ssm`), and ECS Exec's
/// ExecuteCommand (`aws.ecs`).
pub async fn ingest_cloudtrail(ctx: &Ctx, event: LambdaEvent<Value>) -> Result<Value> {
    let parsed: aws_lambda_events::eventbridge::EventBridgeEvent<Value> =
        serde_json::from_value(event.payload.clone()).context("not an EventBridge event")?;
    if parsed.source != "aws.ssm" && parsed.source != "aws.ecs" {
        return Err(anyhow!(
            "an EventBridge event from {}, not aws.ssm or aws.ecs",
            parsed.source
        ));
    }
    ingest_json(
        ctx,
        "ssm-audit-ingest-cloudtrail",
        "eventbridge",
        event.payload,
    )
    .await
}

/// `ssm-audit-indexer`: fold every fact into sessions and publish the index, then seal the
/// custody records the other functions left, with the index published, into the ledger,
/// signed by the KMS key (`SSM_AUDIT_LEDGER_KEY_ID`). Runs on a schedule; two runs at once
/// are safe (the manifest's and the ledger's conditional puts make one start over).
pub async fn indexer(ctx: &Ctx, _event: LambdaEvent<Value>) -> Result<Value> {
    let work = ctx.work.join("ssm-audit-index");
    let signer = match &ctx.ledger_key {
        Some(k) => Some(
            ssm_audit_aws::kms::KmsSigner::new(&ctx.conf, k, tokio::runtime::Handle::current())
                .await?,
        ),
        None => None,
    };
    let (stats, ledger) = ctx
        .blocking(move |store| -> Result<(publish::PublishStats, Value)> {
            let now = time::OffsetDateTime::now_utc();
            let opts = CorrelateOptions {
                now,
                ..CorrelateOptions::default()
            };
            let stamp = ssm_audit_core::time::rfc3339(now);
            let mut update =
                |dir: &Path| rebuild::rebuild_synced(store, dir, &opts).map_err(|e| e.to_string());
            let stats = publish::publish(store, &work, &stamp, &mut update)?;
            let index: Vec<_> = ssm_audit_core::provenance::published_index(store)?
                .into_iter()
                .collect();
            let ledger = match &signer {
                Some(s) => {
                    let sealed = ledger::seal(store, s, index)
                        .context("cannot seal the custody records into the ledger")?;
                    for (key, why) in &sealed.unreadable {
                        tracing::warn!(key, why, "not custody records: left where they are");
                    }
                    if sealed.left > 0 {
                        tracing::warn!(
                            left = sealed.left,
                            "a backlog of custody records: the rest is sealed by the next runs"
                        );
                    }
                    serde_json::to_value(sealed)?
                }
                None => {
                    ledger::hold(store, &index)?;
                    let waiting = ledger::pending(store)?.records.len();
                    tracing::warn!(waiting, "SSM_AUDIT_LEDGER_KEY_ID is not set: not sealed");
                    json!({
                        "not_sealed": "SSM_AUDIT_LEDGER_KEY_ID is not set",
                        "waiting": waiting,
                    })
                }
            };
            Ok((stats, ledger))
        })
        .await??;
    tracing::info!(?stats, %ledger, "published");
    let mut out = serde_json::to_value(stats)?;
    out["ledger"] = ledger;
    Ok(out)
}

/// Ingest JSON pages pulled from an API, each named by its content.
fn ingest_pages(store: &dyn Store, pages: Vec<(&'static str, Value)>) -> IngestReport {
    let mut report = IngestReport::with_custody();
    for (what, page) in pages {
        ingest::ingest_json(store, what, &page, &mut report);
    }
    report.leave_custody(store, "the pages read");
    report
}

use ssm_audit_core::keys::RECONCILE_STATE;

/// `ssm-audit-reconcile`: on a schedule, backfill what the event-driven functions may have
/// missed: CloudTrail LookupEvents for StartSession, ResumeSession and TerminateSession since
/// the last run (15 minutes of overlap, for CloudTrail's delivery delay; the first run looks
/// back `SSM_AUDIT_BACKFILL_HOURS`, 24 by default), and DescribeSessions history for end times
/// of sessions that ended by `exit` or a timeout, which CloudTrail never records.
pub async fn reconcile(ctx: &Ctx, _event: LambdaEvent<Value>) -> Result<Value> {
    let ct = aws_sdk_cloudtrail::Client::new(&ctx.conf);
    let ssm = aws_sdk_ssm::Client::new(&ctx.conf);
    reconcile_with(ctx, &ct, &ssm, time::OffsetDateTime::now_utc()).await
}

pub async fn reconcile_with(
    ctx: &Ctx,
    ct: &aws_sdk_cloudtrail::Client,
    ssm: &aws_sdk_ssm::Client,
    now: time::OffsetDateTime,
) -> Result<Value> {
    let state = ctx
        .blocking(|s| s.get(RECONCILE_STATE))
        .await?
        .context("cannot read the reconcile state")?;
    let last = state
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| {
            v["lookup_until"]
                .as_str()
                .and_then(ssm_audit_core::time::parse_time)
        });
    let hours: i64 = std::env::var("SSM_AUDIT_BACKFILL_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(24);
    let since = match last {
        Some(t) => t - time::Duration::minutes(15),
        None => now - time::Duration::hours(hours),
    };
    let mut pages: Vec<(&'static str, Value)> = Vec::new();
    let events = crate::backfill::lookup_session_events(ct, since, now, &mut |p| {
        pages.push(("cloudtrail-lookup", p));
        Ok(())
    })
    .await?;
    let described = crate::backfill::describe_history(ssm, &mut |p| {
        pages.push(("describe-sessions", p));
        Ok(())
    })
    .await?;
    // the keys that signed the window's digest files, for `ssm-audit verify`
    let keys = crate::backfill::list_public_keys(ct, since, now).await?;
    let report = ctx
        .blocking(move |store| ingest_pages(store, pages))
        .await?;
    // the window moves on only past what is stored: a failed run leaves it where it was
    retry_if_not_stored(&report)?;
    let public_keys = ctx
        .blocking(move |store| {
            ssm_audit_core::custody::digest::keep_public_keys(store, keys.to_string().as_bytes())
        })
        .await?
        .context("cannot keep CloudTrail's public keys")?;
    // reconcile looks back over its window again when run again
    ctx.dead_letter("ssm-audit-reconcile", &report, &|_| json!({}))
        .await?;
    let until = ssm_audit_core::time::rfc3339(now);
    let state = serde_json::to_vec(&json!({ "lookup_until": until }))?;
    ctx.blocking(move |s| s.put(RECONCILE_STATE, &state))
        .await?
        .context("cannot write the reconcile state")?;
    let mut out = summary(&report);
    out["lookup_events"] = json!(events);
    out["described_sessions"] = json!(described);
    out["public_keys"] = json!(public_keys);
    out["since"] = json!(ssm_audit_core::time::rfc3339(since));
    out["until"] = json!(until);
    Ok(out)
}

/// The session records of the published index (else of the last local rebuild).
pub fn published_records(
    store: &dyn Store,
) -> Result<Vec<ssm_audit_core::correlate::SessionRecord>> {
    if let Some((m, _)) = publish::read_manifest(store)? {
        let bytes = store
            .get(&m.records)?
            .with_context(|| format!("{} is gone", m.records))?;
        return serde_json::from_slice(&bytes).with_context(|| m.records.clone());
    }
    Ok(rebuild::load_records(store)?)
}

/// `ssm-audit-report`: on a schedule, the report of the last whole period in every format,
/// written to `reports/<period>/report.{html,md,csv,json}` in the store; running it again for
/// the same period writes the same files. The event says which period:
/// `{"period": "daily"|"weekly", "tz": "Europe/Paris", "at": "<RFC 3339>"}` (`tz` an IANA zone or
/// an offset like `+01:00`) (`tz` defaults to
/// `SSM_AUDIT_REPORT_TZ`, else UTC; `at` to now). Working hours and days come from
/// `SSM_AUDIT_WORK_HOURS` (8-18) and `SSM_AUDIT_WORK_DAYS` (mon-fri).
pub async fn report(ctx: &Ctx, event: LambdaEvent<Value>) -> Result<Value> {
    use ssm_audit_core::report::{self, Period, ReportOptions, Rules};
    let p = &event.payload;
    let period: Period = serde_json::from_value(p.get("period").cloned().unwrap_or(json!("daily")))
        .context("period: daily or weekly")?;
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let tz = p
        .get("tz")
        .and_then(Value::as_str)
        .map_or_else(|| env("SSM_AUDIT_REPORT_TZ", "UTC"), str::to_owned);
    let zone = report::Zone::parse(&tz).map_err(|e| anyhow!("tz {e}"))?;
    let at = match p.get("at").and_then(Value::as_str) {
        Some(t) => ssm_audit_core::time::parse_time(t).with_context(|| format!("at {t:?}"))?,
        None => time::OffsetDateTime::now_utc(),
    };
    let (since, until, name) = report::last_period(period, at, &zone);
    let (start_hour, end_hour) =
        report::parse_hours(&env("SSM_AUDIT_WORK_HOURS", "8-18")).map_err(|e| anyhow!(e))?;
    let days =
        report::parse_days(&env("SSM_AUDIT_WORK_DAYS", "mon-fri")).map_err(|e| anyhow!(e))?;
    let opts = ReportOptions {
        since,
        until,
        zone,
        start_hour,
        end_hour,
        days,
        // re-reading every object of the store is `ssm-audit verify`'s, not a schedule's
        verified: None,
        // made at the scheduled time it is for: a retry of the same event writes the same bytes
        provenance: report::Provenance {
            generated_at: ssm_audit_core::time::rfc3339(at),
            ..report::Provenance::now(&ctx.store.describe())
        },
    };
    let folder = name.clone();
    let written = ctx
        .blocking(move |store| -> Result<Vec<String>> {
            let records = published_records(store)?;
            let rules = Rules::load(None).map_err(|e| anyhow!("{e}"))?;
            // a text that cannot be read fails the run (retried), never a quieter report
            let unread = std::cell::RefCell::new(Vec::new());
            let text = |id: &str| match text::load_text(store, id) {
                Ok(t) => t,
                Err(e) => {
                    unread.borrow_mut().push(format!("{id}: {e}"));
                    None
                }
            };
            let r = report::build(&records, &text, &rules, &opts);
            let unread = unread.into_inner();
            if !unread.is_empty() {
                anyhow::bail!("cannot read the text of sessions: {}", unread.join("; "));
            }
            let mut keys = Vec::new();
            let mut files = vec![
                ("report.html".to_owned(), report::to_html(&r)),
                ("report.md".to_owned(), report::to_markdown(&r)),
                ("report.json".to_owned(), report::to_json(&r)),
            ];
            // CSV: one file per table
            for (name, body) in report::to_csv_files(&r) {
                files.push((format!("csv/{name}"), body));
            }
            for (name, body) in files {
                let key = format!("reports/{folder}/{name}");
                store.put(&key, body.as_bytes())?;
                keys.push(key);
            }
            Ok(keys)
        })
        .await??;
    Ok(json!({ "period": name, "written": written }))
}
