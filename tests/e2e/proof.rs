//! `ssm-audit verify`: CloudTrail digests signed as CloudTrail signs them (the generator the
//! core's tests use) and a real transcript, ingested, then proved; a copy deleted after ingest
//! is found; the JSON is the documented contract; exit codes 0, 1 and 2.

use super::*;

#[path = "../../indexer/tests/custody_gen.rs"]
#[allow(dead_code)]
mod custody_gen;

/// Three hours of signed CloudTrail evidence (and a real transcript, with `transcript`)
/// ingested into a new data folder: (its parent, the public keys file, the folder).
fn signed_evidence(transcript: bool) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    custody_gen::write_chain(&ev, 3, "cloudtrail-test-key.pem");
    if transcript {
        copy(&format!("{REC}/session.log"), &ev.join("s3/session.log"));
    }
    let keys = tmp.path().join("public-keys.json");
    std::fs::write(
        &keys,
        custody_gen::public_keys_json("cloudtrail-test-key.pem"),
    )
    .unwrap();
    let data = ingest_into(tmp.path(), &ev);
    (tmp, keys, data)
}

#[test]
fn verify_proves_the_evidence_and_names_what_was_changed() {
    let (_tmp, keys, data) = signed_evidence(true);
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
    // every object kept, re-hashed: the transcript copy, the three trail files, the three
    // digests and the four facts files (the transcript's, each trail file's)
    assert_eq!(v["summary"]["copies_valid"], 11);
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
    // the report says so too
    let o = audit(
        &data,
        &[
            "report",
            "--since",
            "2020-01-01",
            "--until",
            "2030-01-01",
            "--format",
            "md",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("| `kept copies (transcripts and trail files and digests and facts)` | `10 valid; 0 modified; 1 missing` |"),
        "{}",
        stdout(&o)
    );
    // an error is not an answer
    let o = audit(
        &data,
        &["verify", "--public-keys", "/nonexistent/keys.json"],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn copies_that_disagree_are_flagged_with_the_first_line_that_differs() {
    // the S3 copy, and CloudWatch's upload-at-end copy of the same session cut short (as when
    // the agent died before its last chunks)
    let rec = "indexer/tests/recordings/bash5-ubuntu-80x24";
    let (tmp, data, sid) = ingest_recording(rec);
    let log = std::fs::read_to_string(root().join(rec).join("session.log"))
        .unwrap()
        .replace("\r\r\n", "\r\n");
    let cut = log[..log.len() / 2].rfind('\n').unwrap() + 1;
    let export = serde_json::json!({"events": [{
        "logStreamName": sid, "eventId": "ev0", "timestamp": 1767323045000i64,
        "message": &log[..cut],
    }]});
    let ev = tmp.path().join("cw");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::write(ev.join("export.json"), export.to_string()).unwrap();
    let o = audit(&data, &["ingest", ev.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = audit(&data, &["sessions", "--flag", "copies-disagree", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = &v[0]["transcript"]["copies_disagree"];
    assert!(d["copy"].as_str().unwrap().starts_with("cwupload-"), "{d}");
    // the upload ends where it was cut: the first line it lacks
    assert_eq!(d["other"], serde_json::Value::Null, "{d}");
    let line = d["line"].as_u64().unwrap();
    assert!(line > 10, "{d}");
    let t = stdout(&audit(&data, &["show", &sid]));
    assert!(
        t.contains(&format!(
            "disagree: from line {line}: the text of record has"
        )),
        "{t}"
    );
}

#[test]
fn a_bundle_checks_out_with_sha256sum_and_openssl_alone() {
    let (tmp, keys, data) = signed_evidence(false);
    // hour 1's session: its trail file, the digest that lists it (signed: hour 2's digest
    // carries its signature)
    let sid = custody_gen::session_of_hour(1);
    let (out, o) = bundle(&tmp, &data, &keys, &sid);
    assert!(
        stdout(&o).contains("1 trail files, 1 digests"),
        "{}",
        stdout(&o)
    );
    let sh = |cmd: &str| sh_in(&out, cmd);
    // every file as bundled
    let o = sh("sha256sum -c SHA256SUMS");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // the digest's signature, by openssl, over the string CloudTrail signed
    let verify = std::fs::read_to_string(out.join("VERIFY.txt")).unwrap();
    let cmds: Vec<&str> = verify
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("openssl dgst"))
        .collect();
    assert_eq!(cmds.len(), 1, "{verify}");
    let o = sh(cmds[0]);
    assert!(
        o.status.success() && stdout(&o).contains("Verified OK"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // the string signed names the digest's own SHA-256, and the digest the trail file's
    let signed = walk(&out.join("digests"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "signed"))
        .unwrap();
    let signed = std::fs::read_to_string(signed).unwrap();
    let digest_json = walk(&out.join("digests"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let o = sh(&format!("sha256sum '{}'", digest_json.display()));
    assert!(
        stdout(&o).starts_with(signed.lines().nth(2).unwrap()),
        "{signed} {}",
        stdout(&o)
    );
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&digest_json).unwrap()).unwrap();
    let trail = walk(&out.join("cloudtrail")).pop().unwrap();
    let o = sh(&format!("sha256sum '{}'", trail.display()));
    assert!(
        stdout(&o).starts_with(d["logFiles"][0]["hashValue"].as_str().unwrap()),
        "{}",
        stdout(&o)
    );
    // and a changed file fails the check
    std::fs::write(&trail, b"{}").unwrap();
    assert!(!sh("sha256sum -c SHA256SUMS").status.success());
}

/// `ssm-audit bundle SID` into `tmp/bundle`, which must succeed: the folder and the output.
fn bundle(
    tmp: &tempfile::TempDir,
    data: &Path,
    keys: &Path,
    sid: &str,
) -> (PathBuf, std::process::Output) {
    let out = tmp.path().join("bundle");
    let o = audit(
        data,
        &[
            "bundle",
            sid,
            "--out",
            out.to_str().unwrap(),
            "--public-keys",
            keys.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    (out, o)
}

/// A shell command in `dir`, as an auditor runs VERIFY.txt's.
fn sh_in(dir: &Path, cmd: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .output()
        .unwrap()
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

#[test]
fn a_bundle_proves_its_transcript_copy_by_the_signed_ledger_with_openssl_alone() {
    let (tmp, keys, data) = signed_evidence(true);
    let log = std::fs::read(root().join(format!("{REC}/session.log"))).unwrap();
    let sid = ssm_audit_core::transcript::header_of(&log)
        .session_id
        .unwrap();
    let (out, o) = bundle(&tmp, &data, &keys, &sid);
    assert!(
        stdout(&o).contains("1 transcript copies") && stdout(&o).contains("1 ledger segments"),
        "{}",
        stdout(&o)
    );
    let sh = |cmd: &str| sh_in(&out, cmd);
    assert!(sh("sha256sum -c SHA256SUMS").status.success());
    let verify = std::fs::read_to_string(out.join("VERIFY.txt")).unwrap();
    // the copy's SHA-256 now is the one the ledger recorded, in the segment's line
    let checks: Vec<(&str, &str)> = verify
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("sha256sum transcripts/"))
        .filter_map(|l| l.split_once("    # as kept: "))
        .collect();
    assert_eq!(checks.len(), 1, "{verify}");
    let (cmd, recorded) = checks[0];
    let (sha, segment) = recorded.split_once(' ').unwrap();
    let o = sh(cmd);
    assert!(stdout(&o).starts_with(sha), "{} vs {sha}", stdout(&o));
    let segment = segment.trim_matches(|c| c == '(' || c == ')');
    let line = std::fs::read_to_string(out.join(segment)).unwrap();
    assert!(line.contains(sha), "{segment} does not record {sha}");
    // the segment's ed25519 signature, by openssl, with the data folder's key
    let cmd = verify
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("openssl pkeyutl -verify"))
        .unwrap_or_else(|| panic!("{verify}"));
    let o = sh(cmd);
    assert!(
        o.status.success() && stdout(&o).contains("Signature Verified Successfully"),
        "{cmd}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    // the key is the data folder's own
    let pem = std::fs::read_to_string(
        walk(&out)
            .into_iter()
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("ledger-public-key")
            })
            .unwrap(),
    )
    .unwrap();
    let key = std::fs::read_to_string(data.join("state/ledger.key")).unwrap();
    let seed: [u8; 32] = hex::decode(key.trim()).unwrap().try_into().unwrap();
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let pinned = ssm_audit_core::custody::ledger::LedgerKey::from_file_text(&pem).unwrap();
    assert!(
        matches!(pinned, ssm_audit_core::custody::ledger::LedgerKey::Ed25519(k) if k == public)
    );
    // a line changed (a record edited) fails openssl
    std::fs::write(out.join(segment), line.replace(sha, &"0".repeat(64))).unwrap();
    assert!(!sh(cmd).status.success());
}
