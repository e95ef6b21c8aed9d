//! Report periods and time zones: fixed offsets or IANA zones, working days and hours, the last day, week or month.

use super::*;

/// A report's time zone: a fixed UTC offset, or an IANA zone whose offset follows daylight
/// saving time (from the time zone database built into the binary, so a Lambda needs none).
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::fixed(UtcOffset::UTC)
    }

    pub fn fixed(offset: UtcOffset) -> Zone {
        let name = format!(
            "{:+03}:{:02}",
            offset.whole_hours(),
            offset.minutes_past_hour().abs()
        );
        let tz = jiff::tz::Offset::from_seconds(offset.whole_seconds())
            .map_or(jiff::tz::TimeZone::UTC, jiff::tz::TimeZone::fixed);
        Zone { name, tz }
    }

    /// `UTC`, an offset (`+02:00`, `-05:30`, `+2`) or an IANA zone (`Europe/Paris`).
    pub fn parse(s: &str) -> Result<Zone, String> {
        if let Ok(offset) = parse_offset(s) {
            return Ok(Zone::fixed(offset));
        }
        match jiff::tz::TimeZone::get(s) {
            Ok(tz) => Ok(Zone {
                name: s.to_owned(),
                tz,
            }),
            Err(_) => Err(format!(
                "{s:?}: use UTC, an offset like +02:00, or a time zone like Europe/Paris"
            )),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's offset from UTC at `t`.
    pub fn offset_at(&self, t: OffsetDateTime) -> UtcOffset {
        jiff::Timestamp::from_second(t.unix_timestamp())
            .ok()
            .and_then(|ts| UtcOffset::from_whole_seconds(self.tz.to_offset(ts).seconds()).ok())
            .unwrap_or(UtcOffset::UTC)
    }

    /// `t` as the zone's local time.
    pub fn local(&self, t: OffsetDateTime) -> OffsetDateTime {
        t.to_offset(self.offset_at(t))
    }

    /// The instant `date` begins in the zone: its local midnight, or the first instant after
    /// it where a clock change skips midnight.
    pub fn start_of(&self, date: time::Date) -> OffsetDateTime {
        let civil = jiff::civil::date(date.year() as i16, date.month() as i8, date.day() as i8)
            .at(0, 0, 0, 0);
        self.tz
            .to_ambiguous_timestamp(civil)
            .compatible()
            .ok()
            .and_then(|ts| OffsetDateTime::from_unix_timestamp(ts.as_second()).ok())
            .map_or_else(|| date.midnight().assume_utc(), |t| self.local(t))
    }
}

/// A time zone as a UTC offset: `UTC`, `Z`, `+02:00`, `-05:30`, `+2` ([`crate::time::parse_offset`]).
pub fn parse_offset(s: &str) -> Result<UtcOffset, String> {
    crate::time::parse_offset(s)
        .filter(|_| !s.is_empty())
        .ok_or_else(|| format!("{s:?}: use UTC or an offset like +02:00"))
}

pub(crate) fn weekday(s: &str) -> Result<Weekday, String> {
    let three: String = s.trim().to_lowercase().chars().take(3).collect();
    Ok(match three.as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => {
            return Err(format!(
                "{s:?} is not a day: use mon, tue, wed, thu, fri, sat, sun"
            ))
        }
    })
}

/// Working days: a range `mon-fri` or a list `mon,wed,fri`.
pub fn parse_days(s: &str) -> Result<Vec<Weekday>, String> {
    if let Some((a, b)) = s.split_once('-') {
        let (mut d, end) = (weekday(a)?, weekday(b)?);
        let mut v = vec![d];
        while d != end && v.len() < 7 {
            d = d.next();
            v.push(d);
        }
        return Ok(v);
    }
    s.split(',').map(weekday).collect()
}

/// Working hours `START-END`, like `8-18`.
pub fn parse_hours(s: &str) -> Result<(u8, u8), String> {
    s.split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u8>().ok()?, b.trim().parse::<u8>().ok()?)))
        .filter(|(a, b)| a < b && *b <= 24)
        .ok_or_else(|| format!("{s:?}: use START-END, like 8-18"))
}

/// A scheduled report's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// the day before `at`, midnight to midnight in the time zone
    Daily,
    /// the ISO week (Monday to Monday) before the one `at` is in
    Weekly,
}

/// The last whole period before `at`: (since, until, name). The name is the folder of its
/// reports: `daily/2026-11-22`, `weekly/2026-W47`.
pub fn last_period(
    period: Period,
    at: OffsetDateTime,
    zone: &Zone,
) -> (OffsetDateTime, OffsetDateTime, String) {
    let local = zone.local(at);
    let today = local.date();
    let day = time::Duration::days(1);
    match period {
        Period::Daily => {
            let d = today - day;
            (zone.start_of(d), zone.start_of(today), format!("daily/{d}"))
        }
        Period::Weekly => {
            let monday: time::Date =
                today - day * i32::from(local.weekday().number_days_from_monday());
            let first: time::Date = monday - day * 7;
            let (y, w, _) = first.to_iso_week_date();
            (
                zone.start_of(first),
                zone.start_of(monday),
                format!("weekly/{y}-W{w:02}"),
            )
        }
    }
}

#[cfg(test)]
mod period_tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn periods_are_whole_days_and_iso_weeks_in_the_time_zone() {
        // Monday 2026-11-23 00:30 in +02:00 is still Sunday in UTC
        let at = datetime!(2026-11-22 22:30 UTC);
        let plus2 = Zone::fixed(offset!(+2));
        let (s, u, name) = last_period(Period::Daily, at, &plus2);
        assert_eq!(
            (s, u),
            (
                datetime!(2026-11-22 00:00 +2),
                datetime!(2026-11-23 00:00 +2)
            )
        );
        assert_eq!(name, "daily/2026-11-22");
        let (s, u, name) = last_period(Period::Weekly, at, &plus2);
        assert_eq!(
            (s, u),
            (
                datetime!(2026-11-16 00:00 +2),
                datetime!(2026-11-23 00:00 +2)
            )
        );
        assert_eq!(name, "weekly/2026-W47");
        let (_, _, name) = last_period(Period::Daily, at, &Zone::utc());
        assert_eq!(name, "daily/2026-11-21");
    }

    #[test]
    fn a_named_zone_follows_daylight_saving_time() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        // summer time ends on Sunday 2026-10-25: that day lasts 25 hours in Paris
        let at = datetime!(2026-10-26 06:00 UTC);
        let (s, u, name) = last_period(Period::Daily, at, &paris);
        assert_eq!(name, "daily/2026-10-25");
        assert_eq!(
            (s, u),
            (
                datetime!(2026-10-24 22:00 UTC),
                datetime!(2026-10-25 23:00 UTC)
            )
        );
        assert_eq!(s.offset(), offset!(+2));
        assert_eq!(u.offset(), offset!(+1));
        // the week that holds the change: Monday 00:00 CEST to Monday 00:00 CET
        let (s, u, name) = last_period(Period::Weekly, datetime!(2026-10-27 12:00 UTC), &paris);
        assert_eq!(name, "weekly/2026-W43");
        assert_eq!(
            (s, u),
            (
                datetime!(2026-10-18 22:00 UTC),
                datetime!(2026-10-25 23:00 UTC)
            )
        );
        // 09:30 local is 07:30 UTC in summer and 08:30 UTC in winter
        assert_eq!(paris.local(datetime!(2026-07-01 07:30 UTC)).hour(), 9);
        assert_eq!(paris.local(datetime!(2026-12-01 08:30 UTC)).hour(), 9);
        // New York's spring change skips 02:00, never midnight; a day begins at 00:00
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            ny.start_of(time::macros::date!(2026 - 03 - 08)),
            datetime!(2026-03-08 05:00 UTC)
        );
        assert!(Zone::parse("Mars/Olympus")
            .unwrap_err()
            .contains("Europe/Paris"));
        assert_eq!(Zone::parse("+05:30").unwrap().name(), "+05:30");
    }

    #[test]
    fn options_parse_or_say_why() {
        assert_eq!(parse_offset("+05:30").unwrap(), offset!(+5:30));
        assert_eq!(parse_offset("utc").unwrap(), UtcOffset::UTC);
        assert!(parse_offset("Europe/Paris").unwrap_err().contains("+02:00"));
        assert_eq!(parse_days("fri-mon").unwrap().len(), 4);
        assert!(parse_days("ééé").is_err());
        assert_eq!(parse_hours("8-18").unwrap(), (8, 18));
        assert!(parse_hours("18-8").is_err());
    }
}
