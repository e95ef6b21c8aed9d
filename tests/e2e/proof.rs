//! `ssm-audit verify`: CloudTrail digests signed as CloudTrail signs them (the generator the
//! core's tests use) and a real transcript, ingested, then proved; a copy deleted after ingest
//! is found; the JSON is the documented contract; exit codes 0, 1 and 2.

use super::*;

#[path = "../../indexer/tests/custody_gen.rs"]
#[allow(dead_code)]
mod custody_gen;

#[test]
fn verify_proves_the_evidence_and_names_what_was_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    custody_gen::write_chain(&ev, 3, "cloudtrail-test-key.pem");
    copy(&format!("{REC}/session.log"), &ev.join("s3/session.log"));
    let keys = tmp.path().join("public-keys.json");
    std::fs::write(
        &keys,
        custody_gen::public_keys_json("cloudtrail-test-key.pem"),
    )
    .unwrap();
    let data = ingest_into(tmp.path(), &ev);
    let k = keys.to_str().unwrap();
    let o = audit(&data, &["verify", "--public-keys", k, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let summary: Vec<&str> = v["summary"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = [
        "digests_valid",
        "digests_invalid",
        "digests_unverified",
        "log_files_valid",
        "log_files_modified",
        "log_files_missing",
        "log_files_not_covered",
        "copies_valid",
        "copies_modified",
        "copies_missing",
    ];
    want.sort();
    let mut got = summary.clone();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(v["summary"]["digests_valid"], 2);
    assert_eq!(v["summary"]["digests_unverified"], 1);
    assert_eq!(v["summary"]["log_files_valid"], 3);
    // the transcript copy and the three digests, each re-hashed
    assert_eq!(v["summary"]["copies_valid"], 4);
    assert_eq!(v["problems"], serde_json::json!([]));
    // the keys were kept: a later run needs no --public-keys
    let o = audit(&data, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("digests: 2 valid, 0 invalid, 1 unverified"),
        "{}",
        stdout(&o)
    );
    // the transcript copy deleted from the store after ingest
    let copies: Vec<PathBuf> = walk(&data.join("transcripts"));
    assert_eq!(copies.len(), 1, "{copies:?}");
    std::fs::remove_file(&copies[0]).unwrap();
    let o = audit(&data, &["verify", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["problems"][0]["kind"], "copy-missing");
    assert!(v["problems"][0]["object"]
        .as_str()
        .unwrap()
        .starts_with("transcripts/"));
    // an error is not an answer
    let o = audit(
        &data,
        &["verify", "--public-keys", "/nonexistent/keys.json"],
    );
    assert_eq!(o.status.code(), Some(2));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
