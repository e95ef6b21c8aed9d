//! The ledger: every custody record, append-only, hash-chained and signed.
//!
//! Each segment is a new object `ledger/<seq>.jsonl`, never rewritten: its first line the
//! body (`seq`, the SHA-256 of the previous segment's bytes, the signing algorithm and public
//! key, when, the records), its second the signature. A record changed, a segment removed or
//! put back in another order breaks a signature or the chain. A segment is written with a
//! conditional put (`If-None-Match: *`): two writers never both take one `seq`; the loser
//! starts again from the new head.
//!
//! Two signers:
//! - a data folder: an ed25519 key made for it (`state/ledger.key`, private to the user),
//!   signing the body line. Whoever can write the folder can read that key too: the ledger
//!   proves the store unchanged against anyone without it (a copy, a backup, an S3 bucket of
//!   it), not against its owner.
//! - in AWS: a KMS asymmetric key (RSA, `RSASSA_PKCS1_V1_5_SHA_256`, `kms:Sign`), which no one
//!   can read. KMS signs at most 4 KiB raw, so it signs the body line's SHA-256 in hex (64
//!   ASCII bytes); `openssl dgst -sha256 -verify` checks it against `kms get-public-key`.
//!
//! The Lambda functions ingest concurrently and cannot sign: each leaves its custody records
//! in `custody/pending/` ([`hold`]); the indexer, on its schedule, seals them into one signed
//! segment with the index it published ([`seal`]). Until then they are unsigned, and
//! `verify` says how many wait.

use std::io;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::Custody;
use crate::keys::{ledger_key, CUSTODY_PENDING, LEDGER, LEDGER_SIGNING_KEY};
use crate::store::{Expect, Store};

/// A data folder's key.
pub const ED25519: &str = "ed25519";
/// A KMS RSA key's signing algorithm, as KMS names it.
pub const RSA_PKCS1_SHA256: &str = "RSASSA_PKCS1_V1_5_SHA_256";

/// Signs ledger segments.
pub trait Signer {
    /// [`ED25519`] or [`RSA_PKCS1_SHA256`]
    fn algorithm(&self) -> &'static str;
    /// the key's id (a KMS key ARN), when it has one
    fn key_id(&self) -> Option<String> {
        None
    }
    /// ed25519: hex of the key; RSA: base64 of the DER SubjectPublicKeyInfo
    fn public_key(&self) -> String;
    /// hex of the signature of `msg`
    fn sign(&self, msg: &[u8]) -> io::Result<String>;
}

/// What a segment's signature is over: the body line (ed25519), or its SHA-256 in hex (a KMS
/// key, which signs at most 4 KiB raw).
pub fn signed_message(algorithm: &str, line: &str) -> Vec<u8> {
    if algorithm == ED25519 {
        line.as_bytes().to_vec()
    } else {
        crate::hash::sha256_hex(line.as_bytes()).into_bytes()
    }
}

/// The key a ledger's segments are checked with.
#[derive(Clone, Debug)]
pub enum LedgerKey {
    Ed25519(VerifyingKey),
    Rsa(Box<rsa::RsaPublicKey>),
}

impl From<VerifyingKey> for LedgerKey {
    fn from(k: VerifyingKey) -> LedgerKey {
        LedgerKey::Ed25519(k)
    }
}

impl LedgerKey {
    /// A segment's `algorithm` and `public_key`.
    pub fn parse(algorithm: &str, public_key: &str) -> Option<LedgerKey> {
        match algorithm {
            ED25519 => {
                let b: [u8; 32] = hex::decode(public_key).ok()?.try_into().ok()?;
                VerifyingKey::from_bytes(&b).ok().map(LedgerKey::Ed25519)
            }
            RSA_PKCS1_SHA256 => {
                use base64::Engine as _;
                use rsa::pkcs8::DecodePublicKey as _;
                let der = base64::engine::general_purpose::STANDARD
                    .decode(public_key.trim())
                    .ok()?;
                rsa::RsaPublicKey::from_public_key_der(&der)
                    .ok()
                    .map(|k| LedgerKey::Rsa(Box::new(k)))
            }
            _ => None,
        }
    }

    /// A public key file: PEM (`-----BEGIN PUBLIC KEY-----`, as `openssl` and
    /// `aws kms get-public-key` give it once wrapped) or an ed25519 key in hex.
    pub fn from_file_text(text: &str) -> Option<LedgerKey> {
        let t = text.trim();
        if let Some(b64) = t
            .strip_prefix("-----BEGIN PUBLIC KEY-----")
            .and_then(|r| r.strip_suffix("-----END PUBLIC KEY-----"))
        {
            let b64: String = b64.split_whitespace().collect();
            if let Some(k) = LedgerKey::parse(RSA_PKCS1_SHA256, &b64) {
                return Some(k);
            }
            // an ed25519 SubjectPublicKeyInfo: a fixed prefix, then the key
            use base64::Engine as _;
            let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            let k = der.strip_prefix(&ED25519_SPKI_PREFIX[..])?;
            return LedgerKey::parse(ED25519, &hex::encode(k));
        }
        LedgerKey::parse(ED25519, t)
    }

    fn algorithm(&self) -> &'static str {
        match self {
            LedgerKey::Ed25519(_) => ED25519,
            LedgerKey::Rsa(_) => RSA_PKCS1_SHA256,
        }
    }

    /// Whether `sig` (hex) signs `line` under `algorithm` with this key.
    fn verifies(&self, algorithm: &str, line: &str, sig: &str) -> bool {
        if algorithm != self.algorithm() {
            return false;
        }
        let Ok(sig) = hex::decode(sig.trim()) else {
            return false;
        };
        let msg = signed_message(algorithm, line);
        match self {
            LedgerKey::Ed25519(k) => <[u8; 64]>::try_from(sig.as_slice())
                .map(|b| ed25519_dalek::Signature::from_bytes(&b))
                .is_ok_and(|s| k.verify(&msg, &s).is_ok()),
            LedgerKey::Rsa(k) => {
                use rsa::signature::Verifier as _;
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                rsa::pkcs1v15::Signature::try_from(sig.as_slice())
                    .is_ok_and(|s| vk.verify(&msg, &s).is_ok())
            }
        }
    }
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

    /// The data folder's key to check its ledger with, when it has one.
    pub fn pinned(store: &dyn Store) -> io::Result<Option<LedgerKey>> {
        Ok(LocalKey::load(store)?.map(|k| k.verifying_key().into()))
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }
}

impl Signer for LocalKey {
    fn algorithm(&self) -> &'static str {
        ED25519
    }

    fn public_key(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    fn sign(&self, msg: &[u8]) -> io::Result<String> {
        Ok(hex::encode(self.0.sign(msg).to_bytes()))
    }
}

fn ed25519() -> String {
    ED25519.to_owned()
}

/// A segment's first line.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Body {
    pub seq: u64,
    /// SHA-256 of the previous segment's bytes (`none` for the first)
    pub prev: String,
    /// [`ED25519`] (segments written before there were two signers say none) or
    /// [`RSA_PKCS1_SHA256`]
    #[serde(default = "ed25519")]
    pub algorithm: String,
    /// the KMS key's ARN
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub public_key: String,
    pub written_at: String,
    pub records: Vec<Custody>,
}

/// Records a segment holds at most, so that no segment is too large to read and sign.
pub const RECORDS_PER_SEGMENT: usize = 20_000;

/// Add segments holding `records`; the `seq` of the last one written.
pub fn append(
    store: &dyn Store,
    signer: &dyn Signer,
    records: Vec<Custody>,
) -> io::Result<Option<u64>> {
    let mut last = None;
    for chunk in records.chunks(RECORDS_PER_SEGMENT) {
        last = Some(append_one(store, signer, chunk)?);
    }
    Ok(last)
}

/// One segment at the head of the ledger: taken with a conditional put, so that a writer
/// who loses the race to another reads the new head and tries again.
fn append_one(store: &dyn Store, signer: &dyn Signer, records: &[Custody]) -> io::Result<u64> {
    const TRIES: u32 = 20;
    for _ in 0..TRIES {
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
            algorithm: signer.algorithm().to_owned(),
            key_id: signer.key_id(),
            public_key: signer.public_key(),
            written_at: super::now(),
            records: records.to_vec(),
        };
        let line = serde_json::to_string(&body).map_err(io::Error::other)?;
        let sig = signer.sign(&signed_message(&body.algorithm, &line))?;
        let bytes = format!("{line}\n{sig}\n");
        if store
            .put_if(&ledger_key(seq), bytes.as_bytes(), Expect::Absent)?
            .is_some()
        {
            return Ok(seq);
        }
    }
    Err(io::Error::other(format!(
        "other writers kept taking the ledger's head: {TRIES} tries; try again"
    )))
}

fn seq_of(key: &str) -> Option<u64> {
    key.rsplit('/').next()?.strip_suffix(".jsonl")?.parse().ok()
}

/// Leave custody records to be sealed into the ledger by [`seal`] (a writer without the
/// signing key: the Lambda functions, the CLI on an S3 store). Named by their content: a
/// redelivered input's records are the same object again only when read at the same time,
/// else they are kept twice, which is true.
pub fn hold(store: &dyn Store, records: &[Custody]) -> io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let bytes = serde_json::to_vec(records).map_err(io::Error::other)?;
    let key = format!("{CUSTODY_PENDING}{}.json", crate::hash::sha256_hex(&bytes));
    store.put(&key, &bytes)
}

/// The records that wait for [`seal`], with the keys that hold them; and the pending
/// objects that cannot be read (key, why).
pub struct Pending {
    pub keys: Vec<String>,
    pub records: Vec<Custody>,
    pub unreadable: Vec<(String, String)>,
}

pub fn pending(store: &dyn Store) -> io::Result<Pending> {
    Ok(pending_up_to(store, usize::MAX)?.0)
}

/// [`pending`], reading objects until they hold `max` records; and how many objects are left
/// unread.
fn pending_up_to(store: &dyn Store, max: usize) -> io::Result<(Pending, usize)> {
    let mut out = Pending {
        keys: Vec::new(),
        records: Vec::new(),
        unreadable: Vec::new(),
    };
    let keys = store.list(CUSTODY_PENDING)?;
    let total = keys.len();
    let mut read = 0;
    for key in keys {
        if out.records.len() >= max {
            break;
        }
        read += 1;
        let Some(bytes) = store.get(&key)? else {
            continue;
        };
        match serde_json::from_slice::<Vec<Custody>>(&bytes) {
            Ok(r) => {
                out.records.extend(r);
                out.keys.push(key);
            }
            Err(e) => out
                .unreadable
                .push((key, format!("not custody records: {e}"))),
        }
    }
    Ok((out, total - read))
}

/// Records one [`seal`] signs at most (a backlog is sealed over several runs, said in
/// [`Sealed::left`]), so that a run's memory stays bounded.
pub const RECORDS_PER_SEAL: usize = 200_000;

/// What [`seal`] did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Sealed {
    /// records signed into the ledger
    pub records: usize,
    /// the last segment written
    pub segment: Option<u64>,
    /// pending objects that are not custody records, left where they are (key, why)
    pub unreadable: Vec<(String, String)>,
    /// pending objects left for the next run (past [`RECORDS_PER_SEAL`])
    pub left: usize,
}

/// Sign every pending record, and `more`, into the ledger, then remove the pending objects
/// sealed. Run by one writer at a time per record set; two at once may seal a record twice
/// (each reads it before the other removes it), never lose one.
pub fn seal(store: &dyn Store, signer: &dyn Signer, more: Vec<Custody>) -> io::Result<Sealed> {
    seal_up_to(store, signer, more, RECORDS_PER_SEAL)
}

/// [`seal`], with at most about `max` pending records.
pub fn seal_up_to(
    store: &dyn Store,
    signer: &dyn Signer,
    more: Vec<Custody>,
    max: usize,
) -> io::Result<Sealed> {
    let (p, left) = pending_up_to(store, max)?;
    let mut records = p.records;
    records.extend(more);
    let n = records.len();
    let segment = append(store, signer, records)?;
    for key in &p.keys {
        store.delete(key)?;
    }
    Ok(Sealed {
        records: n,
        segment,
        unreadable: p.unreadable,
        left,
    })
}

/// What is wrong with the ledger, if anything, and every record it holds (those of segments
/// that read, checked or not).
pub struct Read {
    pub records: Vec<Custody>,
    pub checked: Checked,
}

/// What reading the ledger found, apart from its records.
pub struct Checked {
    /// (segment key, what is wrong)
    pub problems: Vec<(String, String)>,
    /// the algorithm, key id and public key the chain is checked with, as the first
    /// segment names them (`None` without segments)
    pub signer: Option<(String, Option<String>, String)>,
}

/// A segment that records some of the objects asked for (`ssm-audit bundle`).
pub struct Naming {
    /// the segment's key
    pub key: String,
    pub algorithm: String,
    pub public_key: String,
    /// the body line, as signed (ed25519) or hashed then signed (KMS)
    pub line: String,
    /// hex
    pub signature: String,
    /// (object, its SHA-256 as recorded)
    pub objects: Vec<(String, String)>,
}

/// The segments whose records name any of `objects`, read one at a time.
pub fn segments_naming(
    store: &dyn Store,
    objects: &std::collections::HashSet<String>,
) -> io::Result<Vec<Naming>> {
    let mut out = Vec::new();
    for key in store.list(LEDGER)? {
        let Some(bytes) = store.get(&key)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let (line, sig) = line_and_signature(&text);
        let Ok(body) = serde_json::from_str::<Body>(line) else {
            continue;
        };
        let named: Vec<(String, String)> = body
            .records
            .into_iter()
            .filter(|c| c.held != super::Held::Input && objects.contains(&c.object))
            .map(|c| (c.object, c.sha256))
            .collect();
        if !named.is_empty() {
            out.push(Naming {
                key: key.clone(),
                algorithm: body.algorithm,
                public_key: body.public_key,
                line: line.to_owned(),
                signature: sig.to_owned(),
                objects: named,
            });
        }
    }
    Ok(out)
}

/// The DER SubjectPublicKeyInfo of an ed25519 key (RFC 8410) is this, then the 32-byte key.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A segment's first line (the body) and second (its signature).
fn line_and_signature(text: &str) -> (&str, &str) {
    let mut lines = text.lines();
    (
        lines.next().unwrap_or(""),
        lines.next().unwrap_or("").trim(),
    )
}

/// A segment's public key as PEM (SubjectPublicKeyInfo), for `openssl`.
pub fn public_key_pem(algorithm: &str, public_key: &str) -> Option<String> {
    use base64::Engine as _;
    let der = match algorithm {
        ED25519 => {
            let key = hex::decode(public_key).ok().filter(|k| k.len() == 32)?;
            [&ED25519_SPKI_PREFIX[..], &key].concat()
        }
        RSA_PKCS1_SHA256 => base64::engine::general_purpose::STANDARD
            .decode(public_key.trim())
            .ok()?,
        _ => return None,
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    Some(format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        body.join("\n")
    ))
}

/// [`read_each`], the records collected.
pub fn read(store: &dyn Store, pinned: Option<LedgerKey>) -> io::Result<Read> {
    let mut records = Vec::new();
    let checked = read_each(store, pinned, &mut |c| records.push(c))?;
    Ok(Read { records, checked })
}

/// Read the ledger one segment at a time (never all of it in memory), check its chain and
/// signatures, and give `each` every record of the segments that read, checked or not.
/// Checked against `pinned` (the data folder's own key, or a key given) when given, else
/// against the key the first segment names: every later segment must be signed by the same.
pub fn read_each(
    store: &dyn Store,
    pinned: Option<LedgerKey>,
    each: &mut dyn FnMut(Custody),
) -> io::Result<Checked> {
    let mut keys = store.list(LEDGER)?;
    keys.sort();
    let mut out = Checked {
        problems: Vec::new(),
        signer: None,
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
        let (line, sig) = line_and_signature(&text);
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
        if out.signer.is_none() {
            out.signer = Some((
                body.algorithm.clone(),
                body.key_id.clone(),
                body.public_key.clone(),
            ));
        }
        if key_of_chain.is_none() {
            key_of_chain = LedgerKey::parse(&body.algorithm, &body.public_key);
        }
        let signed = key_of_chain
            .as_ref()
            .is_some_and(|k| k.verifies(&body.algorithm, line, sig));
        if !signed {
            out.problems.push((
                key.clone(),
                "its signature does not match (a record changed, or another key)".into(),
            ));
        }
        body.records.into_iter().for_each(&mut *each);
        prev = hash;
    }
    Ok(out)
}
