//! Bytes to text: gzip (with a guard against decompression bombs), byte order marks and
//! UTF-16, and invalid UTF-8 replaced as it streams.

use super::*;

/// How a text input is encoded, told from its first bytes: a byte order mark, or JSON's
/// first character with a NUL beside it (UTF-16 without a mark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 behind a byte order mark (Windows tools write one)
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

pub fn encoding(head: &[u8]) -> Encoding {
    match head {
        [0xef, 0xbb, 0xbf, ..] => Encoding::Utf8Bom,
        [0xff, 0xfe, ..] => Encoding::Utf16Le,
        [0xfe, 0xff, ..] => Encoding::Utf16Be,
        [b, 0, ..] if b.is_ascii() && *b != 0 => Encoding::Utf16Le,
        [0, b, ..] if b.is_ascii() && *b != 0 => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

/// `bytes` as UTF-8: a byte order mark dropped, UTF-16 transcoded (unpaired surrogates and an
/// odd last byte become U+FFFD). UTF-8 input is returned as it is.
pub fn to_utf8(bytes: Vec<u8>) -> Vec<u8> {
    let units = |le: bool, body: &[u8]| -> Vec<u8> {
        let u16s = body.chunks(2).map(|c| match (c, le) {
            ([a, b], true) => u16::from_le_bytes([*a, *b]),
            ([a, b], false) => u16::from_be_bytes([*a, *b]),
            _ => 0xfffd,
        });
        char::decode_utf16(u16s)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
            .into_bytes()
    };
    match encoding(&bytes) {
        Encoding::Utf8 => bytes,
        Encoding::Utf8Bom => bytes[3..].to_vec(),
        Encoding::Utf16Le => {
            let bom = bytes.starts_with(&[0xff, 0xfe]);
            units(true, &bytes[if bom { 2 } else { 0 }..])
        }
        Encoding::Utf16Be => {
            let bom = bytes.starts_with(&[0xfe, 0xff]);
            units(false, &bytes[if bom { 2 } else { 0 }..])
        }
    }
}

/// A reader that passes valid UTF-8 through and replaces each invalid sequence with U+FFFD,
/// as it streams (a sequence cut by a read is completed by the next), so one record's bad
/// bytes do not end a JSON document.
pub struct LossyUtf8<R> {
    inner: R,
    /// bytes read and not yet handed out: `buf[at..valid]`; `buf[valid..]` is a sequence cut
    /// by the last read, completed by the next
    buf: Vec<u8>,
    at: usize,
    valid: usize,
    eof: bool,
}

impl<R: Read> LossyUtf8<R> {
    pub fn new(inner: R) -> LossyUtf8<R> {
        LossyUtf8 {
            inner,
            buf: Vec::new(),
            at: 0,
            valid: 0,
            eof: false,
        }
    }

    /// Read more and make `buf[at..]` valid UTF-8 up to a possible cut sequence at its end.
    fn refill(&mut self) -> std::io::Result<()> {
        let carried: Vec<u8> = self.buf[self.valid.max(self.at)..].to_vec();
        let mut raw = carried;
        let start = raw.len();
        raw.resize(start + (64 << 10), 0);
        let n = loop {
            match self.inner.read(&mut raw[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        raw.truncate(start + n);
        self.eof = n == 0;
        let mut out = Vec::with_capacity(raw.len());
        let mut rest = &raw[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.extend_from_slice(s.as_bytes());
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    out.extend_from_slice(&rest[..good]);
                    match e.error_len() {
                        Some(bad) => {
                            out.extend_from_slice("\u{fffd}".as_bytes());
                            rest = &rest[good + bad..];
                        }
                        // cut at the end: wait for the rest, unless there is none
                        None if !self.eof => {
                            rest = &rest[good..];
                            break;
                        }
                        None => {
                            out.extend_from_slice("\u{fffd}".as_bytes());
                            rest = &[];
                            break;
                        }
                    }
                }
            }
        }
        // the cut sequence is kept at the end, behind the valid text, for the next refill
        let valid = out.len();
        out.extend_from_slice(rest);
        self.buf = out;
        self.at = 0;
        self.valid = valid;
        Ok(())
    }
}

impl<R: Read> Read for LossyUtf8<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.valid {
            if self.eof && self.at >= self.buf.len() {
                return Ok(0);
            }
            self.refill()?;
            if self.eof && self.valid == 0 && self.buf.is_empty() {
                return Ok(0);
            }
        }
        let n = dst.len().min(self.valid - self.at);
        dst[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Inflated sizes past which gzip'd input is taken for a decompression bomb: more than
/// [`BOMB_RATIO`] times its compressed size once past [`BOMB_MIN_BYTES`] (deflate reaches
/// about 1032:1 on runs of one byte; transcripts and trails, a few to a few tens), and for
/// input inflated whole in memory (JSON evidence), past [`MAX_INFLATED_IN_MEMORY`].
pub const BOMB_RATIO: u64 = 100;
pub const BOMB_MIN_BYTES: u64 = 256 << 20;
pub const MAX_INFLATED_IN_MEMORY: u64 = 64 << 20;

pub(crate) fn bomb(inflated: u64, compressed: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "gzip inflates past {} MiB at more than {BOMB_RATIO}:1 ({compressed} bytes compressed): \
             taken for a decompression bomb and not read (gunzip it by hand to read it)",
            inflated >> 20
        ),
    )
}

/// Counts the bytes read through it.
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n
            .fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}

/// Inflated output, stopped with an error once it outgrows its compressed input as a bomb
/// does.
pub(crate) struct Guarded<R> {
    pub(crate) inner: R,
    pub(crate) compressed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub(crate) inflated: u64,
    /// an absolute cap, for input inflated whole
    pub(crate) cap: Option<u64>,
    /// the bomb test: past `min_bytes` inflated, at more than `ratio` to one
    pub(crate) min_bytes: u64,
    pub(crate) ratio: u64,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.inflated += k as u64;
        let compressed = self
            .compressed
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1);
        if self.cap.is_some_and(|c| self.inflated > c)
            || (self.inflated > self.min_bytes && self.inflated / compressed > self.ratio)
        {
            return Err(bomb(self.inflated, compressed));
        }
        Ok(k)
    }
}

/// Undo gzip if the bytes start with its magic: bounded, in memory, at
/// [`MAX_INFLATED_IN_MEMORY`].
pub fn maybe_gunzip(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(bytes.len() as u64));
        Guarded {
            inner: flate2::read::MultiGzDecoder::new(&bytes[..]),
            compressed,
            inflated: 0,
            cap: Some(MAX_INFLATED_IN_MEMORY),
            min_bytes: BOMB_MIN_BYTES,
            ratio: BOMB_RATIO,
        }
        .read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// A reader with gzip undone when it starts with gzip's magic, guarded against bombs.
pub fn open_maybe_gzip<R: Read + 'static>(r: R) -> std::io::Result<Box<dyn BufRead>> {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut r = BufReader::with_capacity(
        256 << 10,
        Counted {
            inner: r,
            n: n.clone(),
        },
    );
    let gz = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            256 << 10,
            Guarded {
                inner: flate2::bufread::MultiGzDecoder::new(r),
                compressed: n,
                inflated: 0,
                cap: None,
                min_bytes: BOMB_MIN_BYTES,
                ratio: BOMB_RATIO,
            },
        ))
    } else {
        Box::new(r)
    })
}
