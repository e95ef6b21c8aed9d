//! Risky-command rules: the shipped defaults and a user's TOML file, checked as they load.

use super::*;

/// The default rules, shipped with the tool.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Rule {
    pub id: String,
    pub pattern: String,
    pub severity: String,
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

pub(crate) fn yes() -> bool {
    true
}

#[derive(Deserialize)]
pub(crate) struct RuleFile {
    #[serde(default)]
    rule: Vec<Rule>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        source: toml::de::Error,
    },
    #[error("{file}: rule {id}: pattern: {source}")]
    Pattern {
        file: String,
        id: String,
        source: regex::Error,
    },
    #[error("{file}: rule {id}: severity must be low, medium, high or critical, not {severity:?}")]
    Severity {
        file: String,
        id: String,
        severity: String,
    },
}

/// Compiled rules: the defaults, with a user's file laid over them by id.
#[derive(Debug)]
pub struct Rules {
    rules: Vec<(Rule, regex::Regex)>,
}

impl Rules {
    pub fn load(user: Option<(&str, &str)>) -> Result<Rules, RuleError> {
        let mut by_id: BTreeMap<String, (usize, Rule)> = BTreeMap::new();
        let mut order = 0;
        for (file, text) in std::iter::once(("default rules", DEFAULT_RULES)).chain(user) {
            let parsed: RuleFile = toml::from_str(text).map_err(|source| RuleError::Toml {
                file: file.to_owned(),
                source,
            })?;
            for r in parsed.rule {
                if !["low", "medium", "high", "critical"].contains(&r.severity.as_str()) {
                    return Err(RuleError::Severity {
                        file: file.into(),
                        id: r.id,
                        severity: r.severity,
                    });
                }
                let pos = by_id.get(&r.id).map_or_else(
                    || {
                        order += 1;
                        order
                    },
                    |e| e.0,
                );
                by_id.insert(r.id.clone(), (pos, r));
            }
            let _ = file;
        }
        let mut rules: Vec<(usize, Rule)> =
            by_id.into_values().filter(|(_, r)| r.enabled).collect();
        rules.sort_by_key(|(pos, _)| *pos);
        let rules = rules
            .into_iter()
            .map(|(_, r)| {
                let re = regex::Regex::new(&r.pattern).map_err(|source| RuleError::Pattern {
                    file: "rules".into(),
                    id: r.id.clone(),
                    source,
                })?;
                Ok((r, re))
            })
            .collect::<Result<_, RuleError>>()?;
        Ok(Rules { rules })
    }

    pub fn matching(&self, command: &str) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|(_, re)| re.is_match(command))
            .map(|(r, _)| r)
            .collect()
    }
}
