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
    let pinned = ledger::LocalKey::load(store)?.map(|k| k.verifying_key());
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
            "transcript copies: {} valid, {} modified, {} missing",
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
