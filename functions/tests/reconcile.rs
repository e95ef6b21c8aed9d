//! The reconcile function's API clients. moto has no CloudTrail LookupEvents, so both clients
//! are the SDK's own, with responses from aws-smithy-mocks; the records in them are the shared
//! samples.

use aws_sdk_cloudtrail::operation::list_public_keys::ListPublicKeysOutput;
use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
use aws_sdk_cloudtrail::types::Event;
use aws_sdk_ssm::operation::describe_sessions::DescribeSessionsOutput;
use aws_sdk_ssm::types::{Session, SessionStatus};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use serde_json::{json, Value};
use ssm_audit_core::rebuild;
use ssm_audit_functions::handlers::{self, Ctx};
use time::macros::datetime;

fn sample(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../indexer/tests/data/samples")
            .join(name),
    )
    .unwrap()
}

fn event(record: &str) -> Event {
    let v: Value = serde_json::from_str(record).unwrap();
    Event::builder()
        .event_id(v["eventID"].as_str().unwrap())
        .event_name(v["eventName"].as_str().unwrap())
        .cloud_trail_event(record)
        .build()
}

fn ctx(dir: &std::path::Path) -> Ctx {
    let conf = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    Ctx::new(dir.to_str().unwrap(), conf, None).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_and_session_history_are_backfilled_paginated_and_paced() {
    let start = sample("cloudtrail_StartSession_AssumedRole_SSO_panther_test.json");
    let iam =
        sample("cloudtrail_StartSession_IAMUser_cli_custom_document_2020_managedkube_readme.json");
    let term = sample("cloudtrail_TerminateSession_Root_console_elastic_test.json");
    let attr = |r: &aws_sdk_cloudtrail::operation::lookup_events::LookupEventsInput| {
        r.lookup_attributes()[0].attribute_value().to_owned()
    };
    let (s1, s2, t1) = (start.clone(), iam.clone(), term.clone());
    let page1 = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| attr(r) == "StartSession" && r.next_token().is_none())
        .then_output(move || {
            LookupEventsOutput::builder()
                .events(event(&s1))
                .next_token("page-2")
                .build()
        });
    let page2 = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| attr(r) == "StartSession" && r.next_token() == Some("page-2"))
        .then_output(move || LookupEventsOutput::builder().events(event(&s2)).build());
    let resume = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| attr(r) == "ResumeSession")
        .then_output(|| LookupEventsOutput::builder().build());
    let terminate = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| attr(r) == "TerminateSession")
        .then_output(move || LookupEventsOutput::builder().events(event(&t1)).build());
    // ECS Exec: ECS's ExecuteCommand, on the SSO sample's identity
    let mut exec: Value = serde_json::from_str(&start).unwrap();
    exec["eventSource"] = json!("ecs.amazonaws.com");
    exec["eventName"] = json!("ExecuteCommand");
    exec["eventID"] = json!("ecs-exec-1");
    exec["requestParameters"] = json!({"cluster": "prod", "container": "app", "command": "/bin/sh",
        "interactive": true, "task": "4d5e6f0a1b2c3d4e"});
    exec["responseElements"] =
        json!({"session": {"sessionId": "ecs-execute-command-s9y89par6quf78pcbnoko32g28"}});
    let exec = exec.to_string();
    let ecs = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| attr(r) == "ExecuteCommand")
        .then_output(move || LookupEventsOutput::builder().events(event(&exec)).build());
    // CloudTrail's public keys for the window, in two pages
    let key = |fp: &str| {
        aws_sdk_cloudtrail::types::PublicKey::builder()
            .value(aws_smithy_types::Blob::new(fp.as_bytes()))
            .fingerprint(fp)
            .validity_start_time(aws_smithy_types::DateTime::from_secs(1_780_000_000))
            .build()
    };
    let keys1 = mock!(aws_sdk_cloudtrail::Client::list_public_keys)
        .match_requests(|r| r.next_token().is_none() && r.start_time().is_some())
        .then_output(move || {
            ListPublicKeysOutput::builder()
                .public_key_list(key("aaaa"))
                .next_token("keys-2")
                .build()
        });
    let keys2 = mock!(aws_sdk_cloudtrail::Client::list_public_keys)
        .match_requests(|r| r.next_token() == Some("keys-2"))
        .then_output(move || {
            ListPublicKeysOutput::builder()
                .public_key_list(key("bbbb"))
                .build()
        });
    let ct = mock_client!(
        aws_sdk_cloudtrail,
        RuleMode::MatchAny,
        [&page1, &page2, &resume, &terminate, &ecs, &keys1, &keys2]
    );

    let iam_v: Value = serde_json::from_str(&iam).unwrap();
    let iam_sid = iam_v["responseElements"]["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let sid = iam_sid.clone();
    let history = mock!(aws_sdk_ssm::Client::describe_sessions)
        .match_requests(|r| r.state() == Some(&aws_sdk_ssm::types::SessionState::History))
        .then_output(move || {
            DescribeSessionsOutput::builder()
                .sessions(
                    Session::builder()
                        .session_id(&sid)
                        .target("i-0a1b2c3d4e5f60718")
                        .status(SessionStatus::Terminated)
                        .start_date(aws_smithy_types::DateTime::from_secs(
                            datetime!(2026-11-22 14:00 UTC).unix_timestamp(),
                        ))
                        .end_date(aws_smithy_types::DateTime::from_secs(
                            datetime!(2026-11-22 14:42 UTC).unix_timestamp(),
                        ))
                        .owner("arn:aws:iam::111122223333:user/bob")
                        .build(),
                )
                .build()
        });
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&history]);

    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path());
    let now = datetime!(2026-11-23 12:00 UTC);
    let t0 = std::time::Instant::now();
    let out = handlers::reconcile_with(&ctx, &ct, &ssm, now)
        .await
        .unwrap();
    // five LookupEvents requests at two a second
    assert!(
        t0.elapsed() >= std::time::Duration::from_millis(1900),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(out["lookup_events"], 4, "{out}");
    assert_eq!(out["described_sessions"], 1, "{out}");
    assert_eq!(out["failed"], json!([]), "{out}");
    // the first run looks back 24 hours
    assert_eq!(out["since"], "2026-11-22T12:00:00Z", "{out}");
    // both pages of keys kept, as `list-public-keys` prints them, for `verify`
    assert_eq!(out["public_keys"], 2, "{out}");
    let store = ctx.store.clone();
    let kept = tokio::task::spawn_blocking(move || {
        store
            .get(ssm_audit_core::keys::PUBLIC_KEYS)
            .unwrap()
            .unwrap()
    })
    .await
    .unwrap();
    let kept = ssm_audit_core::custody::digest::parse_public_keys(&kept).unwrap();
    assert_eq!(kept.keys().collect::<Vec<_>>(), ["aaaa", "bbbb"]);
    assert_eq!(kept["aaaa"].value, "YWFhYQ==");
    assert_eq!(
        page1.num_calls() + page2.num_calls() + terminate.num_calls() + ecs.num_calls(),
        4
    );

    let store = ctx.store.clone();
    let records = tokio::task::spawn_blocking(move || {
        let facts = rebuild::load_facts(&*store).unwrap();
        ssm_audit_core::correlate::correlate(&facts, &Default::default())
    })
    .await
    .unwrap();
    let bob = records
        .iter()
        .find(|r| r.session_id.as_deref() == Some(iam_sid.as_str()))
        .unwrap();
    let container = records
        .iter()
        .find(|r| r.session_id.as_deref() == Some("ecs-execute-command-s9y89par6quf78pcbnoko32g28"))
        .unwrap();
    assert_eq!(
        container.target.as_deref(),
        Some("ecs:prod_4d5e6f0a1b2c3d4e")
    );
    assert_eq!(container.command.as_deref(), Some("/bin/sh"));
    // the end time only DescribeSessions knew
    assert_eq!(bob.end.as_deref(), Some("2026-11-22T14:42:00Z"), "{bob:?}");
    assert_eq!(
        serde_json::to_value(&bob.end_source).unwrap(),
        "describe-sessions"
    );

    // the next run starts where this one ended, less 15 minutes; nothing new is no change
    let later = datetime!(2026-11-23 13:00 UTC);
    let again = handlers::reconcile_with(&ctx, &ct, &ssm, later)
        .await
        .unwrap();
    assert_eq!(again["since"], "2026-11-23T11:45:00Z", "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_a_store_failing_mid_window_loses_no_start_session() {
    use ssm_audit_core::store::{FaultStore, LocalStore, Op};
    // a StartSession at 11:30, returned to any lookup whose window holds it
    let mut start: Value = serde_json::from_str(&sample(
        "cloudtrail_StartSession_AssumedRole_SSO_panther_test.json",
    ))
    .unwrap();
    start["eventTime"] = json!("2026-11-23T11:30:00Z");
    let start = start.to_string();
    let at = datetime!(2026-11-23 11:30 UTC).unix_timestamp();
    let in_window = move |r: &aws_sdk_cloudtrail::operation::lookup_events::LookupEventsInput| {
        r.lookup_attributes()[0].attribute_value() == "StartSession"
            && r.start_time().is_some_and(|t| t.secs() <= at)
            && r.end_time().is_some_and(|t| t.secs() >= at)
    };
    let found = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(in_window)
        .then_output(move || LookupEventsOutput::builder().events(event(&start)).build());
    let none = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|_| true)
        .then_output(|| LookupEventsOutput::builder().build());
    let keys = mock!(aws_sdk_cloudtrail::Client::list_public_keys)
        .match_requests(|_| true)
        .then_output(|| ListPublicKeysOutput::builder().build());
    let ct = mock_client!(
        aws_sdk_cloudtrail,
        RuleMode::MatchAny,
        [&found, &none, &keys]
    );
    let history = mock!(aws_sdk_ssm::Client::describe_sessions)
        .match_requests(|_| true)
        .then_output(|| DescribeSessionsOutput::builder().build());
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&history]);

    let dir = tempfile::tempdir().unwrap();
    let mut ctx = ctx(dir.path());
    let faulty = std::sync::Arc::new(FaultStore::new(std::sync::Arc::new(
        LocalStore::open(dir.path()).unwrap(),
    )));
    ctx.store = faulty.clone();
    // the store is down when the window's facts are written: the run fails (Lambda retries),
    // and the window does not move
    faulty.arm(Op::Put, 1, false);
    let err = handlers::reconcile_with(&ctx, &ct, &ssm, datetime!(2026-11-23 12:00 UTC))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("injected fault"), "{err:#}");
    faulty.heal();
    let state = {
        let s = ctx.store.clone();
        tokio::task::spawn_blocking(move || s.get("state/reconcile.json"))
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(state, None, "the window moved past what was not stored");
    // an hour later, with the store back: the next run covers the gap
    let out = handlers::reconcile_with(&ctx, &ct, &ssm, datetime!(2026-11-23 13:00 UTC))
        .await
        .unwrap();
    assert!(
        out["since"].as_str().unwrap() <= "2026-11-23T11:30:00Z",
        "{out}"
    );
    let store = ctx.store.clone();
    let facts = tokio::task::spawn_blocking(move || rebuild::load_facts(&*store).unwrap())
        .await
        .unwrap();
    assert!(
        facts
            .iter()
            .any(|f| matches!(f.kind, ssm_audit_core::facts::FactKind::Started { .. })),
        "{facts:?}"
    );
}
