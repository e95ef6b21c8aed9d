//! The pipeline in "AWS", end to end: a moto server on 127.0.0.1 stands for S3, SQS and
//! CloudFormation; the Lambda functions run in cargo-lambda's Runtime API emulator (`cargo
//! lambda watch`) and are invoked with real-shaped S3, EventBridge and CloudWatch Logs events;
//! the CLI then syncs the published index from S3 and must find exactly what the local
//! pipeline finds in the same evidence. The SAM template is checked (sam validate --lint,
//! cfn-lint, checkov), translated to CloudFormation and created as a stack in moto.
//!
//! Needs `moto_server`, `cargo-lambda`, `sam`, `cfn-lint` and `checkov` on PATH:
//! `scripts/test.sh` installs them (`scripts/tools.sh`).

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ssm_audit_functions::s3::s3_client;
use ssm_audit_testing::{bucket, moto, runtime, session_of};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin() -> PathBuf {
    root().join("target/debug/ssm-audit")
}

fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{name} is not on PATH: run scripts/test.sh (it installs it with scripts/tools.sh)"
    );
    Command::new(name)
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({}):\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `ssm-audit` against the moto server.
fn cli(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .envs(moto().env())
        .env_remove("SSM_AUDIT_STORE")
        .output()
        .unwrap()
}

/// `cargo lambda watch`, stopped (with the functions it started) when dropped.
struct Watch {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Watch {
    fn start(env: &[(&str, String)], log: PathBuf) -> Watch {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = std::fs::File::create(&log).unwrap();
        // release builds for measurements (scripts/measure_lambdas.sh)
        let release = std::env::var_os("SSM_AUDIT_LAMBDA_RELEASE").is_some();
        let child = tool("cargo-lambda")
            .args([
                "lambda",
                "watch",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .args(release.then_some("--release"))
            .current_dir(root())
            .envs(moto().env())
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(if release { 1800 } else { 60 });
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Watch { child, port, log }
    }

    /// Invoke a function with an event, as `cargo lambda invoke` does; its JSON result.
    fn invoke(&self, function: &str, event: &Value) -> Value {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(event.to_string().as_bytes()).unwrap();
        let o = tool("cargo-lambda")
            .args(["lambda", "invoke", "-A", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .arg(function)
            .arg("--data-file")
            .arg(f.path())
            .output()
            .unwrap();
        let out = ok(o, &format!("invoking {function}"));
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("{function} answered {out:?}: {e}"))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("--")
            .arg(format!("-{}", self.child.id()))
            .status();
        let _ = self.child.wait();
    }
}

/// An S3 notification for objects, keys URL-encoded as S3 encodes them.
fn s3_event(bucket: &str, keys: &[String]) -> Value {
    let fixture: Value = serde_json::from_str(include_str!(
        "../functions/tests/events/s3-object-created.json"
    ))
    .unwrap();
    let records: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut r = fixture["Records"][0].clone();
            r["s3"]["bucket"]["name"] = json!(bucket);
            let enc: String = k
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' => {
                        (b as char).to_string()
                    }
                    b' ' => "+".into(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            r["s3"]["object"]["key"] = json!(enc);
            r
        })
        .collect();
    json!({ "Records": records })
}

/// An EventBridge `Object Created` event (S3 with EventBridge notifications on).
fn object_created(bucket: &str, key: &str) -> Value {
    json!({
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2026-11-22T09:41:07Z",
        "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 1024, "etag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "00617F08299329D189"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "cloudtrail.amazonaws.com",
            "source-ip-address": "10.0.3.17",
            "reason": "PutObject"
        }
    })
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// (init ms, max RSS kB, invocation ms) each function logged through the emulator.
fn measured(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("init_ms") || l.contains("max_rss_kb"))
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn the_pipeline_in_aws_finds_what_the_local_pipeline_finds() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let demo = work.path().join("demo");
    // the same evidence, through the local pipeline: the answer the AWS one must give
    ok(
        Command::new(bin())
            .arg("quickstart")
            .arg("--dir")
            .arg(&demo)
            .output()
            .unwrap(),
        "quickstart",
    );
    let local = demo.join("data");
    let local_q = |args: &[&str]| {
        let mut a = vec!["--data-dir", local.to_str().unwrap()];
        a.extend_from_slice(args);
        ok(
            Command::new(bin())
                .args(&a)
                .env_remove("SSM_AUDIT_STORE")
                .output()
                .unwrap(),
            "local query",
        )
    };
    let evidence = demo.join("evidence");

    let conf = moto().config();
    let s3 = s3_client(&conf);
    let (store, logs, trail) = rt.block_on(async {
        (
            bucket(&s3, "store").await,
            bucket(&s3, "session-logs").await,
            bucket(&s3, "trail").await,
        )
    });
    let dlq = rt.block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&conf);
        let q = sqs
            .create_queue()
            .queue_name(format!("e2e-dlq-{}", std::process::id()))
            .send()
            .await
            .unwrap();
        q.queue_url().unwrap().to_owned()
    });
    let put = |b: &str, key: &str, path: &Path| {
        let body = std::fs::read(path).unwrap();
        rt.block_on(s3.put_object().bucket(b).key(key).body(body.into()).send())
            .unwrap();
    };
    let store_url = format!("s3://{store}/audit");
    // the ledger's signing key, as the template declares it
    let kms = aws_sdk_kms::Client::new(&conf);
    let ledger_key = rt
        .block_on(
            kms.create_key()
                .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
                .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
                .send(),
        )
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let watch = Watch::start(
        &[
            ("SSM_AUDIT_STORE", store_url.clone()),
            ("SSM_AUDIT_DLQ_URL", dlq.clone()),
            ("SSM_AUDIT_LEDGER_KEY_ID", ledger_key.clone()),
        ],
        work.path().join("watch.log"),
    );

    // transcripts land in the session-log bucket (S3 notification, keys URL-encoded)
    let mut log_keys = Vec::new();
    for f in files(&evidence.join("s3")) {
        let key = format!(
            "AWSLogs/session logs/{}",
            f.file_name().unwrap().to_str().unwrap()
        );
        put(&logs, &key, &f);
        log_keys.push(key);
    }
    let ev = s3_event(&logs, &log_keys);
    let out = watch.invoke("ssm-audit-ingest-s3", &ev);
    assert_eq!(
        (out["inputs_read"].clone(), out["failed"].clone()),
        (json!(log_keys.len()), json!([])),
        "{out}"
    );
    // the trail file lands in the trail bucket (EventBridge Object Created, key plain)
    let trail_file = files(&evidence.join("cloudtrail")).pop().unwrap();
    let trail_key = trail_file
        .strip_prefix(evidence.join("cloudtrail"))
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    put(&trail, &trail_key, &trail_file);
    let out = watch.invoke("ssm-audit-ingest-s3", &object_created(&trail, &trail_key));
    assert_eq!(out["inputs_read"], 1, "{out}");
    assert!(out["facts"].as_u64().unwrap() >= 5, "{out}");
    let read = |p: &str| -> Value {
        serde_json::from_slice(&std::fs::read(evidence.join(p)).unwrap()).unwrap()
    };
    let out = watch.invoke(
        "ssm-audit-ingest-cloudwatch",
        &read("cloudwatch/subscription-event.json"),
    );
    assert_eq!(out["failed"], json!([]), "{out}");
    let out = watch.invoke(
        "ssm-audit-ingest-cloudtrail",
        &read("eventbridge/start-session.json"),
    );
    assert_eq!(out["facts"], 1, "{out}");
    // at least once: a redelivery changes nothing
    watch.invoke("ssm-audit-ingest-s3", &ev);
    let published = watch.invoke("ssm-audit-indexer", &json!({}));
    assert_eq!(published["generation"], 1, "{published}");

    // anyone with read access: sync, then ask
    let cache = work.path().join("cache");
    let remote_q = |args: &[&str]| {
        let mut a = vec![
            "--store",
            store_url.as_str(),
            "--data-dir",
            cache.to_str().unwrap(),
        ];
        a.extend_from_slice(args);
        ok(cli(&a), "query through --store")
    };
    let synced = remote_q(&["sync", "--json"]);
    let synced: Value = serde_json::from_str(&synced).unwrap();
    assert_eq!(synced["generation"], 1, "{synced}");
    assert!(synced["downloaded"].as_u64().unwrap() > 0, "{synced}");
    for q in [
        vec!["sessions", "--json"],
        vec!["sessions", "--flag", "denied", "--json"],
        vec!["tunnels", "--json"],
        vec!["gaps", "--json"],
        vec!["search", "--json", "cat /etc/shadow"],
        vec!["search", "--json", "command:kubectl"],
        vec!["search", "--json", "DB_PASSWORD OR 10.0.3.17"],
    ] {
        let (l, r) = (local_q(&q), remote_q(&q));
        // where a copy was read differs by design (a local path, an S3 key): the rest may not
        let (l, r): (Value, Value) = (
            without_locations(serde_json::from_str(&l).unwrap()),
            without_locations(serde_json::from_str(&r).unwrap()),
        );
        assert_eq!(l, r, "{q:?}: local and AWS answers differ");
        if q[0] != "gaps" && !q.contains(&"denied") {
            assert!(
                l.as_array().is_some_and(|a| !a.is_empty()),
                "{q:?} found nothing"
            );
        }
    }
    // a second sync pulls nothing new
    let again: Value = serde_json::from_str(&remote_q(&["sync", "--json"])).unwrap();
    assert_eq!(again["downloaded"], 0, "{again}");

    // a new session: from upload to finding it with search
    let rec =
        std::fs::read(root().join("indexer/tests/recordings/dash-80x24/session.log")).unwrap();
    let path = work.path().join("dash.log");
    std::fs::write(&path, &rec).unwrap();
    let sid = session_of(&rec);
    let t0 = Instant::now();
    let key = format!("AWSLogs/{sid}.log");
    put(&logs, &key, &path);
    watch.invoke(
        "ssm-audit-ingest-s3",
        &s3_event(&logs, std::slice::from_ref(&key)),
    );
    watch.invoke("ssm-audit-indexer", &json!({}));
    let hits: Value = serde_json::from_str(&remote_q(&[
        "search",
        "--json",
        "command:\"hello from dash\"",
    ]))
    .unwrap();
    let elapsed = t0.elapsed();
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["session_id"] == json!(sid)),
        "{hits}"
    );
    eprintln!(
        "measured: upload to search hit {:.0} ms ({} build, warm functions)",
        elapsed.as_secs_f64() * 1e3,
        if std::env::var_os("SSM_AUDIT_LAMBDA_RELEASE").is_some() {
            "release"
        } else {
            "debug"
        }
    );
    for m in measured(&watch.log) {
        eprintln!("measured: {m}");
    }

    // ---- proof: verify against the S3 store, the ledger pinned to the KMS key ----
    let der = rt
        .block_on(kms.get_public_key().key_id(&ledger_key).send())
        .unwrap()
        .public_key()
        .unwrap()
        .as_ref()
        .to_vec();
    let pem = {
        use base64::Engine;
        use ssm_audit_core::custody::ledger;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        ledger::public_key_pem(ledger::RSA_PKCS1_SHA256, &b64).unwrap()
    };
    let pem_file = work.path().join("ledger.pem");
    std::fs::write(&pem_file, pem).unwrap();
    let verify = || {
        cli(&[
            "--store",
            store_url.as_str(),
            "--data-dir",
            cache.to_str().unwrap(),
            "verify",
            "--json",
            "--ledger-key",
            pem_file.to_str().unwrap(),
        ])
    };
    let o = verify();
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["problems"], json!([]), "{v}");
    // every object the functions kept is in the ledger and checked: the S3 transcripts (the
    // redelivery kept no other), the CloudWatch upload's, the dash one, the trail file, and
    // every facts file
    let count = |prefix: &str| {
        rt.block_on(s3.list_objects_v2().bucket(&store).prefix(prefix).send())
            .unwrap()
            .contents()
            .len()
    };
    let kept = count("audit/transcripts/") + count("audit/trails/") + count("audit/facts/");
    assert!(kept > log_keys.len() + 1, "{kept}");
    assert_eq!(v["summary"]["copies_valid"], json!(kept), "{v}");
    assert_eq!(v["summary"]["log_files_not_covered"], 1, "{v}");
    // a copy overwritten in the store is named; put back, all is well again
    let copy_key = rt
        .block_on(
            s3.list_objects_v2()
                .bucket(&store)
                .prefix(format!("audit/transcripts/{sid}/"))
                .send(),
        )
        .unwrap()
        .contents()[0]
        .key()
        .unwrap()
        .to_owned();
    let original = rt.block_on(async {
        let o = s3.get_object().bucket(&store).key(&copy_key).send().await;
        o.unwrap().body.collect().await.unwrap().into_bytes()
    });
    let overwrite = |body: Vec<u8>| {
        rt.block_on(
            s3.put_object()
                .bucket(&store)
                .key(&copy_key)
                .body(body.into())
                .send(),
        )
        .unwrap();
    };
    overwrite(b"nothing to see here\n".to_vec());
    let o = verify();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{v}");
    let problems: Vec<(String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].to_string(), p["object"].to_string()))
        .collect();
    let object = copy_key.strip_prefix("audit/").unwrap();
    assert_eq!(
        problems,
        [(
            json!("copy-modified").to_string(),
            json!(object).to_string()
        )]
    );
    overwrite(original.to_vec());
    assert_eq!(verify().status.code(), Some(0));

    // ---- dead letters: listed, then redriven once the cause is fixed ----
    // input that cannot be read: the function sends it to the queue itself
    let broken = work.path().join("broken.log.gz");
    std::fs::write(&broken, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
    put(&logs, "AWSLogs/broken.log.gz", &broken);
    let out = watch.invoke(
        "ssm-audit-ingest-s3",
        &object_created(&logs, "AWSLogs/broken.log.gz"),
    );
    assert_eq!(out["failed"].as_array().unwrap().len(), 1, "{out}");
    // an invocation that failed three times (its object was not there yet): Lambda puts the
    // event in the queue with the error
    let late = root().join("indexer/tests/recordings/zsh-80x24/session.log");
    let late_sid = session_of(&std::fs::read(&late).unwrap());
    let late_key = format!("AWSLogs/{late_sid}.log");
    let sqs = aws_sdk_sqs::Client::new(&conf);
    rt.block_on(
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(s3_event(&logs, std::slice::from_ref(&late_key)).to_string())
            .message_attributes(
                "ErrorMessage",
                aws_sdk_sqs::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(format!("cannot read s3://{logs}/{late_key}: NoSuchKey"))
                    .build()
                    .unwrap(),
            )
            .send(),
    )
    .unwrap();
    let dl = |args: &[&str]| {
        let mut a = vec!["dead-letters", "--queue", dlq.as_str(), "--json"];
        a.extend_from_slice(args);
        Command::new(bin())
            .args(&a)
            .envs(moto().env())
            .env(
                "AWS_ENDPOINT_URL_LAMBDA",
                format!("http://127.0.0.1:{}", watch.port),
            )
            .output()
            .unwrap()
    };
    let listed = dl(&[]);
    assert_eq!(listed.status.code(), Some(1), "the queue holds messages");
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed
        .iter()
        .all(|l| l["function"] == "ingest-s3" && l["redrivable"] == true));
    assert!(listed
        .iter()
        .any(|l| l["input"] == "AWSLogs/broken.log.gz"
            && l["reason"].as_str().unwrap().contains("gzip")));
    assert!(listed
        .iter()
        .any(|l| l["reason"].as_str().unwrap().contains("NoSuchKey")));
    // listing left them in the queue; the cause is fixed, then they are sent back
    put(&logs, &late_key, &late);
    let redriven: Value = serde_json::from_str(&ok(dl(&["--redrive"]), "redrive")).unwrap();
    assert!(
        redriven
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["redrive"] == "redriven"),
        "{redriven}"
    );
    // the input still broken is back as a new message; the late object is in the index
    let left: Value = serde_json::from_slice(&dl(&[]).stdout).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["input"], "AWSLogs/broken.log.gz");
    watch.invoke("ssm-audit-indexer", &json!({}));
    let o = ok(
        cli(&[
            "--store",
            store_url.as_str(),
            "--data-dir",
            cache.to_str().unwrap(),
            "sessions",
            "--json",
        ]),
        "sessions after the redrive",
    );
    assert!(o.contains(&late_sid), "{o}");
}

#[test]
fn the_template_passes_sam_validate_cfn_lint_and_checkov() {
    let infra = root().join("infra");
    ok(
        tool("sam")
            .args([
                "validate",
                "--lint",
                "--region",
                "us-east-1",
                "--template",
                "template.yaml",
            ])
            .env("SAM_CLI_TELEMETRY", "0")
            .current_dir(&infra)
            .output()
            .unwrap(),
        "sam validate --lint",
    );
    ok(
        tool("cfn-lint")
            .arg("template.yaml")
            .current_dir(&infra)
            .output()
            .unwrap(),
        "cfn-lint",
    );
    let out = ok(
        tool("checkov")
            .args([
                "-f",
                "template.yaml",
                "--framework",
                "cloudformation",
                "--skip-download",
                "--compact",
                "--quiet",
            ])
            .env("BC_SKIP_MAPPING", "TRUE")
            .current_dir(&infra)
            .output()
            .unwrap(),
        "checkov",
    );
    assert!(out.contains("Failed checks: 0"), "{out}");
    // every skipped check says why, in the template
    let template = std::fs::read_to_string(infra.join("template.yaml")).unwrap();
    let skips = template.matches("- id: CKV").count();
    assert_eq!(
        skips,
        template.matches("comment:").count(),
        "a checkov skip without a comment"
    );
}

#[test]
fn the_template_deploys_as_a_stack_in_moto() {
    let rt = runtime();
    let conf = moto().config();
    let s3 = s3_client(&conf);
    let code = rt.block_on(bucket(&s3, "code"));
    // an empty zip: moto creates functions but never runs them
    let zip = [&b"PK\x05\x06"[..], &[0u8; 18]].concat();
    rt.block_on(
        s3.put_object()
            .bucket(&code)
            .key("bootstrap.zip")
            .body(zip.into())
            .send(),
    )
    .unwrap();
    let python = std::env::var("SSM_AUDIT_TOOLS_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = ok(
        Command::new(python)
            .arg(root().join("scripts/stack_in_moto.py"))
            .arg(&moto().endpoint)
            .arg(root().join("infra/template.yaml"))
            .arg(&code)
            .arg("bootstrap.zip")
            .output()
            .unwrap(),
        "stack_in_moto.py",
    );
    let stack: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stack["status"], "CREATE_COMPLETE", "{stack}");
    let functions = stack["functions"].as_object().unwrap();
    for name in [
        "ingest-s3",
        "ingest-cloudwatch",
        "ingest-cloudtrail",
        "indexer",
        "reconcile",
        "report",
    ] {
        let f = &functions[&format!("ssm-audit-{name}")];
        assert_eq!(f["runtime"], "provided.al2023", "{name}: {f}");
        assert_eq!(f["handler"], "bootstrap", "{name}: {f}");
        assert!(
            f["env"]
                .as_array()
                .unwrap()
                .contains(&json!("SSM_AUDIT_STORE")),
            "{name}: {f}"
        );
        let t = &stack["translated"][format!("ssm-audit-{name}")];
        assert_eq!(t["architectures"], json!(["arm64"]), "{name}: {t}");
        assert_eq!(
            (t["dead_letter"].clone(), t["env_encrypted"].clone()),
            (json!(true), json!(true)),
            "{name}: {t}"
        );
        assert_eq!(t["tracing"], "Active", "{name}: {t}");
        assert!(
            t["reserved_concurrency"].as_u64().is_some_and(|n| n >= 1),
            "{name}: {t}"
        );
    }
    // the custody ledger's signing key, and the indexer that signs with it
    assert!(
        stack["kms_keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["usage"] == "SIGN_VERIFY" && k["spec"] == "RSA_2048"),
        "{}",
        stack["kms_keys"]
    );
    assert!(
        functions["ssm-audit-indexer"]["env"]
            .as_array()
            .unwrap()
            .contains(&json!("SSM_AUDIT_LEDGER_KEY_ID")),
        "{}",
        functions["ssm-audit-indexer"]
    );
    let rules = stack["rules"].as_array().unwrap();
    let schedules: Vec<&str> = rules
        .iter()
        .filter_map(|r| r["schedule"].as_str())
        .collect();
    for s in [
        "rate(5 minutes)",
        "rate(1 hour)",
        "cron(30 0 * * ? *)",
        "cron(45 0 ? * MON *)",
    ] {
        assert!(schedules.contains(&s), "{s} not in {schedules:?}");
    }
    let patterns: Vec<&Value> = rules
        .iter()
        .filter_map(|r| r.get("pattern").filter(|p| !p.is_null()))
        .collect();
    assert!(
        patterns.iter().any(|p| p["source"] == json!(["aws.ssm"])
            && p["detail"]["eventName"]
                == json!(["StartSession", "ResumeSession", "TerminateSession"])),
        "{patterns:?}"
    );
    assert!(
        patterns.iter().any(|p| p["source"] == json!(["aws.ecs"])
            && p["detail"]["eventName"] == json!(["ExecuteCommand"])),
        "{patterns:?}"
    );
    assert!(
        patterns
            .iter()
            .any(|p| p["detail-type"] == json!(["Object Created"])),
        "{patterns:?}"
    );
    let types: Vec<&str> = stack["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    for t in [
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::Lambda::Function",
    ] {
        assert!(types.contains(&t), "{t} not in the stack: {types:?}");
    }
    // what moto creates without listing it in the stack
    let translated: Vec<&str> = stack["translated_types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in [
        "AWS::CloudWatch::Alarm",
        "AWS::IAM::Role",
        "AWS::Events::Rule",
        "AWS::Lambda::Permission",
        "AWS::S3::BucketPolicy",
    ] {
        assert!(
            translated.contains(&t),
            "{t} not in the template: {translated:?}"
        );
    }
}

#[test]
fn the_cli_backfills_from_s3_and_cloudwatch_logs() {
    let rt = runtime();
    let conf = moto().config();
    let s3 = s3_client(&conf);
    let logs_bucket = rt.block_on(bucket(&s3, "backfill"));
    let rec =
        std::fs::read(root().join("indexer/tests/recordings/bash5-ubuntu-132x40/session.log"))
            .unwrap();
    let s3_sid = session_of(&rec);
    rt.block_on(
        s3.put_object()
            .bucket(&logs_bucket)
            .key(format!("AWSLogs/{s3_sid}.log"))
            .body(rec.into())
            .send(),
    )
    .unwrap();
    // the streamed copy: one JSON message per tick in a stream named by the session
    let cw_sid = "bob-0f1e2d3c4b5a69788";
    let group = format!("/aws/ssm/sessions-{}", std::process::id());
    let sample: Value = serde_json::from_slice(
        &std::fs::read(root().join("indexer/tests/data/samples/cwlogs_streamed_session_event_json_systemsmanager-handson.json")).unwrap(),
    )
    .unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    rt.block_on(async {
        let cw = aws_sdk_cloudwatchlogs::Client::new(&conf);
        cw.create_log_group()
            .log_group_name(&group)
            .send()
            .await
            .unwrap();
        cw.create_log_stream()
            .log_group_name(&group)
            .log_stream_name(cw_sid)
            .send()
            .await
            .unwrap();
        let mut events = Vec::new();
        for (i, lines) in [
            ["sh-4.2$ whoami", "ssm-user"],
            ["sh-4.2$ date", "Thu Jan  4 05:45:59 UTC 2024"],
        ]
        .iter()
        .enumerate()
        {
            let mut m = sample.clone();
            m["sessionId"] = json!(cw_sid);
            m["eventTime"] = json!(format!("2026-11-22T10:0{i}:00Z"));
            m["sessionData"] = json!(lines);
            events.push(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    // CloudWatch refuses events older than 14 days: minutes ago
                    .timestamp(now_ms - 600_000 + i as i64 * 60_000)
                    .message(m.to_string())
                    .build()
                    .unwrap(),
            );
        }
        cw.put_log_events()
            .log_group_name(&group)
            .log_stream_name(cw_sid)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    });

    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let out = ok(
        cli(&[
            "--data-dir",
            d,
            "ingest",
            "--json",
            &format!("s3://{logs_bucket}/AWSLogs/"),
            &format!("cloudwatch://{group}"),
        ]),
        "ingest s3:// cloudwatch://",
    );
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["report"]["failed"], json!([]), "{summary}");
    assert_eq!(summary["report"]["inputs_read"], 2, "{summary}");
    let sessions: Value = serde_json::from_str(&ok(
        cli(&["--data-dir", d, "sessions", "--json"]),
        "sessions",
    ))
    .unwrap();
    let ids: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["session_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(
        ids.contains(&s3_sid.as_str()) && ids.contains(&cw_sid),
        "{ids:?}"
    );
    let hits: Value = serde_json::from_str(&ok(
        cli(&["--data-dir", d, "search", "--json", "whoami"]),
        "search",
    ))
    .unwrap();
    assert_eq!(hits[0]["session_id"], cw_sid, "{hits}");
    // a source that is not there: a clear error, exit 2
    let o = cli(&["--data-dir", d, "ingest", "cloudwatch:///no/such/group"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("/no/such/group"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A large transcript through `ssm-audit-ingest-s3` (its size in MiB from
/// `SSM_AUDIT_LARGE_OBJECT_MIB`, 1024 by default): streamed to /tmp, rendered as read, its
/// text written as rendered; the function's peak memory must stay inside the 512 MB the
/// template gives it. Slow (minutes, gigabytes of disk): run by `make lambdas`.
#[test]
#[ignore = "a measurement: scripts/measure_lambdas.sh runs it"]
fn a_large_transcript_ingests_in_a_512_mb_function() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let mib: u64 = std::env::var("SSM_AUDIT_LARGE_OBJECT_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let path = work.path().join("big.log");
    let gen = Command::new("python3")
        .arg(root().join("scripts/gen_transcript.py"))
        .arg((mib << 20).to_string())
        .current_dir(root())
        .stdout(std::fs::File::create(&path).unwrap())
        .status()
        .unwrap();
    assert!(gen.success());
    let size = std::fs::metadata(&path).unwrap().len();
    let conf = moto().config();
    let s3 = s3_client(&conf);
    let (store, logs) = rt.block_on(async {
        (
            bucket(&s3, "store").await,
            bucket(&s3, "session-logs").await,
        )
    });
    let key = "AWSLogs/alice-0123456789abcdefghijklmnop.log".to_owned();
    rt.block_on(async {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(&path)
            .await
            .unwrap();
        s3.put_object()
            .bucket(&logs)
            .key(&key)
            .body(body)
            .send()
            .await
            .unwrap()
    });
    let watch = Watch::start(
        &[("SSM_AUDIT_STORE", format!("s3://{store}/audit"))],
        work.path().join("watch.log"),
    );
    let t0 = Instant::now();
    let out = watch.invoke("ssm-audit-ingest-s3", &s3_event(&logs, &[key]));
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(
        (out["inputs_read"].clone(), out["failed"].clone()),
        (json!(1), json!([])),
        "{out}"
    );
    let rss: Vec<u64> = measured(&watch.log)
        .iter()
        .filter_map(|l| {
            let v = l.split("max_rss_kb=").nth(1)?;
            v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        })
        .collect();
    let peak = *rss.iter().max().expect("the function logs its peak memory");
    eprintln!(
        "measured: ingest-s3 of a {:.0} MiB transcript: {} MB peak RSS, {secs:.1} s",
        size as f64 / (1u64 << 20) as f64,
        peak / 1000
    );
    assert!(peak < 512_000, "peak RSS {peak} kB");
}

/// `v` less every `locations` field (where a transcript copy was read).
fn without_locations(mut v: Value) -> Value {
    match &mut v {
        Value::Object(m) => {
            m.remove("locations");
            for x in m.values_mut() {
                *x = without_locations(x.take());
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = without_locations(x.take());
            }
        }
        _ => {}
    }
    v
}
