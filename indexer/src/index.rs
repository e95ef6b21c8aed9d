//! The full-text index (tantivy): one document per rendered transcript line, carrying its
//! session's fields for filtering, and a query language for what people look for in shell
//! transcripts.
//!
//! Tokens: runs of letters and digits, lowercased; CJK text as overlapping character bigrams
//! (so `データベース` finds `本番環境のデータベース` without a dictionary). A query word with
//! several tokens (`/etc/shadow`, `10.0.3.17`, `DB_PASSWORD`) is a phrase of them.

use std::ops::Bound;
use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, FAST,
    INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{DateTime, Index, IndexWriter, TantivyDocument, Term};

use crate::time::parse_time;

pub const TOKENIZER: &str = "ssm_audit";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index folder: {0}")]
    Dir(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("query: {0}")]
    Query(String),
}

// ---- tokenizer -----------------------------------------------------------------------------

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0xac00..=0xd7af | 0xff66..=0xff9f | 0x20000..=0x2fa1f)
}

/// Letters and digits (lowercased) as words; CJK runs as bigrams.
#[derive(Clone, Default)]
pub struct AuditTokenizer;

pub struct VecTokenStream {
    tokens: Vec<Token>,
    i: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.i += 1;
        self.i <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.i - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.i - 1]
    }
}

pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut push = |from: usize, to: usize, text: String, out: &mut Vec<Token>| {
        out.push(Token {
            offset_from: from,
            offset_to: to,
            position: pos,
            text,
            position_length: 1,
        });
        pos += 1;
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_cjk(c) {
            let mut j = i;
            while j < chars.len() && is_cjk(chars[j].1) {
                j += 1;
            }
            if j - i == 1 {
                let end = start + c.len_utf8();
                push(start, end, c.to_string(), &mut out);
            } else {
                for k in i..j - 1 {
                    let (a, ca) = chars[k];
                    let (b, cb) = chars[k + 1];
                    push(a, b + cb.len_utf8(), format!("{ca}{cb}"), &mut out);
                }
            }
            i = j;
        } else if c.is_alphanumeric() {
            let mut j = i;
            while j < chars.len() && chars[j].1.is_alphanumeric() && !is_cjk(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |x| x.0);
            push(start, end, text[start..end].to_lowercase(), &mut out);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

impl Tokenizer for AuditTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream {
            tokens: tokenize(text),
            i: 0,
        }
    }
}

// ---- schema --------------------------------------------------------------------------------

/// The fields of a line document.
#[derive(Clone, Copy)]
pub struct Fields {
    pub session_id: Field,
    pub line: Field,
    pub text: Field,
    pub command: Field,
    pub is_command: Field,
    pub principal: Field,
    pub target: Field,
    pub kind: Field,
    pub flag: Field,
    pub start: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_opts = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let cmd_opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let f = Fields {
        session_id: b.add_text_field("session_id", STRING | STORED),
        line: b.add_u64_field("line", NumericOptions::default().set_stored().set_fast()),
        text: b.add_text_field("text", text_opts),
        command: b.add_text_field("command", cmd_opts),
        is_command: b.add_u64_field("is_command", INDEXED | STORED),
        principal: b.add_text_field("principal", STRING | STORED),
        target: b.add_text_field("target", STRING | STORED),
        kind: b.add_text_field("kind", STRING),
        flag: b.add_text_field("flag", STRING),
        start: b.add_date_field("start", INDEXED | STORED | FAST),
    };
    (b.build(), f)
}

pub fn open_or_create(dir: &Path) -> Result<(Index, Fields), IndexError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| IndexError::Query(format!("{}: {e}", dir.display())))?;
    let (schema, fields) = schema();
    let mmap = tantivy::directory::MmapDirectory::open(dir)?;
    let index = Index::open_or_create(mmap, schema)?;
    index
        .tokenizers()
        .register(TOKENIZER, TextAnalyzer::from(AuditTokenizer));
    Ok((index, fields))
}

/// What a line document says.
pub struct LineDoc<'a> {
    pub session_id: &'a str,
    pub line: u64,
    pub text: &'a str,
    pub is_command: bool,
    pub principal: Option<&'a str>,
    pub target: Option<&'a str>,
    pub kind: &'a str,
    pub flags: &'a [String],
    pub start: Option<&'a str>,
}

pub fn add_line(w: &IndexWriter, f: &Fields, d: &LineDoc<'_>) -> Result<(), IndexError> {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.session_id, d.session_id);
    doc.add_u64(f.line, d.line);
    doc.add_text(f.text, d.text);
    if d.is_command {
        doc.add_text(f.command, d.text);
    }
    doc.add_u64(f.is_command, d.is_command as u64);
    if let Some(p) = d.principal {
        doc.add_text(f.principal, p);
    }
    if let Some(t) = d.target {
        doc.add_text(f.target, t);
    }
    doc.add_text(f.kind, d.kind);
    for fl in d.flags {
        doc.add_text(f.flag, fl);
    }
    if let Some(t) = d.start.and_then(parse_time) {
        doc.add_date(f.start, DateTime::from_timestamp_secs(t.unix_timestamp()));
    }
    w.add_document(doc)?;
    Ok(())
}

// ---- queries -------------------------------------------------------------------------------

/// Filters that apply to every hit.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub user: Option<String>,
    pub target: Option<String>,
    pub kind: Option<String>,
    pub flag: Option<String>,
    /// unix seconds
    pub since: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Phrase(String),
    Open,
    Close,
}

fn lex(q: &str) -> Result<Vec<Tok>, IndexError> {
    let mut out = Vec::new();
    let mut it = q.chars().peekable();
    while let Some(&c) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c == '(' {
            it.next();
            out.push(Tok::Open);
        } else if c == ')' {
            it.next();
            out.push(Tok::Close);
        } else {
            let mut w = String::new();
            let mut quoted = false;
            while let Some(&c) = it.peek() {
                if c == '"' && !w.is_empty() {
                    // `command:"rm -rf"`: the prefix, then the phrase as its own token
                    break;
                }
                if c == '"' {
                    it.next();
                    quoted = true;
                    let mut closed = false;
                    for c in it.by_ref() {
                        if c == '"' {
                            closed = true;
                            break;
                        }
                        w.push(c);
                    }
                    if !closed {
                        return Err(IndexError::Query(
                            "a phrase is missing its closing quote".into(),
                        ));
                    }
                    // a trailing * right after the quote: phrase prefix
                    if it.peek() == Some(&'*') {
                        it.next();
                        w.push('*');
                    }
                    break;
                }
                if c.is_whitespace() || c == '(' || c == ')' {
                    break;
                }
                w.push(c);
                it.next();
            }
            out.push(if quoted { Tok::Phrase(w) } else { Tok::Word(w) });
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    i: usize,
    f: &'a Fields,
}

impl Parser<'_> {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<Box<dyn Query>, IndexError> {
        let mut parts = vec![self.and()?];
        while self.peek_word("OR") {
            self.i += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap()
        } else {
            Box::new(BooleanQuery::new(
                parts.into_iter().map(|q| (Occur::Should, q)).collect(),
            ))
        })
    }

    fn and(&mut self) -> Result<Box<dyn Query>, IndexError> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        loop {
            match self.toks.get(self.i) {
                None | Some(Tok::Close) => break,
                Some(Tok::Word(w)) if w == "OR" => break,
                Some(Tok::Word(w)) if w == "AND" => {
                    self.i += 1;
                    continue;
                }
                Some(Tok::Word(w)) if w == "NOT" => {
                    self.i += 1;
                    parts.push((Occur::MustNot, self.atom()?));
                }
                _ => parts.push((Occur::Must, self.atom()?)),
            }
        }
        if parts.is_empty() {
            return Err(IndexError::Query("empty query".into()));
        }
        if parts.iter().all(|p| p.0 == Occur::MustNot) {
            parts.push((Occur::Must, Box::new(AllQuery)));
        }
        Ok(if parts.len() == 1 && parts[0].0 == Occur::Must {
            parts.pop().unwrap().1
        } else {
            Box::new(BooleanQuery::new(parts))
        })
    }

    fn atom(&mut self) -> Result<Box<dyn Query>, IndexError> {
        match self.toks.get(self.i).cloned() {
            Some(Tok::Open) => {
                self.i += 1;
                let q = self.or()?;
                if self.toks.get(self.i) != Some(&Tok::Close) {
                    return Err(IndexError::Query("a '(' is not closed".into()));
                }
                self.i += 1;
                Ok(q)
            }
            Some(Tok::Word(w)) => {
                self.i += 1;
                // field prefixes
                if let Some((field, value)) = w.split_once(':') {
                    let exact = match field {
                        "user" | "principal" => Some(self.f.principal),
                        "target" => Some(self.f.target),
                        "kind" => Some(self.f.kind),
                        "flag" => Some(self.f.flag),
                        "session" => Some(self.f.session_id),
                        _ => None,
                    };
                    if let Some(fl) = exact {
                        return Ok(exact_or_prefix(fl, value));
                    }
                    if field == "command" || field == "text" {
                        let fl = if field == "command" {
                            self.f.command
                        } else {
                            self.f.text
                        };
                        let value = match self.toks.get(self.i) {
                            Some(Tok::Phrase(p)) if value.is_empty() => {
                                let p = p.clone();
                                self.i += 1;
                                p
                            }
                            _ => value.to_owned(),
                        };
                        return text_query(fl, &value);
                    }
                }
                text_query(self.f.text, &w)
            }
            Some(Tok::Phrase(p)) => {
                self.i += 1;
                text_query(self.f.text, &p)
            }
            Some(Tok::Close) => Err(IndexError::Query("a ')' without '('".into())),
            None => Err(IndexError::Query("the query ends too soon".into())),
        }
    }
}

fn exact_or_prefix(field: Field, value: &str) -> Box<dyn Query> {
    match value.strip_suffix('*') {
        Some(p) => Box::new(
            RegexQuery::from_pattern(&format!("{}.*", regex_escape(p)), field)
                .expect("escaped pattern"),
        ),
        None => Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        )),
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Words of free text: one token is a term, several a phrase; a trailing `*` makes the last
/// token a prefix.
fn text_query(field: Field, text: &str) -> Result<Box<dyn Query>, IndexError> {
    let (text, prefix) = match text.strip_suffix('*') {
        Some(t) => (t, true),
        None => (text, false),
    };
    let toks = tokenize(text);
    if toks.is_empty() {
        return Err(IndexError::Query(format!(
            "{text:?} has nothing to search for (letters or digits)"
        )));
    }
    let terms: Vec<Term> = toks
        .iter()
        .map(|t| Term::from_field_text(field, &t.text))
        .collect();
    Ok(match (terms.len(), prefix) {
        (1, false) => Box::new(TermQuery::new(
            terms[0].clone(),
            IndexRecordOption::WithFreqs,
        )),
        (1, true) => Box::new(
            RegexQuery::from_pattern(&format!("{}.*", regex_escape(&toks[0].text)), field)
                .expect("escaped"),
        ),
        (_, false) => Box::new(PhraseQuery::new(terms)),
        (_, true) => Box::new(PhrasePrefixQuery::new(terms)),
    })
}

/// Parse a query and add the filters.
pub fn build_query(q: &str, f: &Fields, filters: &Filters) -> Result<Box<dyn Query>, IndexError> {
    let toks = lex(q)?;
    let mut p = Parser { toks, i: 0, f };
    let main = p.or()?;
    if p.i < p.toks.len() {
        return Err(IndexError::Query("a ')' without '('".into()));
    }
    let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main)];
    let mut exact = |field: Field, v: &Option<String>| {
        if let Some(v) = v {
            parts.push((Occur::Must, exact_or_prefix(field, v)));
        }
    };
    exact(f.principal, &filters.user);
    exact(f.target, &filters.target);
    exact(f.kind, &filters.kind);
    exact(f.flag, &filters.flag);
    if filters.since.is_some() || filters.until.is_some() {
        let bound = |t: Option<i64>| match t {
            Some(s) => Bound::Included(Term::from_field_date(
                f.start,
                DateTime::from_timestamp_secs(s),
            )),
            None => Bound::Unbounded,
        };
        let lower = bound(filters.since);
        let upper = match filters.until {
            Some(s) => Bound::Excluded(Term::from_field_date(
                f.start,
                DateTime::from_timestamp_secs(s),
            )),
            None => Bound::Unbounded,
        };
        parts.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    Ok(Box::new(BooleanQuery::new(parts)))
}

/// One matching line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    pub session_id: String,
    pub line: u64,
    pub text: String,
    pub is_command: bool,
    pub principal: Option<String>,
    pub target: Option<String>,
    pub start: Option<String>,
}

/// Search, returning hits ordered by session start, session and line (like grep, not by score).
pub fn search(
    index: &Index,
    f: &Fields,
    q: &str,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<Hit>, IndexError> {
    let query = build_query(q, f, filters)?;
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)))?;
    let mut hits = Vec::with_capacity(top.len());
    for (_, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let s = |fl: Field| {
            doc.get_first(fl)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        hits.push(Hit {
            session_id: s(f.session_id).unwrap_or_default(),
            line: doc.get_first(f.line).and_then(|v| v.as_u64()).unwrap_or(0),
            text: s(f.text).unwrap_or_default(),
            is_command: doc.get_first(f.is_command).and_then(|v| v.as_u64()) == Some(1),
            principal: s(f.principal),
            target: s(f.target),
            start: doc
                .get_first(f.start)
                .and_then(|v| v.as_datetime())
                .and_then(|d| {
                    time::OffsetDateTime::from_unix_timestamp(d.into_timestamp_secs()).ok()
                })
                .map(crate::time::rfc3339),
        });
    }
    hits.sort_by(|a, b| (&a.start, &a.session_id, a.line).cmp(&(&b.start, &b.session_id, b.line)));
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn field_prefix_then_phrase() {
        assert_eq!(
            lex("command:\"rm -rf\" x*").unwrap(),
            [
                Tok::Word("command:".into()),
                Tok::Phrase("rm -rf".into()),
                Tok::Word("x*".into())
            ]
        );
        assert!(lex("\"open").is_err());
    }

    #[test]
    fn tokens_for_shell_text() {
        assert_eq!(texts("cat /etc/shadow"), ["cat", "etc", "shadow"]);
        assert_eq!(
            texts("export DB_PASSWORD=x"),
            ["export", "db", "password", "x"]
        );
        assert_eq!(texts("ssh 10.0.3.17"), ["ssh", "10", "0", "3", "17"]);
        assert_eq!(
            texts("本番環境のデータベース"),
            [
                "本番", "番環", "環境", "境の", "のデ", "デー", "ータ", "タベ", "ベー", "ース"
            ]
        );
        assert_eq!(texts("Café 本 ok"), ["café", "本", "ok"]);
    }
}
