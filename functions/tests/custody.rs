//! Custody in AWS, against moto: S3 versions (a transcript overwritten after upload) and
//! Object Lock read back into the custody records; the indexer sealing what the functions
//! left into the ledger with a KMS key (`kms:Sign`), which `verify` checks offline and KMS's
//! own `Verify` agrees with; a copy or a ledger record changed afterwards is named.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use ssm_audit_core::custody::{ledger, verify};
use ssm_audit_core::store::Store;
use ssm_audit_functions::handlers::{self, Ctx};
use ssm_audit_functions::s3::s3_client;
use ssm_audit_testing::{bucket, moto, session_of};

fn recording(name: &str) -> Vec<u8> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../indexer/tests/recordings")
        .join(name)
        .join("session.log");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

async fn ctx(work: &Path) -> Ctx {
    let conf = moto().config();
    let store = bucket(&s3_client(&conf), "store").await;
    let mut ctx = Ctx::new(&format!("s3://{store}/audit"), conf, None).unwrap();
    ctx.work = work.to_owned();
    ctx
}

/// Run blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Store) -> T + Send + 'static,
) -> T {
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(&*s)).await.unwrap()
}

/// The custody records waiting to be sealed, inputs only.
async fn pending_inputs(store: &Arc<dyn Store>) -> Vec<ssm_audit_core::custody::Custody> {
    blocking(store, |s| ledger::pending(s).unwrap().records)
        .await
        .into_iter()
        .filter(|c| c.held == ssm_audit_core::custody::Held::Input)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_overwritten_after_upload_is_flagged_and_object_lock_is_recorded() {
    let work = tempfile::tempdir().unwrap();
    let ctx = ctx(work.path()).await;
    let s3 = &ctx.s3;
    // a versioned bucket: the agent's upload, then the same key written again, edited
    let logs = bucket(s3, "logs").await;
    s3.put_bucket_versioning()
        .bucket(&logs)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let log = recording("bash5-ubuntu-80x24");
    let sid = session_of(&log);
    let key = format!("{sid}.log");
    let edited = String::from_utf8_lossy(&log).replace("whoami", "uptime");
    for body in [log.clone(), edited.into_bytes()] {
        s3.put_object()
            .bucket(&logs)
            .key(&key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    // an Object Lock bucket: the version kept in governance mode until a date
    let locked = format!("locked-{}", std::process::id());
    s3.create_bucket()
        .bucket(&locked)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let other = recording("bash5-repl-80x24");
    let other_key = format!("{}.log", session_of(&other));
    let until = aws_smithy_types::DateTime::from_secs(1_893_456_000); // 2030-01-01
    s3.put_object()
        .bucket(&locked)
        .key(&other_key)
        .body(other.into())
        .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Governance)
        .object_lock_retain_until_date(until)
        .send()
        .await
        .unwrap();
    for (b, k) in [(&logs, &key), (&locked, &other_key)] {
        let out = handlers::ingest_s3(&ctx, event(handlers::object_event(b, k)))
            .await
            .unwrap();
        assert_eq!(
            (out["inputs_read"].clone(), out["failed"].clone()),
            (json!(1), json!([])),
            "{out}"
        );
    }
    let inputs = pending_inputs(&ctx.store).await;
    let of = |k: &str| {
        inputs
            .iter()
            .find(|c| c.origin.key.as_deref() == Some(k))
            .unwrap_or_else(|| panic!("no custody of {k}: {inputs:?}"))
            .origin
            .clone()
    };
    let rewritten = of(&key);
    assert_eq!(rewritten.versions, Some(2));
    assert!(rewritten.version_id.is_some());
    let held = of(&other_key);
    assert_eq!(held.versions, Some(1));
    assert_eq!(held.object_lock_mode.as_deref(), Some("GOVERNANCE"));
    assert!(
        held.object_lock_retain_until
            .as_deref()
            .is_some_and(|t| t.starts_with("2030-01-01")),
        "{held:?}"
    );
    // the session whose transcript was overwritten is flagged, the other not
    handlers::indexer(&ctx, event(json!({}))).await.unwrap();
    let records = blocking(&ctx.store, |s| handlers::published_records(s).unwrap()).await;
    let flags = |id: &str| {
        let r = records
            .iter()
            .find(|r| r.session_id.as_deref() == Some(id))
            .unwrap();
        serde_json::to_value(&r.flags).unwrap().to_string()
    };
    assert!(
        flags(&sid).contains("transcript-rewritten"),
        "{}",
        flags(&sid)
    );
    assert!(!flags(&session_of(&recording("bash5-repl-80x24"))).contains("transcript-rewritten"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_seals_the_ledger_with_a_kms_key_that_verify_and_kms_both_check() {
    let work = tempfile::tempdir().unwrap();
    let mut ctx = ctx(work.path()).await;
    let kms = aws_sdk_kms::Client::new(&ctx.conf);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    ctx.ledger_key = Some(key_id.clone());
    let logs = bucket(&ctx.s3, "logs").await;
    let log = recording("bash5-ubuntu-80x24");
    let name = format!("{}.log", session_of(&log));
    ctx.s3
        .put_object()
        .bucket(&logs)
        .key(&name)
        .body(log.into())
        .send()
        .await
        .unwrap();
    handlers::ingest_s3(&ctx, event(handlers::object_event(&logs, &name)))
        .await
        .unwrap();
    let out = handlers::indexer(&ctx, event(json!({}))).await.unwrap();
    // the input, its copy, its facts and the index published: one segment, nothing waiting
    assert_eq!(out["ledger"]["segment"], 0, "{out}");
    assert_eq!(out["ledger"]["records"], 4, "{out}");
    assert!(pending_inputs(&ctx.store).await.is_empty());

    let v = blocking(&ctx.store, |s| verify::verify(s, None, None).unwrap()).await;
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    // the transcript copy and its facts file
    assert_eq!(v.summary.copies_valid, 2);
    // pinned to the key's public half as KMS gives it
    let public = kms.get_public_key().key_id(&key_id).send().await.unwrap();
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(public.public_key().unwrap().as_ref())
    };
    let pinned = ledger::LedgerKey::parse(ledger::RSA_PKCS1_SHA256, &b64).unwrap();
    let v = blocking(&ctx.store, move |s| {
        verify::verify(s, None, Some(pinned)).unwrap()
    })
    .await;
    assert!(v.problems.is_empty() && v.notes.is_empty(), "{v:?}");

    // KMS's own Verify agrees with the segment's signature
    let seg = blocking(&ctx.store, |s| {
        String::from_utf8(s.get("ledger/000000000000.jsonl").unwrap().unwrap()).unwrap()
    })
    .await;
    let (line, sig) = seg.split_once('\n').unwrap();
    let checked = kms
        .verify()
        .key_id(&key_id)
        .message(aws_sdk_kms::primitives::Blob::new(ledger::signed_message(
            ledger::RSA_PKCS1_SHA256,
            line,
        )))
        .message_type(aws_sdk_kms::types::MessageType::Raw)
        .signature(aws_sdk_kms::primitives::Blob::new(
            hex::decode(sig.trim()).unwrap(),
        ))
        .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
        .send()
        .await
        .unwrap();
    assert!(checked.signature_valid());

    // a bundle of the session proves its copy by the KMS-signed segment, with openssl alone
    let out = work.path().join("bundle");
    let sid = session_of(&recording("bash5-ubuntu-80x24"));
    let o2 = out.clone();
    blocking(&ctx.store, move |s| {
        ssm_audit_core::custody::bundle::bundle(s, &sid, &o2, &Default::default()).unwrap()
    })
    .await;
    let verify_txt = std::fs::read_to_string(out.join("VERIFY.txt")).unwrap();
    let cmd = verify_txt
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("openssl dgst") && l.contains("ledger/"))
        .unwrap_or_else(|| panic!("{verify_txt}"));
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Verified OK"),
        "{cmd}: {o:?}"
    );

    // a kept copy changed, then a ledger record edited to match it: both named
    let copy = blocking(&ctx.store, |s| s.list("transcripts/").unwrap()[0].clone()).await;
    let c2 = copy.clone();
    blocking(&ctx.store, move |s| s.put(&c2, b"rewritten").unwrap()).await;
    let v = blocking(&ctx.store, |s| verify::verify(s, None, None).unwrap()).await;
    let got: Vec<_> = v
        .problems
        .iter()
        .map(|p| (p.kind, p.object.clone()))
        .collect();
    assert_eq!(got, [("copy-modified", copy.clone())]);
    let body: Value = serde_json::from_str(line).unwrap();
    let old = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"] == copy.as_str())
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = ssm_audit_core::hash::sha256_hex(b"rewritten");
    let forged = seg.replace(&old, &now);
    blocking(&ctx.store, move |s| {
        s.put("ledger/000000000000.jsonl", forged.as_bytes())
            .unwrap()
    })
    .await;
    let v = blocking(&ctx.store, |s| verify::verify(s, None, None).unwrap()).await;
    assert!(
        v.problems
            .iter()
            .any(|p| p.kind == "ledger-invalid" && p.object == "ledger/000000000000.jsonl"),
        "{:?}",
        v.problems
    );
}
