//! Questions over a data folder of real evidence: sessions, search, show, and no silent wrong answers.

use super::*;
use crate::reports::report_in;

#[test]
pub(crate) fn ingest_summarises_what_was_read_skipped_and_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    evidence(&ev);
    std::fs::write(ev.join("broken.json.gz"), b"\x1f\x8b\x08garbage").unwrap();
    let data = tmp.path().join("data");
    let o = audit(&data, &["ingest", ev.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a failed input means exit 2");
    let out = stdout(&o);
    assert!(out.contains("read 7 inputs"), "{out}");
    assert!(
        out.contains("kept 1 CloudTrail digest files for `ssm-audit verify`"),
        "{out}"
    );
    assert!(
        out.contains("notes.json: not Session Manager evidence"),
        "{out}"
    );
    assert!(
        out.contains("failed") && out.contains("broken.json.gz"),
        "{out}"
    );
    // everything good is still there
    let s = audit(&data, &["sessions", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
}

#[test]
pub(crate) fn sessions_tunnels_and_gaps() {
    let (_tmp, data) = ingested();
    let s = audit(&data, &["sessions", "--json"]);
    assert_eq!(s.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            // by time: the EventBridge sample's start, then the session seen only through a
            // TerminateSession (its time approximate, from that event)
            "jojithom-Isengard-08ea7d78b1fd0d119",
            "root-5hvouhyykagjjk3f6glxk8o6bu",
            AUDIT_SID,
            UBUNTU_SID,
            "alice@example.com-ilpxvkhghl9vs9ia2xfdyp4dka",
        ]
    );
    let audit_rec = &v[2];
    assert_eq!(audit_rec["principal"], "alice@example.com");
    assert_eq!(audit_rec["identity_type"], "SSO");
    assert_eq!(audit_rec["target"], "i-0db1a2b3c4d5e6f70");
    assert_eq!(audit_rec["end_source"], "transcript-upload");
    assert_eq!(audit_rec["transcript"]["commands"], 8);
    assert_eq!(audit_rec["flags"], serde_json::json!([]));
    // filters
    let o = audit(
        &data,
        &["sessions", "--kind", "port-forward-remote", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v[0]["tunnel"],
        serde_json::json!({"host": "db.internal", "port": 5432, "local_port": 15432})
    );
    assert_eq!(
        audit(&data, &["sessions", "--user", "nobody"])
            .status
            .code(),
        Some(1)
    );
    let o = audit(&data, &["sessions", "--flag", "denied", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v[0]["error_code"].as_str(), v[0]["session_id"].as_str()),
        (Some("AccessDenied"), None)
    );
    let o = audit(
        &data,
        &[
            "sessions",
            "--since",
            "2026-11-20T09:30:00Z",
            "--until",
            "2026-11-20",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "until before since is a mistake, not an empty period"
    );
    let o = audit(
        &data,
        &[
            "sessions",
            "--since",
            "2026-11-20T09:30:00Z",
            "--until",
            "2026-11-21",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    // tunnels
    let o = audit(&data, &["tunnels"]);
    assert_eq!(o.status.code(), Some(0));
    let t = stdout(&o);
    assert!(
        t.contains("db.internal:5432") && t.contains("15432") && t.contains("1.2.3.4"),
        "{t}"
    );
    // gaps, oldest first
    let o = audit(&data, &["gaps", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let gaps: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["session_id"].as_str().unwrap_or("-").to_owned(),
                r["flags"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        gaps,
        [
            (
                "jojithom-Isengard-08ea7d78b1fd0d119".to_owned(),
                "transcript-missing".to_owned()
            ),
            (
                "root-5hvouhyykagjjk3f6glxk8o6bu".to_owned(),
                "transcript-missing".to_owned()
            ),
            ("-".to_owned(), "denied".to_owned()),
        ]
    );
}

pub(crate) fn hits(data: &Path, q: &str) -> Vec<(String, u64, String, bool)> {
    let o = audit(data, &["search", q, "--json"]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{q}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["session_id"].as_str().unwrap().to_owned(),
                h["line"].as_u64().unwrap(),
                h["text"].as_str().unwrap().to_owned(),
                h["is_command"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
pub(crate) fn search_finds_what_auditors_look_for() {
    let (_tmp, data) = ingested();
    let a = |line: u64, text: &str, cmd: bool| (AUDIT_SID.to_owned(), line, text.to_owned(), cmd);
    assert_eq!(
        hits(&data, "/etc/shadow"),
        [a(3, "root@vm:/work/main# cat /etc/shadow | head -3", true)]
    );
    assert_eq!(
        hits(&data, "DB_PASSWORD"),
        [a(
            7,
            "root@vm:/work/main# export DB_PASSWORD='hunter2-not-real'",
            true
        )]
    );
    assert_eq!(
        hits(&data, "10.0.3.17"),
        [
            a(
                8,
                "root@vm:/work/main# echo connecting to 10.0.3.17 port 5432",
                true
            ),
            a(9, "connecting to 10.0.3.17 port 5432", false),
        ]
    );
    assert_eq!(
        hits(&data, "\"kubectl get secrets\""),
        [
            a(10, "root@vm:/work/main# kubectl get secrets -n prod", true),
            a(19, "    5  kubectl get secrets -n prod", false)
        ]
    );
    let rm = hits(&data, "\"rm -rf\"");
    assert_eq!(
        rm.iter().filter(|h| h.0 == AUDIT_SID).count(),
        2,
        "the command and history's echo of it: {rm:?}"
    );
    assert!(
        rm.iter()
            .any(|h| h.0 == UBUNTU_SID && h.2.ends_with("rm -rf /tmp/not-run^C") && !h.3),
        "the cancelled line is text, not a command"
    );
    // command: matches only commands
    assert_eq!(
        hits(&data, "command:\"rm -rf\"").len(),
        1,
        "only the audit session ran rm -rf"
    );
    let ja = hits(&data, "データベース");
    assert_eq!(ja.len(), 2, "{ja:?}");
    assert!(ja
        .iter()
        .all(|h| h.0 == UBUNTU_SID && h.2.contains("本番環境のデータベース")));
    // an instance id: session fields, not text
    assert_eq!(
        hits(&data, "target:i-0db1a2b3c4d5e6f70 AND shadow").len(),
        1
    );
    assert!(
        hits(&data, "i-0a1b2c3d4e5f60718").is_empty(),
        "no transcript line names it"
    );
    // boolean, prefix, filters
    assert_eq!(hits(&data, "kubect* AND NOT history").len(), 2);
    assert_eq!(hits(&data, "shadow OR DB_PASSWORD").len(), 2);
    assert_eq!(
        hits(&data, "user:alice@example.com AND command:exit").len(),
        2
    );
    let o = audit(&data, &["search", "shadow", "--user", "bob"]);
    assert_eq!(o.status.code(), Some(1), "no hits: exit 1");
    let o = audit(&data, &["search", "(unclosed"]);
    assert_eq!(o.status.code(), Some(2));
    // grep-like text output with context and -l
    let o = audit(&data, &["search", "DB_PASSWORD", "-C", "1"]);
    let t = stdout(&o);
    assert_eq!(t.lines().count(), 3, "{t}");
    assert!(
        t.lines()
            .nth(1)
            .unwrap()
            .contains(":7>root@vm:/work/main# export DB_PASSWORD"),
        "{t}"
    );
    assert!(t.lines().next().unwrap().contains(":6-"), "{t}");
    let o = audit(&data, &["search", "exit", "-l"]);
    assert_eq!(stdout(&o), format!("{AUDIT_SID}\n{UBUNTU_SID}\n"));
}

#[test]
pub(crate) fn show_marks_commands_and_raw_escapes_everything() {
    let (_tmp, data) = ingested();
    let o = audit(&data, &["show", AUDIT_SID]);
    assert_eq!(o.status.code(), Some(0));
    let t = stdout(&o);
    assert!(
        t.contains(">     3  root@vm:/work/main# cat /etc/shadow | head -3"),
        "{t}"
    );
    assert!(t.contains("\n      4  root:*:"), "{t}");
    let o = audit(&data, &["show", AUDIT_SID, "--raw"]);
    let t = stdout(&o);
    assert!(
        t.contains("\\e[?2004h") && t.contains("\\r\\r\\n"),
        "control bytes are escaped"
    );
    assert!(!t.contains('\x1b'));
    let o = audit(&data, &["show", AUDIT_SID, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["text"]["commands"][0],
        serde_json::json!([1, "sudo -n true 2>/dev/null; echo privileged"])
    );
    let o = audit(&data, &["show", "nobody-0e34861185201706f"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no session nobody-0e34861185201706f"));
}

#[test]
pub(crate) fn an_index_made_by_another_version_is_built_again() {
    let (_tmp, data) = ingested();
    let want = hits(&data, "\"cat /etc/shadow\"");
    assert!(!want.is_empty());
    // what another version left: the same index with another tokenizer in its schema
    let meta = data.join("index/meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    assert!(text.contains("\"ssm_audit\""), "{text}");
    std::fs::write(&meta, text.replace("\"ssm_audit\"", "\"ssm_audit_v0\"")).unwrap();

    let o = audit(&data, &["search", "--json", "\"cat /etc/shadow\""]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("was made by another version; building it again"),
        "{err}"
    );
    assert_eq!(hits(&data, "\"cat /etc/shadow\""), want);

    // `ingest` with no PATH builds the index again from the store
    let sessions = audit(&data, &["sessions", "--json"]).stdout;
    std::fs::remove_dir_all(data.join("index")).unwrap();
    let o = audit(&data, &["ingest"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).starts_with("read 0 inputs"), "{}", stdout(&o));
    assert_eq!(audit(&data, &["sessions", "--json"]).stdout, sessions);
    assert_eq!(hits(&data, "\"cat /etc/shadow\""), want);
}

#[test]
pub(crate) fn ingesting_again_or_in_another_order_changes_nothing() {
    let (tmp, data) = ingested();
    let first = audit(&data, &["sessions", "--json"]).stdout;
    let ev = tmp.path().join("evidence");
    assert_eq!(
        audit(&data, &["ingest", ev.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        audit(&data, &["sessions", "--json"]).stdout,
        first,
        "re-ingest"
    );
    // one file at a time, in reverse order, into a fresh folder
    let mut files = Vec::new();
    let mut stack = vec![ev.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                files.push(p)
            }
        }
    }
    files.sort();
    files.reverse();
    let other = tmp.path().join("other");
    for f in &files {
        audit(&other, &["ingest", f.to_str().unwrap()]);
    }
    assert_eq!(
        audit(&other, &["sessions", "--json"]).stdout,
        first,
        "another order"
    );
    assert_eq!(hits(&other, "shadow"), hits(&data, "shadow"));
}

#[test]
pub(crate) fn quickstart_runs_on_bundled_data() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["quickstart", "--dir", tmp.path().to_str().unwrap()], None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let t = stdout(&o);
    for want in [
        "db-prod.cluster-c1x2y3.us-east-1.rds.amazonaws.com:5432",
        "(AccessDenied)",
        "no-start-event,open",
        "本番環境のデータベース",
        "transcript-missing",
        // ECS Exec into a container, and a session that went from dash to bash and back
        "ecs:prod_4d5e6f0a1b2c3d4e",
    ] {
        assert!(t.contains(want), "{want} missing from:\n{t}");
    }
}

#[test]
pub(crate) fn a_transcript_without_a_start_event_is_in_every_period_and_report() {
    // the real recording that runs `cat /etc/shadow`, and no CloudTrail at all
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    copy(
        &format!("{AUDIT_REC}/session.log"),
        &ev.join(format!("{AUDIT_SID}.log")),
    );
    let data = ingest_into(tmp.path(), &ev);
    let o = audit(&data, &["sessions", "--json", "--since", "2000-01-01"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v[0];
    assert_eq!(r["session_id"], AUDIT_SID);
    assert_eq!(r["start"], serde_json::Value::Null, "no StartSession");
    // the header's time: written when the session ended, the earliest evidence there is
    assert_eq!(r["time"], "2026-11-23T15:43:25Z");
    assert_eq!(r["time_source"], "transcript-header");
    assert!(r["flags"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("no-start-event")));
    // people see that the time is approximate
    let t = stdout(&audit(&data, &["sessions"]));
    assert!(t.contains("~2026-11-23T15:43:25Z"), "{t}");
    // in the period filters of gaps and search too
    let g = audit(&data, &["gaps", "--since", "2026-11-23", "--json"]);
    assert_eq!(g.status.code(), Some(0));
    let s = audit(&data, &["search", "shadow", "--since", "2026-11-23", "-l"]);
    assert_eq!(stdout(&s), format!("{AUDIT_SID}\n"));
    // and in the report of its day: the session, its gap and its risky commands
    let o = report_in(&data, "json", ["2026-11-23", "2026-11-24"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["sessions"], 1);
    assert_eq!(v["summary"]["evidence_gaps"], 1);
    assert_eq!(v["evidence_gaps"][0]["gap"], "no-start-event");
    assert_eq!(v["evidence_gaps"][0]["time"], "~2026-11-23T15:43:25Z");
    assert_eq!(v["summary"]["risky_commands"], 5);
    assert_eq!(v["provenance"]["data"]["sessions"], 1);
    assert_eq!(v["provenance"]["data"]["with_start_event"], 0);
    assert_eq!(v["provenance"]["data"]["with_s3_transcript"], 1);
}

#[test]
pub(crate) fn a_session_seen_only_through_terminate_keeps_who_ended_it() {
    let (_tmp, data) = ingested();
    let v: serde_json::Value = serde_json::from_slice(
        &audit(&data, &["sessions", "--json", "--flag", "no-start-event"]).stdout,
    )
    .unwrap();
    let root = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["session_id"] == "root-5hvouhyykagjjk3f6glxk8o6bu")
        .expect("the terminate-only session has no start event");
    let by = &root["terminated_by"];
    assert_eq!(by["identity"]["identity_type"], "Root");
    assert_eq!(by["console"], true);
    assert!(by["source_ip"].is_string(), "{by}");
    assert!(root["account"].is_string(), "{root}");
    assert_eq!(root["account"], by["identity"]["account"]);
    assert_eq!(root["region"], by["region"]);
    assert_eq!(root["time_source"], "terminate-event");
    assert_eq!(root["time"], by["time"]);
    // --account filters on it, as on every other field
    let acct = root["account"].as_str().unwrap();
    let o = audit(&data, &["sessions", "--account", acct, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let accounts: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["account"].as_str().unwrap())
        .collect();
    assert!(accounts.contains(&acct) && accounts.iter().all(|a| *a == acct));
    let o = audit(&data, &["sessions", "--region", "mars-north-1"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
pub(crate) fn a_mistake_in_a_question_is_an_error_not_an_empty_answer() {
    let (tmp, data) = ingested();
    for (args, accepted) in [
        (vec!["sessions", "--kind", "tunnel"], "port-forward-remote"),
        (vec!["gaps", "--flag", "missing"], "transcript-missing"),
        (vec!["search", "x", "--since", "yesterday"], "RFC 3339"),
        (vec!["sessions", "--since", "999999999999d"], "shorter age"),
        (vec!["tunnels", "--until", "2026-13-45"], "RFC 3339"),
    ] {
        let o = audit(&data, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(accepted), "{args:?}: {}", stderr(&o));
    }
    // a folder that does not exist is named, and not made
    let typo = tmp.path().join("dtaa");
    for cmd in [
        vec!["sessions"],
        vec!["search", "x"],
        vec!["gaps"],
        vec!["tunnels"],
        vec!["report"],
        vec!["show", AUDIT_SID],
    ] {
        let o = audit(&typo, &cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}");
        assert!(stderr(&o).contains("dtaa"), "{cmd:?}: {}", stderr(&o));
        assert!(!typo.exists(), "{cmd:?} made the folder");
    }
    // --user ignores case and takes globs; a near miss says what it may have meant
    let o = audit(&data, &["sessions", "--user", "alice"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("did you mean alice@example.com?"),
        "{}",
        stderr(&o)
    );
    let count = |args: &[&str]| stdout(&audit(&data, args)).lines().count();
    assert_eq!(count(&["sessions", "--user", "ALICE@example.COM"]), 4);
    assert_eq!(count(&["sessions", "--user", "alice*"]), 4);
    assert_eq!(count(&["sessions", "--target", "I-0A1B*"]), 3);
}

#[test]
pub(crate) fn search_gives_every_hit_and_every_session() {
    // 1,500 sessions of 8 hits each: 12,000 hits, past the old silent cut of 10,000
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    std::fs::create_dir_all(&ev).unwrap();
    for i in 0..1500 {
        let sid = format!("user{}-{:017x}", i % 7, i);
        let mut body = String::new();
        for l in 0..8 {
            body.push_str(&format!("line {l} needle here\r\nfiller {l}\r\n"));
        }
        std::fs::write(ev.join(format!("{sid}.log")), body).unwrap();
    }
    let data = ingest_into(tmp.path(), &ev);
    let o = audit(&data, &["search", "needle", "-l"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 1500);
    let o = audit(&data, &["search", "needle", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 12_000);
    assert_eq!(
        stdout(&audit(&data, &["search", "needle"])).lines().count(),
        12_000
    );
    // -c counts per session; -m caps per session, as grep's does per file
    let c = stdout(&audit(&data, &["search", "needle", "-c"]));
    assert_eq!(c.lines().count(), 1500);
    assert!(c.lines().all(|l| l.ends_with(":8")), "{c}");
    let m = stdout(&audit(&data, &["search", "needle", "-m", "2"]));
    assert_eq!(m.lines().count(), 3000);
    // filters on the records: user0 has every 7th session
    let o = audit(&data, &["search", "needle", "-l", "--user", "USER0"]);
    assert_eq!(stdout(&o).lines().count(), 215);
}

#[test]
pub(crate) fn search_colour_follows_the_flag() {
    let (_tmp, data) = ingested();
    let red = "\x1b[1;31m";
    let o = audit(&data, &["search", "shadow", "--color", "always"]);
    assert!(stdout(&o).contains(red));
    let o = audit(&data, &["search", "shadow", "--color", "never"]);
    assert!(!stdout(&o).contains('\x1b'));
    // auto: not a terminal here, so no colour
    let o = audit(&data, &["search", "shadow"]);
    assert!(!stdout(&o).contains('\x1b'));
    let o = audit(&data, &["search", "shadow", "--color", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
pub(crate) fn a_session_id_naming_another_principal_is_flagged_and_both_kept() {
    // the id says dave; CloudTrail's StartSession says assumed-role/Admin/alice
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    std::fs::create_dir_all(&ev).unwrap();
    let mut r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(
            "indexer/tests/data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json",
        ))
        .unwrap(),
    )
    .unwrap();
    r["eventID"] = serde_json::json!("pm-1");
    r["userIdentity"]["type"] = serde_json::json!("AssumedRole");
    r["userIdentity"]["arn"] =
        serde_json::json!("arn:aws:sts::111122223333:assumed-role/Admin/alice");
    r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] =
        serde_json::json!("arn:aws:iam::111122223333:role/Admin");
    r["responseElements"] = serde_json::json!({"sessionId": "dave-0e34861185201706f"});
    std::fs::write(
        ev.join("trail.json"),
        serde_json::to_vec(&serde_json::json!({ "Records": [r] })).unwrap(),
    )
    .unwrap();
    let data = ingest_into(tmp.path(), &ev);
    let o = audit(
        &data,
        &["sessions", "--flag", "principal-mismatch", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["session_id"], "dave-0e34861185201706f");
    assert_eq!(v[0]["principal"], "alice");
    assert_eq!(v[0]["session_id_principal"], "dave");
    assert_eq!(v[0]["identity_type"], "AssumedRole");
    // the evidence's principal answers --user; the id's does not
    assert_eq!(
        audit(&data, &["sessions", "--user", "alice"]).status.code(),
        Some(0)
    );
    assert_eq!(audit(&data, &["gaps", "--json"]).status.code(), Some(0));
}

#[test]
pub(crate) fn the_same_evidence_from_two_paths_is_one_fact_file() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    evidence(&ev);
    let trail = "ct/AWSLogs/111122223333/CloudTrail/us-west-2/2026/11/20/trail.json.gz";
    let only = tmp.path().join("only");
    for dir in ["a", "b/c"] {
        let to = only.join(dir).join("trail.json.gz");
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(ev.join(trail), to).unwrap();
    }
    let data = ingest_into(tmp.path(), &only);
    let facts = std::fs::read_dir(data.join("facts")).unwrap().count();
    assert_eq!(facts, 1, "one trail's facts, read from two paths");
}
