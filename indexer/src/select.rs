//! Choosing session records: the filters every command shares (`--user`, `--target`,
//! `--account`, `--region`, `--kind`, `--flag`, `--since`, `--until`), decided in one place.
//!
//! Periods are on a record's `time` (its start, else its earliest evidence), so a session
//! without a start event still falls in a period. A record with no time at all cannot be placed
//! in a period: [`Selection::untimed`] counts those a period left out, for the caller to say.

use time::OffsetDateTime;

use crate::correlate::{enum_name, Flag, Kind, SessionRecord};
use crate::time::parse_time;

/// A value to match: case-insensitive, `*` matching any run of characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// as given
    pub text: String,
    lower: String,
}

impl Pattern {
    pub fn new(text: &str) -> Pattern {
        Pattern {
            text: text.to_owned(),
            lower: text.to_lowercase(),
        }
    }

    pub fn is_glob(&self) -> bool {
        self.text.contains('*')
    }

    pub fn matches(&self, have: &str) -> bool {
        glob(&self.lower, &have.to_lowercase())
    }
}

/// `*`-only glob match, iterative (no backtracking blow-up on many stars).
fn glob(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The filters of one question.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub user: Option<Pattern>,
    pub target: Option<Pattern>,
    pub account: Option<Pattern>,
    pub region: Option<Pattern>,
    pub kind: Option<Kind>,
    pub flag: Option<Flag>,
    /// `time >= since`
    pub since: Option<OffsetDateTime>,
    /// `time < until`
    pub until: Option<OffsetDateTime>,
}

fn field_matches(want: &Option<Pattern>, have: Option<&str>) -> bool {
    match want {
        None => true,
        Some(p) => have.is_some_and(|h| p.matches(h)),
    }
}

/// A record's `time` as an instant.
pub fn time_of(r: &SessionRecord) -> Option<OffsetDateTime> {
    r.time.as_deref().and_then(parse_time)
}

impl RecordFilter {
    pub fn has_period(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether any filter is given: else every record passes.
    pub fn is_set(&self) -> bool {
        self.has_period()
            || self.user.is_some()
            || self.target.is_some()
            || self.account.is_some()
            || self.region.is_some()
            || self.kind.is_some()
            || self.flag.is_some()
    }

    /// Every filter but the period.
    pub fn matches_fields(&self, r: &SessionRecord) -> bool {
        field_matches(&self.user, r.principal.as_deref())
            && field_matches(&self.target, r.target.as_deref())
            && field_matches(&self.account, r.account.as_deref())
            && field_matches(&self.region, r.region.as_deref())
            && self.kind.as_ref().is_none_or(|k| *k == r.kind)
            && self.flag.is_none_or(|fl| r.flags.contains(&fl))
    }

    pub fn in_period(&self, t: Option<OffsetDateTime>) -> bool {
        if !self.has_period() {
            return true;
        }
        let Some(t) = t else { return false };
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    pub fn matches(&self, r: &SessionRecord) -> bool {
        self.matches_fields(r) && self.in_period(time_of(r))
    }

    /// The records that pass `keep` and the filters, ordered by time then session id, with
    /// what was left out that the answer must say.
    pub fn select<'a>(
        &self,
        records: &'a [SessionRecord],
        keep: impl Fn(&SessionRecord) -> bool,
    ) -> Selection<'a> {
        let mut sel = Selection::default();
        for r in records.iter().filter(|r| keep(r) && self.matches_fields(r)) {
            let t = time_of(r);
            if self.in_period(t) {
                sel.records.push(r);
            } else if t.is_none() {
                sel.untimed += 1;
            }
        }
        sel.records
            .sort_by(|a, b| (time_of(a), &a.session_id).cmp(&(time_of(b), &b.session_id)));
        sel
    }

    /// When a filter value finds nothing, the values it may have meant: those it matches
    /// ignoring case was already done, so values that contain it or start with it.
    pub fn hints(&self, records: &[SessionRecord]) -> Vec<String> {
        let mut out = Vec::new();
        let fields: [(&str, &Option<Pattern>, FieldOf); 4] = [
            ("--user", &self.user, |r| r.principal.as_deref()),
            ("--target", &self.target, |r| r.target.as_deref()),
            ("--account", &self.account, |r| r.account.as_deref()),
            ("--region", &self.region, |r| r.region.as_deref()),
        ];
        for (flag, want, get) in fields {
            let Some(p) = want else { continue };
            if records.iter().any(|r| get(r).is_some_and(|h| p.matches(h))) {
                continue;
            }
            let needle = p.lower.trim_matches('*');
            let mut near: Vec<&str> = records
                .iter()
                .filter_map(get)
                .filter(|h| !needle.is_empty() && h.to_lowercase().contains(needle))
                .collect();
            near.sort_unstable();
            near.dedup();
            let shown: Vec<&str> = near.iter().take(5).copied().collect();
            let more = near.len().saturating_sub(shown.len());
            if shown.is_empty() {
                out.push(format!("{flag} {} matches no session", p.text));
            } else {
                out.push(format!(
                    "{flag} {} matches no session; did you mean {}{}?",
                    p.text,
                    shown.join(", "),
                    if more > 0 {
                        format!(" (and {more} more)")
                    } else {
                        String::new()
                    }
                ));
            }
        }
        out
    }
}

/// Reads one field of a record.
type FieldOf = fn(&SessionRecord) -> Option<&str>;

/// Records chosen by [`RecordFilter::select`].
#[derive(Debug, Default)]
pub struct Selection<'a> {
    pub records: Vec<&'a SessionRecord>,
    /// records that passed every other filter but have no time, so no period can hold them
    pub untimed: usize,
}

/// A value named as it serializes (`port-forward`), or an error listing the accepted ones.
fn parse_named<T: serde::Serialize + Clone>(what: &str, all: &[T], s: &str) -> Result<T, String> {
    all.iter()
        .find(|k| enum_name(*k) == s)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(enum_name).collect();
            format!("unknown {what} {s:?}: use one of {}", names.join(", "))
        })
}

/// Parse a `--kind` value, or say which are accepted.
pub fn parse_kind(s: &str) -> Result<Kind, String> {
    parse_named("kind", &Kind::ALL, s)
}

/// Parse a `--flag` value, or say which are accepted.
pub fn parse_flag(s: &str) -> Result<Flag, String> {
    parse_named("flag", &Flag::ALL, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_ignoring_case() {
        let m = |p: &str, s: &str| Pattern::new(p).matches(s);
        assert!(m("alice", "Alice"));
        assert!(!m("alice", "alice@example.com"));
        assert!(m("alice*", "alice@example.com"));
        assert!(m("*@EXAMPLE.com", "alice@example.com"));
        assert!(m("i-0*f70", "i-0db1a2b3c4d5e6f70"));
        assert!(!m("i-0*f71", "i-0db1a2b3c4d5e6f70"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        // many stars stay linear
        assert!(!m(&"*a".repeat(200), &"a".repeat(150)));
    }

    #[test]
    fn unknown_kinds_and_flags_list_what_is_accepted() {
        assert_eq!(parse_kind("port-forward"), Ok(Kind::PortForward));
        let e = parse_kind("tunnel").unwrap_err();
        assert!(
            e.contains("port-forward-remote") && e.contains("\"tunnel\""),
            "{e}"
        );
        assert_eq!(
            parse_flag("principal-mismatch"),
            Ok(Flag::PrincipalMismatch)
        );
        assert!(parse_flag("missing")
            .unwrap_err()
            .contains("transcript-missing"));
    }

    #[test]
    fn a_near_miss_is_named() {
        let r = SessionRecord {
            principal: Some("alice@example.com".into()),
            ..Default::default()
        };
        let f = RecordFilter {
            user: Some(Pattern::new("alice")),
            ..Default::default()
        };
        assert_eq!(
            f.hints(std::slice::from_ref(&r)),
            ["--user alice matches no session; did you mean alice@example.com?"]
        );
        let f = RecordFilter {
            user: Some(Pattern::new("ALICE@example.com")),
            ..Default::default()
        };
        assert!(f.hints(&[r]).is_empty());
    }
}
