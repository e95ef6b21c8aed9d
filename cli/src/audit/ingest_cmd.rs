//! ssm-audit ingest: evidence from a folder, S3 or the AWS APIs into the data folder, with progress and a summary.

use super::*;

// ---- ingest ----------------------------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// What to read: files and folders (recursively: transcripts, trail files, EventBridge
    /// events, CloudWatch payloads and exports, LookupEvents and DescribeSessions output, gzip
    /// or not); s3://BUCKET/PREFIX (every object under it); cloudwatch://LOG_GROUP (every
    /// event of the session log group); `cloudtrail` (LookupEvents for StartSession,
    /// ResumeSession and TerminateSession since --since). With none: build the index again
    /// from what the store holds
    pub paths: Vec<String>,
    /// With `cloudtrail`: how far back (RFC 3339, a date, or an age like 90d; CloudTrail keeps 90 days)
    #[arg(long, default_value = "90d")]
    pub since: String,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
    /// Read what symbolic links inside the folders point to (each file once; cycles end).
    /// Without it links are skipped, so a link cannot pull in a file from elsewhere
    #[arg(long)]
    pub follow: bool,
}

/// Where evidence comes from.
pub(crate) enum Source {
    Files(PathBuf),
    S3(ssm_audit_aws::s3::S3Url),
    LogGroup(String),
    CloudTrail,
}

pub(crate) fn source(arg: &str) -> Result<Source> {
    if arg.starts_with("s3://") {
        return Ok(Source::S3(
            arg.parse().map_err(|e: String| anyhow::anyhow!(e))?,
        ));
    }
    if let Some(g) = arg.strip_prefix("cloudwatch://") {
        if g.is_empty() {
            bail!("{arg:?} names no log group");
        }
        return Ok(Source::LogGroup(g.to_owned()));
    }
    if arg == "cloudtrail" && !Path::new(arg).exists() {
        return Ok(Source::CloudTrail);
    }
    Ok(Source::Files(PathBuf::from(arg)))
}

pub(crate) fn progress(len: Option<u64>) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    match len {
        Some(n) => {
            let b = indicatif::ProgressBar::new(n);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
                    .expect("valid template"),
            );
            b
        }
        None => indicatif::ProgressBar::new_spinner(),
    }
}

/// Ingest a page of JSON from an API, named by its content (so a repeat is the same input).
pub(crate) fn ingest_page(
    store: &dyn Store,
    what: &str,
    page: serde_json::Value,
    report: &mut IngestReport,
) {
    // the page callback runs on the runtime; the store may block on it too
    tokio::task::block_in_place(|| ingest::ingest_json(store, what, &page, report));
}

/// Read one API source into the store.
pub(crate) fn ingest_remote(
    d: &mut Data,
    src: &Source,
    since: OffsetDateTime,
    report: &mut IngestReport,
) -> Result<()> {
    use ssm_audit_aws::backfill;
    let store = d.store.clone();
    let aws = d.aws()?;
    let bar = progress(None);
    let store = &*store;
    match src {
        Source::S3(url) => {
            let s3 = ssm_audit_aws::s3::s3_client(&aws.conf);
            let keys = aws
                .rt
                .block_on(backfill::list_objects(&s3, &url.bucket, &url.prefix))?;
            let bar = progress(Some(keys.len() as u64));
            let tmp = tempfile::tempdir()?;
            for key in keys {
                let name = format!("s3://{}/{key}", url.bucket);
                bar.set_message(escape_text(&name).into_owned());
                let path = tmp.path().join("object");
                let fetched =
                    aws.rt
                        .block_on(ssm_audit_aws::s3::download(&s3, &url.bucket, &key, &path));
                match fetched {
                    Ok(origin) => ingest::ingest_file_from(store, &path, &key, &origin, report)?,
                    Err(e) => report.failed.push(bad(Path::new(&name), format!("{e:#}"))),
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
        }
        Source::LogGroup(group) => {
            let logs = aws_sdk_cloudwatchlogs::Client::new(&aws.conf);
            let what = format!("cloudwatch-{}", group.replace('/', "_"));
            let n = aws
                .rt
                .block_on(backfill::log_group_events(&logs, group, &mut |page| {
                    bar.inc(1);
                    bar.set_message(format!(
                        "{} pages of {}",
                        bar.position(),
                        escape_text(group)
                    ));
                    ingest_page(store, &what, page, report);
                    Ok(())
                }))?;
            tracing_note(&bar, n, "log events");
        }
        Source::CloudTrail => {
            let ct = aws_sdk_cloudtrail::Client::new(&aws.conf);
            let until = OffsetDateTime::now_utc();
            let n = aws.rt.block_on(backfill::lookup_session_events(
                &ct,
                since,
                until,
                &mut |page| {
                    bar.inc(1);
                    bar.set_message(format!("{} pages of CloudTrail events", bar.position()));
                    ingest_page(store, "cloudtrail-lookup", page, report);
                    Ok(())
                },
            ))?;
            tracing_note(&bar, n, "CloudTrail events");
            // the keys that signed the period's digest files, for `ssm-audit verify`
            let keys = aws
                .rt
                .block_on(backfill::list_public_keys(&ct, since, until))?;
            let kept = ssm_audit_core::custody::digest::keep_public_keys(
                store,
                keys.to_string().as_bytes(),
            )
            .map_err(|e| anyhow::anyhow!("cannot keep CloudTrail's public keys: {e}"))?;
            eprintln!(
                "note: {} CloudTrail public keys kept for `ssm-audit verify` ({} listed for the \
                 period)",
                kept,
                keys["PublicKeyList"].as_array().map_or(0, Vec::len)
            );
        }
        Source::Files(_) => unreachable!("files are read by ingest_files"),
    }
    Ok(())
}

pub(crate) fn tracing_note(bar: &indicatif::ProgressBar, n: usize, what: &str) {
    bar.finish_and_clear();
    if std::io::stderr().is_terminal() {
        eprintln!("read {n} {what}");
    }
}

/// Walks the folders given to `ingest`: regular files only (a FIFO would block, a device
/// read forever), each file once (by device and inode), symbolic links below a root skipped
/// unless `--follow` (then followed, never twice: cycles end), each skip said with its reason.
pub(crate) struct Walk {
    follow: bool,
    seen: std::collections::HashSet<(u64, u64)>,
}

impl Walk {
    fn skip(p: &Path, why: &str, report: &mut IngestReport) {
        report
            .inputs_skipped
            .push((p.display().to_string(), why.to_owned()));
    }

    /// `root`: a path given on the command line, followed even when it is a link.
    fn walk(&mut self, p: &Path, root: bool, out: &mut Vec<PathBuf>, report: &mut IngestReport) {
        let link = match std::fs::symlink_metadata(p) {
            Ok(m) => m.file_type().is_symlink(),
            Err(e) => return report.failed.push(bad(p, e)),
        };
        if link && !root && !self.follow {
            return Self::skip(
                p,
                "a symbolic link: --follow reads what links point to",
                report,
            );
        }
        let m = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => return report.failed.push(bad(p, e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if !self.seen.insert((m.dev(), m.ino())) {
                return Self::skip(
                    p,
                    "already read by another path (a link or a cycle)",
                    report,
                );
            }
        }
        if m.is_dir() {
            match std::fs::read_dir(p) {
                Ok(rd) => {
                    // an entry that cannot be read is a failure named, not a file left out
                    let mut entries = Vec::new();
                    for e in rd {
                        match e {
                            Ok(e) => entries.push(e.path()),
                            Err(e) => report.failed.push(bad(p, e)),
                        }
                    }
                    entries.sort();
                    for e in entries {
                        self.walk(&e, false, out, report);
                    }
                }
                Err(e) => report.failed.push(bad(p, e)),
            }
        } else if m.is_file() {
            out.push(p.to_owned());
        } else {
            Self::skip(
                p,
                "not a regular file (a FIFO, socket or device): not read",
                report,
            );
        }
    }
}

pub(crate) fn bad(p: &Path, e: impl std::fmt::Display) -> ssm_audit_core::formats::BadRecord {
    ssm_audit_core::formats::BadRecord {
        input: p.display().to_string(),
        index: None,
        reason: e.to_string(),
    }
}

pub fn run_ingest(data: &DataArgs, args: &IngestArgs, out: &mut dyn Write) -> Result<bool> {
    let mut d = data.open()?;
    let _lock = d.lock_for_writing()?;
    // custody taken for the ledger (an S3 store's is said not kept, below)
    let mut report = IngestReport::with_custody();
    let mut files = Vec::new();
    let mut remote = Vec::new();
    let mut walker = Walk {
        follow: args.follow,
        seen: Default::default(),
    };
    for arg in &args.paths {
        match source(arg)? {
            Source::Files(p) => walker.walk(&p, true, &mut files, &mut report),
            s => remote.push(s),
        }
    }
    let since = parse_when(&args.since, OffsetDateTime::now_utc())?;
    for src in &remote {
        ingest_remote(&mut d, src, since, &mut report)?;
    }
    let bar = progress(Some(files.len() as u64));
    let tick = |f: &Path| {
        bar.set_message(escape_text(&f.display().to_string()).into_owned());
        bar.inc(1);
    };
    report.merge(ingest::ingest_files(&*d.store, &files, &tick));
    bar.finish_and_clear();
    keep_custody(&d, &mut report)?;
    let records = d.rebuild()?;
    let store = &*d.store;
    if args.json {
        json_out(
            out,
            &serde_json::json!({"report": report, "sessions": records.len()}),
        )?;
    } else {
        writeln!(
            out,
            "read {} inputs: {} facts, {} records of other kinds skipped",
            report.inputs_read, report.facts, report.records_skipped
        )?;
        if report.digests_kept > 0 {
            writeln!(
                out,
                "kept {} CloudTrail digest files for `ssm-audit verify`",
                report.digests_kept
            )?;
        }
        for (input, why) in &report.inputs_skipped {
            writeln!(out, "skipped {}: {}", escape_text(input), escape_text(why))?;
        }
        for b in &report.failed {
            writeln!(out, "failed {}", escape_text(&b.to_string()))?;
        }
        for b in &report.store_failed {
            writeln!(out, "not stored {}", escape_text(&b.to_string()))?;
        }
        let denied = records.iter().filter(|r| r.session_id.is_none()).count();
        writeln!(
            out,
            "{} sessions and {} denied attempts in {}",
            records.len() - denied,
            denied,
            store.describe()
        )?;
    }
    if !report.store_failed.is_empty() {
        bail!(
            "{} inputs could not be stored in {} (listed above): run the ingest again once the \
             cause is fixed",
            report.store_failed.len(),
            store.describe()
        );
    }
    if !report.failed.is_empty() {
        bail!(
            "{} inputs or records could not be read (listed above); everything else was ingested",
            report.failed.len()
        );
    }
    Ok(true)
}

/// Add what this ingest read and kept to the custody ledger: signed with the data folder's
/// key; for an S3 store, left pending for the indexer in AWS to seal with its KMS key (which
/// only the indexer may use), and said.
fn keep_custody(d: &Data, report: &mut IngestReport) -> Result<()> {
    let custody = std::mem::take(&mut report.custody);
    if custody.is_empty() {
        return Ok(());
    }
    if d.cache.is_some() {
        ssm_audit_core::custody::ledger::hold(&*d.store, &custody).map_err(|e| {
            anyhow::anyhow!("cannot leave the custody records in {}: {e}", d.describe())
        })?;
        eprintln!(
            "note: {} custody records left under {} for the indexer to seal into the ledger \
             (signed by its KMS key); `ssm-audit verify` counts them until then",
            custody.len(),
            ssm_audit_core::keys::CUSTODY_PENDING
        );
        return Ok(());
    }
    let key = ssm_audit_core::custody::ledger::LocalKey::load_or_create(&*d.store)?;
    ssm_audit_core::custody::ledger::append(&*d.store, &key, custody)?;
    Ok(())
}
