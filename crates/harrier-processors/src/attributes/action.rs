//! Attribute actions (`insert`, `update`, `upsert`, `delete`, `hash`, `extract`,
//! `convert`), shared by the `attributes` and `resource` processors.
//!
//! [`ActionConfig`] is one `actions[i]` entry; [`compile_actions`] checks and compiles a
//! list once (regexes included) into [`Actions`], which [`Actions::apply`] runs on one
//! attribute list, in order.

use crate::matching::{compile_regex, find, toml_to_any_value};
use harrier_core::error::ConfigError;
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use regex::Regex;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Adds `key` if absent.
    Insert,
    /// Sets `key` if present.
    Update,
    /// Sets `key`, adding it if absent.
    Upsert,
    /// Removes `key` and/or every key matching `pattern`.
    Delete,
    /// Replaces the value of `key` and/or of every key matching `pattern` by its SHA-256
    /// in lowercase hex.
    Hash,
    /// Runs `pattern` (named groups) on `key`'s string value and upserts one attribute
    /// per named group that matched.
    Extract,
    /// Converts `key`'s value to `converted_type`; a value that does not convert stays.
    Convert,
}

/// Target type of `convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvertedType {
    /// 64-bit integer (strings parsed, doubles truncated, booleans 1/0).
    Int,
    /// Double (strings parsed, integers widened, booleans 1.0/0.0).
    Double,
    /// String (numbers and booleans formatted).
    String,
    /// Boolean (strings `true`/`false`/`1`/`0`, case-insensitive; numbers: not zero).
    Bool,
}

/// One `actions[i]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The action (required).
    pub action: ActionKind,
    /// The attribute acted on (required except for `delete`/`hash` with `pattern`).
    pub key: Option<String>,
    /// `insert`/`update`/`upsert`: the value (any TOML value).
    pub value: Option<toml::Value>,
    /// `insert`/`update`/`upsert`: copy the value of this attribute instead (no-op when
    /// it is absent).
    pub from_attribute: Option<String>,
    /// `delete`/`hash`: regex on attribute keys; `extract`: regex with named groups on
    /// the value of `key`.
    pub pattern: Option<String>,
    /// `convert`: `int`, `double`, `string` or `bool`.
    pub converted_type: Option<ConvertedType>,
}

#[derive(Debug, Clone)]
enum Source {
    Value(AnyValue),
    FromAttribute(String),
}

#[derive(Debug, Clone)]
enum Action {
    Set {
        key: String,
        source: Source,
        insert: bool,
        update: bool,
    },
    Delete {
        key: Option<String>,
        pattern: Option<Regex>,
    },
    Hash {
        key: Option<String>,
        pattern: Option<Regex>,
    },
    Extract {
        key: String,
        regex: Regex,
        groups: Vec<String>,
    },
    Convert {
        key: String,
        to: ConvertedType,
    },
}

/// A compiled action list.
#[derive(Debug, Clone, Default)]
pub struct Actions(Vec<Action>);

fn compile_one(a: &ActionConfig, path: &str) -> Result<Action, ConfigError> {
    let err = |key: &str, msg: &str| ConfigError::new(format!("{path}.{key}"), msg);
    let need_key = || {
        a.key
            .clone()
            .ok_or_else(|| err("key", "required for this action"))
    };
    let unexpected = |key: &str, present: bool| {
        if present {
            Err(err(key, "not used by this action"))
        } else {
            Ok(())
        }
    };
    let pattern = |p: &Option<String>| {
        p.as_deref()
            .map(|p| compile_regex(p, &format!("{path}.pattern")))
            .transpose()
    };
    match a.action {
        ActionKind::Insert | ActionKind::Update | ActionKind::Upsert => {
            unexpected("pattern", a.pattern.is_some())?;
            unexpected("converted_type", a.converted_type.is_some())?;
            let source = match (&a.value, &a.from_attribute) {
                (Some(v), None) => Source::Value(toml_to_any_value(v)),
                (None, Some(f)) => Source::FromAttribute(f.clone()),
                _ => {
                    return Err(err(
                        "value",
                        "exactly one of value or from_attribute is required",
                    ));
                }
            };
            Ok(Action::Set {
                key: need_key()?,
                source,
                insert: a.action != ActionKind::Update,
                update: a.action != ActionKind::Insert,
            })
        }
        ActionKind::Delete | ActionKind::Hash => {
            unexpected("value", a.value.is_some())?;
            unexpected("from_attribute", a.from_attribute.is_some())?;
            unexpected("converted_type", a.converted_type.is_some())?;
            if a.key.is_none() && a.pattern.is_none() {
                return Err(err("key", "key or pattern is required"));
            }
            let (key, pattern) = (a.key.clone(), pattern(&a.pattern)?);
            Ok(if a.action == ActionKind::Delete {
                Action::Delete { key, pattern }
            } else {
                Action::Hash { key, pattern }
            })
        }
        ActionKind::Extract => {
            unexpected("value", a.value.is_some())?;
            unexpected("from_attribute", a.from_attribute.is_some())?;
            unexpected("converted_type", a.converted_type.is_some())?;
            let key = need_key()?;
            let regex =
                pattern(&a.pattern)?.ok_or_else(|| err("pattern", "required for extract"))?;
            let groups: Vec<String> = regex.capture_names().flatten().map(str::to_owned).collect();
            if groups.is_empty() {
                return Err(err(
                    "pattern",
                    "must have at least one named group, e.g. (?P<name>...)",
                ));
            }
            Ok(Action::Extract { key, regex, groups })
        }
        ActionKind::Convert => {
            unexpected("value", a.value.is_some())?;
            unexpected("from_attribute", a.from_attribute.is_some())?;
            unexpected("pattern", a.pattern.is_some())?;
            let to = a
                .converted_type
                .ok_or_else(|| err("converted_type", "required for convert"))?;
            Ok(Action::Convert {
                key: need_key()?,
                to,
            })
        }
    }
}

/// Compiles the action list found under `list_key` (errors at `<list_key>[i].<key>`);
/// at least one action is required.
///
/// # Errors
/// Every invalid action.
pub fn compile_actions(
    actions: &[ActionConfig],
    list_key: &str,
) -> Result<Actions, Vec<ConfigError>> {
    if actions.is_empty() {
        return Err(vec![ConfigError::new(
            list_key,
            "at least one action is required",
        )]);
    }
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(actions.len());
    for (i, a) in actions.iter().enumerate() {
        match compile_one(a, &format!("{list_key}[{i}]")) {
            Ok(action) => out.push(action),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Actions(out))
    } else {
        Err(errors)
    }
}

fn set(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = Some(value),
        None => attrs.push(KeyValue {
            key: key.to_owned(),
            value: Some(value),
            ..Default::default()
        }),
    }
}

/// The SHA-256 (lowercase hex) of a value: a string's UTF-8 bytes, an integer's or a
/// double's 8 big-endian bytes, a boolean's one byte (1/0). Other types: `None`.
pub fn hash_value(value: &AnyValue) -> Option<String> {
    let digest = match value.value.as_ref()? {
        Value::StringValue(s) => Sha256::digest(s.as_bytes()),
        Value::IntValue(i) => Sha256::digest(i.to_be_bytes()),
        Value::DoubleValue(d) => Sha256::digest(d.to_bits().to_be_bytes()),
        Value::BoolValue(b) => Sha256::digest([u8::from(*b)]),
        _ => return None,
    };
    Some(hex::encode(digest))
}

fn hash_in_place(kv: &mut KeyValue) {
    if let Some(h) = kv.value.as_ref().and_then(hash_value) {
        kv.value = Some(AnyValue {
            value: Some(Value::StringValue(h)),
        });
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" => Some(true),
        "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// Converts a value; `None` when it does not convert.
pub fn convert(value: &Value, to: ConvertedType) -> Option<Value> {
    Some(match (to, value) {
        (ConvertedType::Int, Value::IntValue(i)) => Value::IntValue(*i),
        (ConvertedType::Int, Value::DoubleValue(d)) if d.is_finite() => {
            Value::IntValue(d.trunc() as i64)
        }
        (ConvertedType::Int, Value::BoolValue(b)) => Value::IntValue(i64::from(*b)),
        (ConvertedType::Int, Value::StringValue(s)) => Value::IntValue(s.trim().parse().ok()?),
        (ConvertedType::Double, Value::DoubleValue(d)) => Value::DoubleValue(*d),
        (ConvertedType::Double, Value::IntValue(i)) => Value::DoubleValue(*i as f64),
        (ConvertedType::Double, Value::BoolValue(b)) => {
            Value::DoubleValue(if *b { 1.0 } else { 0.0 })
        }
        (ConvertedType::Double, Value::StringValue(s)) => {
            Value::DoubleValue(s.trim().parse().ok()?)
        }
        (ConvertedType::String, Value::StringValue(s)) => Value::StringValue(s.clone()),
        (ConvertedType::String, Value::IntValue(i)) => Value::StringValue(i.to_string()),
        (ConvertedType::String, Value::DoubleValue(d)) => Value::StringValue(d.to_string()),
        (ConvertedType::String, Value::BoolValue(b)) => Value::StringValue(b.to_string()),
        (ConvertedType::Bool, Value::BoolValue(b)) => Value::BoolValue(*b),
        (ConvertedType::Bool, Value::IntValue(i)) => Value::BoolValue(*i != 0),
        (ConvertedType::Bool, Value::DoubleValue(d)) => Value::BoolValue(*d != 0.0),
        (ConvertedType::Bool, Value::StringValue(s)) => Value::BoolValue(parse_bool(s.trim())?),
        _ => return None,
    })
}

impl Actions {
    /// Runs every action, in order, on one attribute list.
    pub fn apply(&self, attrs: &mut Vec<KeyValue>) {
        for action in &self.0 {
            match action {
                Action::Set {
                    key,
                    source,
                    insert,
                    update,
                } => {
                    let present = attrs.iter().any(|kv| kv.key == *key);
                    if (present && !update) || (!present && !insert) {
                        continue;
                    }
                    let value = match source {
                        Source::Value(v) => v.clone(),
                        Source::FromAttribute(from) => match find(attrs, from) {
                            Some(v) => v.clone(),
                            None => continue,
                        },
                    };
                    set(attrs, key, value);
                }
                Action::Delete { key, pattern } => attrs.retain(|kv| {
                    key.as_deref() != Some(kv.key.as_str())
                        && !pattern.as_ref().is_some_and(|re| re.is_match(&kv.key))
                }),
                Action::Hash { key, pattern } => attrs
                    .iter_mut()
                    .filter(|kv| {
                        key.as_deref() == Some(kv.key.as_str())
                            || pattern.as_ref().is_some_and(|re| re.is_match(&kv.key))
                    })
                    .for_each(hash_in_place),
                Action::Extract { key, regex, groups } => {
                    let Some(Value::StringValue(s)) =
                        find(attrs, key).and_then(|v| v.value.as_ref())
                    else {
                        continue;
                    };
                    let Some(caps) = regex.captures(s) else {
                        continue;
                    };
                    let found: Vec<(usize, String)> = groups
                        .iter()
                        .enumerate()
                        .filter_map(|(i, g)| caps.name(g).map(|m| (i, m.as_str().to_owned())))
                        .collect();
                    for (i, v) in found {
                        set(
                            attrs,
                            &groups[i],
                            AnyValue {
                                value: Some(Value::StringValue(v)),
                            },
                        );
                    }
                }
                Action::Convert { key, to } => {
                    if let Some(kv) = attrs.iter_mut().find(|kv| kv.key == *key)
                        && let Some(v) = kv.value.as_mut().and_then(|v| v.value.as_mut())
                        && let Some(converted) = convert(v, *to)
                    {
                        *v = converted;
                    }
                }
            }
        }
    }
}
