//! Every key of the store in one place: a session's folder name (a session id is data, never a
//! path) and the fixed objects.
//!
//! Store layout (keys):
//! - `facts/<input>.json`: the facts one input gave, named by a hash of its name and content,
//!   so ingesting the same input again writes the same object;
//! - `transcripts/<sessionId>/<source>-<hash>.log`: transcript copies, the evidence itself;
//! - `state/facts.json.gz` ([`FACTS_SNAPSHOT`]): every fact read so far, with the fact files
//!   it came from;
//! - `records.json`: every session record, the result of the last correlation;
//! - `text/<sessionId>/<copy>.json`: each copy rendered once, at ingest (the text of record
//!   is picked from these: S3 first, then the CloudWatch upload, then the streamed lines).

use crate::hash::sha256_hex;
use crate::ids::split_session_id;
use std::io;

/// A key is `/`-separated relative path parts: none empty, `.` or `..`.
pub fn check_key(key: &str) -> io::Result<()> {
    if key.is_empty()
        || key
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad store key {key:?}"),
        ));
    }
    Ok(())
}

/// The store folder of a session: the id itself when it has the documented shape in
/// characters every file system keeps apart (lowercase IAM name characters: so no two ids
/// meet on a case-insensitive file system, and none is a separator, NUL, `..` or a Windows
/// device name), else `x` and the SHA-256 of the id. A session id is data, never a path: it
/// comes from evidence the audited nodes write.
pub fn session_key(id: &str) -> String {
    if is_plain_session_id(id) {
        id.to_owned()
    } else {
        format!("x{}", &sha256_hex(id.as_bytes())[..32])
    }
}

pub(crate) fn is_plain_session_id(id: &str) -> bool {
    const RESERVED: [&str; 22] = [
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
        "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    split_session_id(id).is_some()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+=,.@_-".contains(&b))
        && !RESERVED.contains(&id.split(['.', '-']).next().unwrap_or(""))
}

/// The store folders a session's copies and texts may be under: [`session_key`], and the
/// one stores written before it used (the id as is when it had the documented shape), when
/// that one differs and is a valid key.
pub fn session_keys_to_read(id: &str) -> Vec<String> {
    let mut keys = vec![session_key(id)];
    if split_session_id(id).is_some()
        && !id.contains(['/', '\\', '\0'])
        && check_key(id).is_ok()
        && keys[0] != id
    {
        keys.push(id.to_owned());
    }
    keys
}

/// Where the facts read so far are kept together, with the keys of the fact files they came
/// from: a rebuild reads only the fact files that came since (fact files are named by their
/// content, so a key never changes what it holds).
pub const FACTS_SNAPSHOT: &str = "state/facts.json.gz";

/// Every session record, the result of the last correlation (also the name of its copy in a
/// local index cache).
pub const RECORDS: &str = "records.json";
/// The fact files: `facts/<sha256 of the facts>.json`.
pub const FACTS: &str = "facts/";
/// The reconcile function's state: how far it has read CloudTrail and CloudWatch.
pub const RECONCILE_STATE: &str = "state/reconcile.json";
/// The published index: its manifest, its files, the records beside them.
pub const INDEX_MANIFEST: &str = "index/manifest.json";
pub const INDEX_FILES: &str = "index/files/";
pub const INDEX_RECORDS: &str = "index/records/";

/// CloudTrail digests as read (`digests/<sha256>.json`, uncompressed) and the signature from
/// their S3 metadata (`digests/<sha256>.sig`).
pub const DIGESTS: &str = "digests/";
/// CloudTrail's public keys (`aws cloudtrail list-public-keys` output), when kept.
pub const PUBLIC_KEYS: &str = "state/cloudtrail-public-keys.json";
/// CloudTrail trail files as read: `trails/<sha256>/<name>`.
pub const TRAILS: &str = "trails/";

/// A trail file kept: by the SHA-256 of its bytes, under its own name (no path).
pub fn trail_key(sha256: &str, name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = if base.is_empty() || base.starts_with('.') {
        format!("x{base}")
    } else {
        base
    };
    format!("{TRAILS}{sha256}/{base}")
}

/// The custody ledger's segments.
pub const LEDGER: &str = "ledger/";
/// The data folder's ledger signing key (a local store only).
pub const LEDGER_SIGNING_KEY: &str = "state/ledger.key";
/// Custody records a writer without the signing key (the Lambda functions, the CLI on an S3
/// store) leaves for the indexer to seal into the ledger: `custody/pending/<sha256>.json`.
pub const CUSTODY_PENDING: &str = "custody/pending/";

/// A ledger segment: `ledger/<seq, 12 digits>.jsonl`.
pub fn ledger_key(seq: u64) -> String {
    format!("{LEDGER}{seq:012}.jsonl")
}

/// A digest kept, by the SHA-256 of its content.
pub fn digest_key(sha256: &str) -> String {
    format!("{DIGESTS}{sha256}.json")
}

/// A fact file, named by the SHA-256 of its facts.
pub fn facts_key(sha256: &str) -> String {
    format!("{FACTS}{sha256}.json")
}

/// The folder of a session's transcript copies, the evidence itself.
pub fn transcripts_dir(session_key: &str) -> String {
    format!("{TRANSCRIPTS}{session_key}/")
}

/// Every transcript copy, under its session's folder.
pub const TRANSCRIPTS: &str = "transcripts/";

/// A transcript copy: `transcripts/<session>/<copy>.log`.
pub fn transcript_key(session_id: &str, copy: &str) -> String {
    format!("{}{copy}.log", transcripts_dir(&session_key(session_id)))
}

/// The folder of a session's rendered texts.
pub fn texts_dir(session_key: &str) -> String {
    format!("text/{session_key}/")
}

/// A copy's rendered text: `text/<session>/<copy>.json` (`stream` for the streamed lines).
pub fn text_key(session_id: &str, copy: &str) -> String {
    format!("{}{copy}.json", texts_dir(&session_key(session_id)))
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn session_ids_are_data_never_paths() {
        // the documented shape, lowercase: as is
        let ok = "alice@example.com-0jtk0707txjyxr972nskibo3ej";
        assert_eq!(session_key(ok), ok);
        let hostile = [
            "a\0b-0e34861185201706f",
            "..\\x-0e34861185201706f",
            "../x-0e34861185201706f",
            "a/b-0e34861185201706f",
            "con.x-0e34861185201706f",
            "nul-0e34861185201706f",
            ".hidden-0e34861185201706f",
            "Alice-0e34861185201706f",
            "not a session id",
            "",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for id in hostile {
            let k = session_key(id);
            assert!(k.starts_with('x') && k.len() == 33, "{id:?}: {k}");
            assert!(k.bytes().all(|b| b.is_ascii_hexdigit() || b == b'x'), "{k}");
            check_key(&format!("text/{k}/s3.json")).unwrap();
            assert!(seen.insert(k.to_lowercase()), "{id:?} collides");
        }
        // ids that differ in case only are two folders on a case-insensitive file system too
        assert_ne!(
            session_key("Alice-0e34861185201706f").to_lowercase(),
            session_key("alice-0e34861185201706f").to_lowercase()
        );
        // a store written before reads its uppercase ids where they were
        assert_eq!(
            session_keys_to_read("Alice-0e34861185201706f")[1],
            "Alice-0e34861185201706f"
        );
        assert_eq!(session_keys_to_read("a\0b-0e34861185201706f").len(), 1);
    }
}
