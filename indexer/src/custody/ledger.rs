//! The ledger: every custody record, append-only, hash-chained and signed.
//!
//! Each ingest adds one segment, a new object `ledger/<seq>.jsonl` (never rewritten): its
//! first line the body (`seq`, the SHA-256 of the previous segment's bytes, the signer's
//! public key, when, the records), its second the ed25519 signature of that line. A record
//! changed, a segment removed or put back in another order breaks a signature or the chain.
//!
//! The signing key is made for the data folder (`state/ledger.key`, private to the user).
//! Whoever can write the folder can read that key too: the ledger proves the store unchanged
//! against anyone without it (a copy of the folder, a backup, an S3 bucket of it), not against
//! its owner. In AWS the key is meant to be a KMS asymmetric key (`kms:Sign`), which no one
//! can read (not built yet: the functions keep no ledger).

use std::io;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::Custody;
use crate::keys::{ledger_key, LEDGER, LEDGER_SIGNING_KEY};
use crate::store::Store;

/// Signs ledger segments.
pub trait Signer {
    /// hex of the public key
    fn public_key(&self) -> String;
    /// hex of the signature of `msg`
    fn sign(&self, msg: &[u8]) -> String;
}

/// An ed25519 key kept in the (local) store.
pub struct LocalKey(SigningKey);

impl LocalKey {
    /// The data folder's key, made the first time.
    pub fn load_or_create(store: &dyn Store) -> io::Result<LocalKey> {
        if let Some(k) = LocalKey::load(store)? {
            return Ok(k);
        }
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(io::Error::other)?;
        store.put(LEDGER_SIGNING_KEY, hex::encode(seed).as_bytes())?;
        Ok(LocalKey(SigningKey::from_bytes(&seed)))
    }

    pub fn load(store: &dyn Store) -> io::Result<Option<LocalKey>> {
        let Some(b) = store.get(LEDGER_SIGNING_KEY)? else {
            return Ok(None);
        };
        let seed: [u8; 32] = hex::decode(String::from_utf8_lossy(&b).trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| io::Error::other(format!("{LEDGER_SIGNING_KEY}: not a key")))?;
        Ok(Some(LocalKey(SigningKey::from_bytes(&seed))))
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }
}

impl Signer for LocalKey {
    fn public_key(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    fn sign(&self, msg: &[u8]) -> String {
        hex::encode(self.0.sign(msg).to_bytes())
    }
}

/// A segment's first line.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Body {
    pub seq: u64,
    /// SHA-256 of the previous segment's bytes (`none` for the first)
    pub prev: String,
    pub public_key: String,
    pub written_at: String,
    pub records: Vec<Custody>,
}

/// Add a segment holding `records`. The caller holds the data folder's lock.
pub fn append(store: &dyn Store, signer: &dyn Signer, records: Vec<Custody>) -> io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let keys = store.list(LEDGER)?;
    let (seq, prev) = match keys.iter().max() {
        Some(last) => {
            let bytes = store.get(last)?.unwrap_or_default();
            let seq = seq_of(last).map_or(keys.len() as u64, |s| s + 1);
            (seq, crate::hash::sha256_hex(&bytes))
        }
        None => (0, "none".to_owned()),
    };
    let body = Body {
        seq,
        prev,
        public_key: signer.public_key(),
        written_at: super::now(),
        records,
    };
    let line = serde_json::to_string(&body).map_err(io::Error::other)?;
    let sig = signer.sign(line.as_bytes());
    store.put(&ledger_key(seq), format!("{line}\n{sig}\n").as_bytes())
}

fn seq_of(key: &str) -> Option<u64> {
    key.rsplit('/').next()?.strip_suffix(".jsonl")?.parse().ok()
}

/// What is wrong with the ledger, if anything, and every record it holds (those of segments
/// that read, checked or not).
pub struct Read {
    pub records: Vec<Custody>,
    /// (segment key, what is wrong)
    pub problems: Vec<(String, String)>,
}

/// Read the whole ledger and check its chain and signatures, against `pinned` (the data
/// folder's own key) when given, else against the key the first segment names.
pub fn read(store: &dyn Store, pinned: Option<VerifyingKey>) -> io::Result<Read> {
    let mut keys = store.list(LEDGER)?;
    keys.sort();
    let mut out = Read {
        records: Vec::new(),
        problems: Vec::new(),
    };
    let mut prev = "none".to_owned();
    let mut key_of_chain = pinned;
    for (i, key) in keys.iter().enumerate() {
        let Some(bytes) = store.get(key)? else {
            out.problems.push((key.clone(), "listed, then gone".into()));
            continue;
        };
        let hash = crate::hash::sha256_hex(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.lines();
        let (line, sig) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        let body: Body = match serde_json::from_str(line) {
            Ok(b) => b,
            Err(e) => {
                out.problems
                    .push((key.clone(), format!("not a ledger segment: {e}")));
                prev = hash;
                continue;
            }
        };
        if seq_of(key) != Some(i as u64) || body.seq != i as u64 {
            out.problems.push((
                key.clone(),
                format!("segment {} where {i} should be: one is missing", body.seq),
            ));
        }
        if body.prev != prev {
            out.problems.push((
                key.clone(),
                "does not follow the segment before it (chain broken)".into(),
            ));
        }
        let vk = match key_of_chain {
            Some(k) => Some(k),
            None => parse_key(&body.public_key),
        };
        key_of_chain = vk;
        let signed = vk
            .zip(parse_sig(sig))
            .is_some_and(|(k, s)| k.verify(line.as_bytes(), &s).is_ok());
        if !signed {
            out.problems.push((
                key.clone(),
                "its signature does not match (a record changed, or another key)".into(),
            ));
        }
        out.records.extend(body.records);
        prev = hash;
    }
    Ok(out)
}

fn parse_key(hex_key: &str) -> Option<VerifyingKey> {
    let b: [u8; 32] = hex::decode(hex_key).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&b).ok()
}

fn parse_sig(hex_sig: &str) -> Option<ed25519_dalek::Signature> {
    let b: [u8; 64] = hex::decode(hex_sig.trim()).ok()?.try_into().ok()?;
    Some(ed25519_dalek::Signature::from_bytes(&b))
}
