//! CloudTrail digest files, checked as CloudTrail documents it ("Validating CloudTrail log
//! file integrity", "CloudTrail digest file structure"; aws-cli's `validate-logs` is the
//! reference for the semantics), offline.
//!
//! A digest is signed SHA256withRSA (PKCS#1 v1.5) over
//! `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256 of the uncompressed digest) \n
//! previousDigestSignature` (the literal `null` for the first of a chain), with the public
//! key whose fingerprint it names. The signature is in the digest object's S3 metadata
//! (`x-amz-meta-signature`, hex); a folder synced with `aws s3 sync` has lost it, but every
//! digest but the newest of a chain has its signature in its successor's
//! `previousDigestSignature`.

use std::collections::BTreeMap;

use base64::Engine;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde::{Deserialize, Serialize};

/// One digest file, as CloudTrail writes it (fields it may leave out are optional).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    #[serde(default)]
    pub aws_account_id: Option<String>,
    #[serde(default)]
    pub digest_start_time: Option<String>,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    #[serde(default)]
    pub digest_public_key_fingerprint: Option<String>,
    #[serde(default)]
    pub digest_signature_algorithm: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<LogFileEntry>,
}

/// A log file a digest covers: where CloudTrail wrote it and the SHA-256 of its uncompressed
/// content.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    pub s3_bucket: String,
    pub s3_object: String,
    pub hash_value: String,
    #[serde(default)]
    pub hash_algorithm: Option<String>,
}

impl Digest {
    pub fn parse(uncompressed: &[u8]) -> Result<Digest, String> {
        serde_json::from_slice(uncompressed).map_err(|e| format!("not a CloudTrail digest: {e}"))
    }

    /// `bucket/key`, as the digest names itself.
    pub fn location(&self) -> String {
        format!("{}/{}", self.digest_s3_bucket, self.digest_s3_object)
    }

    /// `bucket/key` of the digest before it in its chain, if it has one.
    pub fn previous_location(&self) -> Option<String> {
        Some(format!(
            "{}/{}",
            self.previous_digest_s3_bucket
                .as_deref()
                .unwrap_or(&self.digest_s3_bucket),
            self.previous_digest_s3_object.as_deref()?
        ))
    }

    /// What CloudTrail signed: `uncompressed` is the digest file itself.
    pub fn string_to_sign(&self, uncompressed: &[u8]) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.digest_end_time,
            self.location(),
            crate::hash::sha256_hex(uncompressed),
            self.previous_digest_signature.as_deref().unwrap_or("null")
        )
    }
}

/// A CloudTrail public key, as `aws cloudtrail list-public-keys` prints it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKey {
    /// base64 of the DER PKCS#1 RSA public key
    pub value: String,
    pub fingerprint: String,
    #[serde(default)]
    pub validity_start_time: Option<serde_json::Value>,
    #[serde(default)]
    pub validity_end_time: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PublicKeyList {
    #[serde(rename = "PublicKeyList")]
    list: Vec<PublicKey>,
}

/// The keys of `aws cloudtrail list-public-keys` output (`{"PublicKeyList": [...]}`), by
/// fingerprint.
pub fn parse_public_keys(json: &[u8]) -> Result<BTreeMap<String, PublicKey>, String> {
    let l: PublicKeyList = serde_json::from_slice(json)
        .map_err(|e| format!("not `aws cloudtrail list-public-keys` output: {e}"))?;
    Ok(l.list
        .into_iter()
        .map(|k| (k.fingerprint.to_lowercase(), k))
        .collect())
}

/// The keys of `kept` (`list-public-keys` output kept in the store, if any) and of `new`, by
/// fingerprint (a key in both: the newer listing's), as `list-public-keys` output again.
pub fn merge_public_keys(kept: Option<&[u8]>, new: &[u8]) -> Result<Vec<u8>, String> {
    let mut keys = match kept {
        Some(k) => parse_public_keys(k)?,
        None => BTreeMap::new(),
    };
    keys.extend(parse_public_keys(new)?);
    let list: Vec<&PublicKey> = keys.values().collect();
    serde_json::to_vec_pretty(&serde_json::json!({ "PublicKeyList": list }))
        .map_err(|e| e.to_string())
}

/// Add CloudTrail's public keys (`list-public-keys` output) to those the store keeps for
/// `verify` ([`crate::keys::PUBLIC_KEYS`]); how many it keeps now.
pub fn keep_public_keys(store: &dyn crate::store::Store, new: &[u8]) -> std::io::Result<usize> {
    use crate::keys::PUBLIC_KEYS;
    let bad = |e: String| std::io::Error::other(format!("{PUBLIC_KEYS}: {e}"));
    let kept = store.get(PUBLIC_KEYS)?;
    let merged = merge_public_keys(kept.as_deref(), new).map_err(bad)?;
    store.put(PUBLIC_KEYS, &merged)?;
    Ok(parse_public_keys(&merged).map_err(bad)?.len())
}

/// Check `signature_hex` over the digest with the key it names.
pub fn verify(
    d: &Digest,
    uncompressed: &[u8],
    signature_hex: &str,
    keys: &BTreeMap<String, PublicKey>,
) -> Result<(), String> {
    if let Some(alg) = &d.digest_signature_algorithm {
        if alg != "SHA256withRSA" {
            return Err(format!("signature algorithm {alg:?} is not SHA256withRSA"));
        }
    }
    let fp = d
        .digest_public_key_fingerprint
        .as_deref()
        .ok_or("the digest names no public key")?
        .to_lowercase();
    let key = keys
        .get(&fp)
        .ok_or_else(|| format!("no public key with fingerprint {fp} (give --public-keys)"))?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(key.value.trim())
        .map_err(|e| format!("public key {fp} is not base64: {e}"))?;
    let key = rsa::RsaPublicKey::from_pkcs1_der(&der)
        .map_err(|e| format!("public key {fp} is not a DER PKCS#1 RSA key: {e}"))?;
    let sig = hex::decode(signature_hex.trim()).map_err(|e| format!("signature not hex: {e}"))?;
    let sig = Signature::try_from(sig.as_slice()).map_err(|e| format!("bad signature: {e}"))?;
    VerifyingKey::<sha2::Sha256>::new(key)
        .verify(d.string_to_sign(uncompressed).as_bytes(), &sig)
        .map_err(|_| "the signature does not match the digest (changed, or another key)".into())
}
