//! A test generator of CloudTrail evidence as CloudTrail signs it: hourly trail files and a
//! chain of digest files, each listing its hour's trail files with their SHA-256 and signed
//! SHA256withRSA (PKCS#1 v1.5) over `digestEndTime \n bucket/key \n hex(sha256(digest)) \n
//! previousDigestSignature`, with a test key (`data/custody/cloudtrail-test-key.pem`).
//! The folder is laid out as `aws s3 sync` leaves it: gzip'd objects under their keys, S3
//! metadata (each digest's own signature) lost; the signatures are returned apart.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest as _, Sha256};

pub const ACCOUNT: &str = "111122223333";
pub const BUCKET: &str = "trail-bucket";
pub const FINGERPRINT: &str = "0123456789abcdef0123456789abcdef";

fn key_pem(name: &str) -> String {
    // from the core's tests and the end-to-end tests alike
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../indexer/tests/data/custody")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `aws cloudtrail list-public-keys` output holding the public half of key `name` under
/// [`FINGERPRINT`].
pub fn public_keys_json(name: &str) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(&key_pem(name)).unwrap();
    let der = key.to_public_key().to_pkcs1_der().unwrap();
    serde_json::json!({"PublicKeyList": [{
        "Value": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "ValidityStartTime": "2026-01-01T00:00:00Z",
        "ValidityEndTime": "2027-01-01T00:00:00Z",
        "Fingerprint": FINGERPRINT,
    }]})
    .to_string()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// One hour of the chain as written.
pub struct Hour {
    /// the trail file, local path
    pub trail: PathBuf,
    /// the digest, local path
    pub digest: PathBuf,
    /// the digest's signature (its S3 metadata, which a sync drops)
    pub signature: String,
}

/// The session hour `h`'s trail file starts (a 2024-style id: 26 of `[a-z0-9]`).
pub fn session_of_hour(h: usize) -> String {
    let suffix: String = format!("custody{h}")
        .chars()
        .chain(std::iter::repeat('0'))
        .take(26)
        .collect();
    format!("alice-{suffix}")
}

/// A StartSession record of session `sid`.
fn record(sid: &str, hour: usize) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
                         "accountId": ACCOUNT, "userName": "alice"},
        "eventTime": format!("2026-12-06T0{hour}:10:00Z"),
        "eventSource": "ssm.amazonaws.com",
        "eventName": "StartSession",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "requestParameters": {"target": "i-0123456789abcdef0"},
        "responseElements": {"sessionId": sid},
        "eventID": format!("custody-{hour}"),
        "recipientAccountId": ACCOUNT,
    })
}

/// Write `hours` hours of trail files and digests under `root`, the digests signed with key
/// `key` (a file name in `data/custody/`).
pub fn write_chain(root: &Path, hours: usize, key: &str) -> Vec<Hour> {
    let signer =
        SigningKey::<Sha256>::new(rsa::RsaPrivateKey::from_pkcs1_pem(&key_pem(key)).unwrap());
    let mut out = Vec::new();
    let mut prev: Option<(String, String, String)> = None; // (key, hash, signature)
    for h in 0..hours {
        let day = format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/06");
        let trail_key =
            format!("{day}/{ACCOUNT}_CloudTrail_us-east-1_20261206T0{h}05Z_custody{h}.json.gz");
        let sid = session_of_hour(h);
        let trail = serde_json::to_vec(&serde_json::json!({"Records": [record(&sid, h)]})).unwrap();
        let trail_path = root.join(&trail_key);
        std::fs::create_dir_all(trail_path.parent().unwrap()).unwrap();
        std::fs::write(&trail_path, gz(&trail)).unwrap();
        let digest_key = format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/12/06/{ACCOUNT}_CloudTrail-Digest_us-east-1_audit_us-east-1_20261206T0{}00Z.json.gz",
            h + 1
        );
        let end = format!("2026-12-06T0{}:00:00Z", h + 1);
        let mut d = serde_json::json!({
            "awsAccountId": ACCOUNT,
            "digestStartTime": format!("2026-12-06T0{h}:00:00Z"),
            "digestEndTime": end,
            "digestS3Bucket": BUCKET,
            "digestS3Object": digest_key,
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": format!("2026-12-06T0{h}:10:00Z"),
            "oldestEventTime": format!("2026-12-06T0{h}:10:00Z"),
            "previousDigestS3Bucket": null,
            "previousDigestS3Object": null,
            "previousDigestHashValue": null,
            "previousDigestHashAlgorithm": null,
            "previousDigestSignature": null,
            "logFiles": [{"s3Bucket": BUCKET, "s3Object": trail_key, "hashValue": sha_hex(&trail),
                          "hashAlgorithm": "SHA-256", "newestEventTime": end.clone(), "oldestEventTime": end.clone()}],
        });
        if let Some((pk, ph, ps)) = &prev {
            d["previousDigestS3Bucket"] = BUCKET.into();
            d["previousDigestS3Object"] = pk.as_str().into();
            d["previousDigestHashValue"] = ph.as_str().into();
            d["previousDigestHashAlgorithm"] = "SHA-256".into();
            d["previousDigestSignature"] = ps.as_str().into();
        }
        let bytes = serde_json::to_vec(&d).unwrap();
        let to_sign = format!(
            "{end}\n{BUCKET}/{digest_key}\n{}\n{}",
            sha_hex(&bytes),
            prev.as_ref().map_or("null", |p| p.2.as_str())
        );
        let signature = hex::encode(signer.sign(to_sign.as_bytes()).to_bytes());
        let digest_path = root.join(&digest_key);
        std::fs::create_dir_all(digest_path.parent().unwrap()).unwrap();
        std::fs::write(&digest_path, gz(&bytes)).unwrap();
        prev = Some((digest_key, sha_hex(&bytes), signature.clone()));
        out.push(Hour {
            trail: trail_path,
            digest: digest_path,
            signature,
        });
    }
    out
}

/// Rewrite a gzip'd JSON file with `f` applied to its content.
pub fn edit_gz_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let bytes = std::fs::read(path).unwrap();
    let mut s = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&s).unwrap();
    f(&mut v);
    std::fs::write(path, gz(&serde_json::to_vec(&v).unwrap())).unwrap();
}
