//! `redaction` settings.

use harrier_core::error::ConfigError;
use serde::Deserialize;

/// `processors.redaction` settings. Every key is optional; the defaults mask every
/// built-in detector's findings except IP addresses, and scrub the values of the
/// default `blocked_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactionConfig {
    /// What happens to a finding (default `mask`).
    pub action: Action,
    /// The HMAC-SHA256 key for `action = "hash"` (required then; default none).
    pub hash_key: Option<String>,
    /// Diagnostic attributes added to each changed item (default `silent`).
    pub summary: Summary,
    /// Which built-in detectors run (default: all but `ip_address`).
    pub detectors: DetectorsConfig,
    /// Extra regular expressions (Rust `regex` syntax) whose matches are redacted like a
    /// detector's findings (default none).
    pub blocked_values: Vec<String>,
    /// Attribute keys whose whole value is redacted, matched case-insensitively, also as
    /// a suffix after `.`, `_` or `-` (default: [`DEFAULT_BLOCKED_KEYS`]). Setting it
    /// replaces the default list.
    pub blocked_keys: Vec<String>,
    /// When not empty, only these top-level attribute keys (and `ignored_keys`) are kept;
    /// every other attribute is removed (default empty: allow every key).
    pub allowed_keys: Vec<String>,
    /// Attribute keys that are never inspected nor removed, at any depth (default none).
    pub ignored_keys: Vec<String>,
}

/// The keys scrubbed by default (see [`RedactionConfig::blocked_keys`]).
pub const DEFAULT_BLOCKED_KEYS: [&str; 11] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "set-cookie",
    "private_key",
    "credentials",
];

impl Default for RedactionConfig {
    fn default() -> Self {
        RedactionConfig {
            action: Action::Mask,
            hash_key: None,
            summary: Summary::Silent,
            detectors: DetectorsConfig::default(),
            blocked_values: Vec::new(),
            blocked_keys: DEFAULT_BLOCKED_KEYS.iter().map(|k| k.to_string()).collect(),
            allowed_keys: Vec::new(),
            ignored_keys: Vec::new(),
        }
    }
}

/// What replaces a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replace the matched part with `****`.
    Mask,
    /// Replace the matched part with `hmac:` and the first 16 hex digits of its
    /// HMAC-SHA256 under `hash_key`: joinable across records, not reversible.
    Hash,
    /// Drop the attribute (or array element); a string body becomes `****`.
    Remove,
}

/// Diagnostic attributes added to an item that was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Summary {
    /// Nothing is added.
    Silent,
    /// `redaction.masked.count`: values redacted in the item.
    Info,
    /// `info` plus `redaction.masked.keys`: the keys touched, sorted.
    Debug,
}

/// One switch per built-in detector (`detectors.<name> = true|false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorsConfig {
    /// E-mail addresses with a dotted domain and a TLD of 2+ letters (default on).
    pub email: bool,
    /// Payment card numbers: 13-19 digits starting 2-6, optional single spaces or
    /// dashes, Luhn-checked (default on).
    pub credit_card: bool,
    /// US social security numbers `AAA-GG-SSSS` with valid area/group/serial (default on).
    pub us_ssn: bool,
    /// IBANs, with or without spaces, mod-97 checksum verified (default on).
    pub iban: bool,
    /// IPv4 and IPv6 addresses (default off).
    pub ip_address: bool,
    /// JSON Web Tokens (`eyJ...` header, three base64url parts) (default on).
    pub jwt: bool,
    /// The credential after `Bearer` / `Basic` (default on).
    pub auth_credentials: bool,
    /// AWS access key ids (`AKIA`/`ASIA` + 16) and 40-character secret keys near
    /// `aws`/`secret` or under a key naming both (default on).
    pub aws_keys: bool,
    /// GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`) (default on).
    pub github_token: bool,
    /// Slack tokens (`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`) (default on).
    pub slack_token: bool,
    /// PEM private key blocks, also when the END line is cut off (default on).
    pub private_key: bool,
    /// The password in `scheme://user:password@host` (default on).
    pub url_password: bool,
}

impl Default for DetectorsConfig {
    fn default() -> Self {
        DetectorsConfig {
            email: true,
            credit_card: true,
            us_ssn: true,
            iban: true,
            ip_address: false,
            jwt: true,
            auth_credentials: true,
            aws_keys: true,
            github_token: true,
            slack_token: true,
            private_key: true,
            url_password: true,
        }
    }
}

impl RedactionConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Each problem with its key path (e.g. `blocked_values[1]: invalid regex ...`).
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.action == Action::Hash && self.hash_key.as_deref().is_none_or(str::is_empty) {
            errors.push(ConfigError::new(
                "hash_key",
                "is required (and must not be empty) when action = \"hash\"",
            ));
        }
        for (i, pattern) in self.blocked_values.iter().enumerate() {
            if let Err(e) = regex::Regex::new(pattern) {
                errors.push(ConfigError::new(
                    format!("blocked_values[{i}]"),
                    format!("invalid regex: {e}"),
                ));
            } else if pattern.is_empty() {
                errors.push(ConfigError::new(
                    format!("blocked_values[{i}]"),
                    "must not be empty",
                ));
            }
        }
        for (name, keys) in [
            ("blocked_keys", &self.blocked_keys),
            ("allowed_keys", &self.allowed_keys),
            ("ignored_keys", &self.ignored_keys),
        ] {
            for (i, key) in keys.iter().enumerate() {
                if key.is_empty() {
                    errors.push(ConfigError::new(
                        format!("{name}[{i}]"),
                        "must not be empty",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
