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

mod query;
mod search;
mod tokenizer;

pub use query::*;
pub use search::*;
pub use tokenizer::*;

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
