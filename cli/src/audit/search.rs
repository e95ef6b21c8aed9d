//! ssm-audit search: every hit, streamed in order, with context, counts and per-session caps.

use super::*;

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
pub(crate) fn highlight(line: &str, words: &[String]) -> String {
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

/// Open the index of `d`, building it again when another version made it.
pub(crate) fn open_index(d: &Data) -> Result<(tantivy::Index, index::Fields)> {
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
pub(crate) type TextOf = (String, Option<String>);

/// How hits are printed: grep's `SESSION TIME PRINCIPAL@TARGET:LINE:TEXT`; a line that was run
/// as a command has `>` for its separator (`:12>sudo -i`), a context line `-`.
pub(crate) struct HitPrinter<'a> {
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
        // the parsed query's own words (search has checked it parses)
        words: index::parse(&args.query)
            .map(|q| q.words())
            .unwrap_or_default(),
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
