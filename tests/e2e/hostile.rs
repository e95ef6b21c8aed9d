//! Hostile evidence and queries: nothing breaks, good evidence beside them is read.

use super::*;

// ---- hostile evidence -----------------------------------------------------------------------

/// Evidence an attacker on a managed node can write, made here: forged session ids (NUL,
/// backslash, `..`), an out-of-range time, a FIFO, links to a device, out of the folder and in
/// a cycle, a setuid world-writable transcript; beside them, one good session.
pub(crate) fn hostile_evidence(dir: &Path, outside: &Path) {
    use std::os::unix::fs::{symlink, PermissionsExt};
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let sso: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(
            "indexer/tests/data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let start = |id: &str, sid: &str, t: &str| {
        let mut r = sso.clone();
        r["eventID"] = serde_json::json!(id);
        r["eventTime"] = serde_json::json!(t);
        r["responseElements"] = serde_json::json!({ "sessionId": sid });
        r
    };
    let records = serde_json::json!({"Records": [
        start("h-1", "evil\u{0}x-0e34861185201706f", "2026-11-20T09:00:00Z"),
        start("h-2", "..\\x-0e34861185201706f", "2026-11-20T09:01:00Z"),
        start("h-3", "../../etc-0e34861185201706f", "2026-11-20T09:02:00Z"),
        start("h-4", "late-0e34861185201706f", "9999-12-31T23:59:59-01:00"),
        start("h-5", AUDIT_SID, "2026-11-20T09:03:00Z"),
    ]});
    std::fs::write(
        dir.join("trail.json"),
        serde_json::to_vec(&records).unwrap(),
    )
    .unwrap();
    let t = dir.join(format!("{AUDIT_SID}.log"));
    std::fs::copy(root().join(AUDIT_REC).join("session.log"), &t).unwrap();
    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o4777)).unwrap();
    // a second, benign copy of the same session under another prefix, written (as an S3
    // notification records) by another node than the session's target
    std::fs::create_dir_all(dir.join("other")).unwrap();
    std::fs::write(
        dir.join(format!("other/{AUDIT_SID}.log")),
        "$ echo benign-copy-marker\nbenign-copy-marker\n$ exit\n",
    )
    .unwrap();
    let notification = serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-20T09:30:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLEEXAMPLE:i-0badbadbadbadbad0"},
        "s3": {"bucket": {"name": "session-logs"},
               "object": {"key": format!("other/{}.log", AUDIT_SID.replace('@', "%40")),
                          "size": 40, "sequencer": "0A1B2C3D4E5F678901"}}
    }]});
    std::fs::write(
        dir.join("s3-events.json"),
        serde_json::to_vec(&notification).unwrap(),
    )
    .unwrap();
    let fifo = dir.join("pipe.log");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    symlink("/dev/zero", dir.join("zero.log")).unwrap();
    symlink("..", dir.join("sub/up")).unwrap();
    symlink("../..", dir.join("sub/upup")).unwrap();
    std::fs::write(outside, b"outside-secret-marker\n").unwrap();
    std::fs::set_permissions(outside, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink(outside, dir.join("secret-x-0e34861185201706f.log")).unwrap();
}

#[test]
pub(crate) fn hostile_evidence_breaks_nothing_and_good_evidence_beside_it_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    let outside = tmp.path().join("private.txt");
    hostile_evidence(&ev, &outside);
    let data = tmp.path().join("data");
    // no hang (a FIFO, /dev/zero, link cycles), no panic
    let o = audit(&data, &["ingest", ev.to_str().unwrap(), "--json"]);
    assert!(matches!(o.status.code(), Some(0 | 2)), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let skipped = v["report"]["inputs_skipped"].to_string();
    for why in ["not a regular file", "symbolic link"] {
        assert!(skipped.contains(why), "{why}: {skipped}");
    }
    assert!(
        skipped.contains("pipe.log") && skipped.contains("zero.log"),
        "{skipped}"
    );
    // the out-of-range time is a bad record, named and counted
    let failed = v["report"]["failed"].to_string();
    assert!(failed.contains("trail.json"), "{failed}");
    // forged ids are data: their sessions are there, and the folder still works
    let s: serde_json::Value =
        serde_json::from_slice(&audit(&data, &["sessions", "--json"]).stdout).unwrap();
    let ids: Vec<&str> = s
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["session_id"].as_str())
        .collect();
    for id in [
        "evil\u{0}x-0e34861185201706f",
        "..\\x-0e34861185201706f",
        "../../etc-0e34861185201706f",
        AUDIT_SID,
    ] {
        assert!(ids.contains(&id), "{id:?} in {ids:?}");
    }
    // a second ingest and a rebuild still work (a NUL id once broke the folder for good)
    let o = audit(&data, &["ingest", ev.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 2)), "{}", stderr(&o));
    let o = audit(&data, &["ingest"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // the good session beside them is whole and searchable; the file outside is not
    let o = audit(&data, &["search", "shadow", "-l"]);
    assert_eq!(stdout(&o), format!("{AUDIT_SID}\n"));
    // the benign second copy hides nothing: both are searchable, listed and flagged
    let o = audit(&data, &["search", "benign-copy-marker", "-l"]);
    assert_eq!(stdout(&o), format!("{AUDIT_SID}\n"), "{}", stderr(&o));
    let rec = s
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["session_id"] == AUDIT_SID)
        .unwrap();
    assert_eq!(
        rec["transcript"]["copies"].as_array().unwrap().len(),
        2,
        "{rec}"
    );
    for flag in ["multiple-copies", "written-by-other-node"] {
        assert!(rec["flags"].to_string().contains(flag), "{flag}: {rec}");
    }
    let o = audit(&data, &["sessions", "--flag", "multiple-copies"]);
    assert!(stdout(&o).contains(AUDIT_SID), "{}", stdout(&o));
    let o = audit(&data, &["show", AUDIT_SID]);
    let shown = stdout(&o);
    assert!(shown.contains("=== copy "), "{shown}");
    assert!(
        shown.contains("shadow") && shown.contains("benign-copy-marker"),
        "{shown}"
    );
    assert!(shown.contains("i-0badbadbadbadbad0"), "{shown}");
    let o = audit(&data, &["search", "outside-secret-marker"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // nothing escapes the data folder, and nothing in it is readable by others
    for e in walk_all(&data) {
        let mode = std::fs::symlink_metadata(&e).unwrap().permissions().mode() & 0o7777;
        assert!(e.starts_with(&data), "{}", e.display());
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", e.display());
    }
    // --follow reads links, each file once, cycles ending
    let data2 = tmp.path().join("data2");
    let o = audit(
        &data2,
        &["ingest", ev.to_str().unwrap(), "--follow", "--json"],
    );
    assert!(matches!(o.status.code(), Some(0 | 2)), "{}", stderr(&o));
    let o = audit(&data2, &["search", "outside-secret-marker", "-l"]);
    assert_eq!(stdout(&o), "secret-x-0e34861185201706f\n", "{}", stderr(&o));
}

pub(crate) fn walk_all(p: &Path) -> Vec<PathBuf> {
    let mut out = vec![p.to_owned()];
    if std::fs::symlink_metadata(p).unwrap().is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            out.extend(walk_all(&e.unwrap().path()));
        }
    }
    out
}

#[test]
pub(crate) fn hostile_queries_and_ages_are_errors_not_crashes() {
    let (_tmp, data) = ingested();
    let deep = format!("{}shadow{}", "(".repeat(20_000), ")".repeat(20_000));
    let o = audit(&data, &["search", &deep]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nest more than 64"), "{}", stderr(&o));
    let o = audit(&data, &["sessions", "--since", "999999999d"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
