//! Component ids: `type` or `type/name`, as in the OTel Collector.

use std::fmt;

/// Identifies one configured component: its type (which factory builds it) and an
/// optional instance name, written `type` or `type/name` (e.g. `otlp`, `otlp/gateway`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    kind: String,
    name: Option<String>,
}

/// Why a string is not a valid component id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id or its type part is empty.
    #[error("the component type must not be empty")]
    EmptyType,
    /// `type/` with nothing after the slash.
    #[error("the name after '/' must not be empty")]
    EmptyName,
    /// A character outside `[A-Za-z0-9_.-]` in the type, or outside `[A-Za-z0-9_./-]`
    /// (no whitespace) in the name.
    #[error("invalid character {0:?} (allowed: letters, digits, '_', '-', '.')")]
    InvalidChar(char),
}

impl ComponentId {
    /// Parses `type` or `type/name`.
    ///
    /// # Errors
    /// Returns an [`IdError`] for an empty type or name or a disallowed character.
    pub fn parse(text: &str) -> Result<ComponentId, IdError> {
        let (kind, name) = match text.split_once('/') {
            Some((kind, name)) => (kind, Some(name)),
            None => (text, None),
        };
        if kind.is_empty() {
            return Err(IdError::EmptyType);
        }
        if let Some(c) = kind
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(IdError::InvalidChar(c));
        }
        if let Some(name) = name {
            if name.is_empty() {
                return Err(IdError::EmptyName);
            }
            if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
                return Err(IdError::InvalidChar(c));
            }
        }
        Ok(ComponentId {
            kind: kind.to_string(),
            name: name.map(str::to_string),
        })
    }

    /// Builds an id from a type and optional name without validation (for tests and
    /// programmatic configs).
    pub fn new(kind: impl Into<String>, name: Option<&str>) -> ComponentId {
        ComponentId {
            kind: kind.into(),
            name: name.map(str::to_string),
        }
    }

    /// The component type, which selects the factory.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The instance name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{}/{}", self.kind, name),
            None => f.write_str(&self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_and_name() {
        let id = ComponentId::parse("otlp/gateway").unwrap();
        assert_eq!(id.kind(), "otlp");
        assert_eq!(id.name(), Some("gateway"));
        assert_eq!(id.to_string(), "otlp/gateway");
        let id = ComponentId::parse("batch").unwrap();
        assert_eq!((id.kind(), id.name()), ("batch", None));
        // Only the first slash separates type and name.
        let id = ComponentId::parse("otlp/a/b").unwrap();
        assert_eq!(id.name(), Some("a/b"));
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(ComponentId::parse(""), Err(IdError::EmptyType));
        assert_eq!(ComponentId::parse("/x"), Err(IdError::EmptyType));
        assert_eq!(ComponentId::parse("otlp/"), Err(IdError::EmptyName));
        assert_eq!(ComponentId::parse("ot lp"), Err(IdError::InvalidChar(' ')));
        assert_eq!(
            ComponentId::parse("otlp/a b"),
            Err(IdError::InvalidChar(' '))
        );
    }
}
