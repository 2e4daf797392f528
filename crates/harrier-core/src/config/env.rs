//! `${env:VAR}` and `${env:VAR:-default}` substitution in config values.
//!
//! Substitution happens in string values after TOML parsing (so a variable can never
//! inject TOML syntax). A value that is exactly one reference and whose expansion reads
//! as a TOML integer, float or boolean becomes that type, so `port = "${env:PORT}"`
//! works where a number is expected. `$${` escapes a literal `${`.

use crate::error::{ConfigError, join_path};

/// Looks up environment variables; tests pass a closure instead of the process env.
pub trait Lookup {
    /// The variable's value, if set.
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Lookup for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Substitutes references in every string of `value`, collecting errors with paths.
pub fn substitute(
    value: &mut toml::Value,
    path: &str,
    env: &dyn Lookup,
    errors: &mut Vec<ConfigError>,
) {
    match value {
        toml::Value::String(s) => {
            if !s.contains("${") {
                return;
            }
            match expand(s, env) {
                Ok(expanded) => {
                    let whole = is_single_reference(s);
                    *value = if whole {
                        typed(&expanded).unwrap_or(toml::Value::String(expanded))
                    } else {
                        toml::Value::String(expanded)
                    };
                }
                Err(message) => errors.push(ConfigError::new(path, message)),
            }
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, &format!("{path}[{i}]"), env, errors);
            }
        }
        toml::Value::Table(table) => {
            for (k, v) in table.iter_mut() {
                substitute(v, &join_path(path, k), env, errors);
            }
        }
        _ => {}
    }
}

fn is_single_reference(s: &str) -> bool {
    s.starts_with("${env:") && s.ends_with('}') && s.matches("${").count() == 1
}

fn typed(text: &str) -> Option<toml::Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(toml::Value::Integer(i));
    }
    if (text.contains('.') || text.contains('e') || text.contains('E'))
        && let Ok(f) = text.parse::<f64>()
    {
        return Some(toml::Value::Float(f));
    }
    match text {
        "true" => Some(toml::Value::Boolean(true)),
        "false" => Some(toml::Value::Boolean(false)),
        _ => None,
    }
}

/// Expands every reference in `s`.
///
/// # Errors
/// A message for an unset variable without default, a malformed reference, or an
/// unsupported provider (only `env:` is supported).
pub fn expand(s: &str, env: &dyn Lookup) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(stripped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = stripped;
            continue;
        }
        let Some(body_start) = after.strip_prefix("${") else {
            out.push('$');
            rest = &after[1..];
            continue;
        };
        let Some(end) = body_start.find('}') else {
            return Err(format!("unterminated reference in {s:?} (missing '}}')"));
        };
        let body = &body_start[..end];
        rest = &body_start[end + 1..];
        let Some(reference) = body.strip_prefix("env:") else {
            return Err(format!(
                "unsupported reference \"${{{body}}}\": only ${{env:VAR}} and ${{env:VAR:-default}} are supported"
            ));
        };
        let (name, default) = match reference.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (reference, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("invalid environment variable name {name:?}"));
        }
        match (env.get(name), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "environment variable {name:?} is not set (use ${{env:{name}:-default}} for a default)"
                ));
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("10.0.0.1".into()),
            "PORT" => Some("4317".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_references_and_defaults() {
        assert_eq!(
            expand("${env:HOST}:${env:PORT}", &env).unwrap(),
            "10.0.0.1:4317"
        );
        assert_eq!(expand("${env:NOPE:-127.0.0.1}", &env).unwrap(), "127.0.0.1");
        assert_eq!(expand("${env:EMPTY:-x}", &env).unwrap(), "");
        assert_eq!(
            expand("cost $5 $${env:HOST}", &env).unwrap(),
            "cost $5 ${env:HOST}"
        );
    }

    #[test]
    fn reports_bad_references() {
        assert!(
            expand("${env:NOPE}", &env)
                .unwrap_err()
                .contains("\"NOPE\" is not set")
        );
        assert!(
            expand("${file:/x}", &env)
                .unwrap_err()
                .contains("unsupported")
        );
        assert!(
            expand("${env:HOST", &env)
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(expand("${env:A-B}", &env).unwrap_err().contains("invalid"));
    }

    #[test]
    fn substitutes_with_types_and_paths() {
        let mut v: toml::Value = toml::from_str(
            r#"
            port = "${env:PORT}"
            endpoint = "${env:HOST}:${env:PORT}"
            list = ["a", "${env:MISSING}"]
            "#,
        )
        .unwrap();
        let mut errors = Vec::new();
        substitute(&mut v, "receivers.x", &env, &mut errors);
        assert_eq!(v["port"], toml::Value::Integer(4317));
        assert_eq!(v["endpoint"].as_str(), Some("10.0.0.1:4317"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "receivers.x.list[1]");
    }
}
