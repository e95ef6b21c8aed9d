//! The audit tokenizer: words cut at punctuation, CJK a character a token, each cut at MAX_TOKEN_BYTES.

use super::*;

pub(crate) fn is_cjk(c: char) -> bool {
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
