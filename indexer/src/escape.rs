//! Making transcript text safe to print on an analyst's terminal.
//!
//! Transcripts are hostile input: OSC 52 can write the reader's clipboard, titles and DCS
//! strings can act on the terminal. Nothing from a transcript reaches a terminal unescaped.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that must not reach a terminal as they are: C0 and C1 controls, DEL, the
/// bidirectional controls that can make text read differently from what it is (embeddings,
/// overrides, isolates, and the marks LRM, RLM, ALM), and the line and paragraph separators
/// that some terminals and editors take for a line end.
fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Escape rendered text for a terminal: controls become `\e`, `\t`, `\xNN` or `\u{NNNN}`.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '\x1b' => out.push_str("\\e"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
}

/// Escape raw transcript bytes (`show --raw`): printable text stays, every control byte and
/// every byte of invalid UTF-8 is written as an escape; `\n` is shown and kept as a line end;
/// `\` is written `\\`, so a typed `\e]52;...` and a real escape never look the same.
pub fn escape_raw(bytes: &[u8], out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if c == '\n' {
                out.push_str("\\n\n");
            } else if is_unsafe(c) {
                push_escaped(c, out);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// Make serialized JSON safe for a terminal without changing what it means: the characters
/// serde_json leaves as they are (DEL, C1 controls, bidi overrides) become `\uNNNN` escapes.
pub fn json_safe(json: &str) -> Cow<'_, str> {
    // serialized JSON holds raw newlines only as whitespace between tokens (pretty-printing)
    let unsafe_here = |c: char| c != '\n' && is_unsafe(c);
    if !json.chars().any(unsafe_here) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if unsafe_here(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_marks_and_separators_are_made_visible() {
        assert_eq!(escape_text("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_text("a\u{200f}b"), "a\\u{200f}b");
        assert_eq!(escape_text("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
        assert_eq!(escape_text("ok é 日本"), "ok é 日本");
    }

    #[test]
    fn raw_escapes_the_backslash_so_typed_and_real_escapes_differ() {
        let mut typed = String::new();
        escape_raw(b"printf '\\e]52;c;x\\a'", &mut typed);
        let mut real = String::new();
        escape_raw(b"printf '\x1b]52;c;x\x07'", &mut real);
        assert_eq!(typed, "printf '\\\\e]52;c;x\\\\a'");
        assert_eq!(real, "printf '\\e]52;c;x\\x07'");
        assert_ne!(typed, real);
    }

    #[test]
    fn escapes_controls() {
        assert_eq!(escape_text("plain 本番"), "plain 本番");
        assert_eq!(escape_text("a\x1b]52;c;aGk=\x07b"), "a\\e]52;c;aGk=\\x07b");
        assert_eq!(escape_text("x\u{9b}31m\u{202e}"), "x\\x9b31m\\u{202e}");
    }

    #[test]
    fn escapes_raw_bytes() {
        let mut s = String::new();
        escape_raw(b"ls\r\r\n\x1b[0m\xff\xfe ok", &mut s);
        assert_eq!(s, "ls\\r\\r\\n\n\\e[0m\\xff\\xfe ok");
    }
}
