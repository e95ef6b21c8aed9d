//! `ssm-audit verify`: how do you know this log is complete and unaltered? CloudTrail's
//! digests and the trail files they list, every kept transcript copy re-hashed against the
//! custody ledger, the ledger's chain and signatures. Exit 0 when nothing is wrong, 1 when
//! something is, 2 on error.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ssm_audit_core::custody::{digest, ledger, verify};
use ssm_audit_core::escape::escape_text;

use crate::audit::DataArgs;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// CloudTrail's public keys: the JSON `aws cloudtrail list-public-keys` prints (kept in
    /// the data folder for later runs); else those kept before
    #[arg(long)]
    public_keys: Option<PathBuf>,
    /// The public key the custody ledger must be signed with: a PEM file (the KMS key's, as
    /// the stack's LedgerKeyArn output says to make it) or an ed25519 key in hex. Without it,
    /// a data folder's own key, else the key the ledger's first segment names (said)
    #[arg(long, value_name = "FILE")]
    ledger_key: Option<PathBuf>,
    /// Print the summary and the problems as JSON (a stable contract)
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataArgs, args: &VerifyArgs, out: &mut dyn Write) -> Result<bool> {
    let d = data.open_existing()?;
    let store = &*d.store;
    let keys = match &args.public_keys {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            let keys = digest::parse_public_keys(&bytes)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}", p.display()))?;
            if d.cache.is_none() {
                let _lock = d.lock_for_writing()?;
                store.put(ssm_audit_core::keys::PUBLIC_KEYS, &bytes)?;
            }
            Some(keys)
        }
        None => None,
    };
    let pinned = match &args.ledger_key {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Some(ledger::LedgerKey::from_file_text(&text).with_context(|| {
                format!(
                    "{}: not a public key (a PEM `BEGIN PUBLIC KEY` of an RSA or ed25519 key, or \
                     an ed25519 key in hex)",
                    p.display()
                )
            })?)
        }
        None => ledger::LocalKey::pinned(store)?,
    };
    let v = verify::verify(store, keys, pinned)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
    } else {
        let s = &v.summary;
        writeln!(
            out,
            "digests: {} valid, {} invalid, {} unverified",
            s.digests_valid, s.digests_invalid, s.digests_unverified
        )?;
        writeln!(
            out,
            "trail files: {} valid, {} modified, {} missing, {} not covered by a digest",
            s.log_files_valid, s.log_files_modified, s.log_files_missing, s.log_files_not_covered
        )?;
        writeln!(
            out,
            "kept copies (transcripts, trail files, digests, facts): {} valid, {} modified, {} missing",
            s.copies_valid, s.copies_modified, s.copies_missing
        )?;
        for p in &v.problems {
            writeln!(
                out,
                "{}: {}: {}",
                p.kind,
                escape_text(&p.object),
                escape_text(&p.detail)
            )?;
        }
        for n in &v.notes {
            eprintln!("note: {}", escape_text(n));
        }
    }
    Ok(v.problems.is_empty())
}

#[derive(clap::Args, Debug)]
pub struct BundleArgs {
    /// The session to bundle
    session_id: String,
    /// The folder to write (made; must be empty if it exists)
    #[arg(long)]
    out: PathBuf,
    /// CloudTrail's public keys (`aws cloudtrail list-public-keys` output), for the PEM the
    /// bundle's openssl commands need; else those kept by `verify --public-keys`
    #[arg(long)]
    public_keys: Option<PathBuf>,
}

/// `ssm-audit bundle`: one session's evidence for an auditor, with SHA256SUMS and the
/// commands that check it without ssm-audit.
pub fn run_bundle(data: &DataArgs, args: &BundleArgs, out: &mut dyn Write) -> Result<bool> {
    let d = data.open_existing()?;
    let store = &*d.store;
    if std::fs::read_dir(&args.out).is_ok_and(|mut e| e.next().is_some()) {
        anyhow::bail!("{} is not empty", args.out.display());
    }
    let keys = match &args.public_keys {
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => store
            .get(ssm_audit_core::keys::PUBLIC_KEYS)?
            .unwrap_or_else(|| br#"{"PublicKeyList": []}"#.to_vec()),
    };
    let keys = digest::parse_public_keys(&keys).map_err(anyhow::Error::msg)?;
    let b = ssm_audit_core::custody::bundle::bundle(store, &args.session_id, &args.out, &keys)
        .with_context(|| format!("cannot bundle {}", escape_text(&args.session_id)))?;
    writeln!(
        out,
        "{}: {} files ({} transcript copies, {} trail files, {} digests{}, {} ledger segments); check it with VERIFY.txt",
        args.out.display(),
        b.files,
        b.transcripts,
        b.trail_files,
        b.digests,
        if b.digests_unsigned > 0 {
            format!(", {} without a signature", b.digests_unsigned)
        } else {
            String::new()
        },
        b.ledger_segments
    )?;
    Ok(true)
}
