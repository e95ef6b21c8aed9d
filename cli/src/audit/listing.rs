//! ssm-audit sessions, tunnels and gaps: the records that pass the filters, as a table or JSON.

use super::*;

#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long)]
    pub json: bool,
}

/// Records passing the filters and `keep`, by time then session id; what was left out is said
/// on stderr.
pub(crate) fn select<'a>(
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
pub(crate) fn emit(
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

pub(crate) fn session_or_error(r: &SessionRecord) -> String {
    r.session_id
        .clone()
        .unwrap_or_else(|| format!("({})", opt(&r.error_code)))
}

pub(crate) fn flags(r: &SessionRecord) -> String {
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
