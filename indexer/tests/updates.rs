//! The index kept up to date: after evidence arrives in several batches, an index updated
//! batch by batch answers exactly as one built afresh from everything.

use serde_json::json;
use ssm_audit_core::correlate::CorrelateOptions;
use ssm_audit_core::index::{self, Filters};
use ssm_audit_core::ingest::{self, IngestReport};
use ssm_audit_core::store::{LocalStore, Store};
use ssm_audit_core::{keys, rebuild, text};

use crate::common::data;

fn input(name: &str) -> (String, Vec<u8>) {
    (name.to_owned(), std::fs::read(data(name)).unwrap())
}

fn ingest_all(store: &LocalStore, inputs: &[(String, Vec<u8>)]) {
    let mut r = IngestReport::default();
    for (name, bytes) in inputs {
        ingest::ingest_input(store, name, bytes.clone(), &mut r);
    }
    assert!(r.failed.is_empty(), "{:?}", r.failed);
}

fn answers(dir: &std::path::Path) -> Vec<Vec<index::Hit>> {
    let (idx, f) = index::open_or_create(&dir.join("index")).unwrap();
    [
        "cat /etc/shadow",
        "command:echo",
        "kubectl OR dash",
        "hello",
        "DB_PASSWORD",
    ]
    .iter()
    .map(|q| index::search(&idx, &f, q, &Filters::default(), 1000).unwrap())
    .collect()
}

#[test]
fn an_index_updated_batch_by_batch_answers_as_one_built_afresh() {
    let audit = input("recordings/bash5-audit-100x30/session.log");
    let dash = input("recordings/dash-80x24/session.log");
    let ubuntu = input("recordings/bash5-ubuntu-80x24/session.log");
    // the audit session's StartSession arrives first, its transcript later
    let mut start: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data(
            "data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json",
        ))
        .unwrap(),
    )
    .unwrap();
    start["responseElements"] =
        json!({"sessionId": ssm_audit_core::transcript::header_of(&audit.1).session_id});
    start["eventID"] = json!("updates-0001");
    let start = ("start.json".to_owned(), serde_json::to_vec(&start).unwrap());
    let batches = [vec![start, dash.clone()], vec![audit, ubuntu], vec![dash]];
    let opts = CorrelateOptions::default();

    let step = tempfile::tempdir().unwrap();
    let step_store = LocalStore::open(step.path()).unwrap();
    let segments = || {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(step.path().join("index/meta.json")).unwrap())
                .unwrap();
        let mut ids: Vec<String> = meta["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["segment_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let mut sizes = Vec::new();
    let mut segs = Vec::new();
    for b in &batches {
        ingest_all(&step_store, b);
        let records = rebuild::rebuild(&step_store, &step.path().join("index"), &opts).unwrap();
        sizes.push(records.len());
        segs.push(segments());
    }
    assert_eq!(sizes, [2, 3, 3]);
    // nothing changed in the last batch (the same file again): the index was left as it was
    assert_eq!(segs[1], segs[2]);

    let fresh = tempfile::tempdir().unwrap();
    let fresh_store = LocalStore::open(fresh.path()).unwrap();
    ingest_all(&fresh_store, &batches.concat());
    let records = rebuild::rebuild(&fresh_store, &fresh.path().join("index"), &opts).unwrap();

    assert_eq!(rebuild::load_records(&step_store).unwrap(), records);
    let (a, b) = (answers(step.path()), answers(fresh.path()));
    assert_eq!(a, b);
    // the audit session, indexed once without its transcript and again with it: found once
    assert_eq!(a[0].len(), 1, "{:?}", a[0]);
    assert!(a[1].len() >= 3, "{:?}", a[1]);
}

#[test]
fn a_rebuild_killed_between_the_index_commit_and_its_records_is_redone_not_doubled() {
    use ssm_audit_core::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let index_dir = dir.path().join("index");
    let opts = CorrelateOptions::default();
    ingest_all(&store, &[input("recordings/dash-80x24/session.log")]);
    rebuild::rebuild(&store, &index_dir, &opts).unwrap();
    let before = store.get("records.json").unwrap().unwrap();
    ingest_all(
        &store,
        &[input("recordings/bash5-audit-100x30/session.log")],
    );
    rebuild::rebuild(&store, &index_dir, &opts).unwrap();
    let want = answers(dir.path());
    // as a kill leaves it: the index committed, `records.json` still the one before
    store.put("records.json", &before).unwrap();
    rebuild::rebuild(&store, &index_dir, &opts).unwrap();
    let got = answers(dir.path());
    assert_eq!(got[0].len(), 1, "{:?}", got[0]);
    assert_eq!(got, want);
}

#[test]
fn an_index_made_by_another_version_is_built_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    ingest_all(
        &store,
        &[input("recordings/bash5-audit-100x30/session.log")],
    );
    // an index with other fields, holding the same session: as an older version leaves it
    let index_dir = dir.path().join("index");
    std::fs::create_dir_all(&index_dir).unwrap();
    let mut b = tantivy::schema::Schema::builder();
    let text = b.add_text_field("text", tantivy::schema::TEXT | tantivy::schema::STORED);
    let old = tantivy::Index::create_in_dir(&index_dir, b.build()).unwrap();
    let mut w: tantivy::IndexWriter = old.writer(15_000_000).unwrap();
    w.add_document(tantivy::doc!(text => "cat /etc/shadow"))
        .unwrap();
    w.commit().unwrap();
    drop(w);
    let Err(index::IndexError::OtherVersion(at)) = index::open_or_create(&index_dir) else {
        panic!("an index with other fields opened as this version's");
    };
    assert_eq!(at, index_dir);

    let records = rebuild::rebuild(&store, &index_dir, &CorrelateOptions::default()).unwrap();
    assert_eq!(records.len(), 1);
    let hits = &answers(dir.path())[0];
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits[0].text,
        "root@vm:/work/main# cat /etc/shadow | head -3"
    );
}

/// A folder store that counts the fact files read.
struct Counting {
    inner: LocalStore,
    fact_reads: std::sync::atomic::AtomicUsize,
}

impl ssm_audit_core::store::Store for Counting {
    fn get(&self, key: &str) -> std::io::Result<Option<Vec<u8>>> {
        if key.starts_with("facts/") {
            self.fact_reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.inner.get(key)
    }
    fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.put(key, bytes)
    }
    fn list(&self, prefix: &str) -> std::io::Result<Vec<String>> {
        self.inner.list(prefix)
    }
    fn delete(&self, key: &str) -> std::io::Result<()> {
        self.inner.delete(key)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn get_tagged(&self, key: &str) -> std::io::Result<Option<(Vec<u8>, String)>> {
        self.inner.get_tagged(key)
    }
    fn put_if(
        &self,
        key: &str,
        bytes: &[u8],
        expect: ssm_audit_core::store::Expect<'_>,
    ) -> std::io::Result<Option<String>> {
        self.inner.put_if(key, bytes, expect)
    }
}

fn sorted_facts(store: &dyn ssm_audit_core::store::Store) -> Vec<String> {
    let mut v: Vec<String> = rebuild::load_facts(store)
        .unwrap()
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn facts_are_read_once_then_kept_in_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = Counting {
        inner: LocalStore::open(dir.path()).unwrap(),
        fact_reads: Default::default(),
    };
    let trail = input("data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json");
    let dash = input("recordings/dash-80x24/session.log");
    let audit = input("recordings/bash5-audit-100x30/session.log");
    ingest_all(&store.inner, &[trail, dash]);
    let first = sorted_facts(&store);
    assert_eq!(
        store.fact_reads.load(std::sync::atomic::Ordering::Relaxed),
        2,
        "every fact file, once"
    );
    assert!(store.inner.get(keys::FACTS_SNAPSHOT).unwrap().is_some());
    assert_eq!(sorted_facts(&store), first);
    assert_eq!(
        store.fact_reads.load(std::sync::atomic::Ordering::Relaxed),
        2,
        "nothing new: the snapshot only"
    );

    ingest_all(&store.inner, &[audit]);
    let second = sorted_facts(&store);
    assert_eq!(
        store.fact_reads.load(std::sync::atomic::Ordering::Relaxed),
        3,
        "only the new fact file"
    );
    assert_eq!(second.len(), first.len() + 1);

    // a snapshot that cannot be read, or that names a fact file gone from the store, is
    // made again from the fact files
    store.inner.put(keys::FACTS_SNAPSHOT, b"not gzip").unwrap();
    assert_eq!(sorted_facts(&store), second);
    assert_eq!(
        store.fact_reads.load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    let gone = store.inner.list("facts/").unwrap().pop().unwrap();
    store.inner.delete(&gone).unwrap();
    let third = sorted_facts(&store);
    assert_eq!(
        store.fact_reads.load(std::sync::atomic::Ordering::Relaxed),
        8
    );
    assert!(third.len() < second.len());
    let fresh = tempfile::tempdir().unwrap();
    for k in store.inner.list("facts/").unwrap() {
        let bytes = store.inner.get(&k).unwrap().unwrap();
        LocalStore::open(fresh.path())
            .unwrap()
            .put(&k, &bytes)
            .unwrap();
    }
    assert_eq!(
        third,
        sorted_facts(&LocalStore::open(fresh.path()).unwrap())
    );
}

#[test]
fn a_gzipped_transcript_ingests_as_the_plain_one() {
    let rec = std::fs::read(data("recordings/bash5-ubuntu-80x24/session.log")).unwrap();
    let sid = ssm_audit_core::transcript::header_of(&rec)
        .session_id
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let plain = files.path().join(format!("{sid}.log"));
    std::fs::write(&plain, &rec).unwrap();
    let zipped = files.path().join(format!("{sid}.log.gz"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &rec).unwrap();
    std::fs::write(&zipped, gz.finish().unwrap()).unwrap();
    let results: Vec<_> = [plain, zipped]
        .iter()
        .map(|file| {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::open(dir.path()).unwrap();
            let mut r = IngestReport::default();
            ingest::ingest_file(&store, file, &mut r).unwrap();
            assert!(r.failed.is_empty() && r.facts == 1, "{r:?}");
            let records = rebuild::rebuild(
                &store,
                &dir.path().join("index"),
                &CorrelateOptions::default(),
            )
            .unwrap();
            let text = text::load_text(&store, &sid).unwrap().unwrap();
            // the unzipped file was temporary
            let left = std::fs::read_dir(dir.path().join(".tmp"))
                .into_iter()
                .flatten()
                .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
                .count();
            assert_eq!(left, 0);
            let mut records = serde_json::to_value(&records).unwrap();
            // where the copy was read is the one difference
            for r in records.as_array_mut().unwrap() {
                for c in r["transcript"]["copies"].as_array_mut().unwrap() {
                    c.as_object_mut().unwrap().remove("locations");
                }
            }
            (records, text)
        })
        .collect();
    assert_eq!(results[0].1, results[1].1);
    assert!(!results[0].1.commands.is_empty());
    assert_eq!(results[0].0, results[1].0);
}
