//! The full-text index (tantivy) and a query language for what people look for in shell
//! transcripts.
//!
//! A document is a chunk of up to [`CHUNK_LINES`] consecutive lines of one session's rendered
//! text, carrying the session's fields for filtering. The index finds candidate chunks; each
//! candidate's lines are then checked against the same query, so a hit is one line, and a
//! phrase never matches across a line end. (One document a line made the index 2.4 times the
//! raw transcripts and ingest ten times slower.)
//!
//! Tokens: runs of letters and digits, lowercased; CJK text as overlapping character bigrams
//! (so `データベース` finds `本番環境のデータベース` without a dictionary). A query word with
//! several tokens (`/etc/shadow`, `10.0.3.17`, `DB_PASSWORD`) is a phrase of them.

use std::path::Path;

use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RegexQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, FAST,
    INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{DateTime, Index, IndexWriter, TantivyDocument, Term};

use crate::time::parse_time;

/// The name the index knows [`AuditTokenizer`] by.
pub const TOKENIZER: &str = "ssm_audit";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index folder: {0}")]
    Dir(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("query: {0}")]
    Query(String),
    /// An index whose fields are not this version's: to be built again from the store.
    #[error("the index in {0} was made by another version of ssm-audit")]
    OtherVersion(std::path::PathBuf),
}

// ---- tokenizer -----------------------------------------------------------------------------

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0xac00..=0xd7af | 0xff66..=0xff9f | 0x20000..=0x2fa1f)
}

/// The tokens of a text: letters and digits (lowercased) as words; CJK runs as bigrams. Made
/// one at a time into one reused [`Token`] (no allocation a token
/// once its text buffer has grown).
pub struct AuditTokenStream<'a> {
    text: &'a str,
    /// byte offset of the next character to look at
    at: usize,
    /// the last character of a CJK run being cut into bigrams
    cjk_prev: Option<(usize, char)>,
    token: Token,
}

impl<'a> AuditTokenStream<'a> {
    pub fn new(text: &'a str) -> AuditTokenStream<'a> {
        AuditTokenStream {
            text,
            at: 0,
            cjk_prev: None,
            token: Token::default(),
        }
    }

    fn emit(&mut self, from: usize, to: usize) {
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.position_length = 1;
        self.token.text.clear();
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.text[at..].chars().next()
    }

    /// The bigram of `first` (at `from`) and the character at `self.at`, if that is CJK too.
    fn bigram(&mut self, from: usize, first: char) -> bool {
        let Some(second) = self.char_at(self.at).filter(|&c| is_cjk(c)) else {
            return false;
        };
        let at = self.at;
        self.at += second.len_utf8();
        self.emit(from, self.at);
        self.token.text.push(first);
        self.token.text.push(second);
        self.cjk_prev = Some((at, second));
        true
    }
}

impl TokenStream for AuditTokenStream<'_> {
    fn advance(&mut self) -> bool {
        // a CJK run in progress: the next bigram
        if let Some((a, ca)) = self.cjk_prev.take() {
            if self.bigram(a, ca) {
                return true;
            }
        }
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() {
            let start = self.at;
            let b = bytes[start];
            if b < 0x80 && !b.is_ascii_alphanumeric() {
                self.at += 1;
                continue;
            }
            let c = self.char_at(start).expect("a character starts here");
            if is_cjk(c) {
                self.at += c.len_utf8();
                if !self.bigram(start, c) {
                    // a CJK character alone
                    self.emit(start, self.at);
                    self.token.text.push(c);
                }
                return true;
            }
            if !c.is_alphanumeric() {
                self.at += c.len_utf8();
                continue;
            }
            // a word: letters and digits up to anything else or a CJK character
            let mut end = bytes[start..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric())
                .map_or(bytes.len(), |n| start + n);
            // past the ASCII letters and digits, a non-ASCII character may go on the word
            let ascii = bytes.get(end).is_none_or(|&b| b < 0x80);
            if !ascii {
                end = self.text[end..]
                    .char_indices()
                    .find(|&(_, c)| !c.is_alphanumeric() || is_cjk(c))
                    .map_or(self.text.len(), |(i, _)| end + i);
            }
            self.at = end;
            self.emit(start, end);
            // a word is its first MAX_TOKEN_BYTES (queries are cut alike): a megabyte of one
            // letter is one short term, not a megabyte in the index writer's memory
            let mut cut = end.min(start + MAX_TOKEN_BYTES);
            while !self.text.is_char_boundary(cut) {
                cut -= 1;
            }
            let word = &self.text[start..cut];
            if ascii {
                self.token.text.push_str(word);
                self.token.text.make_ascii_lowercase();
            } else {
                self.token.text.push_str(&word.to_lowercase());
            }
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// How much of a word is a term: longer words are taken by their first this many bytes.
pub const MAX_TOKEN_BYTES: usize = 255;

/// Every token of `text`.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut s = AuditTokenStream::new(text);
    while s.advance() {
        out.push(s.token().clone());
    }
    out
}

/// The tokenizer the index knows as [`TOKENIZER`].
#[derive(Clone, Default)]
pub struct AuditTokenizer;

impl Tokenizer for AuditTokenizer {
    type TokenStream<'a> = AuditTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> AuditTokenStream<'a> {
        AuditTokenStream::new(text)
    }
}

// ---- schema --------------------------------------------------------------------------------

/// Lines a document holds at most. Fewer, larger documents index faster and smaller: 256
/// instead of 64 lines took a 10,000-session rebuild from 4.0 to 3.5 s and the index from 0.57
/// to 0.51 times the raw transcripts, with the same query latency (`examples/index_bench`).
pub const CHUNK_LINES: usize = 256;

/// Bytes of text a document holds at most (past one line): a chunk of 256 lines of a
/// megabyte each would be one 256 MB document in the writer's memory.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The index writer's memory budget, shared by its threads. A larger one means fewer segments
/// to merge on big rebuilds.
pub const WRITER_BUDGET: usize = 256 << 20;

/// How the text fields are indexed. With positions: a phrase of common words that never meet
/// (`"2 1"`) is ruled out by the index. Without them (0.40 instead of 0.52 times raw, the index
/// phase ~15% faster) every chunk holding the words had its lines checked: seconds on 100,000
/// sessions.
pub fn text_indexing() -> TextFieldIndexing {
    TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions)
}

/// The fields of a chunk document.
#[derive(Clone, Copy)]
pub struct Fields {
    pub session_id: Field,
    /// number of the chunk's first line
    pub line: Field,
    /// the chunk's lines, joined with `\n`
    pub text: Field,
    /// the chunk's command lines only
    pub command: Field,
    /// offsets (from `line`) of the command lines, comma-separated
    pub command_lines: Field,
    /// the chunk's lines typed into interactive programs (sqlite3, psql, python ...)
    pub input: Field,
    /// offsets (from `line`) of those lines, comma-separated
    pub input_lines: Field,
    pub principal: Field,
    pub target: Field,
    pub kind: Field,
    pub flag: Field,
    /// the session's time (its start, else its earliest evidence), for order and periods
    pub time: Field,
    /// 0 for the session's text; n for the n-th alternate screen (a full-screen program's);
    /// plus `c << 32` for the c-th other copy of the session's transcript ([`SCREEN_COPY_SHIFT`])
    pub screen: Field,
    /// the other transcript copy a document comes from (`s3-<hash>`), absent for the text of
    /// record
    pub copy: Field,
    /// the full-screen program an alternate screen belongs to (`less`, `vim`, `tmux`)
    pub program: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexing = text_indexing();
    let f = Fields {
        session_id: b.add_text_field("session_id", STRING | STORED | FAST),
        line: b.add_u64_field("line", NumericOptions::default().set_stored().set_fast()),
        text: b.add_text_field(
            "text",
            TextOptions::default()
                .set_stored()
                .set_indexing_options(indexing.clone()),
        ),
        command: b.add_text_field(
            "command",
            TextOptions::default().set_indexing_options(indexing),
        ),
        command_lines: b.add_text_field("command_lines", STORED),
        input: b.add_text_field(
            "input",
            TextOptions::default().set_indexing_options(text_indexing()),
        ),
        input_lines: b.add_text_field("input_lines", STORED),
        principal: b.add_text_field("principal", STRING | STORED),
        target: b.add_text_field("target", STRING | STORED),
        kind: b.add_text_field("kind", STRING),
        flag: b.add_text_field("flag", STRING),
        time: b.add_date_field("time", INDEXED | STORED | FAST),
        screen: b.add_u64_field("screen", NumericOptions::default().set_stored().set_fast()),
        program: b.add_text_field("program", STORED),
        copy: b.add_text_field("copy", STORED),
    };
    (b.build(), f)
}

pub fn open_or_create(dir: &Path) -> Result<(Index, Fields), IndexError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| IndexError::Query(format!("{}: {e}", dir.display())))?;
    let (schema, fields) = schema();
    let mmap = tantivy::directory::MmapDirectory::open(dir)?;
    let index = if Index::exists(&mmap).map_err(tantivy::TantivyError::from)? {
        let index = Index::open(mmap)?;
        if index.schema() != schema {
            return Err(IndexError::OtherVersion(dir.to_owned()));
        }
        index
    } else {
        Index::create(mmap, schema, tantivy::IndexSettings::default())?
    };
    index
        .tokenizers()
        .register(TOKENIZER, TextAnalyzer::from(AuditTokenizer));
    Ok((index, fields))
}

/// A session's lines in one buffer, joined with `\n`: read from a stored text without an
/// allocation a line, and a run of lines is one slice of it (a chunk document's text as is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    text: String,
    /// where each line ends in `text`
    ends: Vec<usize>,
}

impl Lines {
    pub fn push(&mut self, line: &str) {
        if !self.ends.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(line);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The size in bytes of [`Lines::slice`]`(from, to)`, without making it.
    pub fn span(&self, from: usize, to: usize) -> usize {
        self.slice(from, to).len()
    }

    /// Lines `from..to` (0-based, clamped), joined with `\n`.
    pub fn slice(&self, from: usize, to: usize) -> &str {
        let to = to.min(self.ends.len());
        if from >= to {
            return "";
        }
        let start = if from == 0 {
            0
        } else {
            self.ends[from - 1] + 1
        };
        &self.text[start..self.ends[to - 1]]
    }
}

impl<S: AsRef<str>> FromIterator<S> for Lines {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Lines {
        let mut l = Lines::default();
        for s in iter {
            l.push(s.as_ref());
        }
        l
    }
}

/// A JSON array of strings, each appended as it is read (serde_json hands over a borrowed or
/// unescaped string; none is allocated).
impl<'de> serde::Deserialize<'de> for Lines {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Lines, D::Error> {
        struct Append<'a>(&'a mut Lines);
        impl<'de> serde::de::DeserializeSeed<'de> for Append<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_str(self)
            }
        }
        impl serde::de::Visitor<'_> for Append<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a line of text")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
                self.0.push(v);
                Ok(())
            }
        }
        struct Seq;
        impl<'de> serde::de::Visitor<'de> for Seq {
            type Value = Lines;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of lines")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Lines, A::Error> {
                let mut lines = Lines::default();
                while seq.next_element_seed(Append(&mut lines))?.is_some() {}
                Ok(lines)
            }
        }
        d.deserialize_seq(Seq)
    }
}

/// One session's text and fields, to index.
pub struct SessionDoc<'a> {
    pub session_id: &'a str,
    pub lines: &'a Lines,
    /// 1-based numbers of the lines that were run as commands, ascending
    pub commands: &'a [u64],
    /// 1-based numbers of the lines typed into interactive programs, ascending
    pub inputs: &'a [u64],
    pub principal: Option<&'a str>,
    pub target: Option<&'a str>,
    pub kind: &'a str,
    pub flags: &'a [String],
    /// the record's `time`
    pub time: Option<&'a str>,
    /// what full-screen programs showed: searchable too
    pub screens: &'a [Screen<'a>],
    /// the session's other transcript copies
    pub copies: &'a [CopyDoc<'a>],
}

/// The `screen` value of a copy's documents: the copy's number shifted by this, plus its screen
/// (so the sort key orders the text of record first, then each other copy).
pub const SCREEN_COPY_SHIFT: u32 = 32;

/// Another transcript copy of a session (a second S3 object, a CloudWatch upload): its lines
/// that the text of record does not have, at their own line numbers (the others blank), so a
/// copy that differs is searchable without doubling every hit.
pub struct CopyDoc<'a> {
    /// 1-based
    pub number: u32,
    /// `s3-<hash>`, `cwupload-<hash>`
    pub name: &'a str,
    pub lines: &'a Lines,
    pub commands: &'a [u64],
    pub screens: &'a [Screen<'a>],
}

/// One alternate screen of a session: what a full-screen program (less, vim, top, tmux)
/// showed, lines scrolled off it included.
pub struct Screen<'a> {
    /// 1-based, as `render --json` numbers them
    pub index: u32,
    pub program: Option<&'a str>,
    pub lines: &'a Lines,
}

/// Add a session's text as chunk documents, then its alternate screens'.
pub fn add_session<'a>(
    w: &IndexWriter,
    f: &Fields,
    d: &'a SessionDoc<'a>,
) -> Result<(), IndexError> {
    let time = d
        .time
        .and_then(parse_time)
        .map(|t| DateTime::from_timestamp_secs(t.unix_timestamp()));
    let fields = |doc: &mut TantivyDocument| {
        doc.add_text(f.session_id, d.session_id);
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
        if let Some(t) = time {
            doc.add_date(f.time, t);
        }
    };
    // (screen value, program, lines, commands, program inputs, copy)
    type Text<'b> = (
        u64,
        Option<&'b str>,
        &'b Lines,
        &'b [u64],
        &'b [u64],
        Option<&'b str>,
    );
    let screens = |c: u64, copy: Option<&'a str>, screens: &'a [Screen<'a>]| {
        screens.iter().map(move |s| -> Text<'a> {
            (
                c << SCREEN_COPY_SHIFT | s.index as u64,
                s.program,
                s.lines,
                &[],
                &[],
                copy,
            )
        })
    };
    let texts = std::iter::once((0, None, d.lines, d.commands, d.inputs, None))
        .chain(screens(0, None, d.screens))
        .chain(d.copies.iter().flat_map(|c| {
            let n = c.number as u64;
            std::iter::once((
                n << SCREEN_COPY_SHIFT,
                None,
                c.lines,
                c.commands,
                &[][..],
                Some(c.name),
            ))
            .chain(screens(n, Some(c.name), c.screens))
        }));
    for (screen, program, lines, commands, inputs, copy) in texts {
        let mut next = 0;
        while next < lines.len() {
            let from = next;
            let mut to = (from + 1).min(lines.len());
            while to < (from + CHUNK_LINES).min(lines.len())
                && lines.span(from, to + 1) <= CHUNK_BYTES
            {
                to += 1;
            }
            next = to;
            let chunk = lines.slice(from, to);
            if chunk.trim().is_empty() {
                continue;
            }
            let first = from as u64 + 1;
            let mut doc = TantivyDocument::default();
            doc.add_u64(f.line, first);
            doc.add_u64(f.screen, screen);
            if let Some(p) = program {
                doc.add_text(f.program, p);
            }
            if let Some(c) = copy {
                doc.add_text(f.copy, c);
            }
            doc.add_text(f.text, chunk);
            // the chunk's command lines and program-input lines: their text in a field of
            // their own (`command:`, `input:`), their offsets stored for the line check
            for (numbers, field, offsets) in [
                (commands, f.command, f.command_lines),
                (inputs, f.input, f.input_lines),
            ] {
                let these = &numbers[numbers.partition_point(|&n| n < first)..];
                let these: Vec<usize> = these
                    .iter()
                    .take_while(|&&n| n <= to as u64)
                    .map(|&n| (n - first) as usize)
                    .collect();
                if !these.is_empty() {
                    let text: Vec<&str> = these
                        .iter()
                        .map(|&i| lines.slice(from + i, from + i + 1))
                        .collect();
                    doc.add_text(field, text.join("\n"));
                    doc.add_text(
                        offsets,
                        these
                            .iter()
                            .map(usize::to_string)
                            .collect::<Vec<_>>()
                            .join(","),
                    );
                }
            }
            fields(&mut doc);
            w.add_document(doc)?;
        }
    }
    Ok(())
}

// ---- queries -------------------------------------------------------------------------------

/// Which sessions a search covers. The record filters (`--user`, `--since` ...) are decided on
/// the session records, one implementation for every command ([`crate::select`]); the index
/// is given the sessions that pass.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// `None`: every session
    pub sessions: Option<Vec<String>>,
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

/// Which lines a text query looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// every line
    All,
    /// `command:`: the lines the shells ran
    Commands,
    /// `input:`: the lines typed into interactive programs
    Inputs,
}

/// What a line of text was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Output,
    Command,
    Input,
}

/// A parsed query: what the index looks for in chunks and what a line must satisfy.
#[derive(Clone, Debug, PartialEq)]
pub enum Q {
    /// tokens in a row in the line (a phrase); the last one a prefix when `prefix`
    Text {
        scope: Scope,
        tokens: Vec<String>,
        prefix: bool,
    },
    /// a session field, exactly or by prefix: true for every line of the session
    Exact {
        field: &'static str,
        value: String,
    },
    And(Vec<(bool, Q)>),
    Or(Vec<Q>),
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    /// parentheses open now: bounded, so no query can exhaust the stack
    depth: usize,
}

/// How deep parentheses may nest in a query.
pub const MAX_QUERY_DEPTH: usize = 64;

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<Q, IndexError> {
        let mut parts = vec![self.and()?];
        while self.peek_word("OR") {
            self.i += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap()
        } else {
            Q::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Q, IndexError> {
        let mut parts: Vec<(bool, Q)> = Vec::new();
        loop {
            match self.toks.get(self.i) {
                None | Some(Tok::Close) => break,
                Some(Tok::Word(w)) if w == "OR" => break,
                Some(Tok::Word(w)) if w == "AND" => self.i += 1,
                Some(Tok::Word(w)) if w == "NOT" => {
                    self.i += 1;
                    parts.push((true, self.atom()?));
                }
                _ => parts.push((false, self.atom()?)),
            }
        }
        if parts.is_empty() {
            let why = match (
                self.toks.get(self.i),
                self.i.checked_sub(1).map(|i| &self.toks[i]),
            ) {
                (None, None) => "empty query",
                (None, _) => "the query ends too soon",
                (Some(Tok::Close), Some(Tok::Open)) => "nothing between '(' and ')'",
                (Some(Tok::Close), _) => "nothing before a ')'",
                _ => "OR needs something to find on each side",
            };
            return Err(IndexError::Query(why.into()));
        }
        if parts.iter().all(|p| p.0) {
            return Err(IndexError::Query(
                "a query needs something to find, not only NOT".into(),
            ));
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap().1
        } else {
            Q::And(parts)
        })
    }

    fn atom(&mut self) -> Result<Q, IndexError> {
        match self.toks.get(self.i).cloned() {
            Some(Tok::Open) => {
                self.i += 1;
                self.depth += 1;
                if self.depth > MAX_QUERY_DEPTH {
                    return Err(IndexError::Query(format!(
                        "parentheses nest more than {MAX_QUERY_DEPTH} deep"
                    )));
                }
                let q = self.or()?;
                self.depth -= 1;
                if self.toks.get(self.i) != Some(&Tok::Close) {
                    return Err(IndexError::Query("a '(' is not closed".into()));
                }
                self.i += 1;
                Ok(q)
            }
            Some(Tok::Word(w)) => {
                self.i += 1;
                if let Some((field, value)) = w.split_once(':') {
                    let exact = match field {
                        "user" | "principal" => Some("principal"),
                        "target" => Some("target"),
                        "kind" => Some("kind"),
                        "flag" => Some("flag"),
                        "session" => Some("session_id"),
                        _ => None,
                    };
                    if let Some(field) = exact {
                        if value.trim_end_matches('*').is_empty() {
                            return Err(IndexError::Query(format!(
                                "{w:?} needs a value, as in {field_name}:VALUE or {field_name}:PREFIX*",
                                field_name = w.trim_end_matches(['*', ':'])
                            )));
                        }
                        return Ok(Q::Exact {
                            field,
                            value: value.to_owned(),
                        });
                    }
                    if field == "command" || field == "text" || field == "input" {
                        let value = match self.toks.get(self.i) {
                            Some(Tok::Phrase(p)) if value.is_empty() => {
                                let p = p.clone();
                                self.i += 1;
                                p
                            }
                            _ => value.to_owned(),
                        };
                        let scope = match field {
                            "command" => Scope::Commands,
                            "input" => Scope::Inputs,
                            _ => Scope::All,
                        };
                        return text_q(&value, scope);
                    }
                }
                text_q(&w, Scope::All)
            }
            Some(Tok::Phrase(p)) => {
                self.i += 1;
                text_q(&p, Scope::All)
            }
            Some(Tok::Close) => Err(IndexError::Query("a ')' without '('".into())),
            None => Err(IndexError::Query("the query ends too soon".into())),
        }
    }
}

fn text_q(text: &str, scope: Scope) -> Result<Q, IndexError> {
    let (word, prefix) = match text.strip_suffix('*') {
        Some(t) => (t, true),
        None => (text, false),
    };
    let tokens: Vec<String> = tokenize(word).into_iter().map(|t| t.text).collect();
    if tokens.is_empty() {
        return Err(IndexError::Query(format!(
            "{text:?} has nothing to search for (letters or digits)"
        )));
    }
    Ok(Q::Text {
        scope,
        tokens,
        prefix,
    })
}

/// Parse a query.
pub fn parse(q: &str) -> Result<Q, IndexError> {
    let mut p = Parser {
        toks: lex(q)?,
        i: 0,
        depth: 0,
    };
    let ast = p.or()?;
    if p.i < p.toks.len() {
        return Err(IndexError::Query("a ')' without '('".into()));
    }
    Ok(ast)
}

impl Q {
    /// The query on chunks. Negated text is left to the line check: a chunk holding a
    /// word can still have lines without it.
    fn to_tantivy(&self, f: &Fields) -> Box<dyn Query> {
        match self {
            Q::Text {
                scope,
                tokens,
                prefix,
            } => {
                let field = match scope {
                    Scope::All => f.text,
                    Scope::Commands => f.command,
                    Scope::Inputs => f.input,
                };
                let terms: Vec<Term> = tokens
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect();
                match (terms.len(), prefix) {
                    (1, false) => {
                        Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::Basic))
                    }
                    (1, true) => Box::new(
                        RegexQuery::from_pattern(
                            &format!("{}.*", regex::escape(&tokens[0])),
                            field,
                        )
                        .expect("escaped"),
                    ),
                    (_, false) => Box::new(PhraseQuery::new(terms)),
                    (_, true) => Box::new(PhrasePrefixQuery::new(terms)),
                }
            }
            Q::Exact { field, value } => exact_or_prefix(f.by_name(field), value),
            Q::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = parts
                    .iter()
                    .filter(|(neg, q)| !*neg || matches!(q, Q::Exact { .. }))
                    .map(|(neg, q)| {
                        (
                            if *neg { Occur::MustNot } else { Occur::Must },
                            q.to_tantivy(f),
                        )
                    })
                    .collect();
                if clauses.iter().all(|c| c.0 == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Q::Or(parts) => Box::new(BooleanQuery::new(
                parts
                    .iter()
                    .map(|q| (Occur::Should, q.to_tantivy(f)))
                    .collect(),
            )),
        }
    }

    /// A word every matching line contains (lowercase ASCII), for a quick check before the
    /// line is tokenized: the first token of the first required text.
    fn needle(&self) -> Option<String> {
        match self {
            Q::Text { tokens, .. } => tokens.first().filter(|t| t.is_ascii()).cloned(),
            Q::And(parts) => parts
                .iter()
                .filter(|(neg, _)| !neg)
                .find_map(|(_, q)| q.needle()),
            Q::Exact { .. } | Q::Or(_) => None,
        }
    }

    /// Whether one line (its tokens, and what it was) satisfies the query.
    pub fn matches_line(&self, tokens: &[String], kind: LineKind) -> bool {
        match self {
            Q::Text {
                scope,
                tokens: want,
                prefix,
            } => {
                match (scope, kind) {
                    (Scope::Commands, LineKind::Command)
                    | (Scope::Inputs, LineKind::Input)
                    | (Scope::All, _) => {}
                    _ => return false,
                }
                let n = want.len();
                tokens.windows(n).any(|w| {
                    w.iter().zip(want).enumerate().all(|(i, (have, want))| {
                        if *prefix && i + 1 == n {
                            have.starts_with(want.as_str())
                        } else {
                            have == want
                        }
                    })
                })
            }
            Q::Exact { .. } => true,
            Q::And(parts) => parts
                .iter()
                .all(|(neg, q)| q.matches_line(tokens, kind) != *neg),
            Q::Or(parts) => parts.iter().any(|q| q.matches_line(tokens, kind)),
        }
    }
}

impl Fields {
    fn by_name(&self, name: &str) -> Field {
        match name {
            "principal" => self.principal,
            "target" => self.target,
            "kind" => self.kind,
            "flag" => self.flag,
            _ => self.session_id,
        }
    }
}

fn exact_or_prefix(field: Field, value: &str) -> Box<dyn Query> {
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
fn chunk_query(ast: &Q, f: &Fields, filters: &Filters) -> Box<dyn Query> {
    let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, ast.to_tantivy(f))];
    if let Some(ids) = &filters.sessions {
        let terms = ids.iter().map(|id| Term::from_field_text(f.session_id, id));
        parts.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
    }
    Box::new(BooleanQuery::new(parts))
}

/// A candidate chunk: (session time, session id, screen, first line, the document).
type Candidate = (Option<i64>, String, u64, u64, TantivyDocument);

/// The matching lines of one candidate chunk, each given to `each` until it says stop.
fn chunk_hits(
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
fn contains_ascii_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The stored offsets of a chunk's command (or input) lines.
fn offsets(doc: &TantivyDocument, field: Field) -> Vec<usize> {
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

fn candidate(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The first tokenizer, kept as the reference the streaming one must match.
    fn reference_tokenize(text: &str) -> Vec<Token> {
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

    proptest::proptest! {
        #[test]
        fn the_streaming_tokenizer_matches_the_reference(
            s in "[a-zA-Z0-9 _./=:-]{0,12}([ÀéΣσßİ本番環境のデータベース한국어 \\-]{0,6}[a-z0-9Σ]{0,5}){0,4}"
        ) {
            proptest::prop_assert_eq!(tokenize(&s), reference_tokenize(&s));
        }

        #[test]
        fn the_streaming_tokenizer_matches_the_reference_on_any_text(s in "\\PC{0,40}") {
            proptest::prop_assert_eq!(tokenize(&s), reference_tokenize(&s));
        }
    }

    #[test]
    fn lines_read_from_json_slice_as_joined_lines() {
        // escaped and unescaped strings, an empty line, a line with a newline escaped in it
        let json = r#"["plain", "", "tab\there \"quoted\" \u00e9", "a\nb", "last"]"#;
        let lines: Lines = serde_json::from_str(json).unwrap();
        let want = ["plain", "", "tab\there \"quoted\" é", "a\nb", "last"];
        assert_eq!(lines, want.iter().collect::<Lines>());
        assert_eq!(lines.len(), 5);
        assert_eq!(lines.slice(0, 1), "plain");
        assert_eq!(lines.slice(1, 3), "\ntab\there \"quoted\" é");
        assert_eq!(lines.slice(3, 99), "a\nb\nlast");
        assert_eq!(lines.slice(4, 2), "");
        assert!(serde_json::from_str::<Lines>("[1]").is_err());
        assert!(serde_json::from_str::<Lines>("[]").unwrap().is_empty());
    }

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn query_errors_say_what_is_wrong() {
        let err = |q: &str| match parse(q) {
            Err(IndexError::Query(m)) => m,
            other => panic!("{q:?} parsed: {other:?}"),
        };
        assert_eq!(err(""), "empty query");
        assert_eq!(err("  "), "empty query");
        assert_eq!(err("a OR"), "the query ends too soon");
        assert_eq!(err("AND"), "the query ends too soon");
        assert_eq!(err("(((("), "the query ends too soon");
        assert_eq!(err("a OR OR b"), "OR needs something to find on each side");
        assert_eq!(err("OR b"), "OR needs something to find on each side");
        assert_eq!(err("a ()"), "nothing between '(' and ')'");
        assert_eq!(err("(a OR )"), "nothing before a ')'");
        assert_eq!(err("(a"), "a '(' is not closed");
        assert_eq!(err("a)"), "a ')' without '('");
        assert_eq!(
            err("NOT rm"),
            "a query needs something to find, not only NOT"
        );
        assert_eq!(err("\"rm"), "a phrase is missing its closing quote");
        assert_eq!(
            err("*"),
            "\"*\" has nothing to search for (letters or digits)"
        );
        assert_eq!(
            err("user:"),
            "\"user:\" needs a value, as in user:VALUE or user:PREFIX*"
        );
        assert_eq!(
            err("target:*"),
            "\"target:*\" needs a value, as in target:VALUE or target:PREFIX*"
        );
    }

    #[test]
    fn deep_parentheses_are_an_error_not_a_crash() {
        let deep = format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000));
        let e = parse(&deep).unwrap_err().to_string();
        assert!(e.contains("nest more than 64"), "{e}");
        let ok = format!("{}x{}", "(".repeat(64), ")".repeat(64));
        assert!(parse(&ok).is_ok());
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

    /// A phrase matches its words in order on one line: not out of order, not across a line
    /// end (a chunk's text runs on from one line to the next).
    #[test]
    fn a_phrase_matches_its_words_in_order_on_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let (idx, f) = open_or_create(dir.path()).unwrap();
        let mut w: IndexWriter = idx.writer(15_000_000).unwrap();
        let lines: Lines = [
            "$ secrets get kubectl",
            "$ kubectl get",
            "secrets",
            "$ kubectl get secrets -n prod",
            "sqlite> drop table secrets;",
        ]
        .iter()
        .collect();
        let doc = SessionDoc {
            session_id: "s-1",
            lines: &lines,
            commands: &[1, 2, 4],
            inputs: &[5],
            principal: None,
            target: None,
            kind: "shell",
            flags: &[],
            time: None,
            screens: &[],
            copies: &[],
        };
        add_session(&w, &f, &doc).unwrap();
        w.commit().unwrap();
        let found = |q: &str| -> Vec<u64> {
            search(&idx, &f, q, &Filters::default(), 10)
                .unwrap()
                .iter()
                .map(|h| h.line)
                .collect()
        };
        assert_eq!(found("\"kubectl get secrets\""), [4]);
        assert_eq!(found("\"kubectl get sec*\""), [4]);
        assert_eq!(found("kubectl get secrets"), [1, 4]);
        assert_eq!(found("command:\"get secrets\""), [4]);
        assert_eq!(found("command:secrets"), [1, 4]);
        assert_eq!(found("secrets NOT kubectl"), [3, 5]);
        // what was typed into a program is its input: `input:`, never `command:`
        assert_eq!(found("input:secrets"), [5]);
        assert_eq!(found("input:\"drop table\""), [5]);
        assert_eq!(found("command:drop"), Vec::<u64>::new());
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
