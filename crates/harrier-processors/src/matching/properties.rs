//! The OTel Collector's `include` / `exclude` blocks: [`MatchConfig`] as written,
//! [`MatchProperties`] compiled, and [`ItemSelector`] for both blocks together.

use super::{
    AttributeMatcher, Item, ItemKind, ValueMatcher, compile_regex, parse_severity, parse_span_kind,
    toml_to_any_value, value_as_str,
};
use harrier_core::error::ConfigError;
use serde::Deserialize;

/// `match_type` of an include / exclude block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    /// Exact string equality; attribute values compared typed.
    Strict,
    /// Unanchored regexes (use `^...$` to anchor).
    Regexp,
}

/// One `{ key, value }` entry of `attributes` / `resources`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMatchConfig {
    /// The attribute key (required).
    pub key: String,
    /// The value: with `strict` any TOML value compared typed; with `regexp` a regex on
    /// the value's string form. Absent: the key only has to exist.
    pub value: Option<toml::Value>,
}

/// `log_severity_number`: matches records at or above `min`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityNumberConfig {
    /// The lowest matching severity: a number or a name such as `"INFO"` (required).
    pub min: toml::Value,
    /// Whether records without a severity (0) match (default false).
    #[serde(default)]
    pub match_undefined: bool,
}

/// An `include` or `exclude` block (the OTel Collector's attributes processor keys).
/// Every property given must match (AND); within a list, one entry is enough (OR),
/// except `attributes` and `resources`, where every entry must match.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// `strict` or `regexp` (required).
    pub match_type: MatchType,
    /// Resource `service.name` values.
    #[serde(default)]
    pub services: Vec<String>,
    /// Span names.
    #[serde(default)]
    pub span_names: Vec<String>,
    /// Span kinds (`server`, `SPAN_KIND_CLIENT`, ...; always compared exactly).
    #[serde(default)]
    pub span_kinds: Vec<String>,
    /// Log bodies (string form of the body).
    #[serde(default)]
    pub log_bodies: Vec<String>,
    /// Log severity texts.
    #[serde(default)]
    pub log_severity_texts: Vec<String>,
    /// Log severity number at or above a minimum.
    pub log_severity_number: Option<SeverityNumberConfig>,
    /// Metric names (for data points).
    #[serde(default)]
    pub metric_names: Vec<String>,
    /// Item attributes; all must match.
    #[serde(default)]
    pub attributes: Vec<AttributeMatchConfig>,
    /// Resource attributes; all must match.
    #[serde(default)]
    pub resources: Vec<AttributeMatchConfig>,
}

/// A list of strings matched exactly or by regex.
#[derive(Debug, Clone)]
enum StringSet {
    Strict(Vec<String>),
    Regexp(regex::RegexSet),
}

impl StringSet {
    fn compile(
        items: &[String],
        match_type: MatchType,
        path: &str,
    ) -> Result<Option<StringSet>, Vec<ConfigError>> {
        if items.is_empty() {
            return Ok(None);
        }
        match match_type {
            MatchType::Strict => Ok(Some(StringSet::Strict(items.to_vec()))),
            MatchType::Regexp => {
                let errors: Vec<ConfigError> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| compile_regex(p, &format!("{path}[{i}]")).err())
                    .collect();
                if !errors.is_empty() {
                    return Err(errors);
                }
                regex::RegexSet::new(items)
                    .map(|set| Some(StringSet::Regexp(set)))
                    .map_err(|e| vec![ConfigError::new(path, format!("invalid regex: {e}"))])
            }
        }
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            StringSet::Strict(list) => list.iter().any(|x| x == s),
            StringSet::Regexp(set) => set.is_match(s),
        }
    }
}

/// A compiled `include` / `exclude` block.
#[derive(Debug, Clone)]
pub struct MatchProperties {
    services: Option<StringSet>,
    span_names: Option<StringSet>,
    span_kinds: Vec<i32>,
    log_bodies: Option<StringSet>,
    log_severity_texts: Option<StringSet>,
    log_severity_min: Option<(i32, bool)>,
    metric_names: Option<StringSet>,
    attributes: Vec<AttributeMatcher>,
    resources: Vec<AttributeMatcher>,
}

fn compile_attribute_matchers(
    entries: &[AttributeMatchConfig],
    match_type: MatchType,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<AttributeMatcher> {
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let value = match (&entry.value, match_type) {
            (None, _) => ValueMatcher::Exists,
            (Some(v), MatchType::Strict) => ValueMatcher::Equals(toml_to_any_value(v)),
            (Some(toml::Value::String(p)), MatchType::Regexp) => {
                match compile_regex(p, &format!("{path}[{i}].value")) {
                    Ok(re) => ValueMatcher::Regex(re),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
            (Some(_), MatchType::Regexp) => {
                errors.push(ConfigError::new(
                    format!("{path}[{i}].value"),
                    "with match_type = \"regexp\" the value must be a string (a regex)",
                ));
                continue;
            }
        };
        out.push(AttributeMatcher {
            key: entry.key.clone(),
            value,
        });
    }
    out
}

impl MatchConfig {
    /// Compiles the block; `path` is its key (`include` / `exclude`).
    ///
    /// # Errors
    /// Every problem, with its path.
    pub fn compile(&self, path: &str) -> Result<MatchProperties, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mt = self.match_type;
        let mut set = |items: &[String], key: &str| {
            StringSet::compile(items, mt, &format!("{path}.{key}")).unwrap_or_else(|e| {
                errors.extend(e);
                None
            })
        };
        let services = set(&self.services, "services");
        let span_names = set(&self.span_names, "span_names");
        let log_bodies = set(&self.log_bodies, "log_bodies");
        let log_severity_texts = set(&self.log_severity_texts, "log_severity_texts");
        let metric_names = set(&self.metric_names, "metric_names");
        let mut span_kinds = Vec::new();
        for (i, k) in self.span_kinds.iter().enumerate() {
            match parse_span_kind(k) {
                Some(n) => span_kinds.push(n),
                None => errors.push(ConfigError::new(
                    format!("{path}.span_kinds[{i}]"),
                    format!("unknown span kind {k:?} (server, client, internal, producer, consumer, unspecified)"),
                )),
            }
        }
        let log_severity_min = match &self.log_severity_number {
            None => None,
            Some(s) => match parse_severity(&s.min, &format!("{path}.log_severity_number.min")) {
                Ok(n) => Some((n, s.match_undefined)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        let attributes = compile_attribute_matchers(
            &self.attributes,
            mt,
            &format!("{path}.attributes"),
            &mut errors,
        );
        let resources = compile_attribute_matchers(
            &self.resources,
            mt,
            &format!("{path}.resources"),
            &mut errors,
        );
        let props = MatchProperties {
            services,
            span_names,
            span_kinds,
            log_bodies,
            log_severity_texts,
            log_severity_min,
            metric_names,
            attributes,
            resources,
        };
        if errors.is_empty() && props.is_empty() {
            errors.push(ConfigError::new(
                path,
                "at least one of services, span_names, span_kinds, log_bodies, log_severity_texts, log_severity_number, metric_names, attributes or resources must be given",
            ));
        }
        if errors.is_empty() {
            Ok(props)
        } else {
            Err(errors)
        }
    }
}

impl MatchProperties {
    fn is_empty(&self) -> bool {
        self.services.is_none()
            && self.span_names.is_none()
            && self.span_kinds.is_empty()
            && self.log_bodies.is_none()
            && self.log_severity_texts.is_none()
            && self.log_severity_min.is_none()
            && self.metric_names.is_none()
            && self.attributes.is_empty()
            && self.resources.is_empty()
    }

    /// Whether `item` matches every property given. A property that does not apply to
    /// the item's kind (`span_names` for a log record) does not match.
    pub fn matches(&self, item: &Item<'_>) -> bool {
        if let Some(services) = &self.services {
            match harrier_pdata::attrs::get_str(item.resource, "service.name") {
                Some(s) if services.matches(s) => {}
                _ => return false,
            }
        }
        let span = match item.kind {
            ItemKind::Span { name, kind, .. } => Some((name, kind)),
            _ => None,
        };
        if let Some(names) = &self.span_names
            && !span.is_some_and(|(name, _)| names.matches(name))
        {
            return false;
        }
        if !self.span_kinds.is_empty()
            && !span.is_some_and(|(_, kind)| self.span_kinds.contains(&kind))
        {
            return false;
        }
        if self.log_bodies.is_some()
            || self.log_severity_texts.is_some()
            || self.log_severity_min.is_some()
        {
            let ItemKind::Log {
                body,
                severity_text,
                severity_number,
            } = item.kind
            else {
                return false;
            };
            if let Some(bodies) = &self.log_bodies
                && !body
                    .and_then(value_as_str)
                    .is_some_and(|b| bodies.matches(&b))
            {
                return false;
            }
            if let Some(texts) = &self.log_severity_texts
                && !texts.matches(severity_text)
            {
                return false;
            }
            if let Some((min, match_undefined)) = self.log_severity_min {
                let ok = if severity_number == 0 {
                    match_undefined
                } else {
                    severity_number >= min
                };
                if !ok {
                    return false;
                }
            }
        }
        if let Some(names) = &self.metric_names {
            match item.kind {
                ItemKind::DataPoint { metric_name } | ItemKind::Metric { name: metric_name }
                    if names.matches(metric_name) => {}
                _ => return false,
            }
        }
        self.attributes.iter().all(|m| m.matches(item.attributes))
            && self.resources.iter().all(|m| m.matches(item.resource))
    }
}

/// `include` and `exclude` compiled together.
#[derive(Debug, Clone, Default)]
pub struct ItemSelector {
    include: Option<MatchProperties>,
    exclude: Option<MatchProperties>,
}

impl ItemSelector {
    /// Compiles optional include / exclude blocks.
    ///
    /// # Errors
    /// Every problem in either block, with its path.
    pub fn compile(
        include: Option<&MatchConfig>,
        exclude: Option<&MatchConfig>,
    ) -> Result<ItemSelector, Vec<ConfigError>> {
        let include = include.map(|c| c.compile("include"));
        let exclude = exclude.map(|c| c.compile("exclude"));
        let mut errors = Vec::new();
        let mut take = |r: Option<Result<MatchProperties, Vec<ConfigError>>>| match r {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                errors.extend(e);
                None
            }
            None => None,
        };
        let selector = ItemSelector {
            include: take(include),
            exclude: take(exclude),
        };
        if errors.is_empty() {
            Ok(selector)
        } else {
            Err(errors)
        }
    }

    /// Whether neither block is given (every item is selected).
    pub fn selects_everything(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    /// Whether `item` is to be processed.
    pub fn selects(&self, item: &Item<'_>) -> bool {
        self.include.as_ref().is_none_or(|p| p.matches(item))
            && !self.exclude.as_ref().is_some_and(|p| p.matches(item))
    }
}
