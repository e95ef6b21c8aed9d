//! The compliance commands: ingest evidence into a data folder, then ask it questions.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ssm_audit_indexer::correlate::{Flag, Kind, SessionRecord};
use ssm_audit_indexer::escape::{escape_raw, escape_text, json_safe};
use ssm_audit_indexer::index::{self, Filters, Hit};
use ssm_audit_indexer::ingest::{self, IngestReport};
use ssm_audit_indexer::store::Store;
use time::OffsetDateTime;

use crate::data::Data;
pub use crate::data::DataArgs;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only this principal (IAM user, role session name, SSO user, root); a trailing * matches a prefix
    #[arg(long)]
    pub user: Option<String>,
    /// Only this target (i-..., mi-..., ecs:...); a trailing * matches a prefix
    #[arg(long)]
    pub target: Option<String>,
    /// shell, command, port-forward, port-forward-remote, ssh, other
    #[arg(long)]
    pub kind: Option<String>,
    /// tunnel, transcript-missing, no-start-event, denied, open, resumed
    #[arg(long)]
    pub flag: Option<String>,
    /// Sessions started at or after: RFC 3339, a date (2026-11-01) or an age (7d, 36h, 90m)
    #[arg(long)]
    pub since: Option<String>,
    /// Sessions started before: same forms as --since
    #[arg(long)]
    pub until: Option<String>,
}

/// `--since`/`--until` values: RFC 3339, `YYYY-MM-DD` (UTC midnight), or an age before now.
pub fn parse_when(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    let s = s.trim();
    if let Some(t) = ssm_audit_indexer::time::parse_time(s) {
        return Ok(t);
    }
    if let Ok(d) = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")) {
        return Ok(d.midnight().assume_utc());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .with_context(|| format!("{s:?} is not a time: use RFC 3339, a date or an age like 7d"))?;
    let d = match unit {
        "d" => time::Duration::days(n),
        "h" => time::Duration::hours(n),
        "m" => time::Duration::minutes(n),
        "w" => time::Duration::weeks(n),
        _ => bail!("{s:?} is not a time: use RFC 3339, a date or an age like 7d, 36h, 90m"),
    };
    Ok(now - d)
}

impl FilterArgs {
    pub fn filters(&self) -> Result<Filters> {
        let now = OffsetDateTime::now_utc();
        Ok(Filters {
            user: self.user.clone(),
            target: self.target.clone(),
            kind: self.kind.clone(),
            flag: self.flag.clone(),
            since: self
                .since
                .as_deref()
                .map(|s| parse_when(s, now))
                .transpose()?
                .map(|t| t.unix_timestamp()),
            until: self
                .until
                .as_deref()
                .map(|s| parse_when(s, now))
                .transpose()?
                .map(|t| t.unix_timestamp()),
        })
    }
}

fn matches_value(want: &Option<String>, have: Option<&str>) -> bool {
    match want {
        None => true,
        Some(w) => match (w.strip_suffix('*'), have) {
            (Some(prefix), Some(h)) => h.starts_with(prefix),
            (None, Some(h)) => h == w,
            (_, None) => false,
        },
    }
}

fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn record_matches(r: &SessionRecord, f: &Filters) -> bool {
    let start = r
        .start
        .as_deref()
        .and_then(ssm_audit_indexer::time::parse_time)
        .map(|t| t.unix_timestamp());
    matches_value(&f.user, r.principal.as_deref())
        && matches_value(&f.target, r.target.as_deref())
        && f.kind.as_ref().is_none_or(|k| *k == name(&r.kind))
        && f.flag
            .as_ref()
            .is_none_or(|fl| r.flags.iter().any(|x| name(x) == *fl))
        && f.since.is_none_or(|s| start.is_some_and(|t| t >= s))
        && f.until.is_none_or(|u| start.is_some_and(|t| t < u))
}

fn load(data: &DataArgs) -> Result<(Data, Vec<SessionRecord>)> {
    let d = data.open_synced()?;
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

fn duration(secs: Option<i64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        Some(s) => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
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
}

/// Where evidence comes from.
enum Source {
    Files(PathBuf),
    S3(ssm_audit_functions::s3::S3Url),
    LogGroup(String),
    CloudTrail,
}

fn source(arg: &str) -> Result<Source> {
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

fn progress(len: Option<u64>) -> indicatif::ProgressBar {
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
fn ingest_page(store: &dyn Store, what: &str, page: serde_json::Value, report: &mut IngestReport) {
    // the page callback runs on the runtime; the store may block on it too
    tokio::task::block_in_place(|| ingest::ingest_json(store, what, &page, report));
}

/// Read one API source into the store.
fn ingest_remote(
    d: &mut Data,
    src: &Source,
    since: OffsetDateTime,
    report: &mut IngestReport,
) -> Result<()> {
    use ssm_audit_functions::backfill;
    let store = d.store.clone();
    let aws = d.aws()?;
    let bar = progress(None);
    let store = &*store;
    match src {
        Source::S3(url) => {
            let s3 = ssm_audit_functions::s3::s3_client(&aws.conf);
            let keys = aws
                .rt
                .block_on(backfill::list_objects(&s3, &url.bucket, &url.prefix))?;
            let bar = progress(Some(keys.len() as u64));
            let tmp = tempfile::tempdir()?;
            for key in keys {
                let name = format!("s3://{}/{key}", url.bucket);
                bar.set_message(escape_text(&name).into_owned());
                let path = tmp.path().join("object");
                let fetched = aws.rt.block_on(async {
                    use tokio::io::AsyncWriteExt;
                    let mut o = s3.get_object().bucket(&url.bucket).key(&key).send().await?;
                    let mut f = tokio::fs::File::create(&path).await?;
                    while let Some(chunk) = o.body.try_next().await? {
                        f.write_all(&chunk).await?;
                    }
                    f.flush().await?;
                    anyhow::Ok(())
                });
                match fetched {
                    Ok(()) => ingest::ingest_file_named(store, &path, &key, report)?,
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
        }
        Source::Files(_) => unreachable!("files are read by ingest_files"),
    }
    Ok(())
}

fn tracing_note(bar: &indicatif::ProgressBar, n: usize, what: &str) {
    bar.finish_and_clear();
    if std::io::stderr().is_terminal() {
        eprintln!("read {n} {what}");
    }
}

fn walk(p: &Path, out: &mut Vec<PathBuf>, report: &mut IngestReport) {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
            Ok(rd) => {
                let mut entries: Vec<PathBuf> =
                    rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                entries.sort();
                for e in entries {
                    walk(&e, out, report);
                }
            }
            Err(e) => report.failed.push(bad(p, e)),
        },
        Ok(_) => out.push(p.to_owned()),
        Err(e) => report.failed.push(bad(p, e)),
    }
}

fn bad(p: &Path, e: impl std::fmt::Display) -> ssm_audit_indexer::formats::BadRecord {
    ssm_audit_indexer::formats::BadRecord {
        input: p.display().to_string(),
        index: None,
        reason: e.to_string(),
    }
}

pub fn run_ingest(data: &DataArgs, args: &IngestArgs, out: &mut dyn Write) -> Result<bool> {
    let mut d = data.open()?;
    let mut report = IngestReport::default();
    let mut files = Vec::new();
    let mut remote = Vec::new();
    for arg in &args.paths {
        match source(arg)? {
            Source::Files(p) => walk(&p, &mut files, &mut report),
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
        for (input, why) in &report.inputs_skipped {
            writeln!(out, "skipped {}: {}", escape_text(input), escape_text(why))?;
        }
        for b in &report.failed {
            writeln!(out, "failed {}", escape_text(&b.to_string()))?;
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
    if !report.failed.is_empty() {
        bail!(
            "{} inputs or records could not be read (listed above); everything else was ingested",
            report.failed.len()
        );
    }
    Ok(true)
}

// ---- sessions, tunnels, gaps -----------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long)]
    pub json: bool,
}

/// Records passing the filters and `keep`, by start then session id.
fn select<'a>(
    records: &'a [SessionRecord],
    f: &Filters,
    keep: impl Fn(&SessionRecord) -> bool,
) -> Vec<&'a SessionRecord> {
    let mut sel: Vec<&SessionRecord> = records
        .iter()
        .filter(|r| keep(r) && record_matches(r, f))
        .collect();
    sel.sort_by(|a, b| (&a.start, &a.session_id).cmp(&(&b.start, &b.session_id)));
    sel
}

/// The records as JSON, or as a table of `row`s; true when there was any.
fn emit(
    out: &mut dyn Write,
    json: bool,
    sel: &[&SessionRecord],
    header: &[&str],
    row: impl Fn(&SessionRecord) -> Vec<String>,
) -> Result<bool> {
    if json {
        json_out(out, &sel)?;
    } else if !sel.is_empty() {
        let rows: Vec<Vec<String>> = sel.iter().map(|r| row(r)).collect();
        table(out, header, &rows)?;
    }
    Ok(!sel.is_empty())
}

fn session_or_error(r: &SessionRecord) -> String {
    r.session_id
        .clone()
        .unwrap_or_else(|| format!("({})", opt(&r.error_code)))
}

pub fn run_sessions(data: &DataArgs, args: &SessionsArgs, out: &mut dyn Write) -> Result<bool> {
    let (_, records) = load(data)?;
    let f = args.filter.filters()?;
    // denied attempts are not sessions: they show with --flag denied
    let denied_too = f.flag.as_deref() == Some("denied");
    let sel = select(&records, &f, |r| r.session_id.is_some() || denied_too);
    emit(
        out,
        args.json,
        &sel,
        &[
            "START",
            "DURATION",
            "PRINCIPAL",
            "TARGET",
            "KIND",
            "FLAGS",
            "SESSION",
        ],
        |r| {
            vec![
                opt(&r.start).to_owned(),
                duration(r.duration_seconds),
                opt(&r.principal).to_owned(),
                opt(&r.target).to_owned(),
                name(&r.kind),
                r.flags.iter().map(name).collect::<Vec<_>>().join(","),
                session_or_error(r),
            ]
        },
    )
}

#[derive(clap::Args, Debug)]
pub struct LedgerArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long)]
    pub json: bool,
}

pub fn run_tunnels(data: &DataArgs, args: &LedgerArgs, out: &mut dyn Write) -> Result<bool> {
    let (_, records) = load(data)?;
    let f = args.filter.filters()?;
    let sel = select(&records, &f, |r| {
        matches!(
            r.kind,
            Kind::PortForward | Kind::PortForwardRemote | Kind::Ssh
        ) && r.session_id.is_some()
    });
    let header = [
        "START",
        "DURATION",
        "PRINCIPAL",
        "FROM",
        "VIA",
        "TO",
        "LOCAL",
        "KIND",
        "SESSION",
    ];
    emit(out, args.json, &sel, &header, |r| {
        let t = r.tunnel.clone().unwrap_or_default();
        let host = t.host.clone().unwrap_or_else(|| "(target)".into());
        vec![
            opt(&r.start).to_owned(),
            duration(r.duration_seconds),
            opt(&r.principal).to_owned(),
            opt(&r.source_ip).to_owned(),
            opt(&r.target).to_owned(),
            format!("{host}:{}", t.port.map_or("-".into(), |p| p.to_string())),
            t.local_port.map_or("-".into(), |p| p.to_string()),
            name(&r.kind),
            opt(&r.session_id).to_owned(),
        ]
    })
}

pub fn run_gaps(data: &DataArgs, args: &LedgerArgs, out: &mut dyn Write) -> Result<bool> {
    let (_, records) = load(data)?;
    let f = args.filter.filters()?;
    let gap = [
        Flag::TranscriptMissing,
        Flag::NoStartEvent,
        Flag::Denied,
        Flag::Open,
    ];
    let sel = select(&records, &f, |r| r.flags.iter().any(|x| gap.contains(x)));
    emit(
        out,
        args.json,
        &sel,
        &["START", "GAP", "PRINCIPAL", "TARGET", "KIND", "SESSION"],
        |r| {
            let missing: Vec<String> = r
                .flags
                .iter()
                .filter(|x| gap.contains(x))
                .map(name)
                .collect();
            vec![
                opt(&r.start).to_owned(),
                missing.join(","),
                opt(&r.principal).to_owned(),
                opt(&r.target).to_owned(),
                name(&r.kind),
                session_or_error(r),
            ]
        },
    )
}

// ---- search ----------------------------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// Words and "phrases", AND/OR/NOT, ( ), field prefixes user: target: kind: flag:
    /// session: command: (commands only), and a trailing * for a prefix
    pub query: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Lines of context around each hit
    #[arg(short = 'C', long, default_value_t = 0)]
    pub context: usize,
    /// List the matching sessions only
    #[arg(short = 'l', long)]
    pub sessions_only: bool,
    #[arg(long)]
    pub json: bool,
    /// At most this many hits
    #[arg(long, default_value_t = 10_000)]
    pub limit: usize,
}

/// Wrap the query's words where they occur in `line` (already escaped) in bold red.
fn highlight(line: &str, words: &[String]) -> String {
    let lower = line.to_lowercase();
    if lower.len() != line.len() {
        return line.to_owned();
    }
    let mut marks = vec![false; line.len()];
    for w in words {
        let mut from = 0;
        while let Some(i) = lower[from..].find(w.as_str()) {
            let s = from + i;
            marks[s..s + w.len()].iter_mut().for_each(|m| *m = true);
            from = s + w.len().max(1);
        }
    }
    let mut out = String::new();
    let mut on = false;
    for (i, c) in line.char_indices() {
        if marks[i] != on {
            out.push_str(if marks[i] { "\x1b[1;31m" } else { "\x1b[0m" });
            on = marks[i];
        }
        out.push(c);
    }
    if on {
        out.push_str("\x1b[0m");
    }
    out
}

pub fn run_search(data: &DataArgs, args: &SearchArgs, out: &mut dyn Write) -> Result<bool> {
    let d = data.open_synced()?;
    let store = &*d.store;
    if !d.index_dir.join("meta.json").exists() {
        bail!(
            "no index in {}: run `ssm-audit ingest PATH...` first",
            store.describe()
        );
    }
    let (idx, fields) = match index::open_or_create(&d.index_dir) {
        Err(index::IndexError::OtherVersion(_)) if d.cache.is_some() => bail!(
            "the index published in {0} was made by another version of ssm-audit: use the \
             version the functions run, or build the index again with this one \
             (`ssm-audit --store {0} ingest`, with no PATH)",
            store.describe()
        ),
        Err(index::IndexError::OtherVersion(_)) => {
            // made by another version of ssm-audit: built again from the store, once
            eprintln!(
                "ssm-audit: the index in {} was made by another version; building it again",
                store.describe()
            );
            d.rebuild()?;
            index::open_or_create(&d.index_dir)?
        }
        r => r?,
    };
    let hits: Vec<Hit> = index::search(
        &idx,
        &fields,
        &args.query,
        &args.filter.filters()?,
        args.limit,
    )?;
    if args.json {
        json_out(out, &hits)?;
        return Ok(!hits.is_empty());
    }
    if args.sessions_only {
        let mut seen = std::collections::BTreeSet::new();
        for h in &hits {
            if seen.insert(h.session_id.clone()) {
                writeln!(out, "{}", escape_text(&h.session_id))?;
            }
        }
        return Ok(!hits.is_empty());
    }
    let colour = std::io::stdout().is_terminal();
    let words: Vec<String> = args
        .query
        .split_whitespace()
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT"))
        .map(|w| {
            w.rsplit(':')
                .next()
                .unwrap_or(w)
                .trim_matches(|c| c == '"' || c == '*' || c == '(' || c == ')')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut texts: HashMap<String, Option<ingest::SessionText>> = HashMap::new();
    let mut last: Option<(String, u64)> = None;
    for h in &hits {
        let head = format!(
            "{} {} {}@{}",
            h.session_id,
            h.start.as_deref().unwrap_or("-"),
            h.principal.as_deref().unwrap_or("-"),
            h.target.as_deref().unwrap_or("-")
        );
        let head = escape_text(&head).into_owned();
        let show = |n: u64, text: &str, hit: bool, out: &mut dyn Write| -> Result<()> {
            let t = escape_text(text);
            let t = if colour && hit {
                highlight(&t, &words)
            } else {
                t.into_owned()
            };
            let sep = if hit { ':' } else { '-' };
            let cmd = if hit && h.is_command { "$ " } else { "" };
            writeln!(out, "{head}:{n}{sep}{cmd}{t}")?;
            Ok(())
        };
        if args.context == 0 {
            show(h.line, &h.text, true, out)?;
            continue;
        }
        let text = texts
            .entry(h.session_id.clone())
            .or_insert_with(|| ingest::load_text(store, &h.session_id).ok().flatten());
        let lines = text.as_ref().map(|t| t.lines.as_slice()).unwrap_or(&[]);
        let from = h.line.saturating_sub(args.context as u64).max(1);
        let to = (h.line + args.context as u64).min(lines.len() as u64);
        let start = match &last {
            Some((s, l)) if *s == h.session_id && *l >= from => l + 1,
            Some(_) => {
                writeln!(out, "--")?;
                from
            }
            None => from,
        };
        for n in start..=to.max(h.line) {
            let t = lines
                .get(n as usize - 1)
                .map(String::as_str)
                .unwrap_or(if n == h.line { &h.text } else { "" });
            show(n, t, n == h.line, out)?;
        }
        last = Some((h.session_id.clone(), to.max(h.line)));
    }
    Ok(!hits.is_empty())
}

// ---- show ------------------------------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    pub session_id: String,
    #[arg(long)]
    pub json: bool,
    /// Print the original transcript bytes, every control byte escaped
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
}

pub fn run_show(data: &DataArgs, args: &ShowArgs, out: &mut dyn Write) -> Result<bool> {
    let (d, records) = load(data)?;
    let store = &*d.store;
    let Some(rec) = records
        .iter()
        .find(|r| r.session_id.as_deref() == Some(args.session_id.as_str()))
    else {
        bail!(
            "no session {} in {}",
            escape_text(&args.session_id),
            store.describe()
        );
    };
    let text = ingest::load_text(store, &args.session_id)?;
    if args.raw {
        let copies = store.list(&format!(
            "transcripts/{}/",
            ingest::session_key(&args.session_id)
        ))?;
        if copies.is_empty() {
            bail!(
                "session {} has no transcript copy",
                escape_text(&args.session_id)
            );
        }
        for key in copies {
            let bytes = store.get(&key)?.unwrap_or_default();
            writeln!(out, "=== {key}")?;
            let mut s = String::new();
            escape_raw(&bytes, &mut s);
            writeln!(out, "{s}")?;
        }
        return Ok(true);
    }
    if args.json {
        json_out(out, &serde_json::json!({"record": rec, "text": text}))?;
        return Ok(true);
    }
    let fields: Vec<(&str, String)> = vec![
        ("session", opt(&rec.session_id).to_owned()),
        (
            "principal",
            format!("{} ({})", opt(&rec.principal), opt(&rec.identity_type)),
        ),
        ("arn", opt(&rec.principal_arn).to_owned()),
        ("target", opt(&rec.target).to_owned()),
        (
            "kind",
            format!("{} {}", name(&rec.kind), opt(&rec.document)),
        ),
        ("start", opt(&rec.start).to_owned()),
        (
            "end",
            format!("{} ({})", opt(&rec.end), name(&rec.end_source)),
        ),
        ("duration", duration(rec.duration_seconds)),
        (
            "from",
            format!(
                "{}{}",
                opt(&rec.source_ip),
                if rec.console { " (console)" } else { "" }
            ),
        ),
        (
            "flags",
            rec.flags.iter().map(name).collect::<Vec<_>>().join(","),
        ),
    ];
    for (k, v) in fields {
        writeln!(out, "{k:>10}: {}", escape_text(&v))?;
    }
    for (k, v) in [("runs", &rec.command), ("reason", &rec.reason)] {
        if let Some(v) = v {
            writeln!(out, "{k:>10}: {}", escape_text(v))?;
        }
    }
    if let Some(t) = &rec.tunnel {
        writeln!(
            out,
            "{:>10}: {}:{} (local port {})",
            "tunnel",
            t.host.as_deref().unwrap_or("(target)"),
            t.port.map_or("-".into(), |p| p.to_string()),
            t.local_port.map_or("-".into(), |p| p.to_string())
        )?;
    }
    if let Some(t) = text {
        writeln!(
            out,
            "{:>10}: {} lines, {} commands ({})",
            "transcript",
            t.lines.len(),
            t.commands.len(),
            name(&t.source)
        )?;
        writeln!(out)?;
        let cmds: std::collections::HashSet<u64> = t.commands.iter().map(|c| c.0).collect();
        for (i, l) in t.lines.iter().enumerate() {
            let n = i as u64 + 1;
            let mark = if cmds.contains(&n) { '>' } else { ' ' };
            writeln!(out, "{mark}{n:>6}  {}", escape_text(l))?;
        }
    }
    Ok(true)
}
