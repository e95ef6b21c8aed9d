//! `ssm-audit verify`: everything the store holds checked again, from AWS's signatures to the
//! ledger. The JSON it prints is a stable contract ([`Verified`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;

use serde::Serialize;

use super::digest::{self, Digest, PublicKey};
use super::{ledger, Custody, Held};
use crate::keys::{DIGESTS, PUBLIC_KEYS};
use crate::store::Store;

/// The counts (`--json`'s `summary`).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub digests_valid: u64,
    pub digests_invalid: u64,
    pub digests_unverified: u64,
    pub log_files_valid: u64,
    pub log_files_modified: u64,
    pub log_files_missing: u64,
    pub log_files_not_covered: u64,
    pub copies_valid: u64,
    pub copies_modified: u64,
    pub copies_missing: u64,
}

/// One thing found wrong.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Problem {
    /// `digest-invalid`, `digest-chain-broken`, `log-file-modified`, `log-file-missing`,
    /// `copy-modified`, `copy-missing` or `ledger-invalid`
    pub kind: &'static str,
    /// the file, key or session
    pub object: String,
    pub detail: String,
}

/// What `verify` found. Unverified digests and trail files no digest covers are counted, not
/// problems; `notes` says why a digest could not be checked and where each chain's evidence
/// starts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verified {
    pub summary: Summary,
    pub problems: Vec<Problem>,
    pub notes: Vec<String>,
}

/// What the ledger's records say, folded as they are read (a store's ledger may hold
/// millions of records: only what the checks need is kept).
#[derive(Default)]
struct Records {
    /// each kept object (copies, digests): its last record's SHA-256, size and time
    kept: BTreeMap<String, (String, u64, String)>,
    /// trail files read, by object name: (the input's name, its content's SHA-256)
    trails: HashMap<String, Vec<(String, String)>>,
    /// the SHA-256 of every index published
    indexes: HashSet<String>,
    /// inputs read from S3 whose key's version count is not known
    uncounted: u64,
}

impl Records {
    fn add(&mut self, c: Custody) {
        match c.held {
            Held::Copy | Held::Digest | Held::Facts => {
                self.kept.insert(c.object, (c.sha256, c.size, c.read_at));
            }
            Held::Index => {
                self.indexes.insert(c.sha256);
            }
            Held::Other => {}
            Held::Input => {
                if c.origin.bucket.is_some() && c.origin.versions.is_none() {
                    self.uncounted += 1;
                }
                let trail = crate::formats::Format::TrailFile.describe();
                if c.format.as_deref() == Some(trail) {
                    self.trails
                        .entry(object_name(&c.object).to_owned())
                        .or_default()
                        .push((c.object, c.content_sha256));
                }
            }
        }
    }
}

/// A digest as kept: its bytes, its own signature (from S3 metadata) if it had one.
struct Kept {
    raw: Vec<u8>,
    digest: Digest,
    signature: Option<String>,
}

/// The chain a digest belongs to: bucket and the key up to `CloudTrail-Digest/<region>/`
/// (an organization trail's `o-.../<account>/` included).
fn chain_of(d: &Digest) -> String {
    let key = &d.digest_s3_object;
    let cut = key
        .find("/CloudTrail-Digest/")
        .map(|i| {
            let rest = &key[i + "/CloudTrail-Digest/".len()..];
            i + "/CloudTrail-Digest/".len() + rest.find('/').unwrap_or(rest.len())
        })
        .unwrap_or(key.len());
    format!("{}/{}", d.digest_s3_bucket, &key[..cut])
}

fn name_of(key: &str) -> &str {
    key.rsplit(['/', std::path::MAIN_SEPARATOR])
        .next()
        .unwrap_or(key)
}

/// An object's name as digests list it: a local `.json.gz` that was synced may have been
/// unzipped (`.json`), so both match.
fn object_name(key: &str) -> &str {
    let n = name_of(key);
    n.strip_suffix(".gz").unwrap_or(n)
}

/// Check everything. `keys`: CloudTrail's public keys (`--public-keys`), else those kept in
/// the store. `pinned`: the key the ledger must be signed with (the data folder's own, or
/// one given), else the key its first segment names.
pub fn verify(
    store: &dyn Store,
    keys: Option<BTreeMap<String, PublicKey>>,
    pinned: Option<ledger::LedgerKey>,
) -> io::Result<Verified> {
    let mut v = Verified::default();
    let keys = match keys {
        Some(k) => k,
        None => match store.get(PUBLIC_KEYS)? {
            Some(b) => digest::parse_public_keys(&b).map_err(io::Error::other)?,
            None => BTreeMap::new(),
        },
    };
    let pinned_given = pinned.is_some();
    let mut held = Records::default();
    let ledger = ledger::read_each(store, pinned, &mut |c| held.add(c))?;
    for (object, detail) in &ledger.problems {
        v.problems.push(Problem {
            kind: "ledger-invalid",
            object: object.clone(),
            detail: detail.clone(),
        });
    }
    if let Some((alg, key_id, public_key)) = &ledger.signer {
        if alg != ledger::ED25519 && !pinned_given {
            v.notes.push(format!(
                "the ledger is checked with the key its first segment names ({}, {alg}, public \
                 key SHA-256 {}): give --ledger-key with `aws kms get-public-key` of the key \
                 the template made to pin it",
                key_id.as_deref().unwrap_or("no key id"),
                crate::hash::sha256_hex(public_key.as_bytes())
            ));
        }
    }
    // records left by writers without the key, not yet sealed: checked, but unsigned
    let pending = ledger::pending(store)?;
    if !pending.records.is_empty() {
        v.notes.push(format!(
            "{} custody records in {} objects under {} wait to be signed into the ledger (the \
             indexer seals them on its next run): copies they name are checked against them, \
             unsigned",
            pending.records.len(),
            pending.keys.len(),
            crate::keys::CUSTODY_PENDING
        ));
    }
    for (key, why) in pending.unreadable {
        v.problems.push(Problem {
            kind: "ledger-invalid",
            object: key,
            detail: why,
        });
    }
    pending.records.into_iter().for_each(|c| held.add(c));
    if held.uncounted > 0 {
        v.notes.push(format!(
            "{} inputs read from S3 have no version count (s3:ListBucketVersions denied, or read \
             before it was recorded): whether they were overwritten after upload \
             (transcript-rewritten) is not known",
            held.uncounted
        ));
    }
    check_digests(store, &keys, &held, &mut v)?;
    let has_ledger = ledger.signer.is_some() || !held.kept.is_empty();
    check_copies(store, &held, &mut v)?;
    check_unrecorded(store, &held, has_ledger, &mut v)?;
    check_facts_snapshot(store, &mut v)?;
    check_index(store, &held, &mut v)?;
    v.problems
        .sort_by(|a, b| (a.kind, &a.object).cmp(&(b.kind, &b.object)));
    v.notes.sort();
    Ok(v)
}

fn load_digests(store: &dyn Store, v: &mut Verified) -> io::Result<Vec<Kept>> {
    let mut kept = Vec::new();
    for key in store.list(DIGESTS)? {
        let Some(stem) = key.strip_suffix(".json") else {
            continue;
        };
        let Some(raw) = store.get(&key)? else {
            continue;
        };
        let digest = match Digest::parse(&raw) {
            Ok(d) => d,
            Err(e) => {
                v.summary.digests_invalid += 1;
                v.problems.push(Problem {
                    kind: "digest-invalid",
                    object: key.clone(),
                    detail: e,
                });
                continue;
            }
        };
        let signature = store
            .get(&format!("{stem}.sig"))?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned());
        kept.push(Kept {
            raw,
            digest,
            signature,
        });
    }
    Ok(kept)
}

fn check_digests(
    store: &dyn Store,
    keys: &BTreeMap<String, PublicKey>,
    held: &Records,
    v: &mut Verified,
) -> io::Result<()> {
    let kept = load_digests(store, v)?;
    // a digest's signature: its own, else the one its successor carries
    let mut from_successor: HashMap<String, String> = HashMap::new();
    for k in &kept {
        if let (Some(p), Some(s)) = (
            k.digest.previous_location(),
            &k.digest.previous_digest_signature,
        ) {
            from_successor.insert(p, s.clone());
        }
    }
    let by_location: HashMap<String, &Kept> =
        kept.iter().map(|k| (k.digest.location(), k)).collect();
    let mut missing_key = HashSet::new();
    for k in &kept {
        let location = k.digest.location();
        let sig = k
            .signature
            .clone()
            .or_else(|| from_successor.get(&location).cloned());
        let Some(sig) = sig else {
            v.summary.digests_unverified += 1;
            continue;
        };
        let fp = k
            .digest
            .digest_public_key_fingerprint
            .clone()
            .unwrap_or_default()
            .to_lowercase();
        if !keys.contains_key(&fp) {
            v.summary.digests_unverified += 1;
            missing_key.insert(fp);
            continue;
        }
        match digest::verify(&k.digest, &k.raw, &sig, keys) {
            Ok(()) => v.summary.digests_valid += 1,
            Err(e) => {
                v.summary.digests_invalid += 1;
                v.problems.push(Problem {
                    kind: "digest-invalid",
                    object: location,
                    detail: e,
                });
            }
        }
    }
    for fp in missing_key {
        v.notes.push(format!(
            "no CloudTrail public key with fingerprint {fp}: its digests are unverified \
             (give --public-keys with `aws cloudtrail list-public-keys` output)"
        ));
    }
    // the chains: every digest but the oldest of its chain here follows one that is here,
    // whose hash it names
    let mut chains: BTreeMap<String, Vec<&Kept>> = BTreeMap::new();
    for k in &kept {
        chains.entry(chain_of(&k.digest)).or_default().push(k);
    }
    for (chain, mut ds) in chains {
        ds.sort_by(|a, b| a.digest.digest_end_time.cmp(&b.digest.digest_end_time));
        for (i, k) in ds.iter().enumerate() {
            let Some(prev) = k.digest.previous_location() else {
                continue;
            };
            match by_location.get(&prev) {
                None if i == 0 => v.notes.push(format!(
                    "{chain}: the evidence starts at {} (its predecessor is not here)",
                    k.digest.location()
                )),
                None => v.problems.push(Problem {
                    kind: "digest-chain-broken",
                    object: k.digest.location(),
                    detail: format!("the digest before it, {prev}, is missing"),
                }),
                Some(p) => {
                    let want = k.digest.previous_digest_hash_value.as_deref();
                    let have = crate::hash::sha256_hex(&p.raw);
                    if want.is_some_and(|w| !w.eq_ignore_ascii_case(&have)) {
                        v.problems.push(Problem {
                            kind: "digest-chain-broken",
                            object: k.digest.location(),
                            detail: format!(
                                "the digest before it, {prev}, is not the one it names (SHA-256 {have})"
                            ),
                        });
                    }
                }
            }
        }
    }
    // the trail files: each one a digest lists against what was read
    let read = &held.trails;
    let mut listed = HashSet::new();
    for k in &kept {
        for f in &k.digest.log_files {
            let name = object_name(&f.s3_object);
            listed.insert(name.to_owned());
            let object = format!("{}/{}", f.s3_bucket, f.s3_object);
            match read.get(name) {
                None => {
                    v.summary.log_files_missing += 1;
                    v.problems.push(Problem {
                        kind: "log-file-missing",
                        object,
                        detail: format!(
                            "listed by digest {}, not in the evidence",
                            k.digest.location()
                        ),
                    });
                }
                Some(cs)
                    if cs
                        .iter()
                        .any(|(_, sha)| sha.eq_ignore_ascii_case(&f.hash_value)) =>
                {
                    v.summary.log_files_valid += 1
                }
                Some(cs) => {
                    v.summary.log_files_modified += 1;
                    v.problems.push(Problem {
                        kind: "log-file-modified",
                        object: cs[0].0.clone(),
                        detail: format!(
                            "SHA-256 {} read; digest {} lists {}",
                            cs[0].1,
                            k.digest.location(),
                            f.hash_value
                        ),
                    });
                }
            }
        }
    }
    v.summary.log_files_not_covered += read.keys().filter(|n| !listed.contains(*n)).count() as u64;
    Ok(())
}

fn check_copies(store: &dyn Store, held: &Records, v: &mut Verified) -> io::Result<()> {
    // the last record of each kept object says what it holds
    for (key, (sha256, size, read_at)) in &held.kept {
        match store.open_read(key)? {
            None => {
                v.summary.copies_missing += 1;
                v.problems.push(Problem {
                    kind: "copy-missing",
                    object: key.to_owned(),
                    detail: format!("kept at {read_at} (SHA-256 {sha256}), gone"),
                });
            }
            Some(r) => {
                let (have, now) = super::sha256_of(r)?;
                if have == *sha256 {
                    v.summary.copies_valid += 1;
                } else {
                    v.summary.copies_modified += 1;
                    v.problems.push(Problem {
                        kind: "copy-modified",
                        object: key.to_owned(),
                        detail: format!(
                            "SHA-256 {have} ({now} bytes) now; {sha256} ({size} bytes) when kept \
                             at {read_at}"
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Every object under the prefixes of kept evidence (transcript copies, trail files, digests,
/// facts) must be one the ledger records: one put there afterwards (a forged transcript, an
/// invented fact) is `copy-modified`. Without a ledger at all (a store written before there
/// was one) nothing can be told, and that is said.
fn check_unrecorded(
    store: &dyn Store,
    held: &Records,
    has_ledger: bool,
    v: &mut Verified,
) -> io::Result<()> {
    use crate::keys::{FACTS, TRAILS, TRANSCRIPTS};
    let mut unrecorded = Vec::new();
    for prefix in [TRANSCRIPTS, TRAILS, DIGESTS, FACTS] {
        for key in store.list(prefix)? {
            // a digest's signature is checked by the digest's own check
            if prefix == DIGESTS && key.ends_with(".sig") {
                continue;
            }
            if !held.kept.contains_key(&key) {
                unrecorded.push(key);
            }
        }
    }
    if unrecorded.is_empty() {
        return Ok(());
    }
    if !has_ledger {
        v.notes.push(format!(
            "no custody ledger: the {} kept objects cannot be checked (kept before there was one)",
            unrecorded.len()
        ));
        return Ok(());
    }
    for key in unrecorded {
        v.summary.copies_modified += 1;
        v.problems.push(Problem {
            kind: "copy-modified",
            object: key,
            detail: "in the store, but the ledger never recorded it: put there after ingest (or \
                     being ingested right now)"
                .into(),
        });
    }
    Ok(())
}

/// The facts snapshot (`state/facts.json.gz`), which the rebuild trusts, must hold exactly the
/// facts of the files it lists.
fn check_facts_snapshot(store: &dyn Store, v: &mut Verified) -> io::Result<()> {
    if let Some((extra, lacking)) = crate::rebuild::check_snapshot(store)? {
        if extra + lacking > 0 {
            v.problems.push(Problem {
                kind: "copy-modified",
                object: crate::keys::FACTS_SNAPSHOT.to_owned(),
                detail: format!(
                    "holds {extra} facts that the fact files it lists do not, and lacks \
                     {lacking}: sessions rebuilt from it are not the evidence's (delete it: the \
                     next rebuild makes it again from the fact files)"
                ),
            });
        }
    }
    Ok(())
}

/// The index published now must be one the ledger records, when the ledger records any (an
/// S3 store's: the indexer seals each index it publishes). An index put there by a hand
/// without the key is `copy-modified`.
fn check_index(store: &dyn Store, held: &Records, v: &mut Verified) -> io::Result<()> {
    let published = &held.indexes;
    if published.is_empty() {
        return Ok(());
    }
    let key = crate::keys::INDEX_MANIFEST;
    let Some(bytes) = store.get(key)? else {
        v.problems.push(Problem {
            kind: "copy-missing",
            object: key.to_owned(),
            detail: format!(
                "{} indexes were published; none is there now",
                published.len()
            ),
        });
        return Ok(());
    };
    let have = crate::hash::sha256_hex(&bytes);
    if !published.contains(have.as_str()) {
        v.problems.push(Problem {
            kind: "copy-modified",
            object: key.to_owned(),
            detail: format!(
                "SHA-256 {have}: not an index the ledger records as published ({} are)",
                published.len()
            ),
        });
    }
    Ok(())
}
