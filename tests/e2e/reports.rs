//! Reports: deterministic, golden files, every format, safe in a browser and a spreadsheet.

use super::*;

// ---- reports --------------------------------------------------------------------------------

pub(crate) const PERIOD: [&str; 4] = ["--since", "2026-11-20", "--until", "2026-11-21"];

pub(crate) fn report(data: &Path, format: &str, extra: &[&str]) -> Output {
    report_in(data, format, [PERIOD[1], PERIOD[3]], extra)
}

/// The report of `[since, until)` in `format`.
pub(crate) fn report_in(
    data: &Path,
    format: &str,
    [since, until]: [&str; 2],
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "report", "--format", format, "--since", since, "--until", until,
    ];
    args.extend_from_slice(extra);
    audit(data, &args)
}

/// Golden files in tests/golden; `UPDATE_GOLDEN=1` rewrites them (review the diff).
pub(crate) fn golden(name: &str, got: &[u8]) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 makes it)", path.display()));
    assert!(
        got == want.as_slice(),
        "{name} differs from tests/golden/{name}:\n{}",
        String::from_utf8_lossy(got)
    );
}

#[test]
pub(crate) fn reports_are_deterministic_and_match_the_golden_files() {
    let (_tmp, data) = ingested();
    for (format, file) in [
        ("json", "report.json"),
        ("md", "report.md"),
        ("html", "report.html"),
    ] {
        let a = report(&data, format, &[]);
        assert_eq!(
            a.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&a.stderr)
        );
        let b = report(&data, format, &[]);
        assert_eq!(
            a.stdout, b.stdout,
            "{format}: same data and period, same bytes"
        );
        golden(file, &a.stdout);
    }
    let v: serde_json::Value = serde_json::from_slice(&report(&data, "json", &[]).stdout).unwrap();
    assert_eq!(v["summary"]["sessions"], 3);
    assert_eq!(v["summary"]["denied_attempts"], 1);
    let rules: Vec<&str> = v["risky_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "privilege-sudo",
            "credentials-read",
            "credentials-in-environment",
            "credentials-read",
            "destructive-rm"
        ]
    );
    assert!(
        !v["risky_commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["command"].as_str().unwrap().contains("not-run")),
        "a cancelled line is not a command"
    );
    assert_eq!(v["tunnels"][0]["host"], "db.internal");
    assert_eq!(
        v["new_access"].as_array().unwrap().len(),
        2,
        "alice on two targets; the tunnel is her second session on one"
    );
    // every item names its session, so `show` finds it
    let sid = v["risky_commands"][0]["session_id"].as_str().unwrap();
    assert_eq!(audit(&data, &["show", sid]).status.code(), Some(0));
    // --out writes the same bytes
    let out = data.parent().unwrap().join("r.md");
    report(&data, "md", &["--out", out.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8(std::fs::read(&out).unwrap())
            .unwrap()
            .replace(data.to_str().unwrap(), "DATA")
            .into_bytes(),
        report(&data, "md", &[]).stdout
    );
}

#[test]
pub(crate) fn an_empty_period_gives_an_empty_report() {
    let (_tmp, data) = ingested();
    let o = report_in(&data, "md", ["2030-01-01", "2030-01-02"], &[]);
    assert_eq!(o.status.code(), Some(1), "nothing in the period");
    golden("report-empty.md", &o.stdout);
    let o = report_in(&data, "json", ["2030-01-01", "2030-01-02"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["sessions"], 0);
    assert_eq!(v["per_day"], serde_json::json!([["2030-01-01", 0]]));
}

#[test]
pub(crate) fn working_hours_and_user_rules() {
    let (tmp, data) = ingested();
    // 2026-11-20 is a Friday; sessions at 09:00, 10:00 and 11:00 UTC
    let v: serde_json::Value = serde_json::from_slice(
        &report(&data, "json", &["--hours", "10-18", "--tz", "+01:00"]).stdout,
    )
    .unwrap();
    let off: Vec<&str> = v["outside_working_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["local"].as_str().unwrap())
        .collect();
    // local 10:00, 11:00, 12:00 on a Friday: the 10:00 and 11:00 sessions are inside 10-18;
    // at UTC+1 the 09:00 UTC session starts at 10:00 local, so all three are inside
    assert!(off.is_empty(), "{off:?}");
    // a named zone: Paris is UTC+1 in November, so the same
    let v: serde_json::Value = serde_json::from_slice(
        &report(&data, "json", &["--hours", "10-18", "--tz", "Europe/Paris"]).stdout,
    )
    .unwrap();
    assert_eq!(v["working_hours"]["offset"], "Europe/Paris");
    assert_eq!(v["outside_working_hours"], serde_json::json!([]));
    let o = report(&data, "json", &["--tz", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--tz") && err.contains("Europe/Paris"),
        "{err}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&report(&data, "json", &["--hours", "10-18"]).stdout).unwrap();
    let off: Vec<&str> = v["outside_working_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["local"].as_str().unwrap())
        .collect();
    assert_eq!(
        off,
        ["Friday 09:00"],
        "in UTC the 09:00 session is before 10"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&report(&data, "json", &["--days", "mon-thu"]).stdout).unwrap();
    assert_eq!(
        v["outside_working_hours"].as_array().unwrap().len(),
        3,
        "Friday is not a working day"
    );
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nid = \"kubectl\"\npattern = 'kubectl'\nseverity = \"low\"\ndescription = \"cluster access\"\n\n[[rule]]\nid = \"destructive-rm\"\npattern = 'x'\nseverity = \"high\"\ndescription = \"off\"\nenabled = false\n").unwrap();
    let v: serde_json::Value = serde_json::from_slice(
        &report(&data, "json", &["--rules", rules.to_str().unwrap()]).stdout,
    )
    .unwrap();
    let ids: Vec<&str> = v["risky_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"kubectl") && !ids.contains(&"destructive-rm"),
        "{ids:?}"
    );
}

#[test]
pub(crate) fn the_html_report_opens_in_a_real_browser() {
    let (tmp, data) = ingested();
    let html = tmp.path().join("report.html");
    report(&data, "html", &["--out", html.to_str().unwrap()]);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains("<script") && !text.contains("http://") && !text.contains("https://"),
        "self-contained"
    );
    assert!(
        text.contains("<svg") && text.contains("class=\"span\"") && text.contains("class=\"bar\"")
    );
    let png = tmp.path().join("shot.png");
    let profile = tmp.path().join("profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium is needed: the README's test command installs it");
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let img = std::fs::File::open(&png).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    let decoder = png::Decoder::new(std::io::BufReader::new(img));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let px = info.color_type.samples();
    let non_white = bytes
        .chunks(px)
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count();
    let total = bytes.len() / px;
    assert!(
        non_white * 100 > total,
        "the page looks blank: {non_white} of {total} pixels drawn"
    );
}

#[test]
pub(crate) fn reports_choose_their_format_and_csv_is_a_file_per_table() {
    let (tmp, data) = ingested();
    let dir = tmp.path().join("csv");
    let o = report(&data, "csv", &["--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "evidence_gaps.csv",
            "evidence_integrity.csv",
            "new_access.csv",
            "outside_working_hours.csv",
            "report.csv",
            "risky_commands.csv",
            "sessions_per_principal.csv",
            "sessions_per_target.csv",
            "tunnels.csv",
        ]
    );
    for n in &names {
        let t = std::fs::read_to_string(dir.join(n)).unwrap();
        let widths: Vec<usize> = t.lines().map(|l| l.split(',').count()).collect();
        assert!(
            widths.windows(2).all(|w| w[0] == w[1]),
            "{n} is ragged:\n{t}"
        );
        golden(
            &format!("csv/{n}"),
            t.replace(data.to_str().unwrap(), "DATA").as_bytes(),
        );
    }
    // durations in seconds; a tunnel with no end evidence has an unknown duration
    let per = std::fs::read_to_string(dir.join("sessions_per_principal.csv")).unwrap();
    assert!(
        per.lines()
            .nth(1)
            .unwrap()
            .starts_with("alice@example.com,3,561286,"),
        "{per}"
    );
    let tun = std::fs::read_to_string(dir.join("tunnels.csv")).unwrap();
    assert!(tun.lines().nth(1).unwrap().contains(",unknown,"), "{tun}");
    // CSV needs a folder; --out's extension picks the format; a disagreement is an error
    assert_eq!(report(&data, "csv", &[]).status.code(), Some(2));
    let f = tmp.path().join("r.csv");
    assert_eq!(
        report(&data, "csv", &["--out", f.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    let j = tmp.path().join("r.json");
    let mut args = vec!["report"];
    args.extend_from_slice(&PERIOD);
    args.extend_from_slice(&["--out", j.to_str().unwrap()]);
    assert_eq!(audit(&data, &args).status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&j).unwrap()).expect("JSON from .json");
    assert_eq!(v["summary"]["sessions"], 3);
    let h = tmp.path().join("r.html");
    let o = report(&data, "md", &["--out", h.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("disagree"), "{}", stderr(&o));
}

#[test]
pub(crate) fn report_markdown_and_html_never_run_a_typed_command() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("evidence");
    std::fs::create_dir_all(&ev).unwrap();
    let sid = "mallory-0123456789abcdef0";
    let cmd = "sudo echo '<script>alert(1)</script><img src=x onerror=alert(2)>' [ok](https://evil.example) | x";
    let log = format!(
        "Script started on 2026-11-23 10:00:00+00:00 [COMMAND=\"cat /var/lib/amazon/ssm/i-0123456789abcdef0/session/orchestration/{sid}/Standard_Stream/ipcTempFile.log\" <not executed on terminal>]\n\
         \x1b[?2004h$ {cmd}\r\r\n\x1b[?2004l\rdone\r\r\n\x1b[?2004h$ exit\r\r\n\x1b[?2004l\rexit\r\r\n\nScript done on 2026-11-23 10:05:00+00:00 [COMMAND_EXIT_CODE=\"0\"]\n"
    );
    std::fs::write(ev.join(format!("{sid}.log")), log).unwrap();
    let data = ingest_into(tmp.path(), &ev);
    let period = ["--since", "2026-11-23", "--until", "2026-11-24"];
    let mut args = vec!["report", "--format", "md"];
    args.extend_from_slice(&period);
    let md = stdout(&audit(&data, &args));
    // the command is there, whole, inside a code span: no HTML, image or link is made
    let line = md
        .lines()
        .find(|l| l.contains("privilege-sudo"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        line.contains("`sudo echo '<script>alert(1)</script><img src=x onerror=alert(2)>' [ok](https://evil.example) \\| x`"),
        "{line}"
    );
    let mut args = vec!["report", "--format", "html"];
    args.extend_from_slice(&period);
    let html = stdout(&audit(&data, &args));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
}
