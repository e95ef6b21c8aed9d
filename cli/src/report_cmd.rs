//! `ssm-audit report`: the audit report of a period, as HTML, Markdown, CSV or JSON.

use ssm_audit_core::text;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use ssm_audit_core::escape::escape_text;
use ssm_audit_core::report::{self, ReportOptions, Rules};
use time::OffsetDateTime;

use crate::audit::{parse_when, DataArgs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Html,
    Md,
    Csv,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Sessions started at or after: RFC 3339, a date or an age (7d)
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// Sessions started before: same forms [default: now]
    #[arg(long)]
    pub until: Option<String>,
    /// html, md, csv or json [default: from --out's extension, else html]. csv is one file
    /// per table, written into the folder --out names
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write here instead of to standard output: a file (.html, .md, .json pick the format),
    /// or with csv a folder (made if need be)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A TOML rule file laid over the default rules (same id replaces; enabled = false removes)
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The time zone of working hours: UTC, an offset (+02:00, -05:00) or an IANA zone
    /// (Europe/Paris), whose offset follows daylight saving time
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Working hours, local: START-END in whole hours
    #[arg(long, default_value = "8-18")]
    pub hours: String,
    /// Working days: a range (mon-fri) or a list (mon,tue,...)
    #[arg(long, default_value = "mon-fri")]
    pub days: String,
    /// Print the default rules and exit
    #[arg(long)]
    pub print_default_rules: bool,
}

fn shown(p: &Path) -> String {
    escape_text(&p.display().to_string()).into_owned()
}

/// The format: `--format`, else `--out`'s extension, else HTML. An extension that says another
/// format than `--format` is an error, as is CSV without a folder to write its tables to.
fn format_of(format: Option<Format>, out: Option<&Path>) -> Result<Format> {
    let ext = out
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let by_ext = match ext.as_deref() {
        Some("html") | Some("htm") => Some(Format::Html),
        Some("md") | Some("markdown") => Some(Format::Md),
        Some("json") => Some(Format::Json),
        Some("csv") => Some(Format::Csv),
        _ => None,
    };
    let f = match (format, by_ext) {
        (Some(f), Some(e)) if f != e => bail!(
            "--format {} and --out {} disagree: pick one format",
            format!("{f:?}").to_lowercase(),
            shown(out.expect("an extension comes from --out"))
        ),
        (Some(f), _) => f,
        (None, Some(e)) => e,
        (None, None) => Format::Html,
    };
    if f == Format::Csv {
        match out {
            None => {
                bail!("the CSV report is one file per table: give --out FOLDER to write them into")
            }
            Some(p) if p.is_file() || by_ext == Some(Format::Csv) => bail!(
                "the CSV report is one file per table: --out names a folder (not {})",
                shown(p)
            ),
            Some(_) => {}
        }
    }
    Ok(f)
}

pub fn run(data: &DataArgs, args: &ReportArgs, out: &mut dyn Write) -> Result<bool> {
    if args.print_default_rules {
        out.write_all(report::DEFAULT_RULES.as_bytes())?;
        return Ok(true);
    }
    let now = OffsetDateTime::now_utc();
    let since = parse_when(&args.since, now)?;
    let until = args
        .until
        .as_deref()
        .map(|u| parse_when(u, now))
        .transpose()?
        .unwrap_or(now);
    if until <= since {
        bail!("--until must be after --since");
    }
    let (start_hour, end_hour) =
        report::parse_hours(&args.hours).map_err(|e| anyhow!("--hours {e}"))?;
    let user_rules = match &args.rules {
        Some(p) => Some((
            p.display().to_string(),
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
        None => None,
    };
    let rules = Rules::load(user_rules.as_ref().map(|(f, t)| (f.as_str(), t.as_str())))?;
    let opts = ReportOptions {
        since,
        until,
        zone: report::Zone::parse(&args.tz).map_err(|e| anyhow!("--tz {e}"))?,
        start_hour,
        end_hour,
        days: report::parse_days(&args.days).map_err(|e| anyhow!("--days {e}"))?,
        provenance: report::Provenance::default(),
        verified: None,
    };
    let format = format_of(args.format, args.out.as_deref())?;
    let d = data.open_existing()?;
    let opts = ReportOptions {
        provenance: report::Provenance::now(&d.describe()),
        verified: verified(&d)?,
        ..opts
    };
    let records = d.records()?;
    // a text that cannot be read would drop its risky commands from the report: an error,
    // never a quieter report
    let unread = std::cell::RefCell::new(Vec::new());
    let text = |id: &str| match text::load_text(&*d.store, id) {
        Ok(t) => t,
        Err(e) => {
            unread
                .borrow_mut()
                .push(format!("{}: {e}", escape_text(id)));
            None
        }
    };
    let r = report::build(&records, &text, &rules, &opts);
    let unread = unread.into_inner();
    if !unread.is_empty() {
        bail!(
            "cannot read the text of {} sessions, so their commands would be missing from the \
             report:\n{}",
            unread.len(),
            unread.join("\n")
        );
    }
    if r.summary.sessions_without_time > 0 {
        eprintln!(
            "ssm-audit: {} sessions have no time in any evidence: no period holds them; the \
             report lists them under evidence gaps (no-time)",
            r.summary.sessions_without_time
        );
    }
    let body = match format {
        Format::Html => report::to_html(&r),
        Format::Md => report::to_markdown(&r),
        Format::Json => report::to_json(&r),
        Format::Csv => {
            let dir = args
                .out
                .as_deref()
                .expect("format_of requires --out for csv");
            std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", shown(dir)))?;
            for (name, body) in report::to_csv_files(&r) {
                let p = dir.join(&name);
                std::fs::write(&p, body).with_context(|| format!("cannot write {}", shown(&p)))?;
            }
            return Ok(r.summary.sessions > 0 || r.summary.denied_attempts > 0);
        }
    };
    match &args.out {
        Some(p) => std::fs::write(p, body).with_context(|| format!("cannot write {}", shown(p)))?,
        None => out.write_all(ssm_audit_core::escape::json_safe(&body).as_bytes())?,
    }
    Ok(r.summary.sessions > 0 || r.summary.denied_attempts > 0)
}

/// What `verify` finds over a local data folder, for the report's evidence-integrity section
/// (an S3 store's is left to `ssm-audit verify`: it re-reads every object).
fn verified(d: &crate::data::Data) -> Result<Option<Vec<report::IntegrityCheck>>> {
    use ssm_audit_core::custody::{ledger, verify};
    if d.cache.is_some() {
        return Ok(None);
    }
    let store = &*d.store;
    let pinned = ledger::LocalKey::pinned(store)?;
    let v = verify::verify(store, None, pinned)?;
    let s = &v.summary;
    let c = report::IntegrityCheck::new;
    Ok(Some(vec![
        c(
            "CloudTrail digests",
            format!(
                "{} valid; {} invalid; {} unverified",
                s.digests_valid, s.digests_invalid, s.digests_unverified
            ),
        ),
        c(
            "trail files",
            format!(
                "{} valid; {} modified; {} missing; {} not covered by a digest",
                s.log_files_valid,
                s.log_files_modified,
                s.log_files_missing,
                s.log_files_not_covered
            ),
        ),
        c(
            "kept copies (transcripts and trail files and digests and facts)",
            format!(
                "{} valid; {} modified; {} missing",
                s.copies_valid, s.copies_modified, s.copies_missing
            ),
        ),
        c(
            "problems ssm-audit verify names",
            v.problems.len().to_string(),
        ),
    ]))
}
