//! The compliance commands: ingest evidence into a data folder, then ask it questions.

use ssm_audit_indexer::{keys, text};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use ssm_audit_indexer::correlate::{enum_name as name, Flag, Kind, SessionRecord};
use ssm_audit_indexer::escape::{escape_raw, escape_text, json_safe};
use ssm_audit_indexer::index::{self, Filters, Flow, Hit};
use ssm_audit_indexer::ingest::{self, IngestReport};
use ssm_audit_indexer::select::{self, Pattern, RecordFilter};
use ssm_audit_indexer::store::Store;
use time::OffsetDateTime;

use crate::data::Data;
pub use crate::data::DataArgs;

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
    if let Some(t) = ssm_audit_indexer::time::parse_time(s) {
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
    ssm_audit_indexer::time::session_duration(r.duration_seconds, r.flags.contains(&Flag::Open))
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
    /// Read what symbolic links inside the folders point to (each file once; cycles end).
    /// Without it links are skipped, so a link cannot pull in a file from elsewhere
    #[arg(long)]
    pub follow: bool,
}

/// Where evidence comes from.
enum Source {
    Files(PathBuf),
    S3(ssm_audit_aws::s3::S3Url),
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

/// Walks the folders given to `ingest`: regular files only (a FIFO would block, a device
/// read forever), each file once (by device and inode), symbolic links below a root skipped
/// unless `--follow` (then followed, never twice: cycles end), each skip said with its reason.
struct Walk {
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

fn bad(p: &Path, e: impl std::fmt::Display) -> ssm_audit_indexer::formats::BadRecord {
    ssm_audit_indexer::formats::BadRecord {
        input: p.display().to_string(),
        index: None,
        reason: e.to_string(),
    }
}

pub fn run_ingest(data: &DataArgs, args: &IngestArgs, out: &mut dyn Write) -> Result<bool> {
    let mut d = data.open()?;
    let _lock = d.lock_for_writing()?;
    let mut report = IngestReport::default();
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

// ---- sessions, tunnels, gaps -----------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long)]
    pub json: bool,
}

/// Records passing the filters and `keep`, by time then session id; what was left out is said
/// on stderr.
fn select<'a>(
    records: &'a [SessionRecord],
    f: &RecordFilter,
    keep: impl Fn(&SessionRecord) -> bool,
) -> Vec<&'a SessionRecord> {
    let sel = f.select(records, keep);
    if sel.records.is_empty() || sel.untimed > 0 {
        say_what_is_left_out(f, records, sel.untimed);
    }
    sel.records
}

/// The records as JSON, or as a table of `row`s; true when there was any. An ACCOUNT column
/// comes second when the records hold more than one account.
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
        let accounts: std::collections::BTreeSet<Option<&str>> =
            sel.iter().map(|r| r.account.as_deref()).collect();
        let with_account = accounts.len() > 1;
        let mut header = header.to_vec();
        if with_account {
            header.insert(1, "ACCOUNT");
        }
        let rows: Vec<Vec<String>> = sel
            .iter()
            .map(|r| {
                let mut row = row(r);
                if with_account {
                    row.insert(1, opt(&r.account).to_owned());
                }
                row
            })
            .collect();
        table(out, &header, &rows)?;
    }
    Ok(!sel.is_empty())
}

fn session_or_error(r: &SessionRecord) -> String {
    r.session_id
        .clone()
        .unwrap_or_else(|| format!("({})", opt(&r.error_code)))
}

fn flags(r: &SessionRecord) -> String {
    r.flags.iter().map(name).collect::<Vec<_>>().join(",")
}

pub fn run_sessions(data: &DataArgs, args: &SessionsArgs, out: &mut dyn Write) -> Result<bool> {
    let (_, records) = load(data)?;
    let f = args.filter.filters()?;
    // denied attempts are not sessions: they show with --flag denied
    let denied_too = f.flag == Some(Flag::Denied);
    let sel = select(&records, &f, |r| r.session_id.is_some() || denied_too);
    emit(
        out,
        args.json,
        &sel,
        &[
            "TIME",
            "DURATION",
            "PRINCIPAL",
            "TARGET",
            "KIND",
            "FLAGS",
            "SESSION",
        ],
        |r| {
            vec![
                r.time_display(),
                duration(r),
                opt(&r.principal).to_owned(),
                opt(&r.target).to_owned(),
                name(&r.kind),
                flags(r),
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
        r.kind.is_tunnel() && r.session_id.is_some()
    });
    let header = [
        "TIME",
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
            r.time_display(),
            duration(r),
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

/// The flags that mark missing evidence.
pub const GAP_FLAGS: [Flag; 5] = [
    Flag::TranscriptMissing,
    Flag::NoStartEvent,
    Flag::Denied,
    Flag::Open,
    Flag::PrincipalMismatch,
];

pub fn run_gaps(data: &DataArgs, args: &LedgerArgs, out: &mut dyn Write) -> Result<bool> {
    let (_, records) = load(data)?;
    let f = args.filter.filters()?;
    let sel = select(&records, &f, |r| {
        r.flags.iter().any(|x| GAP_FLAGS.contains(x))
    });
    emit(
        out,
        args.json,
        &sel,
        &["TIME", "GAP", "PRINCIPAL", "TARGET", "KIND", "SESSION"],
        |r| {
            let missing: Vec<String> = r
                .flags
                .iter()
                .filter(|x| GAP_FLAGS.contains(x))
                .map(name)
                .collect();
            vec![
                r.time_display(),
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
    /// List the matching sessions only (every one of them)
    #[arg(short = 'l', long, conflicts_with_all = ["count", "json"])]
    pub sessions_only: bool,
    /// Print the number of hits of each matching session
    #[arg(short = 'c', long, conflicts_with = "json")]
    pub count: bool,
    /// At most NUM hits of each session, as grep's --max-count is per file
    #[arg(short = 'm', long, value_name = "NUM")]
    pub max_count: Option<u64>,
    /// Print the hits as a JSON array
    #[arg(long)]
    pub json: bool,
    /// Highlight the query's words: auto (when stdout is a terminal and NO_COLOR is not set),
    /// always or never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour standard output (NO_COLOR, https://no-color.org, turns `auto` off).
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
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

/// The query's words, lowercased, for highlighting.
fn query_words(query: &str) -> Vec<String> {
    query
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
        .collect()
}

/// Open the index of `d`, building it again when another version made it.
fn open_index(d: &Data) -> Result<(tantivy::Index, index::Fields)> {
    let store = &*d.store;
    if !d.index_dir.join("meta.json").exists() {
        bail!(
            "no index in {}: run `ssm-audit ingest PATH...` first",
            escape_text(&store.describe())
        );
    }
    Ok(match index::open_or_create(&d.index_dir) {
        Err(index::IndexError::OtherVersion(_)) if d.cache.is_some() => bail!(
            "the index published in {0} was made by another version of ssm-audit: use the \
             version the functions run, or build the index again with this one \
             (`ssm-audit --store {0} ingest`, with no PATH)",
            escape_text(&store.describe())
        ),
        Err(index::IndexError::OtherVersion(_)) => {
            // made by another version of ssm-audit: built again from the store, once
            eprintln!(
                "ssm-audit: the index in {} was made by another version; building it again",
                escape_text(&store.describe())
            );
            let _lock = d.lock_for_writing()?;
            d.rebuild()?;
            index::open_or_create(&d.index_dir)?
        }
        r => r?,
    })
}

/// Which text a hit is in: (session, another copy's name or the text of record).
type TextOf = (String, Option<String>);

/// How hits are printed: grep's `SESSION TIME PRINCIPAL@TARGET:LINE:TEXT`; a line that was run
/// as a command has `>` for its separator (`:12>sudo -i`), a context line `-`.
struct HitPrinter<'a> {
    store: &'a dyn Store,
    context: u64,
    colour: bool,
    words: Vec<String>,
    /// the text of the session (and copy) being printed, for context lines (one at a time)
    text: Option<(TextOf, Option<text::SessionText>)>,
    /// the last line printed: (session, copy, screen, line)
    last: Option<(String, Option<String>, Option<u32>, u64)>,
}

impl HitPrinter<'_> {
    fn line(&self, head: &str, n: u64, text: &str, sep: char, out: &mut dyn Write) -> Result<()> {
        let t = escape_text(text);
        let t = if self.colour && sep != '-' {
            highlight(&t, &self.words)
        } else {
            t.into_owned()
        };
        writeln!(out, "{head}:{n}{sep}{t}")?;
        Ok(())
    }

    fn hit(&mut self, h: &Hit, out: &mut dyn Write) -> Result<()> {
        let head = format!(
            "{} {} {}@{}",
            h.session_id,
            h.time.as_deref().unwrap_or("-"),
            h.principal.as_deref().unwrap_or("-"),
            h.target.as_deref().unwrap_or("-")
        );
        let mut head = escape_text(&head).into_owned();
        if let Some(c) = &h.copy {
            // a line only another copy of the transcript has: which copy
            head.push_str(&format!(":copy={}", escape_text(c)));
        }
        if let Some(n) = h.screen {
            // a full-screen program's screen: where the line was, and which program showed it
            let program = h.program.as_deref().unwrap_or("screen");
            head.push_str(&format!(":{}#{n}", escape_text(program)));
        }
        let sep = if h.is_command {
            '>'
        } else if h.is_input {
            '+'
        } else {
            ':'
        };
        if self.context == 0 {
            return self.line(&head, h.line, &h.text, sep, out);
        }
        let which = (h.session_id.clone(), h.copy.clone());
        if self.text.as_ref().is_none_or(|(w, _)| *w != which) {
            let t = match &h.copy {
                None => text::load_text(self.store, &h.session_id)?,
                Some(c) => text::load_copy_text(self.store, &h.session_id, c)?,
            };
            self.text = Some((which, t));
        }
        let lines: &[String] = match (&self.text, h.screen) {
            (Some((_, Some(t))), None) => &t.lines,
            (Some((_, Some(t))), Some(n)) => t
                .alternate_screens
                .iter()
                .find(|a| a.index == n)
                .map_or(&[], |a| a.lines.as_slice()),
            _ => &[],
        };
        let from = h.line.saturating_sub(self.context).max(1);
        let to = (h.line + self.context).min(lines.len() as u64).max(h.line);
        let start = match &self.last {
            Some((s, c, sc, l))
                if *s == h.session_id && *c == h.copy && *sc == h.screen && *l >= from =>
            {
                l + 1
            }
            Some(_) => {
                writeln!(out, "--")?;
                from
            }
            None => from,
        };
        for n in start..=to {
            if n == h.line {
                self.line(&head, n, &h.text, sep, out)?;
            } else {
                let t = lines.get(n as usize - 1).map(String::as_str).unwrap_or("");
                self.line(&head, n, t, '-', out)?;
            }
        }
        self.last = Some((h.session_id.clone(), h.copy.clone(), h.screen, to));
        Ok(())
    }
}

pub fn run_search(data: &DataArgs, args: &SearchArgs, out: &mut dyn Write) -> Result<bool> {
    let f = args.filter.filters()?;
    let (d, records) = load(data)?;
    let (idx, fields) = open_index(&d)?;
    // the record filters are decided on the records (as every command does), the index is
    // given the sessions that pass
    let capped = records
        .iter()
        .filter(|r| r.transcript.lines_dropped > 0 && f.matches(r))
        .count();
    if capped > 0 {
        eprintln!(
            "ssm-audit: {capped} sessions have text past the {} MiB a session keeps: those lines \
             are counted in their records but not searchable",
            text::MAX_TEXT_BYTES >> 20
        );
    }
    let filters = if f.is_set() {
        let sel = select(&records, &f, |r| r.session_id.is_some());
        Filters {
            sessions: Some(
                sel.iter()
                    .filter_map(|r| r.session_id.clone())
                    .collect::<Vec<_>>(),
            ),
        }
    } else {
        Filters::default()
    };
    let reader = index::open_reader(&idx)?;
    let searcher = reader.searcher();
    let mut printer = HitPrinter {
        store: &*d.store,
        context: args.context as u64,
        colour: args.color.enabled(),
        words: query_words(&args.query),
        text: None,
        last: None,
    };
    let max = args.max_count;
    // per session: (id, hits); hits past --max-count are counted apart
    let mut current: Option<(String, u64)> = None;
    let mut total = 0u64;
    let mut err: Option<anyhow::Error> = None;
    if args.json {
        write!(out, "[")?;
    }
    index::search_each(&searcher, &fields, &args.query, &filters, &mut |h: Hit| {
        let new_session = current.as_ref().is_none_or(|(id, _)| *id != h.session_id);
        if new_session {
            if let (true, Some((id, n))) = (args.count, current.take()) {
                if let Err(e) = writeln!(out, "{}:{n}", escape_text(&id)) {
                    err = Some(e.into());
                    return Flow::Stop;
                }
            }
            current = Some((h.session_id.clone(), 0));
        }
        let Some((_, n)) = current.as_mut() else {
            return Flow::Stop;
        };
        *n += 1;
        total += 1;
        let done = max.is_some_and(|m| *n >= m);
        let r: Result<()> = if args.sessions_only {
            writeln!(out, "{}", escape_text(&h.session_id)).map_err(Into::into)
        } else if args.count {
            Ok(())
        } else if args.json {
            let sep = if total > 1 { "," } else { "" };
            serde_json::to_string_pretty(&h)
                .map_err(anyhow::Error::from)
                .and_then(|s| Ok(write!(out, "{sep}\n{}", json_safe(&s))?))
        } else {
            printer.hit(&h, out)
        };
        if let Err(e) = r {
            err = Some(e);
            return Flow::Stop;
        }
        if args.sessions_only || done {
            Flow::NextSession
        } else {
            Flow::Continue
        }
    })?;
    if let Some(e) = err {
        return Err(e);
    }
    if let (true, Some((id, n))) = (args.count, current.take()) {
        writeln!(out, "{}:{n}", escape_text(&id))?;
    }
    if args.json {
        writeln!(out, "{}]", if total > 0 { "\n" } else { "" })?;
    }
    Ok(total > 0)
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

/// The session's other transcript copies: for each, the lines it has that the text of record
/// does not (a second copy never hides the first, nor the first the second).
fn show_other_copies(
    store: &dyn Store,
    session_id: &str,
    record: &text::SessionText,
    out: &mut dyn Write,
) -> Result<()> {
    let known: std::collections::HashSet<&str> = record
        .lines
        .iter()
        .chain(record.alternate_screens.iter().flat_map(|a| &a.lines))
        .map(String::as_str)
        .collect();
    text::for_each_other_copy(store, session_id, &mut |copy, t| {
        let cmds: std::collections::HashSet<u64> = t.commands.iter().map(|c| c.0).collect();
        let only: Vec<(usize, &String)> = t
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !known.contains(l.as_str()))
            .collect();
        let w = |out: &mut dyn Write| -> std::io::Result<()> {
            writeln!(out)?;
            writeln!(
                out,
                "=== copy {}: {} lines, {} not in the text of record",
                escape_text(copy),
                t.lines.len(),
                only.len()
            )?;
            for (i, l) in &only {
                let n = *i as u64 + 1;
                let mark = if cmds.contains(&n) { '>' } else { ' ' };
                writeln!(out, "{mark}{n:>6}  {}", escape_text(l))?;
            }
            Ok(())
        };
        w(out).map_err(std::io::Error::other)
    })?;
    Ok(())
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
    let text = text::load_text(store, &args.session_id)?;
    if args.raw {
        let mut copies = Vec::new();
        for k in keys::session_keys_to_read(&args.session_id) {
            copies.extend(store.list(&format!("transcripts/{k}/"))?);
        }
        if copies.is_empty() {
            bail!(
                "session {} has no transcript copy",
                escape_text(&args.session_id)
            );
        }
        for key in copies {
            let Some(bytes) = store.get(&key)? else {
                bail!(
                    "the transcript copy {} is listed but could not be read from {}",
                    escape_text(&key),
                    escape_text(&store.describe())
                );
            };
            writeln!(out, "=== {}", escape_text(&key))?;
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
        ("duration", duration(rec)),
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
    for c in &rec.transcript.copies {
        let by = if c.written_by.is_empty() {
            String::new()
        } else {
            format!("; written by {}", c.written_by.join(", "))
        };
        writeln!(
            out,
            "{:>10}: {} ({} bytes, {} lines) at {}{by}",
            "copy",
            escape_text(&c.copy),
            c.bytes,
            c.lines,
            escape_text(&c.locations.join(", "))
        )?;
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
            escape_text(t.host.as_deref().unwrap_or("(target)")),
            t.port.map_or("-".into(), |p| p.to_string()),
            t.local_port.map_or("-".into(), |p| p.to_string())
        )?;
    }
    if let Some(t) = text {
        writeln!(
            out,
            "{:>10}: {} lines, {} commands (marked >), {} lines typed into programs (marked +) ({})",
            "transcript",
            t.lines.len(),
            t.commands.len(),
            t.inputs.len(),
            name(&t.source)
        )?;
        if t.lines_dropped > 0 || t.commands_dropped > 0 {
            writeln!(
                out,
                "{:>10}: {} more lines and {} more commands past the {} MiB a session keeps: \
                 counted, not shown",
                "note",
                t.lines_dropped,
                t.commands_dropped,
                text::MAX_TEXT_BYTES >> 20
            )?;
        }
        if t.long_lines_split > 0 || t.repeats_capped > 0 {
            writeln!(
                out,
                "{:>10}: {} lines longer than {} MiB given as several; {} characters repeated \
                 (CSI n b) past one screen width not drawn",
                "note",
                t.long_lines_split,
                ssm_audit_indexer::render::MAX_LINE_BYTES >> 20,
                t.repeats_capped
            )?;
        }
        writeln!(out)?;
        // the first command of a line: the one that started what followed on it (the
        // commands typed inside a multiplexer stand at the line that started it)
        let mut cmds: std::collections::HashMap<u64, &str> = Default::default();
        for (line, text) in &t.commands {
            cmds.entry(*line).or_insert(text.as_str());
        }
        let inputs: std::collections::HashSet<u64> = t.inputs.iter().map(|i| i.line).collect();
        let mut screens = t.alternate_screens.iter().peekable();
        let mut screen_here = |n: u64, out: &mut dyn Write| -> Result<()> {
            // what full-screen programs started on this line showed, in place
            while let Some(a) = screens.next_if(|a| a.after_line <= n) {
                let program = cmds
                    .get(&a.after_line)
                    .and_then(|c| ssm_audit_indexer::render::programs::program_name(c))
                    .unwrap_or("a full-screen program");
                writeln!(
                    out,
                    "        +-- {} (alternate screen {}, {} lines{})",
                    escape_text(program),
                    a.index,
                    a.lines.len(),
                    if a.truncated {
                        "; rows past its scrollback cap not kept"
                    } else {
                        ""
                    }
                )?;
                for (i, l) in a.lines.iter().enumerate() {
                    writeln!(out, " {:>6}  | {}", i + 1, escape_text(l))?;
                }
                writeln!(out, "        +--")?;
            }
            Ok(())
        };
        screen_here(0, out)?;
        for (i, l) in t.lines.iter().enumerate() {
            let n = i as u64 + 1;
            let mark = if cmds.contains_key(&n) {
                '>'
            } else if inputs.contains(&n) {
                '+'
            } else {
                ' '
            };
            writeln!(out, "{mark}{n:>6}  {}", escape_text(l))?;
            screen_here(n, out)?;
        }
        screen_here(u64::MAX, out)?;
        if t.alternate_screens_dropped > 0 {
            writeln!(
                out,
                "{} more alternate screens past the {} MiB a session keeps: counted, not shown",
                t.alternate_screens_dropped,
                text::MAX_ALT_TEXT_BYTES >> 20
            )?;
        }
        show_other_copies(store, &args.session_id, &t, out)?;
    }
    Ok(true)
}
