//! Where an object came from and what it held: the custody record ingest makes of every input
//! it reads and every raw object it keeps (the proof that checks them is [`crate::custody`]).

use std::io::{self, Read};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// Where an object was read from.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Origin {
    /// a local file
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// a digest's signature from its S3 metadata (`x-amz-meta-signature`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// how many versions the S3 key had when read (more than one: it was overwritten)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<u64>,
    /// S3 Object Lock on the version read: `GOVERNANCE` or `COMPLIANCE`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock_mode: Option<String>,
    /// until when Object Lock keeps the version read (RFC 3339)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock_retain_until: Option<String>,
}

impl Origin {
    pub fn local(path: &std::path::Path) -> Origin {
        Origin {
            path: Some(path.display().to_string()),
            ..Origin::default()
        }
    }
}

/// What a custody record is of.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Held {
    /// an input as read (a trail file, a transcript, a digest ...)
    Input,
    /// a transcript copy kept in the store (`transcripts/...`)
    Copy,
    /// a CloudTrail digest kept in the store (`digests/...`)
    Digest,
    /// an index published (`index/manifest.json`: the manifest names every file of it)
    Index,
    /// a facts file kept (`facts/<sha256>.json`): what the evidence said, decoded; the only
    /// copy of what streamed events (CloudWatch, EventBridge, API pages) said
    Facts,
    /// a kind a later version records: kept in its segment (whose signature covers it), not
    /// checked by this one
    #[serde(other)]
    Other,
}

/// The custody of one object.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Custody {
    pub held: Held,
    /// the input's name (path or key) or the store key
    pub object: String,
    /// what it is (`a CloudTrail trail file` ...), for inputs
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// SHA-256 of the bytes as stored
    pub sha256: String,
    /// SHA-256 of the content, gzip undone (what CloudTrail's digests list)
    pub content_sha256: String,
    pub size: u64,
    #[serde(default)]
    pub origin: Origin,
    pub read_at: String,
}

/// The custody of an object kept in the store (its bytes as stored are its content).
pub fn kept(held: Held, key: String, sha256: &str, size: u64) -> Custody {
    Custody {
        held,
        object: key,
        format: None,
        sha256: sha256.to_owned(),
        content_sha256: sha256.to_owned(),
        size,
        origin: Origin::default(),
        read_at: now(),
    }
}

/// The custody of the index published now (its manifest names every file of it), if any.
pub fn published_index(store: &dyn crate::store::Store) -> io::Result<Option<Custody>> {
    let key = crate::keys::INDEX_MANIFEST;
    Ok(store.get(key)?.map(|b| {
        kept(
            Held::Index,
            key.to_owned(),
            &crate::hash::sha256_hex(&b),
            b.len() as u64,
        )
    }))
}

/// A reader that hashes (SHA-256) every byte read through it, for a pass that reads an input
/// anyway (the render, the decode) to take its custody too. The hash is read from the
/// [`TapHash`] kept apart, so the reader itself can be moved into a decoder.
pub struct Tap<R> {
    inner: R,
    state: std::sync::Arc<std::sync::Mutex<(sha2::Sha256, u64)>>,
}

/// The hash of what went through a [`Tap`].
pub struct TapHash(std::sync::Arc<std::sync::Mutex<(sha2::Sha256, u64)>>);

impl<R> Tap<R> {
    pub fn new(inner: R) -> (Tap<R>, TapHash) {
        let state = std::sync::Arc::new(std::sync::Mutex::new((sha2::Sha256::new(), 0)));
        (
            Tap {
                inner,
                state: state.clone(),
            },
            TapHash(state),
        )
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0.update(&buf[..n]);
        s.1 += n as u64;
        Ok(n)
    }
}

impl TapHash {
    /// The SHA-256 (hex) of what was read so far, and how many bytes.
    pub fn finish(&self) -> (String, u64) {
        let s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (hex::encode(s.0.clone().finalize()), s.1)
    }
}

/// SHA-256 of `r`'s bytes and their count.
pub fn sha256_of(mut r: impl Read) -> io::Result<(String, u64)> {
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// The hashes of a file: as stored, and of its content (gzip undone; the same when it is not
/// gzip, or not readable gzip).
pub fn file_hashes(path: &std::path::Path) -> io::Result<(String, String, u64)> {
    let (raw, size) = sha256_of(std::fs::File::open(path)?)?;
    let mut magic = [0u8; 2];
    let gz = std::fs::File::open(path)?.read(&mut magic)? == 2 && magic == [0x1f, 0x8b];
    let content = if gz {
        let f = std::fs::File::open(path)?;
        match sha256_of(flate2::read::MultiGzDecoder::new(io::BufReader::new(f))) {
            Ok((c, _)) => c,
            Err(_) => raw.clone(),
        }
    } else {
        raw.clone()
    };
    Ok((raw, content, size))
}

/// Now, as custody records say it.
pub fn now() -> String {
    crate::time::rfc3339(time::OffsetDateTime::now_utc())
}
