//! End-to-end tests of the `ssm-audit` binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod hostile;
mod proof;
mod questions;
mod render;
mod reports;
mod screens;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The binary cargo built beside this test (`cargo build --workspace` builds it first).
fn bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("ssm-audit");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --workspace` first",
        bin.display()
    );
    bin
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(root());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

const REC: &str = "indexer/tests/recordings/bash5-ubuntu-80x24";

// ---- ingest and queries over a mixed folder of real evidence --------------------------------

fn copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(root().join(from), to).unwrap();
}

const AUDIT_REC: &str = "indexer/tests/recordings/bash5-audit-100x30";
const AUDIT_SID: &str = "alice@example.com-wxdz4ltmi6a6j4qz1bpu6qe6gj";
const UBUNTU_SID: &str = "alice@example.com-0jtk0707txjyxr972nskibo3ej";

/// Recordings as S3 objects, a trail file with starts for them and a tunnel, a denied attempt,
/// a terminate for a session with no transcript, an EventBridge event, a digest file and a
/// file that is not evidence.
fn evidence(dir: &Path) {
    copy(
        &format!("{AUDIT_REC}/session.log"),
        &dir.join(format!("s3/{AUDIT_SID}.log")),
    );
    copy(
        &format!("{REC}/session.log"),
        &dir.join(format!("s3/sub/{UBUNTU_SID}.log")),
    );
    let samples = "indexer/tests/data/samples";
    copy(&format!("{samples}/eventbridge_AWSAPICallViaCloudTrail_StartSession_console_AssumedRole_jo-thomas.json"), &dir.join("eb/event.json"));
    copy(
        &format!("{samples}/cloudtrail_digest_file_with_s3_key_layout_elastic_test.json"),
        &dir.join("ct/digest.json"),
    );
    let sso: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root()
                .join(samples)
                .join("cloudtrail_StartSession_AssumedRole_SSO_panther_test.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mk =
        |id: &str, sid: &str, t: &str, target: &str, doc: Option<(&str, serde_json::Value)>| {
            let mut r = sso.clone();
            r["eventID"] = serde_json::json!(id);
            r["eventTime"] = serde_json::json!(t);
            r["userIdentity"]["arn"] = serde_json::json!(
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com"
        );
            r["responseElements"] = serde_json::json!({"sessionId": sid});
            r["requestParameters"] = match doc {
                None => serde_json::json!({"target": target}),
                Some((d, p)) => {
                    serde_json::json!({"target": target, "documentName": d, "parameters": p})
                }
            };
            r
        };
    let mut denied = mk(
        "e2e-4",
        "x",
        "2026-11-20T08:00:00Z",
        "i-0fedcba9876543210",
        None,
    );
    denied["errorCode"] = serde_json::json!("AccessDenied");
    denied["responseElements"] = serde_json::Value::Null;
    let term = std::fs::read_to_string(
        root()
            .join(samples)
            .join("cloudtrail_TerminateSession_Root_console_elastic_test.json"),
    )
    .unwrap();
    let records = serde_json::json!({"Records": [
        mk("e2e-1", AUDIT_SID, "2026-11-20T09:00:00Z", "i-0db1a2b3c4d5e6f70", None),
        mk("e2e-2", UBUNTU_SID, "2026-11-20T10:00:00Z", "i-0a1b2c3d4e5f60718", None),
        mk("e2e-3", "alice@example.com-ilpxvkhghl9vs9ia2xfdyp4dka", "2026-11-20T11:00:00Z", "i-0a1b2c3d4e5f60718",
           Some(("AWS-StartPortForwardingSessionToRemoteHost", serde_json::json!({"host": ["db.internal"], "portNumber": ["5432"], "localPortNumber": ["15432"]})))),
        denied,
        serde_json::from_str::<serde_json::Value>(&term).unwrap(),
    ]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &serde_json::to_vec(&records).unwrap()).unwrap();
    let p = dir.join("ct/AWSLogs/111122223333/CloudTrail/us-west-2/2026/11/20/trail.json.gz");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, gz.finish().unwrap()).unwrap();
    std::fs::write(dir.join("notes.json"), br#"{"hello": "not evidence"}"#).unwrap();
}

/// Run with a data folder; a report made says it was made at SOURCE_DATE_EPOCH, and the
/// temporary folder's name in it reads `DATA`, so the same data gives the same bytes.
fn audit(data: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .current_dir(root())
        .env("SOURCE_DATE_EPOCH", "1796000000")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    let mut o = cmd.output().unwrap();
    let shown = data.to_str().unwrap();
    if args.first() == Some(&"report") {
        o.stdout = String::from_utf8_lossy(&o.stdout)
            .replace(shown, "DATA")
            .into_bytes();
    }
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn ingested() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    evidence(&ev);
    let data = tmp.path().join("data");
    let o = audit(&data, &["ingest", ev.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    (tmp, data)
}

// ---- no silent wrong answers ----------------------------------------------------------------

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Ingest `ev` into a new data folder beside it.
fn ingest_into(tmp: &Path, ev: &Path) -> PathBuf {
    let data = tmp.join("data");
    let o = audit(&data, &["ingest", ev.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    data
}

/// A recording's transcript ingested into a new data folder: (the folder's parent, the data
/// folder, the session id the recording's header names).
fn ingest_recording(rec: &str) -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join(rec).join("meta.json")).unwrap())
            .unwrap();
    let sid = meta["session_id"].as_str().unwrap().to_owned();
    copy(
        &format!("{rec}/session.log"),
        &ev.join(format!("{sid}.log")),
    );
    let data = ingest_into(tmp.path(), &ev);
    (tmp, data, sid)
}

/// `render --commands` of a recording prints its answer key `key` exactly.
fn assert_commands_are(rec: &str, key: &str) {
    let out = run(
        &["render", "--commands", &format!("{rec}/session.log")],
        None,
    );
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string(root().join(rec).join(key)).unwrap(),
        "{rec}"
    );
}

/// Every line an alternate screen's search hits whose text is `text`, by program.
fn screen_hits(data: &std::path::Path, text: &str) -> Vec<String> {
    let o = audit(data, &["search", text, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    v.as_array()
        .map(|a| {
            a.iter()
                .filter(|h| h["text"] == text)
                .map(|h| h["program"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}
