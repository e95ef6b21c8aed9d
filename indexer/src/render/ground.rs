//! Text in vte's ground state, taken without vte.
//!
//! Most of a shell transcript is plain text and line ends between escape sequences, and vte
//! hands text over one character a call. While vte is known to be in its ground state, text
//! and C0 controls are taken here instead: a run of printable ASCII goes to the performer at
//! once. At the first byte that needs the parser (ESC, invalid UTF-8) the rest goes to vte,
//! which hands back as soon as a dispatch has returned it to its ground state. What the
//! performer sees is the same either way (property-tested against vte alone).

/// A `vte::Perform` that can take text a run at a time.
///
/// It keeps a flag, "vte is in its ground state", that it sets in the dispatches after which
/// vte always is (`csi_dispatch`, `esc_dispatch`, `osc_dispatch` of an OSC ended by BEL) and
/// returns from `terminated`. Not after a print or an execute: vte sends those from a run of
/// text it has already read past, up to and including the ESC that ends it.
pub(crate) trait Ground: vte::Perform {
    fn in_ground(&self) -> bool;
    fn set_in_ground(&mut self, on: bool);
    /// A non-empty run of printable ASCII, as if each character went to `print`.
    fn print_ascii(&mut self, run: &[u8]);
    /// Just after a line feed, with the bytes that follow it: take as many whole lines of
    /// plain text as can be taken at once, as if each byte went to `print` or `execute`, and
    /// say how many bytes that was.
    fn plain_lines(&mut self, _bytes: &[u8]) -> usize {
        0
    }
}

/// Feed `bytes` (whole UTF-8 sequences only) to `p`, through vte only where needed.
pub(crate) fn feed<P: Ground, const N: usize>(
    parser: &mut vte::Parser<N>,
    p: &mut P,
    bytes: &[u8],
) {
    let mut i = 0;
    while i < bytes.len() {
        if p.in_ground() {
            i += ground_run(p, &bytes[i..]);
            if i == bytes.len() {
                break;
            }
            p.set_in_ground(false);
        }
        i += parser.advance_until_terminated(p, &bytes[i..]);
    }
}

/// Text and C0 controls, as vte would hand them over in its ground state; returns how many
/// bytes were taken (it stops at the first byte vte must see: ESC or invalid UTF-8).
fn ground_run<P: Ground>(p: &mut P, bytes: &[u8]) -> usize {
    let printable = |b: &u8| (0x20..0x7f).contains(b);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if printable(&b) {
            let n = bytes[i..].iter().position(|b| !printable(b));
            let end = n.map_or(bytes.len(), |n| i + n);
            p.print_ascii(&bytes[i..end]);
            i = end;
        } else if b < 0x20 && b != 0x1b {
            p.execute(b);
            i += 1;
            if b == b'\n' {
                i += p.plain_lines(&bytes[i..]);
            }
        } else if b >= 0x7f {
            // DEL and UTF-8 text go one character at a time, as vte sends them (a C1 control
            // is executed); invalid UTF-8 is left to vte, which has its own rules for it
            let n = bytes[i..].iter().position(|&b| b < 0x7f);
            let end = n.map_or(bytes.len(), |n| i + n);
            let valid = match std::str::from_utf8(&bytes[i..end]) {
                Ok(text) => text,
                Err(e) => std::str::from_utf8(&bytes[i..i + e.valid_up_to()]).unwrap_or(""),
            };
            for c in valid.chars() {
                if ('\u{80}'..='\u{9f}').contains(&c) {
                    p.execute(c as u8);
                } else {
                    p.print(c);
                }
            }
            i += valid.len();
            if i < end {
                break;
            }
        } else {
            break;
        }
    }
    i
}
