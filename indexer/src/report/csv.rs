//! CSV renderings: one file per table, every field neutralised for spreadsheets.

use super::*;

/// A CSV field (RFC 4180), neutralised for spreadsheets as OWASP's CSV-injection guidance
/// says: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
pub(crate) fn csv_field(s: &str) -> String {
    let s = crate::escape::escape_text(s);
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub(crate) fn csv_rows(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = String>| cells.collect::<Vec<_>>().join(",");
    let _ = writeln!(out, "{}", line(&mut header.iter().map(|h| csv_field(h))));
    for row in rows {
        let _ = writeln!(out, "{}", line(&mut row.iter().map(|c| csv_field(c))));
    }
    out
}

/// The report as CSV: one file per table, as (file name, content). `report.csv` holds the
/// period, the provenance and the summary as `field,value` rows; every other file is one
/// table with its header row. Durations are in seconds (`open` for a session still open,
/// `unknown` when the evidence does not give both ends).
pub fn to_csv_files(r: &Report) -> Vec<(String, String)> {
    let p = &r.provenance;
    let mut meta: Vec<Vec<String>> = vec![
        vec!["since".into(), r.since.clone()],
        vec!["until".into(), r.until.clone()],
        vec!["generated_at".into(), p.generated_at.clone()],
        vec!["version".into(), p.version.clone()],
        vec!["store".into(), p.data.store.clone()],
        vec!["data_sessions".into(), p.data.sessions.to_string()],
        vec![
            "data_earliest".into(),
            p.data.earliest.clone().unwrap_or_default(),
        ],
        vec![
            "data_latest".into(),
            p.data.latest.clone().unwrap_or_default(),
        ],
    ];
    for (k, v) in summary_rows(r) {
        meta.push(vec![k.replace(' ', "_"), v.to_string()]);
    }
    let mut files = vec![(
        "report.csv".to_owned(),
        csv_rows(&["field", "value"], &meta),
    )];
    for (title, header, mut rows) in tables(r, Durations::Seconds) {
        let name = format!("{}.csv", title.to_lowercase().replace(' ', "_"));
        // what the evidence does not give is an empty cell in CSV, not the tables' `-`
        for c in rows.iter_mut().flatten().filter(|c| *c == "-") {
            c.clear();
        }
        files.push((name, csv_rows(&header, &rows)));
    }
    files
}
