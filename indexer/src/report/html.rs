//! The HTML rendering: escaped text, a per-day bar chart and a timeline, no script.

use super::*;

pub(crate) fn html_escape(s: &str) -> String {
    crate::escape::escape_text(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub(crate) fn bar_chart(per_day: &[(String, usize)]) -> String {
    let max = per_day.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let n = per_day.len().max(1);
    let (w, h) = (760.0_f64, 160.0_f64);
    let bw = (w - 40.0) / n as f64;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w} {}" role="img" aria-label="sessions per day"><title>Sessions per day</title>"#,
        h + 30.0
    );
    for (i, (day, c)) in per_day.iter().enumerate() {
        let bh = (*c as f64 / max as f64) * (h - 20.0);
        let x = 30.0 + i as f64 * bw;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}"><title>{} {c}</title></rect>"#,
            h - bh,
            (bw - 2.0).max(1.0),
            html_escape(day)
        );
        if n <= 31 || i % (n / 15 + 1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="tick">{}</text>"#,
                x + bw / 2.0,
                h + 14.0,
                html_escape(&day[5..])
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="2" y="12" class="tick">{max}</text><line x1="28" y1="{h}" x2="{w}" y2="{h}" class="axis"/></svg>"#
    );
    svg
}

pub(crate) fn timeline(r: &Report) -> String {
    let (Some(t0), Some(t1)) = (parse_time(&r.since), parse_time(&r.until)) else {
        return String::new();
    };
    let span = (t1 - t0).whole_seconds().max(1) as f64;
    let principals: BTreeSet<&str> = r.timeline.iter().map(|t| t.0.as_str()).collect();
    let rows: Vec<&str> = principals.into_iter().collect();
    let (left, w, rh) = (170.0_f64, 760.0_f64, 18.0_f64);
    let h = rows.len() as f64 * rh + 24.0;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="sessions per principal over time"><title>Sessions per principal</title>"#
    );
    for (i, p) in rows.iter().enumerate() {
        let y = i as f64 * rh;
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}" class="label">{}</text><line x1="{left}" y1="{:.1}" x2="{w}" y2="{:.1}" class="grid"/>"#,
            y + 13.0,
            // a long name is cut to fit, visibly; the bar's tooltip has it whole
            html_escape(&if p.chars().count() > 26 {
                p.chars().take(25).chain(['…']).collect::<String>()
            } else {
                p.to_string()
            }),
            y + rh - 1.0,
            y + rh - 1.0
        );
    }
    for (p, st, en, sid) in &r.timeline {
        let (Some(a), Some(b)) = (parse_time(st), parse_time(en)) else {
            continue;
        };
        let i = rows.iter().position(|x| x == p).unwrap_or(0);
        let x = left + (a - t0).whole_seconds() as f64 / span * (w - left);
        let x2 = left + (b.min(t1) - t0).whole_seconds() as f64 / span * (w - left);
        let _ = write!(
            svg,
            r#"<rect class="span" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} {} {}</title></rect>"#,
            i as f64 * rh + 3.0,
            (x2 - x).max(2.0),
            rh - 7.0,
            html_escape(p),
            html_escape(st),
            html_escape(sid)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{left}" y="{:.1}" class="tick">{}</text><text x="{w}" y="{:.1}" class="tick" text-anchor="end">{}</text></svg>"#,
        h - 4.0,
        html_escape(&r.since),
        h - 4.0,
        html_escape(&r.until)
    );
    svg
}

pub(crate) const CSS: &str = "body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1b1f24}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}\
.period{color:#57606a}.cards{display:flex;flex-wrap:wrap;gap:.6em}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5em .8em;min-width:8em}\
.card b{display:block;font-size:1.5em}table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.cmd{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}\
.sev-critical{color:#fff;background:#a40e26}.sev-high{background:#ffd8d3}.sev-medium{background:#fff1c2}.none{color:#57606a}\
svg{width:100%;height:auto}.bar{fill:#0969da}.span{fill:#8250df}.tick,.label{font-size:10px;fill:#57606a}.axis,.grid{stroke:#d0d7de}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg{break-inside:avoid}.card{border-color:#888}}";

/// One self-contained HTML file: no script, font, image or stylesheet from anywhere else.
pub fn to_html(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Session Manager audit report {} to {}</title><style>{CSS}</style></head><body>\n", html_escape(&r.since), html_escape(&r.until));
    let _ = writeln!(out, "<h1>Session Manager audit report</h1><p class=\"period\">{} to {} (UTC). Working hours {}:00-{}:00 {} on {}.</p>", html_escape(&r.since), html_escape(&r.until), r.working_hours.start_hour, r.working_hours.end_hour, html_escape(&r.working_hours.offset), html_escape(&r.working_hours.days.join(", ")));
    for l in provenance_lines(r) {
        let _ = writeln!(out, "<p class=\"period\">{}</p>", html_escape(&l));
    }
    out.push_str("<h2>Summary</h2><div class=\"cards\">");
    for (k, v) in summary_rows(r) {
        let _ = write!(out, "<div class=\"card\"><b>{v}</b>{k}</div>");
    }
    out.push_str("</div>\n<h2>Sessions per day</h2>");
    if let Some(d) = &r.per_day_sparse_from {
        let _ = write!(
            out,
            "<p class=\"none\">From {} on, only days with sessions are drawn.</p>",
            html_escape(d)
        );
    }
    out.push_str(&bar_chart(&r.per_day));
    out.push_str("\n<h2>Timeline</h2>");
    if r.timeline.is_empty() {
        out.push_str("<p class=\"none\">No sessions.</p>");
    } else {
        out.push_str(&timeline(r));
    }
    for (title, header, rows) in tables(r, Durations::Human) {
        let _ = write!(out, "\n<h2>{title}</h2>");
        if rows.is_empty() {
            out.push_str("<p class=\"none\">None.</p>");
            continue;
        }
        out.push_str("<table><thead><tr>");
        for h in &header {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for row in rows {
            let sev = if title == "Risky commands" {
                format!(" class=\"sev-{}\"", html_escape(&row[2]))
            } else {
                String::new()
            };
            let _ = write!(out, "<tr{sev}>");
            for (i, c) in row.iter().enumerate() {
                let class = if title == "Risky commands" && i == 6 {
                    " class=\"cmd\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{}</td>", html_escape(c));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("\n</body></html>\n");
    out
}
