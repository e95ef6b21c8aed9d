//! `ssm-audit report`: the audit report of a period, as HTML, Markdown, CSV or JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use ssm_audit_indexer::ingest;
use ssm_audit_indexer::report::{self, ReportOptions, Rules};
use time::OffsetDateTime;

use crate::audit::{parse_when, DataArgs};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
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
    #[arg(long, value_enum, default_value = "html")]
    pub format: Format,
    /// Write here instead of to standard output
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
    };
    let d = data.open_synced()?;
    let records = d.records()?;
    let text = |id: &str| ingest::load_text(&*d.store, id).ok().flatten();
    let r = report::build(&records, &text, &rules, &opts);
    let body = match args.format {
        Format::Html => report::to_html(&r),
        Format::Md => report::to_markdown(&r),
        Format::Csv => report::to_csv(&r),
        Format::Json => report::to_json(&r),
    };
    match &args.out {
        Some(p) => {
            std::fs::write(p, body).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => out.write_all(ssm_audit_indexer::escape::json_safe(&body).as_bytes())?,
    }
    Ok(r.summary.sessions > 0 || r.summary.denied_attempts > 0)
}
