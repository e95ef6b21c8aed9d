//! The chain of custody: CloudTrail digests made and signed here as CloudTrail makes them
//! (`custody_gen.rs`), ingested from a folder as `aws s3 sync` leaves it, then `verify`: a
//! valid chain, a trail file changed or deleted, a digest changed or deleted, a wrong key; a
//! kept copy changed, cut or deleted after ingest; a ledger record edited.

use std::path::Path;

use ssm_audit_core::custody::verify::{verify, Verified};
use ssm_audit_core::custody::{digest, ledger, Origin};
use ssm_audit_core::ingest::{self, IngestReport};
use ssm_audit_core::store::{LocalStore, Store};

use crate::common::*;
use crate::custody_gen::*;

/// Ingest `files` into a new store in `dir`, keep the custody ledger, verify with the test
/// key's public half (or `keys`).
fn ingest_and_verify(dir: &Path, files: &[std::path::PathBuf], keys: &str) -> Verified {
    let store = LocalStore::open(dir.join("data")).unwrap();
    let mut report = ingest::ingest_files(&store, files, &|_| {});
    assert!(report.store_failed.is_empty(), "{:?}", report.store_failed);
    keep(&store, &mut report);
    verify_with(&store, keys)
}

fn keep(store: &LocalStore, report: &mut IngestReport) {
    let key = ledger::LocalKey::load_or_create(store).unwrap();
    ledger::append(store, &key, std::mem::take(&mut report.custody)).unwrap();
}

fn verify_with(store: &LocalStore, keys: &str) -> Verified {
    let keys = digest::parse_public_keys(public_keys_json(keys).as_bytes()).unwrap();
    let pinned = ledger::LocalKey::pinned(store).unwrap();
    verify(store, Some(keys), pinned).unwrap()
}

fn files(hours: &[Hour]) -> Vec<std::path::PathBuf> {
    hours
        .iter()
        .flat_map(|h| [h.trail.clone(), h.digest.clone()])
        .collect()
}

fn kinds(v: &Verified) -> Vec<&'static str> {
    v.problems.iter().map(|p| p.kind).collect()
}

const KEY: &str = "cloudtrail-test-key.pem";

#[test]
fn a_valid_chain_synced_without_metadata_verifies_all_but_its_newest_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 4, KEY);
    let v = ingest_and_verify(tmp.path(), &files(&hours), KEY);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let s = &v.summary;
    // the newest digest's signature was in its S3 metadata only: unverified, said so
    assert_eq!(
        (s.digests_valid, s.digests_invalid, s.digests_unverified),
        (3, 0, 1)
    );
    assert_eq!(
        (s.log_files_valid, s.log_files_modified, s.log_files_missing),
        (4, 0, 0)
    );
    assert_eq!(s.log_files_not_covered, 0);
}

#[test]
fn a_digest_read_from_s3_with_its_metadata_verifies_the_whole_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 3, KEY);
    let store = LocalStore::open(tmp.path().join("data")).unwrap();
    let mut report = ingest::ingest_files(&store, &files(&hours[..2]), &|_| {});
    // the newest as the S3 ingest reads it: its signature from x-amz-meta-signature
    let newest = &hours[2];
    for (path, signature) in [
        (&newest.trail, None),
        (&newest.digest, Some(newest.signature.clone())),
    ] {
        let origin = Origin {
            bucket: Some(BUCKET.into()),
            key: Some(path.display().to_string()),
            signature,
            ..Origin::default()
        };
        let name = path.display().to_string();
        ingest::ingest_file_from(&store, path, &name, &origin, &mut report).unwrap();
    }
    keep(&store, &mut report);
    let v = verify_with(&store, KEY);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.summary.digests_valid, 3);
    assert_eq!(v.summary.digests_unverified, 0);
}

#[test]
fn a_trail_file_changed_or_deleted_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 3, KEY);
    // hour 1's trail file: a record changed (who started the session)
    edit_gz_json(&hours[1].trail, |v| {
        v["Records"][0]["userIdentity"]["userName"] = "mallory".into();
    });
    // hour 2's deleted
    std::fs::remove_file(&hours[2].trail).unwrap();
    let mut fs = files(&hours);
    fs.retain(|p| p.exists());
    let v = ingest_and_verify(tmp.path(), &fs, KEY);
    assert_eq!(
        kinds(&v),
        ["log-file-missing", "log-file-modified"],
        "{:?}",
        v.problems
    );
    assert!(v.problems[0].object.ends_with("custody2.json.gz"));
    assert!(v.problems[1].object.ends_with("custody1.json.gz"));
    let s = &v.summary;
    assert_eq!(
        (s.log_files_valid, s.log_files_modified, s.log_files_missing),
        (1, 1, 1)
    );
    // the digests themselves are intact
    assert_eq!((s.digests_valid, s.digests_invalid), (2, 0));
}

#[test]
fn a_digest_changed_or_deleted_breaks_its_signature_or_the_chain() {
    // changed: hour 1's digest no longer lists the hash CloudTrail signed
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 3, KEY);
    edit_gz_json(&hours[1].digest, |v| {
        v["logFiles"][0]["hashValue"] = "00".repeat(32).into();
    });
    let v = ingest_and_verify(tmp.path(), &files(&hours), KEY);
    let k = kinds(&v);
    assert!(k.contains(&"digest-invalid"), "{:?}", v.problems);
    // the next digest names the one CloudTrail wrote, not this one
    assert!(k.contains(&"digest-chain-broken"), "{:?}", v.problems);
    assert_eq!(v.summary.digests_invalid, 1);

    // deleted: hour 1's digest gone from the middle of the chain
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 3, KEY);
    std::fs::remove_file(&hours[1].digest).unwrap();
    let mut fs = files(&hours);
    fs.retain(|p| p.exists());
    let v = ingest_and_verify(tmp.path(), &fs, KEY);
    assert_eq!(kinds(&v), ["digest-chain-broken"], "{:?}", v.problems);
    assert!(v.problems[0].detail.contains("is missing"));
    // its trail file is no longer covered by any digest: counted, not a problem
    assert_eq!(v.summary.log_files_not_covered, 1);
}

#[test]
fn a_chain_signed_with_another_key_is_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 3, "other-test-key.pem");
    let v = ingest_and_verify(tmp.path(), &files(&hours), KEY);
    assert_eq!(v.summary.digests_invalid, 2, "{:?}", v.problems);
    assert!(kinds(&v).iter().all(|k| *k == "digest-invalid"));
}

#[test]
fn a_kept_copy_changed_cut_or_deleted_and_a_ledger_record_edited_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = ["bash5-ubuntu-80x24", "bash5-repl-80x24", "bash5-psql-80x24"];
    let fs: Vec<_> = recs
        .iter()
        .map(|r| data(&format!("recordings/{r}/session.log")))
        .collect();
    let v = ingest_and_verify(tmp.path(), &fs, KEY);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    // three transcript copies and their three facts files
    assert_eq!(v.summary.copies_valid, 6);
    let root = tmp.path().join("data");
    let store = LocalStore::open(&root).unwrap();
    let mut copies = store.list("transcripts/").unwrap();
    copies.sort();
    // changed (one byte), cut short, deleted
    let path = |k: &str| root.join(k);
    let mut b = std::fs::read(path(&copies[0])).unwrap();
    let at = b.len() / 2;
    b[at] ^= 1;
    std::fs::write(path(&copies[0]), &b).unwrap();
    let b = std::fs::read(path(&copies[1])).unwrap();
    std::fs::write(path(&copies[1]), &b[..b.len() / 3]).unwrap();
    std::fs::remove_file(path(&copies[2])).unwrap();
    let v = verify_with(&store, KEY);
    let mut got: Vec<(&str, &str)> = v
        .problems
        .iter()
        .map(|p| (p.kind, p.object.as_str()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("copy-missing", copies[2].as_str()),
            ("copy-modified", copies[0].as_str()),
            ("copy-modified", copies[1].as_str()),
        ]
    );
    assert_eq!(
        (
            v.summary.copies_valid,
            v.summary.copies_modified,
            v.summary.copies_missing
        ),
        (3, 2, 1)
    );
    // a ledger record edited to hide the change: the segment's signature no longer matches
    let seg = store.list("ledger/").unwrap()[0].clone();
    let text = std::fs::read_to_string(path(&seg)).unwrap();
    let now = ssm_audit_core::hash::sha256_hex(&std::fs::read(path(&copies[0])).unwrap());
    let body: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let old = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"] == copies[0].as_str())
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(path(&seg), text.replace(&old, &now)).unwrap();
    let v = verify_with(&store, KEY);
    assert!(
        v.problems
            .iter()
            .any(|p| p.kind == "ledger-invalid" && p.object == seg),
        "{:?}",
        v.problems
    );
}

#[test]
fn custody_is_taken_only_when_asked_and_trail_files_are_kept_either_way() {
    // the functions keep no ledger: their reports take no custody (no hashing pass), yet the
    // trail file is kept for `bundle`
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 1, KEY);
    let store = LocalStore::open(tmp.path().join("data")).unwrap();
    let mut report = IngestReport::default();
    ingest::ingest_file(&store, &hours[0].trail, &mut report).unwrap();
    assert!(report.custody.is_empty());
    assert_eq!(store.list("trails/").unwrap().len(), 1);
    let mut report = IngestReport::with_custody();
    ingest::ingest_file(&store, &hours[0].trail, &mut report).unwrap();
    let held: Vec<_> = report.custody.iter().map(|c| c.held).collect();
    assert_eq!(
        held,
        [
            ssm_audit_core::provenance::Held::Input,
            ssm_audit_core::provenance::Held::Copy,
            ssm_audit_core::provenance::Held::Facts
        ]
    );
}

/// A signer as KMS signs with an RSA key (`RSASSA_PKCS1_V1_5_SHA_256` over the message
/// given), with a test key.
struct RsaSigner(rsa::RsaPrivateKey);

impl RsaSigner {
    fn test(name: &str) -> RsaSigner {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/custody")
            .join(name);
        RsaSigner(rsa::RsaPrivateKey::from_pkcs1_pem(&std::fs::read_to_string(p).unwrap()).unwrap())
    }

    fn public_pem(&self) -> String {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        self.0
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    }
}

impl ledger::Signer for RsaSigner {
    fn algorithm(&self) -> &'static str {
        ledger::RSA_PKCS1_SHA256
    }
    fn key_id(&self) -> Option<String> {
        Some("arn:aws:kms:eu-west-1:111122223333:key/test".into())
    }
    fn public_key(&self) -> String {
        use base64::Engine;
        use rsa::pkcs8::EncodePublicKey;
        let der = self.0.to_public_key().to_public_key_der().unwrap();
        base64::engine::general_purpose::STANDARD.encode(der.as_bytes())
    }
    fn sign(&self, msg: &[u8]) -> std::io::Result<String> {
        use rsa::signature::{SignatureEncoding, Signer};
        let k = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.0.clone());
        Ok(hex::encode(k.sign(msg).to_vec()))
    }
}

#[test]
fn records_left_pending_are_checked_then_sealed_with_a_kms_style_key_with_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path().join("data")).unwrap();
    let recs = ["bash5-ubuntu-80x24", "bash5-repl-80x24"];
    let fs: Vec<_> = recs
        .iter()
        .map(|r| data(&format!("recordings/{r}/session.log")))
        .collect();
    // a writer without the key (a Lambda function) leaves its records pending
    let mut report = ingest::ingest_files(&store, &fs, &|_| {});
    ledger::hold(&store, &report.custody).unwrap();
    report.custody.clear();
    let v = verify(&store, None, None).unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    // two transcript copies and their facts files
    assert_eq!(v.summary.copies_valid, 4);
    assert!(
        v.notes.iter().any(|n| n.contains("wait to be signed")),
        "{:?}",
        v.notes
    );
    // the indexer publishes and seals: one segment, signed by the KMS-style key
    store
        .put("index/manifest.json", b"{\"generation\": 1}")
        .unwrap();
    let kms = RsaSigner::test("other-test-key.pem");
    let index = ssm_audit_core::provenance::published_index(&store).unwrap();
    let sealed = ledger::seal(&store, &kms, index.into_iter().collect()).unwrap();
    assert_eq!(sealed.segment, Some(0));
    assert!(store.list("custody/pending/").unwrap().is_empty());
    let v = verify(&store, None, None).unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    // two transcript copies and their facts files
    assert_eq!(v.summary.copies_valid, 4);
    assert!(
        v.notes.iter().any(|n| n.contains("--ledger-key")),
        "{:?}",
        v.notes
    );
    // pinned to the KMS key's public half: checked, nothing to say
    let pinned = ledger::LedgerKey::from_file_text(&kms.public_pem()).unwrap();
    let v = verify(&store, None, Some(pinned)).unwrap();
    assert!(v.problems.is_empty() && v.notes.is_empty(), "{v:?}");
    // pinned to another key (an ed25519 one): every segment fails
    let other = ledger::LocalKey::load_or_create(&store).unwrap();
    let v = verify(&store, None, Some(other.verifying_key().into())).unwrap();
    assert_eq!(kinds(&v), ["ledger-invalid"]);
    // an index published by a hand without the key
    store
        .put("index/manifest.json", b"{\"generation\": 2}")
        .unwrap();
    let v = verify(&store, None, None).unwrap();
    let got: Vec<_> = v
        .problems
        .iter()
        .map(|p| (p.kind, p.object.as_str()))
        .collect();
    assert_eq!(got, [("copy-modified", "index/manifest.json")]);
    // what is under pending/ must be custody records
    store.put("custody/pending/x.json", b"not json").unwrap();
    let v = verify(&store, None, None).unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.kind == "ledger-invalid" && p.object == "custody/pending/x.json"),
        "{:?}",
        v.problems
    );
}

#[test]
fn writers_racing_for_the_ledger_head_each_take_their_own_segment() {
    let store = std::sync::Arc::new(ssm_audit_core::store::MemoryStore::new());
    let key = std::sync::Arc::new(ledger::LocalKey::load_or_create(&*store).unwrap());
    let record = |w: usize, i: usize| {
        ssm_audit_core::provenance::kept(
            ssm_audit_core::provenance::Held::Input,
            format!("w{w}-{i}"),
            &"0".repeat(64),
            1,
        )
    };
    std::thread::scope(|s| {
        for w in 0..6 {
            let (store, key) = (store.clone(), key.clone());
            s.spawn(move || {
                for i in 0..5 {
                    ledger::append(&*store, &*key, vec![record(w, i)]).unwrap();
                }
            });
        }
    });
    let read = ledger::read(&*store, ledger::LocalKey::pinned(&*store).unwrap()).unwrap();
    assert!(
        read.checked.problems.is_empty(),
        "{:?}",
        read.checked.problems
    );
    assert_eq!(store.list("ledger/").unwrap().len(), 30);
    let mut objects: Vec<_> = read.records.iter().map(|c| c.object.clone()).collect();
    objects.sort();
    objects.dedup();
    assert_eq!(objects.len(), 30);
}

#[test]
fn custody_taken_in_the_reading_pass_equals_hashing_the_file_apart() {
    // every streamed shape: a transcript plain and gzip'd, a trail file plain, gzip'd, with
    // bytes after its JSON, a gzip cut short; the hashes the reading pass took are those of
    // the file hashed on its own
    let tmp = tempfile::tempdir().unwrap();
    let hours = write_chain(&tmp.path().join("sync"), 1, KEY);
    let log = std::fs::read(data("recordings/bash5-ubuntu-80x24/session.log")).unwrap();
    let gz = |b: &[u8]| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let trail_gz = std::fs::read(&hours[0].trail).unwrap();
    let trail = {
        use std::io::Read;
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(&trail_gz[..])
            .read_to_end(&mut s)
            .unwrap();
        s
    };
    let mut trailing = trail.clone();
    trailing.extend_from_slice(b"\n\n   \n");
    let cut = gz(&log)[..200].to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("transcript.log", log.clone()),
        ("transcript.log.gz", gz(&log)),
        (
            "111122223333_CloudTrail_us-east-1_plain.json",
            trail.clone(),
        ),
        (
            "111122223333_CloudTrail_us-east-1_gz.json.gz",
            trail_gz.clone(),
        ),
        ("111122223333_CloudTrail_us-east-1_tail.json", trailing),
        (
            "111122223333_CloudTrail_us-east-1_tailgz.json.gz",
            gz(&[&trail[..], b"\n  \n"].concat()),
        ),
        ("cut.log.gz", cut),
    ];
    for (name, bytes) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let store = LocalStore::open(tmp.path().join(format!("data-{name}"))).unwrap();
        let mut report = IngestReport::with_custody();
        ingest::ingest_file(&store, &path, &mut report).unwrap();
        let input = report
            .custody
            .iter()
            .find(|c| c.held == ssm_audit_core::provenance::Held::Input)
            .unwrap_or_else(|| panic!("{name}: no custody of the input"));
        let (raw, content, size) = ssm_audit_core::provenance::file_hashes(&path).unwrap();
        assert_eq!(
            (
                input.sha256.as_str(),
                input.content_sha256.as_str(),
                input.size
            ),
            (raw.as_str(), content.as_str(), size),
            "{name}"
        );
        // a copy kept holds the content the input's record names
        for c in report
            .custody
            .iter()
            .filter(|c| c.held == ssm_audit_core::provenance::Held::Copy)
        {
            let kept =
                std::fs::read(tmp.path().join(format!("data-{name}")).join(&c.object)).unwrap();
            assert_eq!(
                ssm_audit_core::hash::sha256_hex(&kept),
                c.sha256,
                "{name}: {}",
                c.object
            );
        }
    }
}

#[test]
fn a_copy_or_a_fact_put_in_the_store_after_ingest_and_a_doctored_snapshot_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = [data("recordings/bash5-ubuntu-80x24/session.log")];
    let v = ingest_and_verify(tmp.path(), &fs, KEY);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let store = LocalStore::open(tmp.path().join("data")).unwrap();
    // the facts folded into the snapshot the rebuild trusts
    let facts = ssm_audit_core::rebuild::load_facts(&store).unwrap();
    assert!(!facts.is_empty());
    assert!(verify_with(&store, KEY).problems.is_empty());
    // a forged transcript beside the real one, and an invented fact
    let sid = ssm_audit_core::transcript::header_of(&std::fs::read(&fs[0]).unwrap())
        .session_id
        .unwrap();
    let forged = ssm_audit_core::keys::transcript_key(&sid, "s3-forged");
    store.put(&forged, b"$ true\n").unwrap();
    let mut invented = facts[0].clone();
    invented.key = "invented".into();
    let json = serde_json::to_vec(&[invented.clone()]).unwrap();
    let fact_key = ssm_audit_core::keys::facts_key(&ssm_audit_core::hash::sha256_hex(&json));
    store.put(&fact_key, &json).unwrap();
    let v = verify_with(&store, KEY);
    let mut got: Vec<_> = v
        .problems
        .iter()
        .map(|p| (p.kind, p.object.clone()))
        .collect();
    got.sort();
    let mut want = vec![
        ("copy-modified", forged),
        ("copy-modified", fact_key.clone()),
    ];
    want.sort();
    assert_eq!(got, want);
    store.delete(&fact_key).unwrap();
    store
        .delete(
            &want
                .iter()
                .find(|w| w.1.starts_with("transcripts/"))
                .unwrap()
                .1,
        )
        .unwrap();
    assert!(verify_with(&store, KEY).problems.is_empty());
    // the snapshot given a fact no fact file holds (the files untouched)
    let gz = store.get("state/facts.json.gz").unwrap().unwrap();
    let mut snap: serde_json::Value =
        serde_json::from_reader(flate2::read::GzDecoder::new(&gz[..])).unwrap();
    snap["facts"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::to_value(&invented).unwrap());
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, snap.to_string().as_bytes()).unwrap();
    store
        .put("state/facts.json.gz", &e.finish().unwrap())
        .unwrap();
    let v = verify_with(&store, KEY);
    let got: Vec<_> = v
        .problems
        .iter()
        .map(|p| (p.kind, p.object.as_str()))
        .collect();
    assert_eq!(got, [("copy-modified", "state/facts.json.gz")], "{v:?}");
    assert!(
        v.problems[0].detail.contains("holds 1 facts"),
        "{}",
        v.problems[0].detail
    );
}

#[test]
fn a_backlog_of_pending_records_is_sealed_over_several_runs_and_said() {
    let store = ssm_audit_core::store::MemoryStore::new();
    let key = ledger::LocalKey::load_or_create(&store).unwrap();
    for i in 0..5 {
        let c = ssm_audit_core::provenance::kept(
            ssm_audit_core::provenance::Held::Copy,
            format!("transcripts/x/{i}.log"),
            &"0".repeat(64),
            1,
        );
        ledger::hold(&store, &[c.clone(), c]).unwrap();
    }
    // at most 4 records a run: two objects, three left
    let s = ledger::seal_up_to(&store, &key, Vec::new(), 4).unwrap();
    assert_eq!((s.records, s.left), (4, 3));
    let s = ledger::seal_up_to(&store, &key, Vec::new(), 4).unwrap();
    assert_eq!((s.records, s.left), (4, 1));
    let s = ledger::seal_up_to(&store, &key, Vec::new(), 4).unwrap();
    assert_eq!((s.records, s.left), (2, 0));
    let read = ledger::read(&store, ledger::LocalKey::pinned(&store).unwrap()).unwrap();
    assert!(read.checked.problems.is_empty());
    assert_eq!(read.records.len(), 10);
    assert!(store.list("custody/pending/").unwrap().is_empty());
}

#[test]
fn an_s3_input_without_a_version_count_is_said() {
    let store = ssm_audit_core::store::MemoryStore::new();
    let mut c = ssm_audit_core::provenance::kept(
        ssm_audit_core::provenance::Held::Input,
        "s3://logs/s.log".into(),
        &"0".repeat(64),
        1,
    );
    c.origin.bucket = Some("logs".into());
    ledger::hold(&store, &[c.clone()]).unwrap();
    let v = verify(&store, None, None).unwrap();
    assert!(
        v.notes
            .iter()
            .any(|n| n.starts_with("1 inputs read from S3 have no version count")),
        "{:?}",
        v.notes
    );
    // counted: nothing to say about it
    let store = ssm_audit_core::store::MemoryStore::new();
    c.origin.versions = Some(1);
    ledger::hold(&store, &[c]).unwrap();
    let v = verify(&store, None, None).unwrap();
    assert!(
        !v.notes.iter().any(|n| n.contains("version count")),
        "{:?}",
        v.notes
    );
}
