//! Time stamps: every time ssm-audit outputs is RFC 3339 in UTC, to the second.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Format a UTC instant as `2025-09-29T16:58:03Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t
        .checked_to_offset(UtcOffset::UTC)
        .unwrap_or(t)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

/// A session's duration as people read it: `45s`, `12m05s`, `3h02m`; `open` for a session
/// still open, `unknown` when the evidence does not give both ends.
pub fn session_duration(secs: Option<i64>, open: bool) -> String {
    match secs {
        _ if open => "open".into(),
        None => "unknown".into(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        Some(s) => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// `script`'s header time: `2025-09-29 16:58:03+00:00` (util-linux 2.35+) or
/// `2020-05-27 23:00:48+0000` (older).
pub fn normalize_script_time(s: &str) -> Option<String> {
    let s = s.trim();
    // a time of the header is ASCII: anything else (a cut or hostile header) is no time
    if s.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let (dt, off) = s.split_at(19);
    let dt = PrimitiveDateTime::parse(
        dt,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()?;
    let offset = parse_offset(off.trim())?;
    // a time whose offset takes it out of the representable range is no time
    let t = dt.assume_offset(offset).checked_to_offset(UtcOffset::UTC)?;
    Some(rfc3339(t))
}

/// A UTC offset as people and tools write one: `Z`, `UTC` (any case), `+02:00`, `+0200`,
/// `+02`, `+2`; empty is UTC. The one parser of offsets (script headers, exports, `--tz`).
pub fn parse_offset(s: &str) -> Option<UtcOffset> {
    if s.is_empty() || s == "Z" || s.eq_ignore_ascii_case("utc") {
        return Some(UtcOffset::UTC);
    }
    let sign = match s.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &s[1..];
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let digits = |d: &str| !d.is_empty() && d.len() <= 2 && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// Parse an RFC 3339 time (CloudTrail's `eventTime`), also accepting the space-separated form
/// some exporters write (`2025-02-19 20:13:49`, taken as UTC).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        // `9999-12-31T23:59:59-01:00` is past the range in UTC: no time, not a panic
        return t.checked_to_offset(UtcOffset::UTC);
    }
    let s = s.trim();
    if s.len() >= 19 && s.is_char_boundary(19) {
        let dt = PrimitiveDateTime::parse(
            &s[..19].replace('T', " "),
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        )
        .ok()?;
        let off =
            parse_offset(s[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit()))
                .unwrap_or(UtcOffset::UTC);
        return dt.assume_offset(off).checked_to_offset(UtcOffset::UTC);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_every_form_people_and_tools_write() {
        let two = UtcOffset::from_hms(2, 0, 0).unwrap();
        for s in ["+02:00", "+0200", "+02", "+2"] {
            assert_eq!(parse_offset(s), Some(two), "{s}");
        }
        assert_eq!(parse_offset("-05:30"), UtcOffset::from_hms(-5, -30, 0).ok());
        for s in ["", "Z", "UTC", "utc"] {
            assert_eq!(parse_offset(s), Some(UtcOffset::UTC), "{s}");
        }
        for s in [
            "Europe/Paris",
            "+",
            "+2:",
            "+123:00",
            "+26:00",
            "02:00",
            "+a",
        ] {
            assert_eq!(parse_offset(s), None, "{s}");
        }
    }

    #[test]
    fn script_times() {
        assert_eq!(
            normalize_script_time("2025-09-29 16:58:03+00:00").as_deref(),
            Some("2025-09-29T16:58:03Z")
        );
        assert_eq!(
            normalize_script_time("2020-05-27 23:00:48+0000").as_deref(),
            Some("2020-05-27T23:00:48Z")
        );
        assert_eq!(
            normalize_script_time("2020-05-27 23:00:48-0130").as_deref(),
            Some("2020-05-28T00:30:48Z")
        );
        assert_eq!(normalize_script_time("garbage"), None);
        // regression (found by the render fuzz target): byte 19 inside a character
        assert_eq!(
            normalize_script_time("2020-05-27 23:00:4\u{fffd}+0000"),
            None
        );
        assert_eq!(parse_time("2020-05-27 23:00:4\u{fffd}"), None);
    }

    #[test]
    fn cloudtrail_times() {
        assert_eq!(
            parse_time("2024-10-10T11:44:29Z").map(rfc3339).as_deref(),
            Some("2024-10-10T11:44:29Z")
        );
        assert_eq!(
            parse_time("2025-02-19 20:13:49").map(rfc3339).as_deref(),
            Some("2025-02-19T20:13:49Z")
        );
        assert_eq!(
            parse_time("2025-02-19 16:32:39.000000000")
                .map(rfc3339)
                .as_deref(),
            Some("2025-02-19T16:32:39Z")
        );
    }
}
