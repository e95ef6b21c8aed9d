//! The index published in a store, for one writer at a time and any number of readers.
//!
//! tantivy's segment files never change once written, so they are uploaded once, under
//! `index/files/<generation>-<name>`, and shared by every later generation that still uses
//! them. What makes a set of files an index is `index/manifest.json`, written last with a
//! conditional put: it names the files, carries tantivy's `meta.json`, and points at the
//! session records of the same generation. A writer that loses the race (the manifest
//! changed since it read it) starts again from the new manifest, so no update is lost.
//!
//! Readers ([`sync`]) download only the files they do not have. Files are removed when no
//! manifest that a reader may still hold names them: after a publish, the files of the
//! manifest before the previous one that the new one dropped, and files a losing writer left
//! behind (a generation at or below the current one that no manifest names).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::correlate::SessionRecord;
use crate::hash::fnv;
use crate::store::{write_atomic, Expect, Store};

pub use crate::keys::INDEX_MANIFEST as MANIFEST;
use crate::keys::{INDEX_FILES as FILES, INDEX_RECORDS as RECORDS};
/// tantivy's own files that the manifest carries or that are local
const NOT_UPLOADED: [&str; 2] = ["meta.json", ".managed.json"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    /// when the writer published it (RFC 3339)
    pub published: String,
    /// tantivy's `meta.json`
    pub meta: String,
    pub files: Vec<IndexFile>,
    /// the key of the session records (JSON array) of this generation
    pub records: String,
    pub sessions: usize,
    /// the manifest this one replaced: its files stay until the next publish, for readers
    /// that are still downloading them
    #[serde(default)]
    pub previous_files: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    pub name: String,
    pub key: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("updating the index: {0}")]
    Update(String),
    #[error("the manifest kept changing: gave up after {0} tries")]
    Contended(u32),
    #[error("{key}: {cause}")]
    Manifest { key: String, cause: String },
}

/// What a [`sync`] did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SyncStats {
    pub generation: u64,
    pub files: usize,
    pub downloaded: usize,
    pub downloaded_bytes: u64,
    pub removed: usize,
}

/// What a [`publish`] did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PublishStats {
    pub generation: u64,
    pub tries: u32,
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    pub reused: usize,
    pub deleted: usize,
    pub sessions: usize,
}

/// The current manifest and its tag.
pub fn read_manifest(store: &dyn Store) -> Result<Option<(Manifest, String)>, PublishError> {
    let Some((bytes, tag)) = store.get_tagged(MANIFEST)? else {
        return Ok(None);
    };
    let m = serde_json::from_slice(&bytes).map_err(|e| PublishError::Manifest {
        key: MANIFEST.into(),
        cause: e.to_string(),
    })?;
    Ok(Some((m, tag)))
}

/// Make `cache` hold the published index: `cache/index/` with exactly the manifest's files
/// (only missing ones are downloaded) and `cache/records.json`.
pub fn sync(store: &dyn Store, cache: &Path) -> Result<Option<SyncStats>, PublishError> {
    // a file can vanish between reading the manifest and fetching it when two publishes
    // happen meanwhile: read the manifest again
    for _ in 0..5 {
        let Some((m, _)) = read_manifest(store)? else {
            return Ok(None);
        };
        match sync_to(store, &m, cache) {
            Ok(stats) => return Ok(Some(stats)),
            Err(PublishError::Io(e)) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Err(PublishError::Contended(5))
}

fn sync_to(store: &dyn Store, m: &Manifest, cache: &Path) -> Result<SyncStats, PublishError> {
    let dir = cache.join("index");
    std::fs::create_dir_all(&dir)?;
    let mut stats = SyncStats {
        generation: m.generation,
        files: m.files.len(),
        ..SyncStats::default()
    };
    let wanted: BTreeSet<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    for f in &m.files {
        let path = dir.join(&f.name);
        if std::fs::metadata(&path).is_ok_and(|md| md.len() == f.size) {
            continue;
        }
        if !store.get_to_file(&f.key, &path)? {
            return Err(
                io::Error::new(io::ErrorKind::NotFound, format!("{} is gone", f.key)).into(),
            );
        }
        stats.downloaded += 1;
        stats.downloaded_bytes += f.size;
    }
    let records = store
        .get(&m.records)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{} is gone", m.records)))?;
    write_atomic(&cache.join(crate::keys::RECORDS), &records)?;
    // meta.json last: until it is written, the folder still opens as the previous index
    write_atomic(&dir.join("meta.json"), m.meta.as_bytes())?;
    for e in std::fs::read_dir(&dir)? {
        let name = e?.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && name != "meta.json" && !wanted.contains(name.as_str()) {
            std::fs::remove_file(dir.join(&name))?;
            stats.removed += 1;
        }
    }
    Ok(stats)
}

/// Update the published index: `update` gets a folder holding the current index (empty the
/// first time) and changes it in place, returning the session records it now holds; the
/// changed files and a new manifest are then published. When another writer publishes in
/// between, everything is done again from its manifest, so `update` must read its input
/// afresh each time it is called.
pub fn publish(
    store: &dyn Store,
    work: &Path,
    now: &str,
    update: &mut dyn FnMut(&Path) -> Result<Vec<SessionRecord>, String>,
) -> Result<PublishStats, PublishError> {
    const TRIES: u32 = 20;
    for attempt in 1..=TRIES {
        let current = read_manifest(store)?;
        let index_dir = work.join("index");
        match &current {
            Some((m, _)) => {
                sync_to(store, m, work)?;
            }
            None => {
                // a fresh index
                let _ = std::fs::remove_dir_all(&index_dir);
                std::fs::create_dir_all(&index_dir)?;
            }
        }
        let records = update(&index_dir).map_err(PublishError::Update)?;
        let generation = current.as_ref().map_or(0, |(m, _)| m.generation) + 1;
        let known: BTreeMap<&str, &IndexFile> = current
            .as_ref()
            .map(|(m, _)| m.files.iter().map(|f| (f.name.as_str(), f)).collect())
            .unwrap_or_default();
        let mut stats = PublishStats {
            generation,
            tries: attempt,
            sessions: records.len(),
            ..PublishStats::default()
        };
        let mut files = Vec::new();
        let meta = std::fs::read_to_string(index_dir.join("meta.json"))?;
        let live = live_segments(&meta);
        let mut names: Vec<String> = std::fs::read_dir(&index_dir)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            if name.starts_with('.') || NOT_UPLOADED.contains(&name.as_str()) {
                continue;
            }
            // a file of a segment that meta.json no longer names (merged away, or dropped by a
            // rebuild): tantivy only deletes files it wrote itself
            let stem = name.split('.').next().unwrap_or_default().replace('-', "");
            if live.as_ref().is_some_and(|l| !l.contains(&stem)) {
                continue;
            }
            let path = index_dir.join(&name);
            let size = std::fs::metadata(&path)?.len();
            match known.get(name.as_str()) {
                Some(f) if f.size == size => {
                    stats.reused += 1;
                    files.push((*f).clone());
                }
                _ => {
                    let key = format!("{FILES}{generation:012}-{name}");
                    store.put_file(&key, &path)?;
                    stats.uploaded += 1;
                    stats.uploaded_bytes += size;
                    files.push(IndexFile { name, key, size });
                }
            }
        }
        let records_json = serde_json::to_vec_pretty(&records).expect("records serialise");
        let records_key = format!("{RECORDS}{generation:012}-{}.json", fnv(&records_json));
        store.put(&records_key, &records_json)?;
        let manifest = Manifest {
            format: 1,
            generation,
            published: now.to_owned(),
            meta,
            files,
            records: records_key,
            sessions: records.len(),
            previous_files: current
                .as_ref()
                .map(|(m, _)| {
                    let mut keys: Vec<String> = m.files.iter().map(|f| f.key.clone()).collect();
                    keys.push(m.records.clone());
                    keys
                })
                .unwrap_or_default(),
        };
        let body = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        let expect = match &current {
            Some((_, tag)) => Expect::Tag(tag),
            None => Expect::Absent,
        };
        if store.put_if(MANIFEST, &body, expect)?.is_some() {
            stats.deleted = collect_garbage(store, &manifest)?;
            return Ok(stats);
        }
        // lost the race: back off a little, with jitter, and start again from the winner's
        let jitter = u64::from(std::process::id() % 7) + u64::from(attempt) * 13 % 50;
        std::thread::sleep(std::time::Duration::from_millis(
            20 * u64::from(attempt) + jitter,
        ));
    }
    Err(PublishError::Contended(TRIES))
}

/// The ids of the segments tantivy's `meta.json` names (without hyphens, as in file names);
/// `None` when it is not tantivy's (then every file is taken).
fn live_segments(meta: &str) -> Option<BTreeSet<String>> {
    let v: serde_json::Value = serde_json::from_str(meta).ok()?;
    let segs = v.get("segments")?.as_array()?;
    Some(
        segs.iter()
            .filter_map(|s| s.get("segment_id")?.as_str())
            .map(|id| id.replace('-', ""))
            .collect(),
    )
}

/// Remove files that no manifest a reader may hold names: not the new manifest's, not the
/// previous one's, and not those of a generation above `m`'s (a writer that is still uploading).
fn collect_garbage(store: &dyn Store, m: &Manifest) -> io::Result<usize> {
    let keep: BTreeSet<&str> = m
        .files
        .iter()
        .map(|f| f.key.as_str())
        .chain(m.previous_files.iter().map(String::as_str))
        .chain([m.records.as_str()])
        .collect();
    let mut deleted = 0;
    for prefix in [FILES, RECORDS] {
        for key in store.list(prefix)? {
            let generation = key[prefix.len()..]
                .split('-')
                .next()
                .and_then(|g| g.parse::<u64>().ok());
            let stale = generation.is_some_and(|g| g <= m.generation);
            if stale && !keep.contains(key.as_str()) {
                store.delete(&key)?;
                deleted += 1;
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LocalStore;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ssm-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// A stand-in for the index: one file per generation plus a shared one.
    fn update_with(n: usize) -> impl FnMut(&Path) -> Result<Vec<SessionRecord>, String> {
        move |dir: &Path| {
            std::fs::write(dir.join("shared.idx"), b"same").map_err(|e| e.to_string())?;
            std::fs::write(dir.join(format!("seg{n}.idx")), vec![b'x'; n])
                .map_err(|e| e.to_string())?;
            std::fs::write(dir.join("meta.json"), format!("{{\"n\":{n}}}"))
                .map_err(|e| e.to_string())?;
            Ok(vec![SessionRecord::default(); n])
        }
    }

    #[test]
    fn publish_reuses_unchanged_files_and_sync_fetches_only_new_ones() {
        let root = tmp("publish");
        let store = LocalStore::open(root.join("store")).unwrap();
        let s1 = publish(&store, &root.join("w"), "t1", &mut update_with(1)).unwrap();
        assert_eq!((s1.generation, s1.uploaded, s1.reused), (1, 2, 0));
        let r1 = sync(&store, &root.join("reader")).unwrap().unwrap();
        assert_eq!((r1.generation, r1.downloaded), (1, 2));
        let s2 = publish(&store, &root.join("w"), "t2", &mut update_with(2)).unwrap();
        // shared.idx is the same; seg1.idx stays in the folder (the stand-in never deletes)
        assert_eq!((s2.generation, s2.uploaded, s2.reused), (2, 1, 2));
        let r2 = sync(&store, &root.join("reader")).unwrap().unwrap();
        assert_eq!((r2.generation, r2.downloaded, r2.removed), (2, 1, 0));
        assert_eq!(
            std::fs::read_to_string(root.join("reader/index/meta.json")).unwrap(),
            "{\"n\":2}"
        );
        let recs: Vec<SessionRecord> =
            serde_json::from_slice(&std::fs::read(root.join("reader/records.json")).unwrap())
                .unwrap();
        assert_eq!(recs.len(), 2);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn files_leave_only_when_no_manifest_a_reader_holds_names_them() {
        let root = tmp("gc");
        let store = LocalStore::open(root.join("store")).unwrap();
        let w = root.join("w");
        let fresh = |dir: &Path, n: usize| {
            // a writer that rewrites everything (a full rebuild)
            for e in std::fs::read_dir(dir).unwrap() {
                std::fs::remove_file(e.unwrap().path()).unwrap();
            }
            update_with(n)(dir)
        };
        for n in 1..=4 {
            publish(&store, &w, "t", &mut |d: &Path| fresh(d, n)).unwrap();
        }
        // an orphan a losing writer left at the current generation, and one still uploading
        store
            .put("index/files/000000000004-orphan.idx", b"o")
            .unwrap();
        store
            .put("index/files/000000000006-inflight.idx", b"i")
            .unwrap();
        let s = publish(&store, &w, "t", &mut |d: &Path| fresh(d, 5)).unwrap();
        let files = store.list("index/files/").unwrap();
        // generation 5's files, generation 4's (the previous manifest), the in-flight one
        assert!(
            files.iter().any(|k| k.contains("000000000005-seg5")),
            "{files:?}"
        );
        assert!(
            files.iter().any(|k| k.contains("000000000004-seg4")),
            "{files:?}"
        );
        assert!(files.iter().any(|k| k.contains("inflight")), "{files:?}");
        assert!(
            !files
                .iter()
                .any(|k| k.contains("orphan") || k.contains("seg3")),
            "{files:?}"
        );
        assert!(s.deleted >= 3, "{s:?}");
        std::fs::remove_dir_all(root).unwrap();
    }
}
