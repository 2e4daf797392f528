//! Compiled filter conditions and their evaluation on an [`Item`].

use super::config::{AttributeConditionConfig, ConditionConfig, OneOrMany};
use crate::matching::{
    AttributeMatcher, Item, ItemKind, ValueMatcher, compile_regex, parse_severity, parse_span_kind,
    parse_status_code, toml_to_any_value, value_as_str,
};
use harrier_core::error::ConfigError;
use regex::{Regex, RegexSet};

/// The level a condition is evaluated at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `traces.span`
    Span,
    /// `traces.span_event`
    SpanEvent,
    /// `metrics.metric`
    Metric,
    /// `metrics.data_point`
    DataPoint,
    /// `logs.log_record`
    LogRecord,
}

impl Level {
    fn noun(self) -> &'static str {
        match self {
            Level::Span => "spans",
            Level::SpanEvent => "span events",
            Level::Metric => "metrics",
            Level::DataPoint => "data points",
            Level::LogRecord => "log records",
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// Any sub-condition.
    Any(Vec<Condition>),
    /// Every sub-condition.
    All(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// The item's attribute.
    Attribute(AttributeMatcher),
    /// A resource attribute.
    ResourceAttribute(AttributeMatcher),
    /// Name in a list.
    Name(Vec<String>),
    /// Name matching a regex set.
    NameMatches(RegexSet),
    /// Span kind numbers.
    Kind(Vec<i32>),
    /// Span status code numbers.
    StatusCode(Vec<i32>),
    /// Defined severity number below this.
    SeverityBelow(i32),
    /// Body regex.
    BodyMatches(Regex),
}

fn attribute(
    c: &AttributeConditionConfig,
    path: &str,
) -> Result<AttributeMatcher, Vec<ConfigError>> {
    let value = match (&c.equals, &c.matches) {
        (None, None) => ValueMatcher::Exists,
        (Some(v), None) => ValueMatcher::Equals(toml_to_any_value(v)),
        (None, Some(p)) => {
            ValueMatcher::Regex(compile_regex(p, &format!("{path}.matches")).map_err(|e| vec![e])?)
        }
        (Some(_), Some(_)) => {
            return Err(vec![ConfigError::new(
                path,
                "give equals or matches, not both",
            )]);
        }
    };
    Ok(AttributeMatcher {
        key: c.key.clone(),
        value,
    })
}

fn parse_all(
    list: &OneOrMany,
    path: &str,
    parse: fn(&str) -> Option<i32>,
    what: &str,
) -> Result<Vec<i32>, Vec<ConfigError>> {
    let errors: Vec<ConfigError> = list
        .as_slice()
        .iter()
        .filter(|s| parse(s).is_none())
        .map(|s| ConfigError::new(path, format!("unknown {what} {s:?}")))
        .collect();
    if errors.is_empty() {
        Ok(list.as_slice().iter().filter_map(|s| parse(s)).collect())
    } else {
        Err(errors)
    }
}

impl Condition {
    /// Compiles `config` for `level`; `path` is its key path.
    ///
    /// # Errors
    /// Invalid regexes, unknown names, empty lists, and conditions that do not apply to
    /// `level` (`severity_below` on spans), each with its path.
    pub fn compile(
        config: &ConditionConfig,
        level: Level,
        path: &str,
    ) -> Result<Condition, Vec<ConfigError>> {
        let not_for = |key: &str| {
            Err(vec![ConfigError::new(
                format!("{path}.{key}"),
                format!("does not apply to {}", level.noun()),
            )])
        };
        let list =
            |items: &[ConditionConfig], key: &str| -> Result<Vec<Condition>, Vec<ConfigError>> {
                if items.is_empty() {
                    return Err(vec![ConfigError::new(
                        format!("{path}.{key}"),
                        "must hold at least one condition",
                    )]);
                }
                let mut errors = Vec::new();
                let mut out = Vec::new();
                for (i, c) in items.iter().enumerate() {
                    match Condition::compile(c, level, &format!("{path}.{key}[{i}]")) {
                        Ok(c) => out.push(c),
                        Err(e) => errors.extend(e),
                    }
                }
                if errors.is_empty() {
                    Ok(out)
                } else {
                    Err(errors)
                }
            };
        use ConditionConfig as C;
        Ok(match config {
            C::Any(items) => Condition::Any(list(items, "any")?),
            C::All(items) => Condition::All(list(items, "all")?),
            C::Not(inner) => Condition::Not(Box::new(Condition::compile(
                inner,
                level,
                &format!("{path}.not"),
            )?)),
            C::Attribute(_) if level == Level::Metric => return not_for("attribute"),
            C::Attribute(a) => Condition::Attribute(attribute(a, &format!("{path}.attribute"))?),
            C::ResourceAttribute(a) => {
                Condition::ResourceAttribute(attribute(a, &format!("{path}.resource_attribute"))?)
            }
            C::Name(_) | C::NameMatches(_) if level == Level::LogRecord => {
                return not_for(if matches!(config, C::Name(_)) {
                    "name"
                } else {
                    "name_matches"
                });
            }
            C::Name(names) => Condition::Name(names.as_slice().to_vec()),
            C::NameMatches(patterns) => {
                let p = format!("{path}.name_matches");
                let errors: Vec<ConfigError> = patterns
                    .as_slice()
                    .iter()
                    .filter_map(|re| compile_regex(re, &p).err())
                    .collect();
                if !errors.is_empty() {
                    return Err(errors);
                }
                Condition::NameMatches(
                    RegexSet::new(patterns.as_slice())
                        .map_err(|e| vec![ConfigError::new(p, format!("invalid regex: {e}"))])?,
                )
            }
            C::Kind(_) if level != Level::Span => return not_for("kind"),
            C::Kind(k) => Condition::Kind(parse_all(
                k,
                &format!("{path}.kind"),
                parse_span_kind,
                "span kind",
            )?),
            C::StatusCode(_) if level != Level::Span => return not_for("status_code"),
            C::StatusCode(s) => Condition::StatusCode(parse_all(
                s,
                &format!("{path}.status_code"),
                parse_status_code,
                "status code",
            )?),
            C::SeverityBelow(_) if level != Level::LogRecord => return not_for("severity_below"),
            C::SeverityBelow(v) => Condition::SeverityBelow(
                parse_severity(v, &format!("{path}.severity_below")).map_err(|e| vec![e])?,
            ),
            C::BodyMatches(_) if level != Level::LogRecord => return not_for("body_matches"),
            C::BodyMatches(p) => Condition::BodyMatches(
                compile_regex(p, &format!("{path}.body_matches")).map_err(|e| vec![e])?,
            ),
        })
    }

    /// Whether `item` matches (and is to be dropped).
    pub fn matches(&self, item: &Item<'_>) -> bool {
        match self {
            Condition::Any(cs) => cs.iter().any(|c| c.matches(item)),
            Condition::All(cs) => cs.iter().all(|c| c.matches(item)),
            Condition::Not(c) => !c.matches(item),
            Condition::Attribute(m) => m.matches(item.attributes),
            Condition::ResourceAttribute(m) => m.matches(item.resource),
            Condition::Name(names) => item.name().is_some_and(|n| names.iter().any(|x| x == n)),
            Condition::NameMatches(set) => item.name().is_some_and(|n| set.is_match(n)),
            Condition::Kind(kinds) => {
                matches!(item.kind, ItemKind::Span { kind, .. } if kinds.contains(&kind))
            }
            Condition::StatusCode(codes) => {
                matches!(item.kind, ItemKind::Span { status, .. } if codes.contains(&status))
            }
            Condition::SeverityBelow(level) => matches!(
                item.kind,
                ItemKind::Log { severity_number, .. } if severity_number != 0 && severity_number < *level
            ),
            Condition::BodyMatches(re) => match item.kind {
                ItemKind::Log {
                    body: Some(body), ..
                } => value_as_str(body).is_some_and(|b| re.is_match(&b)),
                _ => false,
            },
        }
    }
}
