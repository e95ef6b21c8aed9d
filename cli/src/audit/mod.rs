//! The compliance commands: ingest evidence into a data folder, then ask it questions.

use ssm_audit_core::{keys, text};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use ssm_audit_core::correlate::{enum_name as name, Flag, Kind, SessionRecord};
use ssm_audit_core::escape::{escape_raw, escape_text, json_safe};
use ssm_audit_core::index::{self, Filters, Flow, Hit};
use ssm_audit_core::ingest::{self, IngestReport};
use ssm_audit_core::select::{self, Pattern, RecordFilter};
use ssm_audit_core::store::Store;
use time::OffsetDateTime;

use crate::data::Data;

mod ingest_cmd;
mod listing;
mod search;
mod show;

pub use crate::data::DataArgs;
pub use ingest_cmd::*;
pub use listing::*;
pub use search::*;
pub use show::*;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only this principal (IAM user, role session name, SSO user, root); ignores case, * matches any run
    #[arg(long)]
    pub user: Option<String>,
    /// Only this target (i-..., mi-..., ecs:...); ignores case, * matches any run
    #[arg(long)]
    pub target: Option<String>,
    /// Only this AWS account (an organization trail holds many); * matches any run
    #[arg(long)]
    pub account: Option<String>,
    /// Only this AWS region; * matches any run
    #[arg(long)]
    pub region: Option<String>,
    /// shell, command, port-forward, port-forward-remote, ssh, other
    #[arg(long, value_parser = select::parse_kind)]
    pub kind: Option<Kind>,
    /// tunnel, transcript-missing, no-start-event, denied, open, resumed, principal-mismatch
    #[arg(long, value_parser = select::parse_flag)]
    pub flag: Option<Flag>,
    /// Sessions whose time (start, else earliest evidence) is at or after: RFC 3339, a date
    /// (2026-11-01) or an age (7d, 36h, 90m, 2w)
    #[arg(long, value_parser = parse_when_now)]
    pub since: Option<OffsetDateTime>,
    /// Sessions whose time is before: same forms as --since
    #[arg(long, value_parser = parse_when_now)]
    pub until: Option<OffsetDateTime>,
}

/// `--since`/`--until` values: RFC 3339, `YYYY-MM-DD` (UTC midnight), or an age before now.
pub fn parse_when(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    const FORMS: &str =
        "use RFC 3339 (2026-11-01T09:00:00Z), a date (2026-11-01) or an age (7d, 36h, 90m, 2w)";
    let s = s.trim();
    if let Some(t) = ssm_audit_core::time::parse_time(s) {
        return Ok(t);
    }
    if let Ok(d) = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")) {
        return Ok(d.midnight().assume_utc());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a time: {FORMS}"))?;
    let unit_secs: i64 = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "w" => 604_800,
        _ => bail!("{s:?} is not a time: {FORMS}"),
    };
    n.checked_mul(unit_secs)
        .and_then(|secs| now.checked_sub(time::Duration::seconds(secs)))
        .ok_or_else(|| anyhow::anyhow!("{s:?} reaches before the year -9999: give a shorter age"))
}

fn parse_when_now(s: &str) -> Result<OffsetDateTime, String> {
    parse_when(s, OffsetDateTime::now_utc()).map_err(|e| e.to_string())
}

impl FilterArgs {
    pub fn filters(&self) -> Result<RecordFilter> {
        if let (Some(s), Some(u)) = (self.since, self.until) {
            if u <= s {
                bail!("--until must be after --since");
            }
        }
        let pat = |v: &Option<String>| v.as_deref().map(Pattern::new);
        Ok(RecordFilter {
            user: pat(&self.user),
            target: pat(&self.target),
            account: pat(&self.account),
            region: pat(&self.region),
            kind: self.kind.clone(),
            flag: self.flag,
            since: self.since,
            until: self.until,
        })
    }
}

/// Say on stderr what an answer left out or may have missed: records a period could not place,
/// and filter values that match nothing, with the values they may have meant.
fn say_what_is_left_out(f: &RecordFilter, records: &[SessionRecord], untimed: usize) {
    if untimed > 0 {
        eprintln!(
            "ssm-audit: {untimed} sessions have no time in any evidence, so no period holds them; \
             they are not listed (without --since and --until they are)"
        );
    }
    for h in f.hints(records) {
        eprintln!("ssm-audit: {}", escape_text(&h));
    }
}

fn load(data: &DataArgs) -> Result<(Data, Vec<SessionRecord>)> {
    let d = data.open_existing()?;
    let records = d.records()?;
    Ok((d, records))
}

fn json_out(out: &mut dyn Write, v: &impl serde::Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(v)?;
    writeln!(out, "{}", json_safe(&s))?;
    Ok(())
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn duration(r: &SessionRecord) -> String {
    ssm_audit_core::time::session_duration(r.duration_seconds, r.flags.contains(&Flag::Open))
}

/// Print rows as aligned columns; every cell is escaped.
fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape_text(c).into_owned()).collect())
        .collect();
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let n = cells.len();
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == n {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = w[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in &rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

// ---- sessions, tunnels, gaps -----------------------------------------------------------

// ---- search ----------------------------------------------------------------------------

// ---- show ------------------------------------------------------------------------------
