//! Audit reports: who accessed what, tunnels, risky commands and evidence gaps over a period.
//!
//! [`build`] turns session records and their texts into a [`Report`]; it reads no clock, so
//! the same data and period give the same report, byte for byte, in every format:
//! [`to_json`], [`to_markdown`], [`to_csv`] and [`to_html`] (one self-contained file).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset, Weekday};

use crate::correlate::{enum_name as name, Flag, SessionRecord, TimeSource};
use crate::facts::TranscriptSource;
use crate::select::time_of;
use crate::text::SessionText;
use crate::time::{parse_time, rfc3339};

/// The default rules, shipped with the tool.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Rule {
    pub id: String,
    pub pattern: String,
    pub severity: String,
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Rule>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        source: toml::de::Error,
    },
    #[error("{file}: rule {id}: pattern: {source}")]
    Pattern {
        file: String,
        id: String,
        source: regex::Error,
    },
    #[error("{file}: rule {id}: severity must be low, medium, high or critical, not {severity:?}")]
    Severity {
        file: String,
        id: String,
        severity: String,
    },
}

/// Compiled rules: the defaults, with a user's file laid over them by id.
#[derive(Debug)]
pub struct Rules {
    rules: Vec<(Rule, regex::Regex)>,
}

impl Rules {
    pub fn load(user: Option<(&str, &str)>) -> Result<Rules, RuleError> {
        let mut by_id: BTreeMap<String, (usize, Rule)> = BTreeMap::new();
        let mut order = 0;
        for (file, text) in std::iter::once(("default rules", DEFAULT_RULES)).chain(user) {
            let parsed: RuleFile = toml::from_str(text).map_err(|source| RuleError::Toml {
                file: file.to_owned(),
                source,
            })?;
            for r in parsed.rule {
                if !["low", "medium", "high", "critical"].contains(&r.severity.as_str()) {
                    return Err(RuleError::Severity {
                        file: file.into(),
                        id: r.id,
                        severity: r.severity,
                    });
                }
                let pos = by_id.get(&r.id).map_or_else(
                    || {
                        order += 1;
                        order
                    },
                    |e| e.0,
                );
                by_id.insert(r.id.clone(), (pos, r));
            }
            let _ = file;
        }
        let mut rules: Vec<(usize, Rule)> =
            by_id.into_values().filter(|(_, r)| r.enabled).collect();
        rules.sort_by_key(|(pos, _)| *pos);
        let rules = rules
            .into_iter()
            .map(|(_, r)| {
                let re = regex::Regex::new(&r.pattern).map_err(|source| RuleError::Pattern {
                    file: "rules".into(),
                    id: r.id.clone(),
                    source,
                })?;
                Ok((r, re))
            })
            .collect::<Result<_, RuleError>>()?;
        Ok(Rules { rules })
    }

    pub fn matching(&self, command: &str) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|(_, re)| re.is_match(command))
            .map(|(r, _)| r)
            .collect()
    }
}

/// When people are expected to work.
#[derive(Clone, Debug, Serialize)]
pub struct WorkingHours {
    /// the report's time zone: a UTC offset (`+02:00`) or an IANA name (`Europe/Paris`)
    pub offset: String,
    pub start_hour: u8,
    pub end_hour: u8,
    pub days: Vec<String>,
}

pub struct ReportOptions {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
    pub zone: Zone,
    pub start_hour: u8,
    pub end_hour: u8,
    pub days: Vec<Weekday>,
    pub provenance: Provenance,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub sessions: usize,
    pub principals: usize,
    pub targets: usize,
    pub tunnels: usize,
    pub denied_attempts: usize,
    pub evidence_gaps: usize,
    pub risky_commands: usize,
    pub outside_working_hours: usize,
    /// sessions no evidence gives a time: no period holds them, every report lists them under
    /// evidence gaps (`no-time`)
    pub sessions_without_time: usize,
}

/// What the report was made from and by.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Provenance {
    /// when the report was made (SOURCE_DATE_EPOCH, when set, for reproducible output)
    pub generated_at: String,
    /// the ssm-audit version that made it
    pub version: String,
    /// what the data folder holds, over all time
    pub data: Coverage,
}

/// The evidence a data folder holds, over all time.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    /// where the data is (a folder, or s3://bucket/prefix)
    pub store: String,
    pub sessions: usize,
    pub denied_attempts: usize,
    /// the earliest and latest session time
    pub earliest: Option<String>,
    pub latest: Option<String>,
    /// sessions with a StartSession (or ExecuteCommand) event
    pub with_start_event: usize,
    pub with_s3_transcript: usize,
    pub with_cloudwatch_transcript: usize,
    pub with_terminate_event: usize,
}

impl Provenance {
    /// A report made now (or at SOURCE_DATE_EPOCH, for reproducible output) by this version,
    /// from `store`; the data's coverage is filled in by [`build`].
    pub fn now(store: &str) -> Provenance {
        let at = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .unwrap_or_else(OffsetDateTime::now_utc);
        Provenance {
            generated_at: rfc3339(at),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data: Coverage {
                store: store.to_owned(),
                ..Coverage::default()
            },
        }
    }
}

impl Coverage {
    pub fn of(store: &str, records: &[SessionRecord]) -> Coverage {
        let sessions: Vec<&SessionRecord> =
            records.iter().filter(|r| r.session_id.is_some()).collect();
        let times: Vec<OffsetDateTime> = records.iter().filter_map(time_of).collect();
        let has = |src: TranscriptSource| {
            sessions
                .iter()
                .filter(|r| r.transcript.sources.contains(&src))
                .count()
        };
        Coverage {
            store: store.to_owned(),
            sessions: sessions.len(),
            denied_attempts: records.len() - sessions.len(),
            earliest: times.iter().min().copied().map(rfc3339),
            latest: times.iter().max().copied().map(rfc3339),
            with_start_event: sessions
                .iter()
                .filter(|r| r.time_source == TimeSource::StartEvent)
                .count(),
            with_s3_transcript: has(TranscriptSource::S3),
            with_cloudwatch_transcript: sessions
                .iter()
                .filter(|r| {
                    r.transcript
                        .sources
                        .contains(&TranscriptSource::CloudwatchStream)
                        || r.transcript
                            .sources
                            .contains(&TranscriptSource::CloudwatchUpload)
                })
                .count(),
            with_terminate_event: sessions
                .iter()
                .filter(|r| r.terminated_by.is_some())
                .count(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Activity {
    /// principal or target
    pub name: String,
    pub sessions: usize,
    pub total_seconds: i64,
    pub longest_seconds: i64,
    pub longest_session: Option<String>,
    /// sessions still open or whose duration the evidence does not give: not in the total
    pub without_duration: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct NewAccess {
    pub principal: String,
    pub target: String,
    pub first_session: String,
    /// the first session's time (`~` when approximate: no start event)
    pub time: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TunnelRow {
    pub time: String,
    pub principal: String,
    pub source_ip: String,
    pub target: String,
    pub host: String,
    pub port: String,
    pub local_port: String,
    pub duration_seconds: Option<i64>,
    /// still open: no duration yet
    pub open: bool,
    pub session_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct OffHours {
    pub time: String,
    /// local time in the report's zone
    pub local: String,
    pub principal: String,
    pub target: String,
    pub session_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RiskyCommand {
    /// the session's time
    pub time: String,
    /// when the command ran, where a streamed CloudWatch copy tells
    pub ran_at: Option<String>,
    pub principal: String,
    pub target: String,
    pub rule: String,
    pub severity: String,
    pub command: String,
    pub line: u64,
    pub session_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Gap {
    pub time: String,
    pub gap: String,
    pub principal: String,
    pub target: String,
    /// the session id, or `(ErrorCode)` for a denied attempt
    pub session_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub provenance: Provenance,
    pub since: String,
    pub until: String,
    pub working_hours: WorkingHours,
    pub summary: Summary,
    pub per_principal: Vec<Activity>,
    pub per_target: Vec<Activity>,
    pub new_access: Vec<NewAccess>,
    pub tunnels: Vec<TunnelRow>,
    pub outside_working_hours: Vec<OffHours>,
    pub risky_commands: Vec<RiskyCommand>,
    pub evidence_gaps: Vec<Gap>,
    /// sessions per day (UTC date) across the period
    pub per_day: Vec<(String, usize)>,
    /// a period longer than ten years lists days without sessions only before this day
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_day_sparse_from: Option<String>,
    /// for the timeline: (principal, start, end or start, session id)
    pub timeline: Vec<(String, String, String, String)>,
}

fn s(o: &Option<String>) -> String {
    o.clone().unwrap_or_else(|| "-".into())
}

/// Days listed in `per_day` even when empty: ten years.
const MAX_EMPTY_DAYS: usize = 3660;

/// Build the report of sessions started in `[since, until)`. `text` gives a session's
/// rendered text (for its commands).
pub fn build(
    records: &[SessionRecord],
    text: &dyn Fn(&str) -> Option<SessionText>,
    rules: &Rules,
    o: &ReportOptions,
) -> Report {
    let started = time_of;
    let in_period = |r: &SessionRecord| started(r).is_some_and(|t| t >= o.since && t < o.until);
    let mut sel: Vec<&SessionRecord> = records.iter().filter(|r| in_period(r)).collect();
    sel.sort_by(|a, b| {
        (started(a), &a.session_id, &a.principal).cmp(&(started(b), &b.session_id, &b.principal))
    });
    // sessions no evidence dates: no period holds them, so every report names them
    let undated: Vec<&SessionRecord> = records.iter().filter(|r| started(r).is_none()).collect();
    let sessions: Vec<&SessionRecord> = sel
        .iter()
        .copied()
        .filter(|r| r.session_id.is_some())
        .collect();

    let activity = |key: &dyn Fn(&SessionRecord) -> String| {
        let mut m: BTreeMap<String, Activity> = BTreeMap::new();
        for r in &sessions {
            let a = m.entry(key(r)).or_insert_with_key(|k| Activity {
                name: k.clone(),
                sessions: 0,
                total_seconds: 0,
                longest_seconds: 0,
                longest_session: None,
                without_duration: 0,
            });
            a.sessions += 1;
            if r.duration_seconds.is_none() || r.flags.contains(&Flag::Open) {
                a.without_duration += 1;
            }
            let d = r.duration_seconds.unwrap_or(0);
            a.total_seconds += d;
            if d > a.longest_seconds || a.longest_session.is_none() {
                a.longest_seconds = a.longest_seconds.max(d);
                if d >= a.longest_seconds {
                    a.longest_session = r.session_id.clone();
                }
            }
        }
        let mut v: Vec<Activity> = m.into_values().collect();
        v.sort_by(|a, b| {
            b.sessions
                .cmp(&a.sessions)
                .then_with(|| a.name.cmp(&b.name))
        });
        v
    };
    let per_principal = activity(&|r| s(&r.principal));
    let per_target = activity(&|r| s(&r.target));

    // first session of each principal on each target, over all history
    let mut first: BTreeMap<(String, String), (OffsetDateTime, String, String)> = BTreeMap::new();
    for r in records.iter().filter(|r| r.session_id.is_some()) {
        let (Some(p), Some(t), Some(st)) = (&r.principal, &r.target, started(r)) else {
            continue;
        };
        let e =
            first
                .entry((p.clone(), t.clone()))
                .or_insert((st, s(&r.session_id), r.time_display()));
        if (st, &s(&r.session_id)) < (e.0, &e.1) {
            *e = (st, s(&r.session_id), r.time_display());
        }
    }
    let new_access: Vec<NewAccess> = first
        .into_iter()
        .filter(|(_, (st, _, _))| *st >= o.since && *st < o.until)
        .map(|((p, t), (_, sid, shown))| NewAccess {
            principal: p,
            target: t,
            first_session: sid,
            time: shown,
        })
        .collect();

    let tunnels: Vec<TunnelRow> = sessions
        .iter()
        .filter(|r| r.kind.is_tunnel())
        .map(|r| {
            let t = r.tunnel.clone().unwrap_or_default();
            TunnelRow {
                time: r.time_display(),
                principal: s(&r.principal),
                source_ip: s(&r.source_ip),
                target: s(&r.target),
                host: t.host.unwrap_or_else(|| "(target)".into()),
                port: t.port.map_or("-".into(), |p| p.to_string()),
                local_port: t.local_port.map_or("-".into(), |p| p.to_string()),
                duration_seconds: r.duration_seconds,
                open: r.flags.contains(&Flag::Open),
                session_id: s(&r.session_id),
            }
        })
        .collect();

    let outside_working_hours: Vec<OffHours> = sessions
        .iter()
        .filter_map(|r| {
            let local = o.zone.local(started(r)?);
            let inside = o.days.contains(&local.weekday())
                && (o.start_hour..o.end_hour).contains(&local.hour());
            (!inside).then(|| OffHours {
                time: r.time_display(),
                local: format!(
                    "{} {:02}:{:02}",
                    local.weekday(),
                    local.hour(),
                    local.minute()
                ),
                principal: s(&r.principal),
                target: s(&r.target),
                session_id: s(&r.session_id),
            })
        })
        .collect();

    let mut risky_commands = Vec::new();
    for r in &sessions {
        let Some(id) = &r.session_id else { continue };
        let Some(t) = text(id) else { continue };
        for (line, cmd) in &t.commands {
            for rule in rules.matching(cmd) {
                risky_commands.push(RiskyCommand {
                    time: r.time_display(),
                    ran_at: t.command_times.get(line).cloned(),
                    principal: s(&r.principal),
                    target: s(&r.target),
                    rule: rule.id.clone(),
                    severity: rule.severity.clone(),
                    command: cmd.clone(),
                    line: *line,
                    session_id: id.clone(),
                });
            }
        }
    }

    let gap_flags = [
        Flag::TranscriptMissing,
        Flag::NoStartEvent,
        Flag::Denied,
        Flag::Open,
        Flag::PrincipalMismatch,
    ];
    let evidence_gaps: Vec<Gap> = sel
        .iter()
        .filter(|r| r.flags.iter().any(|f| gap_flags.contains(f)))
        .chain(undated.iter())
        .map(|r| Gap {
            time: r.time_display(),
            gap: (started(r).is_none().then(|| "no-time".to_owned()))
                .into_iter()
                .chain(r.flags.iter().filter(|f| gap_flags.contains(f)).map(name))
                .collect::<Vec<_>>()
                .join(","),
            principal: s(&r.principal),
            target: s(&r.target),
            session_id: r
                .session_id
                .clone()
                .unwrap_or_else(|| format!("({})", s(&r.error_code))),
        })
        .collect();

    // every day of the period, empty ones too, up to ten years of them; past that, only the
    // days with sessions (and the report says so)
    let mut per_day: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_day_sparse_from = None;
    let mut day = o.since.date();
    while day < o.until.date() || (day == o.until.date() && o.until.time() != time::Time::MIDNIGHT)
    {
        per_day.insert(day.to_string(), 0);
        match day.next_day() {
            Some(d) if per_day.len() < MAX_EMPTY_DAYS => day = d,
            Some(d) => {
                per_day_sparse_from = Some(d.to_string());
                break;
            }
            None => break,
        }
    }
    for r in &sessions {
        if let Some(t) = started(r) {
            *per_day.entry(t.date().to_string()).or_default() += 1;
        }
    }
    let timeline = sessions
        .iter()
        .map(|r| {
            (
                s(&r.principal),
                s(&r.time),
                r.end.clone().unwrap_or_else(|| s(&r.time)),
                s(&r.session_id),
            )
        })
        .collect();

    let principals: BTreeSet<&str> = sessions
        .iter()
        .filter_map(|r| r.principal.as_deref())
        .collect();
    let targets: BTreeSet<&str> = sessions
        .iter()
        .filter_map(|r| r.target.as_deref())
        .collect();
    let summary = Summary {
        sessions: sessions.len(),
        principals: principals.len(),
        targets: targets.len(),
        tunnels: tunnels.len(),
        denied_attempts: sel
            .iter()
            .filter(|r| r.flags.contains(&Flag::Denied))
            .count(),
        evidence_gaps: evidence_gaps.len(),
        risky_commands: risky_commands.len(),
        outside_working_hours: outside_working_hours.len(),
        sessions_without_time: undated.len(),
    };
    Report {
        provenance: Provenance {
            data: Coverage::of(&o.provenance.data.store, records),
            ..o.provenance.clone()
        },
        since: rfc3339(o.since),
        until: rfc3339(o.until),
        working_hours: WorkingHours {
            offset: o.zone.name().to_owned(),
            start_hour: o.start_hour,
            end_hour: o.end_hour,
            days: o.days.iter().map(|d| d.to_string()).collect(),
        },
        summary,
        per_principal,
        per_target,
        new_access,
        tunnels,
        outside_working_hours,
        risky_commands,
        evidence_gaps,
        per_day: per_day.into_iter().collect(),
        per_day_sparse_from,
        timeline,
    }
}

// ---- renderings ----------------------------------------------------------------------------

pub fn to_json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("report serialises") + "\n"
}

/// How a table shows durations: for people, or in seconds (CSV, for spreadsheets).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durations {
    Human,
    Seconds,
}

impl Durations {
    fn show(self, secs: Option<i64>, open: bool) -> String {
        match (self, secs) {
            (Durations::Human, _) => crate::time::session_duration(secs, open),
            (Durations::Seconds, _) if open => "open".into(),
            (Durations::Seconds, Some(s)) => s.to_string(),
            (Durations::Seconds, None) => "unknown".into(),
        }
    }
}

/// The report's tables as (title, header, rows): one source for Markdown, CSV and HTML.
/// A titled table: (title, header, rows).
type Table = (&'static str, Vec<&'static str>, Vec<Vec<String>>);

fn tables(r: &Report, d: Durations) -> Vec<Table> {
    let dur = |s: Option<i64>| d.show(s, false);
    let act = |v: &[Activity]| -> Vec<Vec<String>> {
        v.iter()
            .map(|a| {
                vec![
                    a.name.clone(),
                    a.sessions.to_string(),
                    dur(Some(a.total_seconds)),
                    dur(Some(a.longest_seconds)),
                    a.longest_session.clone().unwrap_or_default(),
                    a.without_duration.to_string(),
                ]
            })
            .collect()
    };
    vec![
        (
            "Sessions per principal",
            vec![
                "principal",
                "sessions",
                "total",
                "longest",
                "longest session",
                "open or unknown",
            ],
            act(&r.per_principal),
        ),
        (
            "Sessions per target",
            vec![
                "target",
                "sessions",
                "total",
                "longest",
                "longest session",
                "open or unknown",
            ],
            act(&r.per_target),
        ),
        (
            "New access",
            vec!["principal", "target", "first session", "time"],
            r.new_access
                .iter()
                .map(|n| {
                    vec![
                        n.principal.clone(),
                        n.target.clone(),
                        n.first_session.clone(),
                        n.time.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Tunnels",
            vec![
                "time",
                "principal",
                "source ip",
                "via target",
                "to host",
                "port",
                "local port",
                "duration",
                "session",
            ],
            r.tunnels
                .iter()
                .map(|t| {
                    vec![
                        t.time.clone(),
                        t.principal.clone(),
                        t.source_ip.clone(),
                        t.target.clone(),
                        t.host.clone(),
                        t.port.clone(),
                        t.local_port.clone(),
                        d.show(t.duration_seconds, t.open),
                        t.session_id.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Outside working hours",
            vec!["time", "local time", "principal", "target", "session"],
            r.outside_working_hours
                .iter()
                .map(|x| {
                    vec![
                        x.time.clone(),
                        x.local.clone(),
                        x.principal.clone(),
                        x.target.clone(),
                        x.session_id.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Risky commands",
            vec![
                "time",
                "ran at",
                "severity",
                "rule",
                "principal",
                "target",
                "command",
                "line",
                "session",
            ],
            r.risky_commands
                .iter()
                .map(|c| {
                    vec![
                        c.time.clone(),
                        c.ran_at.clone().unwrap_or_else(|| "-".into()),
                        c.severity.clone(),
                        c.rule.clone(),
                        c.principal.clone(),
                        c.target.clone(),
                        c.command.clone(),
                        c.line.to_string(),
                        c.session_id.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Evidence gaps",
            vec!["time", "gap", "principal", "target", "session"],
            r.evidence_gaps
                .iter()
                .map(|g| {
                    vec![
                        g.time.clone(),
                        g.gap.clone(),
                        g.principal.clone(),
                        g.target.clone(),
                        g.session_id.clone(),
                    ]
                })
                .collect(),
        ),
    ]
}

fn summary_rows(r: &Report) -> Vec<(&'static str, usize)> {
    let s = &r.summary;
    vec![
        ("sessions", s.sessions),
        ("principals", s.principals),
        ("targets", s.targets),
        ("tunnels", s.tunnels),
        ("denied attempts", s.denied_attempts),
        ("evidence gaps", s.evidence_gaps),
        ("risky commands", s.risky_commands),
        ("outside working hours", s.outside_working_hours),
        ("sessions without a time", s.sessions_without_time),
    ]
}

/// A cell of a Markdown table: evidence text is shown, never interpreted. It goes in a code
/// span (no HTML, link, image, emphasis or autolink is made inside one), with a fence longer
/// than any run of backticks in it; `|`, which splits a table cell even there, is escaped, and
/// controls are made visible (escape.rs).
fn md_cell(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = crate::escape::escape_text(s).replace('|', "\\|");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // a space inside the fence when the text starts or ends with a backtick
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// The lines that say what a report was made from and by.
fn provenance_lines(r: &Report) -> Vec<String> {
    let p = &r.provenance;
    let d = &p.data;
    vec![
        format!(
            "Made {} by ssm-audit {} from {}.",
            p.generated_at, p.version, d.store
        ),
        format!(
            "The data holds {} sessions and {} denied attempts, from {} to {}: {} with a start \
             event, {} with an S3 transcript, {} with a CloudWatch transcript, {} with a \
             terminate event.",
            d.sessions,
            d.denied_attempts,
            d.earliest.as_deref().unwrap_or("-"),
            d.latest.as_deref().unwrap_or("-"),
            d.with_start_event,
            d.with_s3_transcript,
            d.with_cloudwatch_transcript,
            d.with_terminate_event
        ),
        "A time marked ~ is approximate: the session has no start event, and its time is the \
         earliest evidence of it."
            .to_owned(),
    ]
}

pub fn to_markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Session Manager audit report\n\n{} to {} (UTC; working hours {}-{} {} on {})\n",
        r.since,
        r.until,
        r.working_hours.start_hour,
        r.working_hours.end_hour,
        md_cell(&r.working_hours.offset),
        r.working_hours.days.join(", ")
    );
    for l in provenance_lines(r) {
        // the store's name is the only text here not of our making
        let l = l.replace(&r.provenance.data.store, &md_cell(&r.provenance.data.store));
        let _ = writeln!(out, "{l}\n");
    }
    let _ = writeln!(out, "## Summary\n\n| | |\n|---|---:|");
    for (k, v) in summary_rows(r) {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    for (title, header, rows) in tables(r, Durations::Human) {
        let _ = writeln!(out, "\n## {title}\n");
        if rows.is_empty() {
            let _ = writeln!(out, "None.");
            continue;
        }
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out
}

/// A CSV field (RFC 4180), neutralised for spreadsheets as OWASP's CSV-injection guidance
/// says: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
fn csv_field(s: &str) -> String {
    let s = crate::escape::escape_text(s);
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv_rows(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = String>| cells.collect::<Vec<_>>().join(",");
    let _ = writeln!(out, "{}", line(&mut header.iter().map(|h| csv_field(h))));
    for row in rows {
        let _ = writeln!(out, "{}", line(&mut row.iter().map(|c| csv_field(c))));
    }
    out
}

/// The report as CSV: one file per table, as (file name, content). `report.csv` holds the
/// period, the provenance and the summary as `field,value` rows; every other file is one
/// table with its header row. Durations are in seconds (`open` for a session still open,
/// `unknown` when the evidence does not give both ends).
pub fn to_csv_files(r: &Report) -> Vec<(String, String)> {
    let p = &r.provenance;
    let mut meta: Vec<Vec<String>> = vec![
        vec!["since".into(), r.since.clone()],
        vec!["until".into(), r.until.clone()],
        vec!["generated_at".into(), p.generated_at.clone()],
        vec!["version".into(), p.version.clone()],
        vec!["store".into(), p.data.store.clone()],
        vec!["data_sessions".into(), p.data.sessions.to_string()],
        vec![
            "data_earliest".into(),
            p.data.earliest.clone().unwrap_or_default(),
        ],
        vec![
            "data_latest".into(),
            p.data.latest.clone().unwrap_or_default(),
        ],
    ];
    for (k, v) in summary_rows(r) {
        meta.push(vec![k.replace(' ', "_"), v.to_string()]);
    }
    let mut files = vec![(
        "report.csv".to_owned(),
        csv_rows(&["field", "value"], &meta),
    )];
    for (title, header, mut rows) in tables(r, Durations::Seconds) {
        let name = format!("{}.csv", title.to_lowercase().replace(' ', "_"));
        // what the evidence does not give is an empty cell in CSV, not the tables' `-`
        for c in rows.iter_mut().flatten().filter(|c| *c == "-") {
            c.clear();
        }
        files.push((name, csv_rows(&header, &rows)));
    }
    files
}

fn html_escape(s: &str) -> String {
    crate::escape::escape_text(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn bar_chart(per_day: &[(String, usize)]) -> String {
    let max = per_day.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let n = per_day.len().max(1);
    let (w, h) = (760.0_f64, 160.0_f64);
    let bw = (w - 40.0) / n as f64;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w} {}" role="img" aria-label="sessions per day"><title>Sessions per day</title>"#,
        h + 30.0
    );
    for (i, (day, c)) in per_day.iter().enumerate() {
        let bh = (*c as f64 / max as f64) * (h - 20.0);
        let x = 30.0 + i as f64 * bw;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}"><title>{} {c}</title></rect>"#,
            h - bh,
            (bw - 2.0).max(1.0),
            html_escape(day)
        );
        if n <= 31 || i % (n / 15 + 1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="tick">{}</text>"#,
                x + bw / 2.0,
                h + 14.0,
                html_escape(&day[5..])
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="2" y="12" class="tick">{max}</text><line x1="28" y1="{h}" x2="{w}" y2="{h}" class="axis"/></svg>"#
    );
    svg
}

fn timeline(r: &Report) -> String {
    let (Some(t0), Some(t1)) = (parse_time(&r.since), parse_time(&r.until)) else {
        return String::new();
    };
    let span = (t1 - t0).whole_seconds().max(1) as f64;
    let principals: BTreeSet<&str> = r.timeline.iter().map(|t| t.0.as_str()).collect();
    let rows: Vec<&str> = principals.into_iter().collect();
    let (left, w, rh) = (170.0_f64, 760.0_f64, 18.0_f64);
    let h = rows.len() as f64 * rh + 24.0;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="sessions per principal over time"><title>Sessions per principal</title>"#
    );
    for (i, p) in rows.iter().enumerate() {
        let y = i as f64 * rh;
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}" class="label">{}</text><line x1="{left}" y1="{:.1}" x2="{w}" y2="{:.1}" class="grid"/>"#,
            y + 13.0,
            // a long name is cut to fit, visibly; the bar's tooltip has it whole
            html_escape(&if p.chars().count() > 26 {
                p.chars().take(25).chain(['…']).collect::<String>()
            } else {
                p.to_string()
            }),
            y + rh - 1.0,
            y + rh - 1.0
        );
    }
    for (p, st, en, sid) in &r.timeline {
        let (Some(a), Some(b)) = (parse_time(st), parse_time(en)) else {
            continue;
        };
        let i = rows.iter().position(|x| x == p).unwrap_or(0);
        let x = left + (a - t0).whole_seconds() as f64 / span * (w - left);
        let x2 = left + (b.min(t1) - t0).whole_seconds() as f64 / span * (w - left);
        let _ = write!(
            svg,
            r#"<rect class="span" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} {} {}</title></rect>"#,
            i as f64 * rh + 3.0,
            (x2 - x).max(2.0),
            rh - 7.0,
            html_escape(p),
            html_escape(st),
            html_escape(sid)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{left}" y="{:.1}" class="tick">{}</text><text x="{w}" y="{:.1}" class="tick" text-anchor="end">{}</text></svg>"#,
        h - 4.0,
        html_escape(&r.since),
        h - 4.0,
        html_escape(&r.until)
    );
    svg
}

const CSS: &str = "body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1b1f24}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}\
.period{color:#57606a}.cards{display:flex;flex-wrap:wrap;gap:.6em}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5em .8em;min-width:8em}\
.card b{display:block;font-size:1.5em}table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.cmd{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}\
.sev-critical{color:#fff;background:#a40e26}.sev-high{background:#ffd8d3}.sev-medium{background:#fff1c2}.none{color:#57606a}\
svg{width:100%;height:auto}.bar{fill:#0969da}.span{fill:#8250df}.tick,.label{font-size:10px;fill:#57606a}.axis,.grid{stroke:#d0d7de}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg{break-inside:avoid}.card{border-color:#888}}";

/// One self-contained HTML file: no script, font, image or stylesheet from anywhere else.
pub fn to_html(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Session Manager audit report {} to {}</title><style>{CSS}</style></head><body>\n", html_escape(&r.since), html_escape(&r.until));
    let _ = writeln!(out, "<h1>Session Manager audit report</h1><p class=\"period\">{} to {} (UTC). Working hours {}:00-{}:00 {} on {}.</p>", html_escape(&r.since), html_escape(&r.until), r.working_hours.start_hour, r.working_hours.end_hour, html_escape(&r.working_hours.offset), html_escape(&r.working_hours.days.join(", ")));
    for l in provenance_lines(r) {
        let _ = writeln!(out, "<p class=\"period\">{}</p>", html_escape(&l));
    }
    out.push_str("<h2>Summary</h2><div class=\"cards\">");
    for (k, v) in summary_rows(r) {
        let _ = write!(out, "<div class=\"card\"><b>{v}</b>{k}</div>");
    }
    out.push_str("</div>\n<h2>Sessions per day</h2>");
    if let Some(d) = &r.per_day_sparse_from {
        let _ = write!(
            out,
            "<p class=\"none\">From {} on, only days with sessions are drawn.</p>",
            html_escape(d)
        );
    }
    out.push_str(&bar_chart(&r.per_day));
    out.push_str("\n<h2>Timeline</h2>");
    if r.timeline.is_empty() {
        out.push_str("<p class=\"none\">No sessions.</p>");
    } else {
        out.push_str(&timeline(r));
    }
    for (title, header, rows) in tables(r, Durations::Human) {
        let _ = write!(out, "\n<h2>{title}</h2>");
        if rows.is_empty() {
            out.push_str("<p class=\"none\">None.</p>");
            continue;
        }
        out.push_str("<table><thead><tr>");
        for h in &header {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for row in rows {
            let sev = if title == "Risky commands" {
                format!(" class=\"sev-{}\"", html_escape(&row[2]))
            } else {
                String::new()
            };
            let _ = write!(out, "<tr{sev}>");
            for (i, c) in row.iter().enumerate() {
                let class = if title == "Risky commands" && i == 6 {
                    " class=\"cmd\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{}</td>", html_escape(c));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_show_evidence_and_never_run_it() {
        assert_eq!(
            md_cell("<script>alert(1)</script>"),
            "`<script>alert(1)</script>`"
        );
        assert_eq!(
            md_cell("<img src=x onerror=alert(1)>"),
            "`<img src=x onerror=alert(1)>`"
        );
        assert_eq!(
            md_cell("[ok](https://evil.example)"),
            "`[ok](https://evil.example)`"
        );
        // a pipe would end the table cell even in a code span
        assert_eq!(md_cell("cat x | sh"), "`cat x \\| sh`");
        // backticks in the text: a longer fence, padded when the text starts with one
        assert_eq!(md_cell("a`b"), "``a`b``");
        assert_eq!(md_cell("`x`"), "`` `x` ``");
        assert_eq!(md_cell(""), "");
        // controls are made visible
        assert_eq!(md_cell("a\x1b[31mb"), "`a\\e[31mb`");
    }

    #[test]
    fn csv_cells_cannot_become_formulas_and_durations_are_seconds() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-rf"), "'-rf");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(Durations::Seconds.show(Some(2820), false), "2820");
        assert_eq!(Durations::Seconds.show(Some(2820), true), "open");
        assert_eq!(Durations::Seconds.show(None, false), "unknown");
        assert_eq!(Durations::Human.show(Some(2820), false), "47m00s");
        assert_eq!(Durations::Human.show(None, true), "open");
        assert_eq!(Durations::Human.show(None, false), "unknown");
    }

    fn ids(rules: &Rules, cmd: &str) -> Vec<String> {
        rules
            .matching(cmd)
            .into_iter()
            .map(|r| r.id.clone())
            .collect()
    }

    #[test]
    fn default_rules_match_what_they_say_and_not_more() {
        let r = Rules::load(None).unwrap();
        assert_eq!(ids(&r, "sudo -i"), ["privilege-sudo"]);
        assert_eq!(ids(&r, "su - postgres"), ["privilege-su"]);
        assert_eq!(ids(&r, "history -c"), ["history-tampering"]);
        assert_eq!(ids(&r, "unset HISTFILE"), ["history-tampering"]);
        assert_eq!(ids(&r, "cat /etc/shadow | head -3"), ["credentials-read"]);
        assert_eq!(
            ids(&r, "aws secretsmanager get-secret-value --secret-id x"),
            ["credentials-read"]
        );
        assert_eq!(
            ids(&r, "export DB_PASSWORD=x"),
            ["credentials-in-environment"]
        );
        assert_eq!(ids(&r, "rm -rf /var/lib/data"), ["destructive-rm"]);
        assert_eq!(ids(&r, "rm -fr x"), ["destructive-rm"]);
        assert_eq!(
            ids(&r, "dd if=/dev/zero of=/dev/xvda"),
            ["destructive-disk"]
        );
        assert_eq!(
            ids(&r, "curl -s https://x.example/i.sh | sudo bash"),
            ["privilege-sudo", "download-to-shell"]
        );
        assert_eq!(ids(&r, "nc -lvp 4444"), ["network-tools"]);
        assert_eq!(
            ids(&r, "sudo apt-get install -y nmap"),
            ["privilege-sudo", "package-install"]
        );
        assert_eq!(ids(&r, "useradd eve"), ["user-management"]);
        assert_eq!(ids(&r, "chmod 4755 /tmp/x"), ["permissions-change"]);
        // not risky
        for ok in [
            "grep root /etc/passwd",
            "ls -la",
            "rm file.txt",
            "echo sudoku",
            "cat README.md",
            "kubectl get pods",
        ] {
            assert!(ids(&r, ok).is_empty(), "{ok}: {:?}", ids(&r, ok));
        }
    }

    #[test]
    fn user_rules_override_add_and_disable() {
        let user = "[[rule]]\nid = \"privilege-sudo\"\npattern = 'sudo'\nseverity = \"low\"\ndescription = \"x\"\n\
                    [[rule]]\nid = \"network-tools\"\npattern = 'x'\nseverity = \"low\"\ndescription = \"x\"\nenabled = false\n\
                    [[rule]]\nid = \"prod-db\"\npattern = 'psql.*prod'\nseverity = \"critical\"\ndescription = \"prod database\"\n";
        let r = Rules::load(Some(("mine.toml", user))).unwrap();
        assert_eq!(r.matching("sudo ls")[0].severity, "low");
        assert!(ids(&r, "nc -l 1").is_empty());
        assert_eq!(ids(&r, "psql -h prod-db"), ["prod-db"]);
        let bad = Rules::load(Some((
            "bad.toml",
            "[[rule]]\nid = \"x\"\npattern = '('\nseverity = \"low\"\ndescription = \"\"\n",
        )));
        assert!(bad.is_err());
        let bad = Rules::load(Some((
            "bad.toml",
            "[[rule]]\nid = \"x\"\npattern = 'a'\nseverity = \"urgent\"\ndescription = \"\"\n",
        )));
        assert!(bad.unwrap_err().to_string().contains("urgent"));
    }
}

/// A report's time zone: a fixed UTC offset, or an IANA zone whose offset follows daylight
/// saving time (from the time zone database built into the binary, so a Lambda needs none).
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::fixed(UtcOffset::UTC)
    }

    pub fn fixed(offset: UtcOffset) -> Zone {
        let name = format!(
            "{:+03}:{:02}",
            offset.whole_hours(),
            offset.minutes_past_hour().abs()
        );
        let tz = jiff::tz::Offset::from_seconds(offset.whole_seconds())
            .map_or(jiff::tz::TimeZone::UTC, jiff::tz::TimeZone::fixed);
        Zone { name, tz }
    }

    /// `UTC`, an offset (`+02:00`, `-05:30`, `+2`) or an IANA zone (`Europe/Paris`).
    pub fn parse(s: &str) -> Result<Zone, String> {
        if let Ok(offset) = parse_offset(s) {
            return Ok(Zone::fixed(offset));
        }
        match jiff::tz::TimeZone::get(s) {
            Ok(tz) => Ok(Zone {
                name: s.to_owned(),
                tz,
            }),
            Err(_) => Err(format!(
                "{s:?}: use UTC, an offset like +02:00, or a time zone like Europe/Paris"
            )),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's offset from UTC at `t`.
    pub fn offset_at(&self, t: OffsetDateTime) -> UtcOffset {
        jiff::Timestamp::from_second(t.unix_timestamp())
            .ok()
            .and_then(|ts| UtcOffset::from_whole_seconds(self.tz.to_offset(ts).seconds()).ok())
            .unwrap_or(UtcOffset::UTC)
    }

    /// `t` as the zone's local time.
    pub fn local(&self, t: OffsetDateTime) -> OffsetDateTime {
        t.to_offset(self.offset_at(t))
    }

    /// The instant `date` begins in the zone: its local midnight, or the first instant after
    /// it where a clock change skips midnight.
    pub fn start_of(&self, date: time::Date) -> OffsetDateTime {
        let civil = jiff::civil::date(date.year() as i16, date.month() as i8, date.day() as i8)
            .at(0, 0, 0, 0);
        self.tz
            .to_ambiguous_timestamp(civil)
            .compatible()
            .ok()
            .and_then(|ts| OffsetDateTime::from_unix_timestamp(ts.as_second()).ok())
            .map_or_else(|| date.midnight().assume_utc(), |t| self.local(t))
    }
}

/// A time zone as a UTC offset: `UTC`, `Z`, `+02:00`, `-05:30`, `+2` ([`crate::time::parse_offset`]).
pub fn parse_offset(s: &str) -> Result<UtcOffset, String> {
    crate::time::parse_offset(s)
        .filter(|_| !s.is_empty())
        .ok_or_else(|| format!("{s:?}: use UTC or an offset like +02:00"))
}

fn weekday(s: &str) -> Result<Weekday, String> {
    let three: String = s.trim().to_lowercase().chars().take(3).collect();
    Ok(match three.as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => {
            return Err(format!(
                "{s:?} is not a day: use mon, tue, wed, thu, fri, sat, sun"
            ))
        }
    })
}

/// Working days: a range `mon-fri` or a list `mon,wed,fri`.
pub fn parse_days(s: &str) -> Result<Vec<Weekday>, String> {
    if let Some((a, b)) = s.split_once('-') {
        let (mut d, end) = (weekday(a)?, weekday(b)?);
        let mut v = vec![d];
        while d != end && v.len() < 7 {
            d = d.next();
            v.push(d);
        }
        return Ok(v);
    }
    s.split(',').map(weekday).collect()
}

/// Working hours `START-END`, like `8-18`.
pub fn parse_hours(s: &str) -> Result<(u8, u8), String> {
    s.split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u8>().ok()?, b.trim().parse::<u8>().ok()?)))
        .filter(|(a, b)| a < b && *b <= 24)
        .ok_or_else(|| format!("{s:?}: use START-END, like 8-18"))
}

/// A scheduled report's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// the day before `at`, midnight to midnight in the time zone
    Daily,
    /// the ISO week (Monday to Monday) before the one `at` is in
    Weekly,
}

/// The last whole period before `at`: (since, until, name). The name is the folder of its
/// reports: `daily/2026-11-22`, `weekly/2026-W47`.
pub fn last_period(
    period: Period,
    at: OffsetDateTime,
    zone: &Zone,
) -> (OffsetDateTime, OffsetDateTime, String) {
    let local = zone.local(at);
    let today = local.date();
    let day = time::Duration::days(1);
    match period {
        Period::Daily => {
            let d = today - day;
            (zone.start_of(d), zone.start_of(today), format!("daily/{d}"))
        }
        Period::Weekly => {
            let monday: time::Date =
                today - day * i32::from(local.weekday().number_days_from_monday());
            let first: time::Date = monday - day * 7;
            let (y, w, _) = first.to_iso_week_date();
            (
                zone.start_of(first),
                zone.start_of(monday),
                format!("weekly/{y}-W{w:02}"),
            )
        }
    }
}

#[cfg(test)]
mod period_tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn periods_are_whole_days_and_iso_weeks_in_the_time_zone() {
        // Monday 2026-11-23 00:30 in +02:00 is still Sunday in UTC
        let at = datetime!(2026-11-22 22:30 UTC);
        let plus2 = Zone::fixed(offset!(+2));
        let (s, u, name) = last_period(Period::Daily, at, &plus2);
        assert_eq!(
            (s, u),
            (
                datetime!(2026-11-22 00:00 +2),
                datetime!(2026-11-23 00:00 +2)
            )
        );
        assert_eq!(name, "daily/2026-11-22");
        let (s, u, name) = last_period(Period::Weekly, at, &plus2);
        assert_eq!(
            (s, u),
            (
                datetime!(2026-11-16 00:00 +2),
                datetime!(2026-11-23 00:00 +2)
            )
        );
        assert_eq!(name, "weekly/2026-W47");
        let (_, _, name) = last_period(Period::Daily, at, &Zone::utc());
        assert_eq!(name, "daily/2026-11-21");
    }

    #[test]
    fn a_named_zone_follows_daylight_saving_time() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        // summer time ends on Sunday 2026-10-25: that day lasts 25 hours in Paris
        let at = datetime!(2026-10-26 06:00 UTC);
        let (s, u, name) = last_period(Period::Daily, at, &paris);
        assert_eq!(name, "daily/2026-10-25");
        assert_eq!(
            (s, u),
            (
                datetime!(2026-10-24 22:00 UTC),
                datetime!(2026-10-25 23:00 UTC)
            )
        );
        assert_eq!(s.offset(), offset!(+2));
        assert_eq!(u.offset(), offset!(+1));
        // the week that holds the change: Monday 00:00 CEST to Monday 00:00 CET
        let (s, u, name) = last_period(Period::Weekly, datetime!(2026-10-27 12:00 UTC), &paris);
        assert_eq!(name, "weekly/2026-W43");
        assert_eq!(
            (s, u),
            (
                datetime!(2026-10-18 22:00 UTC),
                datetime!(2026-10-25 23:00 UTC)
            )
        );
        // 09:30 local is 07:30 UTC in summer and 08:30 UTC in winter
        assert_eq!(paris.local(datetime!(2026-07-01 07:30 UTC)).hour(), 9);
        assert_eq!(paris.local(datetime!(2026-12-01 08:30 UTC)).hour(), 9);
        // New York's spring change skips 02:00, never midnight; a day begins at 00:00
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            ny.start_of(time::macros::date!(2026 - 03 - 08)),
            datetime!(2026-03-08 05:00 UTC)
        );
        assert!(Zone::parse("Mars/Olympus")
            .unwrap_err()
            .contains("Europe/Paris"));
        assert_eq!(Zone::parse("+05:30").unwrap().name(), "+05:30");
    }

    #[test]
    fn options_parse_or_say_why() {
        assert_eq!(parse_offset("+05:30").unwrap(), offset!(+5:30));
        assert_eq!(parse_offset("utc").unwrap(), UtcOffset::UTC);
        assert!(parse_offset("Europe/Paris").unwrap_err().contains("+02:00"));
        assert_eq!(parse_days("fri-mon").unwrap().len(), 4);
        assert!(parse_days("ééé").is_err());
        assert_eq!(parse_hours("8-18").unwrap(), (8, 18));
        assert!(parse_hours("18-8").is_err());
    }
}
