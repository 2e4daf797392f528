//! Matching shared by the `attributes` and `filter` processors.
//!
//! - [`Item`]: a borrowed view of one span, span event, log record, metric or data point
//!   with its resource, so every matcher is written once for all signals;
//! - [`MatchConfig`] / [`MatchProperties`]: the OTel Collector's `include` / `exclude`
//!   blocks (`match_type` strict or regexp, `services`, `span_names`, ...), compiled once;
//! - [`ItemSelector`]: include and exclude together ("process an item when it matches
//!   include, if given, and does not match exclude, if given");
//! - [`ValueMatcher`]: an attribute value compared for equality or by regex;
//! - parsing of severities, span kinds and status codes, and TOML values to `AnyValue`.
//!
//! Every regex is compiled when the processor is built; errors carry the key path.

mod properties;

pub use properties::{
    AttributeMatchConfig, ItemSelector, MatchConfig, MatchProperties, MatchType,
    SeverityNumberConfig,
};

use harrier_core::error::ConfigError;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use regex::Regex;
use std::borrow::Cow;

/// What kind of item an [`Item`] is, with the fields only that kind has.
#[derive(Debug, Clone, Copy)]
pub enum ItemKind<'a> {
    /// A span: name, kind and status code (OTLP enum numbers).
    Span {
        /// Span name.
        name: &'a str,
        /// `SpanKind` number.
        kind: i32,
        /// `Status.code` number (0 when there is no status).
        status: i32,
    },
    /// A span event.
    SpanEvent {
        /// Event name.
        name: &'a str,
    },
    /// A log record.
    Log {
        /// The body, if any.
        body: Option<&'a AnyValue>,
        /// `severity_text`.
        severity_text: &'a str,
        /// `severity_number` (0: undefined).
        severity_number: i32,
    },
    /// A whole metric (metric-level filtering).
    Metric {
        /// Metric name.
        name: &'a str,
    },
    /// One data point of a metric.
    DataPoint {
        /// The metric's name.
        metric_name: &'a str,
    },
}

/// A borrowed view of one item and its resource.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The resource's attributes.
    pub resource: &'a [KeyValue],
    /// The item's own attributes (empty for a whole metric).
    pub attributes: &'a [KeyValue],
    /// The kind-specific fields.
    pub kind: ItemKind<'a>,
}

impl Item<'_> {
    /// The span, span event or metric name (a data point's metric name).
    pub fn name(&self) -> Option<&str> {
        match self.kind {
            ItemKind::Span { name, .. }
            | ItemKind::SpanEvent { name }
            | ItemKind::Metric { name }
            | ItemKind::DataPoint { metric_name: name } => Some(name),
            ItemKind::Log { .. } => None,
        }
    }
}

/// The string form of a value used for regex matching: strings as they are, numbers and
/// booleans formatted, other types `None`. Only non-strings allocate.
pub fn value_as_str(value: &AnyValue) -> Option<Cow<'_, str>> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(Cow::Borrowed(s)),
        any_value::Value::IntValue(i) => Some(Cow::Owned(i.to_string())),
        any_value::Value::DoubleValue(d) => Some(Cow::Owned(d.to_string())),
        any_value::Value::BoolValue(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Finds `key` in an attribute list.
pub fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    harrier_pdata::attrs::get(attrs, key)
}

/// Compiles a regex, reporting a failure at `path`.
///
/// # Errors
/// `path: invalid regex ...`.
pub fn compile_regex(pattern: &str, path: &str) -> Result<Regex, ConfigError> {
    Regex::new(pattern).map_err(|e| ConfigError::new(path, format!("invalid regex: {e}")))
}

/// Converts a TOML value from a config into an OTLP value (tables become key/value
/// lists, datetimes strings).
pub fn toml_to_any_value(value: &toml::Value) -> AnyValue {
    let inner = match value {
        toml::Value::String(s) => any_value::Value::StringValue(s.clone()),
        toml::Value::Integer(i) => any_value::Value::IntValue(*i),
        toml::Value::Float(f) => any_value::Value::DoubleValue(*f),
        toml::Value::Boolean(b) => any_value::Value::BoolValue(*b),
        toml::Value::Datetime(d) => any_value::Value::StringValue(d.to_string()),
        toml::Value::Array(items) => any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(toml_to_any_value).collect(),
        }),
        toml::Value::Table(table) => any_value::Value::KvlistValue(KeyValueList {
            values: table
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(toml_to_any_value(v)),
                    ..Default::default()
                })
                .collect(),
        }),
    };
    AnyValue { value: Some(inner) }
}

/// Parses a log severity: a number 0..=24 or a name (`TRACE`..`FATAL4`, `WARNING`),
/// case-insensitive.
///
/// # Errors
/// `path: ...` when it is neither.
pub fn parse_severity(value: &toml::Value, path: &str) -> Result<i32, ConfigError> {
    let bad = || {
        ConfigError::new(
            path,
            "expected a severity number 0..=24 or a name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, optionally with 2..4)",
        )
    };
    match value {
        toml::Value::Integer(n) if (0..=24).contains(n) => Ok(*n as i32),
        toml::Value::String(s) => {
            let upper = s.to_ascii_uppercase();
            let (base, step) = match upper.as_bytes().last() {
                Some(d @ b'2'..=b'4') => (&upper[..upper.len() - 1], i32::from(d - b'1')),
                _ => (upper.as_str(), 0),
            };
            let first = match base {
                "TRACE" => 1,
                "DEBUG" => 5,
                "INFO" => 9,
                "WARN" | "WARNING" => 13,
                "ERROR" => 17,
                "FATAL" => 21,
                _ => return Err(bad()),
            };
            Ok(first + step)
        }
        _ => Err(bad()),
    }
}

/// Parses a span kind (`server`, `SPAN_KIND_SERVER`, ..., case-insensitive) to its
/// OTLP number.
pub fn parse_span_kind(name: &str) -> Option<i32> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SPAN_KIND_").unwrap_or(&upper);
    Some(match bare {
        "UNSPECIFIED" => 0,
        "INTERNAL" => 1,
        "SERVER" => 2,
        "CLIENT" => 3,
        "PRODUCER" => 4,
        "CONSUMER" => 5,
        _ => return None,
    })
}

/// Parses a span status code (`unset`, `ok`, `error`, or `STATUS_CODE_*`).
pub fn parse_status_code(name: &str) -> Option<i32> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("STATUS_CODE_").unwrap_or(&upper);
    Some(match bare {
        "UNSET" => 0,
        "OK" => 1,
        "ERROR" => 2,
        _ => return None,
    })
}

/// How an attribute's value is compared.
#[derive(Debug, Clone)]
pub enum ValueMatcher {
    /// The key only has to be present.
    Exists,
    /// Typed equality with a configured value.
    Equals(AnyValue),
    /// A regex on the value's string form (strings, numbers, booleans).
    Regex(Regex),
}

impl ValueMatcher {
    /// Whether `value` (the attribute's value, if the key is present) matches.
    pub fn matches(&self, value: Option<&AnyValue>) -> bool {
        match (self, value) {
            (_, None) => false,
            (ValueMatcher::Exists, Some(_)) => true,
            (ValueMatcher::Equals(want), Some(got)) => want == got,
            (ValueMatcher::Regex(re), Some(got)) => {
                value_as_str(got).is_some_and(|s| re.is_match(&s))
            }
        }
    }
}

/// A key with a [`ValueMatcher`].
#[derive(Debug, Clone)]
pub struct AttributeMatcher {
    /// The attribute key.
    pub key: String,
    /// How its value is compared.
    pub value: ValueMatcher,
}

impl AttributeMatcher {
    /// Whether `attrs` holds the key with a matching value.
    pub fn matches(&self, attrs: &[KeyValue]) -> bool {
        self.value.matches(find(attrs, &self.key))
    }
}
