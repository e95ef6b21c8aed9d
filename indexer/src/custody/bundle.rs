//! `ssm-audit bundle`: one session's evidence for an auditor, checkable without ssm-audit.
//!
//! The folder holds the session's record and rendered text, its raw transcript copies, the
//! CloudTrail trail files that mention it (uncompressed, so their SHA-256 is the one the
//! digests list), the digests that cover those files with their signatures, the string each
//! was signed over and CloudTrail's public key as PEM, the ledger segments that recorded the
//! transcript copies when they were kept with their signatures and the ledger's public key as
//! PEM, a `SHA256SUMS` (`sha256sum -c`) and a `VERIFY.txt` with the commands that check it
//! all (`sha256sum`, `openssl dgst`, `openssl pkeyutl`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::Path;

use base64::Engine;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};

use super::digest::{Digest, PublicKey};
use crate::keys::{transcripts_dir, DIGESTS, TRAILS};
use crate::store::Store;

/// What went into a bundle.
#[derive(Debug, Default, serde::Serialize)]
pub struct Bundled {
    pub files: usize,
    pub transcripts: usize,
    pub trail_files: usize,
    pub digests: usize,
    /// digests whose signature is nowhere (the newest of a chain synced without metadata)
    pub digests_unsigned: usize,
    /// ledger segments that record the bundled copies
    pub ledger_segments: usize,
}

fn safe_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn gunzipped(bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes;
    }
    let mut out = Vec::new();
    match flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out) {
        Ok(_) => out,
        Err(_) => bytes,
    }
}

/// Write the bundle of `session_id` into `out` (a new or empty folder).
pub fn bundle(
    store: &dyn Store,
    session_id: &str,
    out: &Path,
    keys: &BTreeMap<String, PublicKey>,
) -> io::Result<Bundled> {
    let records = crate::rebuild::load_records(store)?;
    let Some(rec) = records
        .iter()
        .find(|r| r.session_id.as_deref() == Some(session_id))
    else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no session {session_id}"),
        ));
    };
    crate::store::private_dirs(out)?;
    let mut b = Bundled::default();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.push((
        "record.json".into(),
        serde_json::to_vec_pretty(rec).map_err(io::Error::other)?,
    ));
    if let Some(t) = crate::text::load_text(store, session_id)? {
        let mut text = t.lines.join("\n");
        text.push('\n');
        files.push(("text.txt".into(), text.into_bytes()));
    }
    let sk = crate::keys::session_key(session_id);
    // store key -> file in the bundle, for the ledger's records of them (trail files are
    // bundled uncompressed, as CloudTrail's digests list them: steps 2 and 3 prove those)
    let mut bundled: BTreeMap<String, String> = BTreeMap::new();
    for key in store.list(&transcripts_dir(&sk))? {
        if let Some(bytes) = store.get(&key)? {
            b.transcripts += 1;
            let file = format!("transcripts/{}", safe_name(&key));
            bundled.insert(key.clone(), file.clone());
            files.push((file, bytes));
        }
    }
    // the trail files that mention the session, as CloudTrail wrote them (uncompressed)
    let needle = session_id.as_bytes();
    let mut trail_names = Vec::new();
    for key in store.list(TRAILS)? {
        let Some(bytes) = store.get(&key)? else {
            continue;
        };
        let content = gunzipped(bytes);
        if memchr::memmem::find(&content, needle).is_some() {
            let name = safe_name(&key);
            let name = name.strip_suffix(".gz").unwrap_or(&name).to_owned();
            trail_names.push(name.clone());
            b.trail_files += 1;
            files.push((format!("cloudtrail/{name}"), content));
        }
    }
    // the digests that list them, with their signatures
    let mut digests = Vec::new();
    for key in store.list(DIGESTS)? {
        let Some(stem) = key.strip_suffix(".json") else {
            continue;
        };
        let Some(raw) = store.get(&key)? else {
            continue;
        };
        let Ok(d) = Digest::parse(&raw) else { continue };
        let sig = store
            .get(&format!("{stem}.sig"))?
            .map(|s| String::from_utf8_lossy(&s).trim().to_owned());
        digests.push((d, raw, sig));
    }
    let successor_sig: BTreeMap<String, String> = digests
        .iter()
        .filter_map(|(d, _, _)| {
            Some((d.previous_location()?, d.previous_digest_signature.clone()?))
        })
        .collect();
    let mut verify = String::from(
        "How to check this bundle without ssm-audit\n\n\
         1. Every file is as it was bundled:\n\n    sha256sum -c SHA256SUMS\n\n",
    );
    let mut signed_any = false;
    let mut step2 = String::new();
    let mut step3 = String::new();
    for (d, raw, sig) in &digests {
        let covers: Vec<&str> = d
            .log_files
            .iter()
            .map(|f| f.s3_object.rsplit('/').next().unwrap_or(&f.s3_object))
            .filter(|n| {
                trail_names
                    .iter()
                    .any(|t| t == n.strip_suffix(".gz").unwrap_or(n))
            })
            .collect();
        if covers.is_empty() {
            continue;
        }
        b.digests += 1;
        let name = safe_name(&d.digest_s3_object);
        let name = name.strip_suffix(".json.gz").unwrap_or(&name).to_owned();
        files.push((format!("digests/{name}.json"), raw.clone()));
        for f in &d.log_files {
            let n = f.s3_object.rsplit('/').next().unwrap_or(&f.s3_object);
            let n = n.strip_suffix(".gz").unwrap_or(n);
            if trail_names.iter().any(|t| t == n) {
                let _ = writeln!(
                    step2,
                    "    sha256sum cloudtrail/{n}    # digest {name} lists {}",
                    f.hash_value
                );
            }
        }
        let sig = sig
            .clone()
            .or_else(|| successor_sig.get(&d.location()).cloned());
        let Some(sig) = sig.and_then(|s| hex::decode(s).ok()) else {
            b.digests_unsigned += 1;
            let _ = writeln!(
                step3,
                "    # digests/{name}.json: its signature was in its S3 metadata only (x-amz-meta-signature)"
            );
            continue;
        };
        signed_any = true;
        files.push((format!("digests/{name}.sig"), sig));
        files.push((
            format!("digests/{name}.signed"),
            d.string_to_sign(raw).into_bytes(),
        ));
        let fp = d
            .digest_public_key_fingerprint
            .clone()
            .unwrap_or_default()
            .to_lowercase();
        let pem = format!("cloudtrail-public-key-{}.pem", safe_name(&fp));
        if let Some(k) = keys.get(&fp) {
            let pem_text = base64::engine::general_purpose::STANDARD
                .decode(k.value.trim())
                .ok()
                .and_then(|der| rsa::RsaPublicKey::from_pkcs1_der(&der).ok())
                .and_then(|k| k.to_public_key_pem(LineEnding::LF).ok());
            if let Some(p) = pem_text {
                if !files.iter().any(|(n, _)| *n == pem) {
                    files.push((pem.clone(), p.into_bytes()));
                }
            }
        }
        let _ = writeln!(
            step3,
            "    openssl dgst -sha256 -verify {pem} -signature digests/{name}.sig digests/{name}.signed\n    \
             sha256sum digests/{name}.json    # the third line of digests/{name}.signed"
        );
    }
    if !step2.is_empty() {
        verify.push_str(
            "2. Each CloudTrail trail file is the one CloudTrail's digest lists (compare with its\n   hashValue):\n\n",
        );
        verify.push_str(&step2);
        verify.push('\n');
    }
    if signed_any || !step3.is_empty() {
        verify.push_str(
            "3. Each digest is signed by CloudTrail (SHA256withRSA over digests/NAME.signed, whose\n   \
             third line is the SHA-256 of the digest; \"Verified OK\" from openssl), with the key\n   \
             `aws cloudtrail list-public-keys` gives for the digest's fingerprint:\n\n",
        );
        verify.push_str(&step3);
        verify.push('\n');
    }
    let step4 = ledger_evidence(store, &bundled, &mut files, &mut b)?;
    if !step4.is_empty() {
        verify.push_str(&step4);
    }
    verify.push_str(
        "The transcripts under transcripts/ are the raw copies as kept at ingest; text.txt is\n\
         what ssm-audit rendered from the text of record; record.json the session's record.\n",
    );
    files.push(("VERIFY.txt".into(), verify.into_bytes()));
    let mut sums = String::new();
    for (name, bytes) in &files {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            crate::store::private_dirs(dir)?;
        }
        std::fs::write(&path, bytes)?;
        let _ = writeln!(sums, "{}  {name}", crate::hash::sha256_hex(bytes));
    }
    std::fs::write(out.join("SHA256SUMS"), sums)?;
    b.files = files.len() + 1;
    Ok(b)
}

/// The ledger segments that record the bundled copies (`bundled`: store key -> file), with
/// their signatures and the signing key as PEM; the text of VERIFY.txt's step 4.
fn ledger_evidence(
    store: &dyn Store,
    bundled: &BTreeMap<String, String>,
    files: &mut Vec<(String, Vec<u8>)>,
    b: &mut Bundled,
) -> io::Result<String> {
    let wanted: std::collections::HashSet<String> = bundled.keys().cloned().collect();
    let segments = super::ledger::segments_naming(store, &wanted)?;
    if segments.is_empty() {
        return Ok(String::new());
    }
    let mut text = String::from(
        "4. Each copy is the one ssm-audit recorded in its signed ledger when it kept it (the\n   \
         SHA-256 below is in the segment's line), and the segment is signed by the ledger's key\n   \
         (a data folder's own, or in AWS the stack's LedgerKey: compare ledger-public-key-*.pem\n   \
         with `aws kms get-public-key`):\n\n",
    );
    for seg in segments {
        let Some(pem) = super::ledger::public_key_pem(&seg.algorithm, &seg.public_key) else {
            continue;
        };
        let Ok(sig) = hex::decode(&seg.signature) else {
            continue;
        };
        b.ledger_segments += 1;
        let name = safe_name(&seg.key);
        let name = name.strip_suffix(".jsonl").unwrap_or(&name).to_owned();
        let pem_file = format!(
            "ledger-public-key-{}.pem",
            &crate::hash::sha256_hex(seg.public_key.as_bytes())[..16]
        );
        if !files.iter().any(|(n, _)| *n == pem_file) {
            files.push((pem_file.clone(), pem.into_bytes()));
        }
        files.push((format!("ledger/{name}.line"), seg.line.clone().into_bytes()));
        files.push((format!("ledger/{name}.sig"), sig));
        for (object, sha) in &seg.objects {
            if let Some(file) = bundled.get(object) {
                let _ = writeln!(
                    text,
                    "    sha256sum {file}    # as kept: {sha} (ledger/{name}.line)"
                );
            }
        }
        if seg.algorithm == super::ledger::ED25519 {
            let _ = writeln!(
                text,
                "    openssl pkeyutl -verify -pubin -inkey {pem_file} -rawin -in ledger/{name}.line -sigfile ledger/{name}.sig\n"
            );
        } else {
            // KMS signs the line's SHA-256 in hex
            let signed = super::ledger::signed_message(&seg.algorithm, &seg.line);
            files.push((format!("ledger/{name}.signed"), signed));
            let _ = writeln!(
                text,
                "    openssl dgst -sha256 -verify {pem_file} -signature ledger/{name}.sig ledger/{name}.signed\n    \
                 sha256sum ledger/{name}.line    # the text of ledger/{name}.signed\n"
            );
        }
    }
    Ok(text)
}
