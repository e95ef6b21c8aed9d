//! The index kept up to date: after evidence arrives in several batches, an index updated
//! batch by batch answers exactly as one built afresh from everything.

use serde_json::json;
use ssm_audit_indexer::correlate::CorrelateOptions;
use ssm_audit_indexer::index::{self, Filters};
use ssm_audit_indexer::ingest::{self, IngestReport};
use ssm_audit_indexer::store::LocalStore;

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
        json!({"sessionId": ssm_audit_indexer::transcript::header_of(&audit.1).session_id});
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
        let records = ingest::rebuild(&step_store, &step.path().join("index"), &opts).unwrap();
        sizes.push(records.len());
        segs.push(segments());
    }
    assert_eq!(sizes, [2, 3, 3]);
    // nothing changed in the last batch (the same file again): the index was left as it was
    assert_eq!(segs[1], segs[2]);

    let fresh = tempfile::tempdir().unwrap();
    let fresh_store = LocalStore::open(fresh.path()).unwrap();
    ingest_all(&fresh_store, &batches.concat());
    let records = ingest::rebuild(&fresh_store, &fresh.path().join("index"), &opts).unwrap();

    assert_eq!(ingest::load_records(&step_store).unwrap(), records);
    let (a, b) = (answers(step.path()), answers(fresh.path()));
    assert_eq!(a, b);
    // the audit session, indexed once without its transcript and again with it: found once
    assert_eq!(a[0].len(), 1, "{:?}", a[0]);
    assert!(a[1].len() >= 3, "{:?}", a[1]);
}
