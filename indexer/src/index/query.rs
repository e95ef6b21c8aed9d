//! The query language: a lexer, a parser with a depth limit, and the matching of one line.

use super::*;

/// Which sessions a search covers. The record filters (`--user`, `--since` ...) are decided on
/// the session records, one implementation for every command ([`crate::select`]); the index
/// is given the sessions that pass.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// `None`: every session
    pub sessions: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Word(String),
    Phrase(String),
    Open,
    Close,
}

pub(crate) fn lex(q: &str) -> Result<Vec<Tok>, IndexError> {
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

pub(crate) struct Parser {
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

pub(crate) fn text_q(text: &str, scope: Scope) -> Result<Q, IndexError> {
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
    pub(crate) fn to_tantivy(&self, f: &Fields) -> Box<dyn Query> {
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
    /// The words a hit is highlighted by: every token of the text the query looks for, not
    /// those it excludes (`NOT`) nor the session fields it names.
    pub fn words(&self) -> Vec<String> {
        match self {
            Q::Text { tokens, .. } => tokens.clone(),
            Q::Exact { .. } => Vec::new(),
            Q::And(parts) => parts
                .iter()
                .filter(|(neg, _)| !neg)
                .flat_map(|(_, q)| q.words())
                .collect(),
            Q::Or(parts) => parts.iter().flat_map(Q::words).collect(),
        }
    }

    pub(crate) fn needle(&self) -> Option<String> {
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
