//! ssm-audit show: one session whole: its record, its text with the commands marked, its screens and copies.

use super::*;

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
pub(crate) fn show_other_copies(
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
            copies.extend(store.list(&keys::transcripts_dir(&k))?);
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
    if let Some(d) = &rec.transcript.copies_disagree {
        let show = |l: &Option<String>| match l {
            Some(l) => format!("{:?}", escape_text(l)),
            None => "(nothing: it ends before)".into(),
        };
        writeln!(
            out,
            "{:>10}: from line {}: the text of record has {}, copy {} has {}",
            "disagree",
            d.line,
            show(&d.text_of_record),
            escape_text(&d.copy),
            show(&d.other)
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
                ssm_audit_core::render::MAX_LINE_BYTES >> 20,
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
                    .and_then(|c| ssm_audit_core::render::programs::program_name(c))
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
