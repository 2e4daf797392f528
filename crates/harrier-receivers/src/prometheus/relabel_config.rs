//! Relabeling settings: [`RelabelConfig`] and [`Action`], and their validation,
//! which follows Prometheus's `relabel.Config.Validate` (plus a few fields that
//! `labelmap` ignores and Harrier refuses, see [`RelabelConfig::problems`]).

use super::{Step, Template};
use harrier_core::error::ConfigError;
use regex::Regex;
use serde::{Deserialize, Deserializer};

/// What a relabeling step does. Deserialized case-insensitively from the Prometheus
/// names (`replace`, `keep`, `drop`, `keepequal`, `dropequal`, `hashmod`, `labelmap`,
/// `labeldrop`, `labelkeep`, `lowercase`, `uppercase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// If `regex` matches the joined source value, set `target_label` to the expanded
    /// `replacement` (the default action).
    #[default]
    Replace,
    /// Drop the target/series unless `regex` matches the joined source value.
    Keep,
    /// Drop the target/series if `regex` matches the joined source value.
    Drop,
    /// Drop the target/series unless the joined source value equals the value of
    /// `target_label`.
    KeepEqual,
    /// Drop the target/series if the joined source value equals the value of
    /// `target_label`.
    DropEqual,
    /// Set `target_label` to the MD5 of the joined source value modulo `modulus`.
    HashMod,
    /// Copy every label whose name matches `regex` to the name given by the expanded
    /// `replacement`.
    LabelMap,
    /// Remove every label whose name matches `regex`.
    LabelDrop,
    /// Remove every label whose name does not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lower-cased joined source value.
    Lowercase,
    /// Set `target_label` to the upper-cased joined source value.
    Uppercase,
}

impl Action {
    /// Every action, in the order Prometheus documents them.
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The configuration name of the action (`replace`, `hashmod`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// The action for a configuration name, ignoring ASCII case as Prometheus does.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
        let text = String::deserialize(d)?;
        Action::parse(&text).ok_or_else(|| {
            let known: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
            serde::de::Error::custom(format!(
                "unknown relabel action {text:?}; expected one of {}",
                known.join(", ")
            ))
        })
    }
}

/// The default `separator`.
pub const DEFAULT_SEPARATOR: &str = ";";
/// The default `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";
/// The default `replacement`.
pub const DEFAULT_REPLACEMENT: &str = "$1";

fn default_separator() -> String {
    DEFAULT_SEPARATOR.to_string()
}

fn default_regex() -> String {
    DEFAULT_REGEX.to_string()
}

fn default_replacement() -> String {
    DEFAULT_REPLACEMENT.to_string()
}

/// One relabeling step, as in Prometheus's `<relabel_config>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` and matched against `regex`.
    /// A missing label contributes an empty string. Default none.
    #[serde(default)]
    pub source_labels: Vec<String>,
    /// Placed between the joined source values. Default `;`.
    #[serde(default = "default_separator")]
    pub separator: String,
    /// Regular expression (RE2-like syntax of the `regex` crate), anchored at both
    /// ends. Matched against the joined source value, or against label names for
    /// `labelmap`, `labeldrop` and `labelkeep`. Default `(.*)`.
    #[serde(default = "default_regex")]
    pub regex: String,
    /// The label written by `replace`, `hashmod`, `lowercase` and `uppercase`, and
    /// compared by `keepequal`/`dropequal`. For `replace` it may contain `$`
    /// references to capture groups. Required by those actions; default none.
    #[serde(default)]
    pub target_label: Option<String>,
    /// Template for the value written by `replace`, or the new label name for
    /// `labelmap`. Default `$1`.
    #[serde(default = "default_replacement")]
    pub replacement: String,
    /// Modulus of the hash for `hashmod`, where it is required and must be above zero.
    /// Default none.
    #[serde(default)]
    pub modulus: Option<u64>,
    /// What the step does. Default `replace`.
    #[serde(default)]
    pub action: Action,
}

impl Default for RelabelConfig {
    fn default() -> RelabelConfig {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: default_separator(),
            regex: default_regex(),
            target_label: None,
            replacement: default_replacement(),
            modulus: None,
            action: Action::Replace,
        }
    }
}

impl RelabelConfig {
    /// Checks the step without compiling anything but its regex. `key` is the step's
    /// own path (e.g. `...relabel_configs[2]`); every problem is reported with the path
    /// of the offending field.
    pub fn problems(&self, key: &str) -> Vec<ConfigError> {
        self.compile(key).err().unwrap_or_default()
    }

    /// The target label, with `""` treated as unset (as Prometheus does).
    fn target(&self) -> Option<&str> {
        self.target_label.as_deref().filter(|t| !t.is_empty())
    }

    /// Validates the step and compiles it.
    pub(super) fn compile(&self, key: &str) -> Result<Step, Vec<ConfigError>> {
        let action = self.action.name();
        let mut errors = Vec::new();
        let field = |name: &str| format!("{key}.{name}");

        let regex = match Regex::new(&format!("^(?:{})$", self.regex)) {
            Ok(regex) => Some(regex),
            Err(e) => {
                errors.push(ConfigError::new(
                    field("regex"),
                    format!("invalid regular expression {:?}: {e}", self.regex),
                ));
                None
            }
        };

        let needs_target = matches!(
            self.action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        match self.target() {
            None if needs_target => errors.push(ConfigError::new(
                field("target_label"),
                format!("required for action {action}"),
            )),
            Some(target) if needs_target => {
                // Only `replace` expands references in the target label.
                if self.action == Action::Replace && target.contains('$') {
                    if !is_valid_label_template(target) {
                        errors.push(ConfigError::new(
                            field("target_label"),
                            format!(
                                "{target:?} is not a label name, even after expanding \
                                 $ references"
                            ),
                        ));
                    }
                } else if !is_valid_label_name(target) {
                    errors.push(ConfigError::new(
                        field("target_label"),
                        format!("{target:?} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"),
                    ));
                }
            }
            _ => {}
        }

        match self.action {
            Action::HashMod => {
                if self.modulus.unwrap_or(0) == 0 {
                    errors.push(ConfigError::new(
                        field("modulus"),
                        "action hashmod requires a modulus greater than zero",
                    ));
                }
            }
            Action::Lowercase | Action::Uppercase => {
                if self.replacement != DEFAULT_REPLACEMENT {
                    errors.push(ConfigError::new(
                        field("replacement"),
                        format!("cannot be set for action {action}"),
                    ));
                }
            }
            Action::KeepEqual | Action::DropEqual => {
                let extra = [
                    ("regex", self.regex != DEFAULT_REGEX),
                    ("modulus", self.modulus.is_some()),
                    ("separator", self.separator != DEFAULT_SEPARATOR),
                    ("replacement", self.replacement != DEFAULT_REPLACEMENT),
                ];
                for (name, set) in extra {
                    if set {
                        errors.push(ConfigError::new(
                            field(name),
                            format!("action {action} takes only source_labels and target_label"),
                        ));
                    }
                }
            }
            Action::LabelDrop | Action::LabelKeep | Action::LabelMap => {
                let mut extra = vec![
                    ("source_labels", !self.source_labels.is_empty()),
                    ("target_label", self.target().is_some()),
                    ("modulus", self.modulus.is_some()),
                    ("separator", self.separator != DEFAULT_SEPARATOR),
                ];
                if self.action == Action::LabelMap {
                    if !is_valid_label_template(&self.replacement) {
                        errors.push(ConfigError::new(
                            field("replacement"),
                            format!(
                                "{:?} is not a label name, even after expanding $ references",
                                self.replacement
                            ),
                        ));
                    }
                } else {
                    extra.push(("replacement", self.replacement != DEFAULT_REPLACEMENT));
                }
                for (name, set) in extra {
                    if set {
                        errors.push(ConfigError::new(
                            field(name),
                            format!("has no effect with action {action}; remove it"),
                        ));
                    }
                }
            }
            Action::Replace | Action::Keep | Action::Drop => {}
        }

        for (i, name) in self.source_labels.iter().enumerate() {
            if !is_valid_label_name(name) {
                errors.push(ConfigError::new(
                    format!("{key}.source_labels[{i}]"),
                    format!("{name:?} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"),
                ));
            }
        }

        match regex {
            Some(regex) if errors.is_empty() => {
                let target_label = self.target().unwrap_or_default().to_string();
                let target_template = (self.action == Action::Replace
                    && target_label.contains('$'))
                .then(|| Template::parse(&target_label, &regex));
                Ok(Step {
                    action: self.action,
                    source_labels: self.source_labels.clone(),
                    separator: self.separator.clone(),
                    replacement: Template::parse(&self.replacement, &regex),
                    target_template,
                    target_label,
                    modulus: self.modulus.unwrap_or(1).max(1),
                    regex,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Whether `name` is a label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    }
}

/// Whether `template` can be a label name once its `$` references are expanded:
/// Prometheus's `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$` with ASCII `\w`, i.e. a
/// sequence of word characters and `$name`/`${name}` references not starting with a
/// digit.
fn is_valid_label_template(template: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut rest = template;
    let mut first = true;
    while let Some(c) = rest.chars().next() {
        if c == '$' {
            let after = &rest[1..];
            if let Some(braced) = after.strip_prefix('{') {
                let len = braced.find(|c: char| !word(c)).unwrap_or(braced.len());
                match braced[len..].strip_prefix('}') {
                    Some(tail) if len > 0 => rest = tail,
                    _ => return false,
                }
            } else {
                let len = after.find(|c: char| !word(c)).unwrap_or(after.len());
                if len == 0 {
                    return false;
                }
                rest = &after[len..];
            }
        } else if word(c) && !(first && c.is_ascii_digit()) {
            rest = &rest[c.len_utf8()..];
        } else {
            return false;
        }
        first = false;
    }
    !first
}
