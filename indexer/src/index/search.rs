//! Search: candidate chunks from tantivy, sorted by fast fields, each line matched again; every hit streamed in order.

use super::*;

impl Fields {
    pub(crate) fn by_name(&self, name: &str) -> Field {
        match name {
            "principal" => self.principal,
            "target" => self.target,
            "kind" => self.kind,
            "flag" => self.flag,
            _ => self.session_id,
        }
    }
}

pub(crate) fn exact_or_prefix(field: Field, value: &str) -> Box<dyn Query> {
    match value.strip_suffix('*') {
        Some(p) => Box::new(
            RegexQuery::from_pattern(&format!("{}.*", regex::escape(p)), field)
                .expect("escaped pattern"),
        ),
        None => Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        )),
    }
}

/// The chunk query with the filters added.
pub(crate) fn chunk_query(ast: &Q, f: &Fields, filters: &Filters) -> Box<dyn Query> {
    let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, ast.to_tantivy(f))];
    if let Some(ids) = &filters.sessions {
        let terms = ids.iter().map(|id| Term::from_field_text(f.session_id, id));
        parts.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
    }
    Box::new(BooleanQuery::new(parts))
}

/// A candidate chunk: (session time, session id, screen, first line, the document).
pub(crate) type Candidate = (Option<i64>, String, u64, u64, TantivyDocument);

/// The matching lines of one candidate chunk, each given to `each` until it says stop.
pub(crate) fn chunk_hits(
    ast: &Q,
    needle: Option<&str>,
    f: &Fields,
    (time, sid, screen, first, doc): &Candidate,
    each: &mut dyn FnMut(Hit) -> Flow,
) -> Flow {
    let s = |fl: Field| {
        doc.get_first(fl)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let text = doc.get_first(f.text).and_then(|v| v.as_str()).unwrap_or("");
    let cmds = offsets(doc, f.command_lines);
    let inputs = offsets(doc, f.input_lines);
    let time = time
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(crate::time::rfc3339);
    for (i, line) in text.split('\n').enumerate() {
        // cheap first: a line without the query's first word cannot match
        if let Some(n) = needle {
            if !contains_ascii_ci(line, n) {
                continue;
            }
        }
        let tokens: Vec<String> = tokenize(line).into_iter().map(|t| t.text).collect();
        let is_command = cmds.contains(&i);
        let kind = if is_command {
            LineKind::Command
        } else if inputs.contains(&i) {
            LineKind::Input
        } else {
            LineKind::Output
        };
        if !ast.matches_line(&tokens, kind) {
            continue;
        }
        let flow = each(Hit {
            session_id: sid.clone(),
            line: first + i as u64,
            text: line.to_owned(),
            is_command,
            is_input: kind == LineKind::Input,
            principal: s(f.principal),
            target: s(f.target),
            time: time.clone(),
            screen: (*screen as u32 > 0).then_some(*screen as u32),
            program: s(f.program),
            copy: s(f.copy),
        });
        if flow != Flow::Continue {
            return flow;
        }
    }
    Flow::Continue
}

/// `hay` contains `needle` (lowercase ASCII), ignoring ASCII case.
pub(crate) fn contains_ascii_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The stored offsets of a chunk's command (or input) lines.
pub(crate) fn offsets(doc: &TantivyDocument, field: Field) -> Vec<usize> {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .map(|c| c.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default()
}

/// One matching line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    pub session_id: String,
    pub line: u64,
    pub text: String,
    pub is_command: bool,
    /// typed into an interactive program (sqlite3, psql, python ...), not run by a shell
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_input: bool,
    pub principal: Option<String>,
    pub target: Option<String>,
    /// the session's time (its start, else its earliest evidence)
    pub time: Option<String>,
    /// set when the line was on an alternate screen: its number (`line` counts within it)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen: Option<u32>,
    /// the full-screen program that showed it, when known
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// set when the line is in another transcript copy than the text of record (`s3-<hash>`):
    /// a line that copy has and the text of record does not
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<String>,
}

/// What a consumer of hits wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// no more hits of this session (`-l`, `--max-count`)
    NextSession,
    Stop,
}

/// Search: at most `limit` hits, ordered by session time, session and line (like grep, not
/// by score). A caller that must have every hit uses [`search_each`].
pub fn search(
    index: &Index,
    f: &Fields,
    q: &str,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<Hit>, IndexError> {
    search_with(&open_reader(index)?.searcher(), f, q, filters, limit)
}

/// A reader of the index as it is now (no watcher thread: a CLI command or a function reads
/// one version of the index). Keep it to run many queries: opening one maps the segments.
pub fn open_reader(index: &Index) -> Result<tantivy::IndexReader, IndexError> {
    Ok(index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?)
}

pub(crate) fn candidate(
    searcher: &tantivy::Searcher,
    f: &Fields,
    addr: tantivy::DocAddress,
) -> Result<Candidate, IndexError> {
    let doc: TantivyDocument = searcher.doc(addr)?;
    let sid = doc
        .get_first(f.session_id)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_owned();
    let line = doc.get_first(f.line).and_then(|v| v.as_u64()).unwrap_or(0);
    let screen = doc
        .get_first(f.screen)
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let time = doc
        .get_first(f.time)
        .and_then(|v| v.as_datetime())
        .map(|d| d.into_timestamp_secs());
    Ok((time, sid, screen, line, doc))
}

/// [`search`] with a searcher already open (from [`open_reader`]): the first `limit` hits
/// only, so it reads only as many candidate chunks as those need.
pub fn search_with(
    searcher: &tantivy::Searcher,
    f: &Fields,
    q: &str,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<Hit>, IndexError> {
    let ast = parse(q)?;
    let query = chunk_query(&ast, f, filters);
    // Candidate chunks in order of session time, from the fast field: only as many as the
    // hits wanted, more when the line check turns some down.
    // The count comes from the same pass over the postings as the candidates.
    let needle = ast.needle();
    let mut want = limit.max(1);
    loop {
        let (total, top) = searcher.search(
            &query,
            &(
                tantivy::collector::Count,
                tantivy::collector::TopDocs::with_limit(want)
                    .order_by_fast_field::<DateTime>("time", tantivy::Order::Asc),
            ),
        )?;
        let mut docs = Vec::with_capacity(top.len());
        for (_, addr) in top {
            docs.push(candidate(searcher, f, addr)?);
        }
        docs.sort_by(|a, b| (a.0, &a.1, a.2, a.3).cmp(&(b.0, &b.1, b.2, b.3)));
        let mut hits = Vec::new();
        for d in &docs {
            let flow = chunk_hits(&ast, needle.as_deref(), f, d, &mut |h| {
                hits.push(h);
                if hits.len() >= limit {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            });
            if flow == Flow::Stop {
                break;
            }
        }
        if hits.len() >= limit || want >= total {
            return Ok(hits);
        }
        want = (want * 4).min(total);
    }
}

/// Every hit, in order of session time, session and line, given to `each` as it is found:
/// nothing is cut. Memory holds the sort keys of the matching chunks (time, session id, line,
/// address: read from fast fields), never their text; chunks are read one at a time.
pub fn search_each(
    searcher: &tantivy::Searcher,
    f: &Fields,
    q: &str,
    filters: &Filters,
    each: &mut dyn FnMut(Hit) -> Flow,
) -> Result<(), IndexError> {
    let ast = parse(q)?;
    let query = chunk_query(&ast, f, filters);
    let needle = ast.needle();
    let addrs = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
    type Key = (
        Option<i64>,
        std::sync::Arc<str>,
        u64,
        u64,
        tantivy::DocAddress,
    );
    let mut keys: Vec<Key> = Vec::with_capacity(addrs.len());
    let mut by_segment: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for a in addrs {
        by_segment.entry(a.segment_ord).or_default().push(a.doc_id);
    }
    let mut name = String::new();
    for (seg, docs) in by_segment {
        let ff = searcher.segment_reader(seg).fast_fields();
        let times = ff.date("time")?;
        let lines = ff.u64("line")?;
        let screens = ff.u64("screen")?;
        let ids = ff
            .str("session_id")?
            .ok_or_else(|| IndexError::Query("the index has no session id column".into()))?;
        // one shared copy of each session id of the segment
        let mut seen: std::collections::HashMap<u64, std::sync::Arc<str>> = Default::default();
        for doc in docs {
            let ord = ids.term_ords(doc).next();
            let sid = match ord {
                Some(o) => match seen.get(&o) {
                    Some(s) => s.clone(),
                    None => {
                        name.clear();
                        ids.ord_to_str(o, &mut name)
                            .map_err(|e| IndexError::Query(format!("session id column: {e}")))?;
                        let s: std::sync::Arc<str> = name.as_str().into();
                        seen.insert(o, s.clone());
                        s
                    }
                },
                None => "".into(),
            };
            let t = times.first(doc).map(|d| d.into_timestamp_secs());
            let line = lines.first(doc).unwrap_or(0);
            let screen = screens.first(doc).unwrap_or(0);
            keys.push((t, sid, screen, line, tantivy::DocAddress::new(seg, doc)));
        }
    }
    keys.sort();
    let mut skip: Option<std::sync::Arc<str>> = None;
    for (_, sid, _, _, addr) in keys {
        if skip.as_ref() == Some(&sid) {
            continue;
        }
        let c = candidate(searcher, f, addr)?;
        match chunk_hits(&ast, needle.as_deref(), f, &c, each) {
            Flow::Continue => {}
            Flow::NextSession => skip = Some(sid),
            Flow::Stop => return Ok(()),
        }
    }
    Ok(())
}
