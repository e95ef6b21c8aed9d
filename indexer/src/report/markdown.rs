//! The report's tables, and the Markdown and JSON renderings (every Markdown cell a code span).

use super::*;

pub fn to_json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("report serialises") + "\n"
}

/// How a table shows durations: for people, or in seconds (CSV, for spreadsheets).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durations {
    Human,
    Seconds,
}

impl Durations {
    pub(crate) fn show(self, secs: Option<i64>, open: bool) -> String {
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
pub(crate) type Table = (&'static str, Vec<&'static str>, Vec<Vec<String>>);

pub(crate) fn tables(r: &Report, d: Durations) -> Vec<Table> {
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
        (
            "Evidence integrity",
            vec!["check", "result"],
            r.evidence_integrity
                .iter()
                .map(|c| vec![c.check.clone(), c.result.clone()])
                .collect(),
        ),
    ]
}

pub(crate) fn summary_rows(r: &Report) -> Vec<(&'static str, usize)> {
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
pub(crate) fn md_cell(s: &str) -> String {
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
pub(crate) fn provenance_lines(r: &Report) -> Vec<String> {
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
