//! Text in vte's ground state, taken without vte.
//!
//! Most of a shell transcript is plain text and line ends between escape sequences, and vte
//! hands text over one character a call. While vte is known to be in its ground state, text
//! and C0 controls are taken here instead: a run of printable ASCII goes to the performer at
//! once, and so may whole lines of it (`plain_lines`). So are the escape sequences of a shell
//! session in their plainest forms (colours, modes, cursor moves, window titles): parsed here
//! as vte parses them. At the first byte that needs the parser (any other sequence, invalid
//! UTF-8, a sequence cut off) the rest goes to vte, which hands back as soon as a dispatch
//! has returned it to its ground state. What the performer sees is the same either way
//! (property-tested against vte alone).

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
    /// A CSI sequence, as `csi_dispatch` would get it (not ignored), with the first value of
    /// each parameter.
    fn csi(&mut self, params: &[u16], intermediates: &[u8], action: char);
}

/// A byte printed as it is: printable ASCII.
fn printable(b: &u8) -> bool {
    (0x20..0x7f).contains(b)
}

/// A plain line at the start of `bytes`: printable ASCII narrower than `width`, then one or
/// more CRs and a LF. Its length and where it ends (past the LF), if there is one.
pub(crate) fn plain_line(bytes: &[u8], width: usize) -> Option<(usize, usize)> {
    let head = &bytes[..bytes.len().min(width)];
    let len = head.iter().position(|b| !printable(b))?;
    let crs = bytes[len..].iter().take_while(|&&b| b == b'\r').count();
    (crs > 0 && bytes.get(len + crs) == Some(&b'\n')).then_some((len, len + crs + 1))
}

/// vte allows this many parameters to a CSI sequence.
const MAX_PARAMS: usize = 32;

/// The first value of each of a CSI sequence's parameters, in an array (and how many).
pub(crate) fn first_values(params: &vte::Params) -> ([u16; MAX_PARAMS], usize) {
    let mut out = [0; MAX_PARAMS];
    let mut n = 0;
    for (slot, p) in out.iter_mut().zip(params.iter()) {
        *slot = p.first().copied().unwrap_or(0);
        n += 1;
    }
    (out, n)
}

/// Parameters a CSI sequence taken here may have (more go through vte).
const PLAIN_PARAMS: usize = 16;
/// How long an OSC string taken here may be (longer ones go through vte).
const PLAIN_OSC: usize = 1024;

/// At an ESC: the escape sequences of a shell session in their plainest forms, taken here as
/// vte would hand them over; how many bytes that was, or 0 for anything else (vte takes it,
/// as it does a sequence cut off by the end of `bytes`).
/// - CSI: at most one private marker, decimal numbers separated by `;`, a final byte;
/// - OSC: printable ASCII ended by BEL or by ST (`ESC \`);
/// - any other ESC sequence of one intermediate at most.
fn plain_escape<P: Ground>(p: &mut P, bytes: &[u8]) -> usize {
    match bytes.get(1) {
        Some(b'[') => plain_csi(p, bytes),
        Some(b']') => plain_osc(p, bytes),
        Some(&b @ (0x30..=0x4f | 0x51..=0x57 | 0x59 | 0x5a | 0x5c | 0x60..=0x7e)) => {
            p.esc_dispatch(&[], false, b);
            2
        }
        Some(&i @ 0x20..=0x2f) => match bytes.get(2) {
            Some(&b @ 0x30..=0x7e) => {
                p.esc_dispatch(&[i], false, b);
                3
            }
            _ => 0,
        },
        _ => 0,
    }
}

fn plain_csi<P: Ground>(p: &mut P, bytes: &[u8]) -> usize {
    let mut at = 2;
    let marker = match bytes.get(at) {
        Some(&m @ 0x3c..=0x3f) => {
            at += 1;
            Some(m)
        }
        _ => None,
    };
    let mut params = [0u16; PLAIN_PARAMS];
    let mut n = 0;
    let mut value = 0u16;
    while let Some(&b) = bytes.get(at) {
        at += 1;
        match b {
            b'0'..=b'9' => value = value.saturating_mul(10).saturating_add((b - b'0') as u16),
            b';' if n + 1 < PLAIN_PARAMS => {
                params[n] = value;
                n += 1;
                value = 0;
            }
            0x40..=0x7e => {
                params[n] = value;
                let marker = marker.as_slice();
                p.csi(&params[..n + 1], marker, b as char);
                return at;
            }
            _ => return 0,
        }
    }
    0
}

fn plain_osc<P: Ground>(p: &mut P, bytes: &[u8]) -> usize {
    let body = &bytes[2..bytes.len().min(2 + PLAIN_OSC)];
    let Some(end) = body.iter().position(|b| !printable(b)) else {
        return 0;
    };
    let (bell, len) = match &body[end..] {
        [0x07, ..] => (true, end + 1),
        [0x1b, b'\\', ..] => (false, end + 2),
        _ => return 0,
    };
    let mut params: [&[u8]; PLAIN_PARAMS] = [&[]; PLAIN_PARAMS];
    let mut n = 0;
    for part in body[..end].split(|&b| b == b';') {
        if n == PLAIN_PARAMS {
            return 0;
        }
        params[n] = part;
        n += 1;
    }
    p.osc_dispatch(&params[..n], bell);
    if !bell {
        // the ESC that ends it starts the ST sequence, as in vte
        p.esc_dispatch(&[], false, b'\\');
    }
    2 + len
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
        } else if b == 0x1b {
            match plain_escape(p, &bytes[i..]) {
                0 => break,
                n => i += n,
            }
        } else {
            break;
        }
    }
    i
}
