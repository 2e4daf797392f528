//! Reading one rule's option table, collecting every error with its key path.
//!
//! [`Options`] hands out typed values with defaults and remembers which keys were
//! asked for, so [`Options::finish`] can report the keys no one knows (typos).

use crate::finding::Severity;
use harrier_core::error::ConfigError;

/// A rule's option table (or none: all defaults) under `prefix`.
pub(crate) struct Options<'t> {
    prefix: String,
    table: Option<&'t toml::Table>,
    known: Vec<&'static str>,
    errors: Vec<ConfigError>,
}

impl<'t> Options<'t> {
    /// Options read from `table`, whose errors are reported under `prefix`
    /// (`detectors.<rule>`).
    pub fn new(prefix: String, table: Option<&'t toml::Table>) -> Options<'t> {
        Options {
            prefix,
            table,
            known: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'t toml::Value> {
        self.known.push(key);
        self.table?.get(key)
    }

    fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors
            .push(ConfigError::new(format!("{}.{key}", self.prefix), message));
    }

    /// A boolean, `default` when absent.
    pub fn bool(&mut self, key: &'static str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => {
                self.error(key, "expected true or false");
                default
            }
        }
    }

    /// A severity name (`low`, `medium`, `high`, `critical`), `default` when absent.
    pub fn severity(&mut self, key: &'static str, default: Severity) -> Severity {
        let parsed = match self.get(key) {
            None => return default,
            Some(toml::Value::String(s)) => match s.as_str() {
                "low" => Some(Severity::Low),
                "medium" => Some(Severity::Medium),
                "high" => Some(Severity::High),
                "critical" => Some(Severity::Critical),
                _ => None,
            },
            Some(_) => None,
        };
        parsed.unwrap_or_else(|| {
            self.error(
                key,
                "expected one of \"low\", \"medium\", \"high\", \"critical\"",
            );
            default
        })
    }

    /// A list of non-empty strings, `default` when absent.
    pub fn strings(&mut self, key: &'static str, default: &[&str]) -> Vec<String> {
        let Some(value) = self.get(key) else {
            return default.iter().map(|s| (*s).to_string()).collect();
        };
        let Some(items) = value.as_array() else {
            self.error(key, "expected a list of strings");
            return default.iter().map(|s| (*s).to_string()).collect();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if !s.is_empty() => out.push(s.to_string()),
                _ => self.error(&format!("{key}[{i}]"), "expected a non-empty string"),
            }
        }
        out
    }

    /// An integer of at least 1, `default` when absent.
    pub fn positive_int(&mut self, key: &'static str, default: u64) -> u64 {
        match self.get(key) {
            None => default,
            Some(toml::Value::Integer(i)) if *i >= 1 => u64::try_from(*i).unwrap_or(default),
            Some(_) => {
                self.error(key, "expected an integer of at least 1");
                default
            }
        }
    }

    /// The errors found, plus one per key that no getter asked for.
    pub fn finish(mut self) -> Vec<ConfigError> {
        if let Some(table) = self.table {
            let mut known = self.known.clone();
            known.sort_unstable();
            known.dedup();
            for key in table.keys() {
                if !known.contains(&key.as_str()) {
                    let message = format!("unknown option; known options: {}", known.join(", "));
                    self.error(key, message);
                }
            }
        }
        self.errors
    }
}
