//! The S3 store and the published index against a real local S3 (moto).

use ssm_audit_core::rebuild;
use std::path::Path;
use std::sync::{Arc, Barrier};

use ssm_audit_core::correlate::SessionRecord;
use ssm_audit_core::publish;
use ssm_audit_core::store::Store;
use ssm_audit_functions::s3::{s3_client, S3Store};
use ssm_audit_testing::{bucket, moto, runtime};

fn store(rt: &tokio::runtime::Runtime, name: &str, prefix: &str) -> S3Store {
    let client = s3_client(&moto().config());
    let b = rt.block_on(bucket(&client, name));
    S3Store::new(
        client,
        format!("s3://{b}/{prefix}").parse().unwrap(),
        rt.handle().clone(),
    )
}

#[test]
fn s3_store_passes_the_shared_suite() {
    let rt = runtime();
    ssm_audit_core::store::check_store(&store(&rt, "suite", ""));
    ssm_audit_core::store::check_store(&store(&rt, "suite", "audit/store"));
}

#[test]
fn keys_stay_under_the_prefix() {
    let rt = runtime();
    let s = store(&rt, "prefix", "p/q");
    s.put("a/b.json", b"x").unwrap();
    let client = s3_client(&moto().config());
    let bucket = s.url().bucket.clone();
    let keys: Vec<String> = rt.block_on(async {
        client
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .unwrap()
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    });
    assert_eq!(keys, ["p/q/a/b.json"]);
    assert_eq!(s.list("").unwrap(), ["a/b.json"]);
    assert!(s.put("../x", b"x").is_err());
}

fn records(ids: &[&str]) -> Vec<SessionRecord> {
    ids.iter()
        .map(|id| SessionRecord {
            session_id: Some((*id).to_owned()),
            ..SessionRecord::default()
        })
        .collect()
}

/// An update that adds `id` to whatever the published index already holds (the index folder
/// keeps one file per session; meta.json lists them).
fn add_session(dir: &Path, id: &str) -> Result<Vec<SessionRecord>, String> {
    std::fs::write(dir.join(format!("{id}.seg")), id).map_err(|e| e.to_string())?;
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".seg")
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    std::fs::write(dir.join("meta.json"), serde_json::to_string(&ids).unwrap()).unwrap();
    Ok(records(&ids.iter().map(String::as_str).collect::<Vec<_>>()))
}

#[test]
fn two_writers_racing_never_lose_an_update() {
    let rt = runtime();
    let s = Arc::new(store(&rt, "race", "idx"));
    let work = tempfile::tempdir().unwrap();
    publish::publish(&*s, &work.path().join("w0"), "t0", &mut |d: &Path| {
        add_session(d, "base")
    })
    .unwrap();
    // both writers read the same manifest, then both try to publish: one must lose and redo
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|id| {
            let (s, barrier, dir) = (s.clone(), barrier.clone(), work.path().join(id));
            std::thread::spawn(move || {
                let mut first = true;
                publish::publish(&*s, &dir, "t1", &mut |d: &Path| {
                    let r = add_session(d, id);
                    if std::mem::take(&mut first) {
                        barrier.wait();
                    }
                    r
                })
                .unwrap()
            })
        })
        .collect();
    let stats: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let tries: Vec<u32> = stats.iter().map(|s| s.tries).collect();
    assert!(
        tries.contains(&1) && tries.iter().any(|&t| t >= 2),
        "{tries:?}"
    );
    let cache = work.path().join("reader");
    let synced = publish::sync(&*s, &cache).unwrap().unwrap();
    assert_eq!(synced.generation, 3);
    let recs: Vec<SessionRecord> =
        serde_json::from_slice(&std::fs::read(cache.join("records.json")).unwrap()).unwrap();
    let ids: Vec<_> = recs
        .iter()
        .filter_map(|r| r.session_id.as_deref())
        .collect();
    assert_eq!(ids, ["alice", "base", "bob"]);
    assert_eq!(
        std::fs::read_to_string(cache.join("index/meta.json")).unwrap(),
        r#"["alice","base","bob"]"#
    );
    // a second sync downloads nothing
    assert_eq!(publish::sync(&*s, &cache).unwrap().unwrap().downloaded, 0);
}

/// The indexer reads an S3 store's session texts many at a time
/// ([`Store::parallel_reads`]) and indexes them in order: the records and the hits are those
/// of a folder holding the same evidence, which is read one text at a time.
#[test]
fn an_index_built_from_s3_is_the_one_built_from_a_folder() {
    use ssm_audit_core::correlate::CorrelateOptions;
    use ssm_audit_core::index::{self, Filters};
    use ssm_audit_core::ingest::{self, IngestReport};
    use ssm_audit_core::store::LocalStore;

    let rt = runtime();
    let s3 = store(&rt, "read-ahead", "audit");
    assert!(s3.parallel_reads() > 1);
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStore::open(dir.path().join("store")).unwrap();
    assert_eq!(local.parallel_reads(), 1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../indexer/tests/recordings");
    let shells = ["dash-80x24", "bash5-audit-100x30", "bash5-ubuntu-60x20"];
    let sessions = 40;
    for i in 0..sessions {
        let log = std::fs::read(root.join(shells[i % 3]).join("session.log")).unwrap();
        let sid = ssm_audit_testing::session_of(&log);
        let (_, suffix) = sid.rsplit_once('-').unwrap();
        let new = format!("user{i:02}-{suffix}");
        let log = String::from_utf8_lossy(&log)
            .replace(&sid, &new)
            .into_bytes();
        for s in [&s3 as &dyn Store, &local] {
            let mut report = IngestReport::default();
            ingest::ingest_input(s, &format!("{new}.log"), log.clone(), &mut report);
            assert!(report.failed.is_empty(), "{:?}", report.failed);
        }
    }
    let opts = CorrelateOptions::default();
    let from_s3 = rebuild::rebuild(&s3, &dir.path().join("index-s3"), &opts).unwrap();
    let from_folder = rebuild::rebuild(&local, &dir.path().join("index-folder"), &opts).unwrap();
    assert_eq!(from_s3.len(), sessions);
    assert!(from_s3.iter().all(|r| r.transcript.lines > 0));
    assert_eq!(from_s3, from_folder);
    // `hello` is in the dash and bash5-ubuntu recordings only: 14 + 13 sessions
    for (q, want) in [
        ("hello", 27),
        ("echo", sessions),
        ("command:echo", sessions),
    ] {
        let hits = |d: &str| {
            let (idx, fields) = index::open_or_create(&dir.path().join(d)).unwrap();
            index::search(&idx, &fields, q, &Filters::default(), 10_000).unwrap()
        };
        let (a, b) = (hits("index-s3"), hits("index-folder"));
        let found: std::collections::BTreeSet<&str> =
            a.iter().map(|h| h.session_id.as_str()).collect();
        assert_eq!(found.len(), want, "{q}");
        assert_eq!(a, b, "{q}");
    }
}
