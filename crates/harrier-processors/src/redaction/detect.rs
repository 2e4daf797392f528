//! Finding secrets in one string in (about) one pass.
//!
//! [`Scanner::find`] first rejects strings that cannot hold a finding with a byte check
//! (plain words and spaces), then runs one ASCII-only [`bytes::RegexSet`] over a cheap
//! trigger of every enabled detector (and, when configured, one [`RegexSet`] over the
//! `blocked_values`) to learn which of them match at all; only those detectors' full
//! patterns then run on their own to find the spans, and each candidate is confirmed by its check (Luhn, IBAN mod 97, SSN
//! ranges, ...). Overlapping spans are merged. Nothing is allocated when nothing is
//! found (the caller's span buffer is reused).

use super::config::{DetectorsConfig, RedactionConfig};
use super::validate;
use harrier_core::error::ConfigError;
use regex::bytes;
use regex::{Regex, RegexSet};

/// Metric label of each finding's source, indexed by [`Label`].
pub const LABELS: [&str; 14] = [
    "email",
    "credit_card",
    "us_ssn",
    "iban",
    "ip_address",
    "jwt",
    "auth_credentials",
    "aws_keys",
    "github_token",
    "slack_token",
    "private_key",
    "url_password",
    "blocked_value",
    "blocked_key",
];

/// An index into [`LABELS`].
pub type Label = usize;
/// The label of a `blocked_values` match.
pub const BLOCKED_VALUE: Label = 12;
/// The label of a value scrubbed because of its key.
pub const BLOCKED_KEY: Label = 13;
const AWS: Label = 7;

/// A part of a string to redact: `start..end` in bytes, found by `label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Who found it.
    pub label: Label,
}

/// Confirms a candidate `text[start..end]` (the whole string is given for context) and
/// returns the finding's end, or `None` when it is not one.
type Check = fn(&str, usize, usize) -> Option<usize>;

struct Rule {
    label: Label,
    regex: Regex,
    /// The capture group to redact (0: the whole match).
    group: usize,
    check: Option<Check>,
}

const OCTET: &str = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";

/// The built-in patterns: `(label, switch, trigger, pattern, group, check)`. The trigger
/// is a cheaper superset of the pattern (no `\b`, no long counted repetition) used in
/// the one-pass [`RegexSet`]; the pattern then finds and delimits the findings.
type Builtin = (Label, bool, &'static str, String, usize, Option<Check>);

fn builtin(d: &DetectorsConfig) -> Vec<Builtin> {
    let b = r"(?-u:\b)";
    vec![
        (
            0,
            d.email,
            r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.",
            format!(r"{b}[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}{b}"),
            0,
            None,
        ),
        (
            1,
            d.credit_card,
            r"[2-6](?:[ -]?[0-9]){12}",
            format!(r"{b}[2-6](?:[ -]?[0-9]){{12,18}}{b}"),
            0,
            Some(validate::card as Check),
        ),
        (
            2,
            d.us_ssn,
            r"[0-9]{3}-[0-9]{2}-[0-9]{4}",
            format!(r"{b}[0-9]{{3}}-[0-9]{{2}}-[0-9]{{4}}{b}"),
            0,
            Some(validate::ssn as Check),
        ),
        (
            3,
            d.iban,
            r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}",
            format!(r"{b}[A-Z]{{2}}[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{2,7}}(?: ?[A-Z0-9]{{1,3}})?{b}"),
            0,
            Some(validate::iban as Check),
        ),
        (
            4,
            d.ip_address,
            r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",
            format!(r"{b}{OCTET}(?:\.{OCTET}){{3}}{b}"),
            0,
            Some(validate::ipv4 as Check),
        ),
        (
            4,
            d.ip_address,
            r":[0-9a-fA-F]{0,4}:",
            r"(?i)[0-9a-f]{0,4}:(?:[0-9a-f]{0,4}:){1,6}[0-9a-f]{0,4}".to_string(),
            0,
            Some(validate::ipv6 as Check),
        ),
        (
            5,
            d.jwt,
            r"eyJ[A-Za-z0-9_-]+\.",
            format!(r"{b}eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
            0,
            None,
        ),
        (
            6,
            d.auth_credentials,
            r"(?i:bearer|basic)[ \t]",
            format!(r"(?i){b}(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]{{8,}})"),
            1,
            Some(validate::auth as Check),
        ),
        (
            AWS,
            d.aws_keys,
            r"A[KS]IA[A-Z0-9]{16}",
            format!(r"{b}(?:AKIA|ASIA)[A-Z0-9]{{16}}{b}"),
            0,
            None,
        ),
        (
            AWS,
            d.aws_keys,
            r"(?i:aws|secret)",
            r#"(?i)(?:aws|secret)[A-Za-z0-9_. -]{0,30}?[=:"' ]+([A-Za-z0-9/+]{40})"#.to_string(),
            1,
            Some(validate::aws_secret as Check),
        ),
        (
            8,
            d.github_token,
            r"gh[pousr]_|github_pat_",
            format!(r"{b}(?:gh[pousr]_[A-Za-z0-9]{{36,255}}|github_pat_[A-Za-z0-9_]{{22,255}})"),
            0,
            None,
        ),
        (
            9,
            d.slack_token,
            r"xox[abprs]-",
            format!(r"{b}xox[abprs]-[A-Za-z0-9-]{{10,}}"),
            0,
            None,
        ),
        (
            10,
            d.private_key,
            r"-----BEGIN",
            r"(?s)-----BEGIN[A-Z ]*PRIVATE KEY-----(?:.*?-----END[A-Z ]*PRIVATE KEY-----|.*)"
                .to_string(),
            0,
            None,
        ),
        (
            11,
            d.url_password,
            r"://[^/\s:@]*:[^/\s@]+@",
            r"(?i)[a-z][a-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@".to_string(),
            1,
            None,
        ),
    ]
}

/// The compiled detectors of one processor.
pub struct Scanner {
    /// The built-in detectors' triggers, ASCII-only (smaller, faster automaton).
    builtin: bytes::RegexSet,
    /// The `blocked_values`, with Unicode semantics (`None` when there are none).
    custom: Option<RegexSet>,
    rules: Vec<Rule>,
    aws_secret: Option<Regex>,
    /// Whether a custom pattern may match anything (no byte pre-check possible).
    has_custom: bool,
}

impl Scanner {
    /// Compiles every enabled pattern.
    ///
    /// # Errors
    /// A `blocked_values` entry that does not compile, with its path (normally caught
    /// by validation first).
    pub fn new(config: &RedactionConfig) -> Result<Scanner, ConfigError> {
        let mut rules = Vec::new();
        let mut triggers = Vec::new();
        for (label, enabled, trigger, pattern, group, check) in builtin(&config.detectors) {
            if !enabled {
                continue;
            }
            let regex = Regex::new(&pattern).map_err(|e| {
                ConfigError::new(format!("detectors.{}", LABELS[label]), e.to_string())
            })?;
            triggers.push(trigger.to_string());
            rules.push(Rule {
                label,
                regex,
                group,
                check,
            });
        }
        for (i, pattern) in config.blocked_values.iter().enumerate() {
            let regex = Regex::new(pattern).map_err(|e| {
                ConfigError::new(
                    format!("blocked_values[{i}]"),
                    format!("invalid regex: {e}"),
                )
            })?;
            rules.push(Rule {
                label: BLOCKED_VALUE,
                regex,
                group: 0,
                check: None,
            });
        }
        let builtin = bytes::RegexSetBuilder::new(&triggers)
            .unicode(false)
            .build()
            .map_err(|e| ConfigError::new("detectors", e.to_string()))?;
        let custom = if config.blocked_values.is_empty() {
            None
        } else {
            Some(
                RegexSet::new(&config.blocked_values)
                    .map_err(|e| ConfigError::new("blocked_values", e.to_string()))?,
            )
        };
        let aws_secret = if config.detectors.aws_keys {
            Some(
                Regex::new(r"^[A-Za-z0-9/+]{40}$")
                    .map_err(|e| ConfigError::new("detectors.aws_keys", e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Scanner {
            builtin,
            custom,
            rules,
            aws_secret,
            has_custom: !config.blocked_values.is_empty(),
        })
    }

    /// Finds what to redact in `text` into `out` (cleared first), sorted and merged.
    /// `secret_key` says the value sits under a key naming an AWS secret (both `aws`
    /// and `secret` in it), where a bare 40-character key is a finding too.
    pub fn find(&self, text: &str, secret_key: bool, out: &mut Vec<Finding>) {
        out.clear();
        if secret_key
            && let Some(re) = &self.aws_secret
            && re.is_match(text.trim())
        {
            out.push(Finding {
                start: 0,
                end: text.len(),
                label: AWS,
            });
            return;
        }
        if text.len() < 3 || (!self.has_custom && plain_words(text)) {
            return;
        }
        // Most strings hold nothing: the early-exit check is cheaper than learning
        // which patterns match.
        let builtin_hit = self.builtin.is_match(text.as_bytes());
        let custom_hit = self.custom.as_ref().is_some_and(|c| c.is_match(text));
        if builtin_hit {
            for index in self.builtin.matches(text.as_bytes()).iter() {
                self.run(index, text, out);
            }
        }
        if custom_hit && let Some(custom) = &self.custom {
            let offset = self.builtin.len();
            for index in custom.matches(text).iter() {
                self.run(offset + index, text, out);
            }
        }
        merge(out);
    }
}

impl Scanner {
    /// Runs rule `index` over `text`, keeping the candidates its check confirms.
    fn run(&self, index: usize, text: &str, out: &mut Vec<Finding>) {
        let rule = &self.rules[index];
        for caps in rule.regex.captures_iter(text) {
            let Some(m) = caps.get(rule.group) else {
                continue;
            };
            let end = match rule.check {
                None => m.end(),
                Some(check) => match check(text, m.start(), m.end()) {
                    Some(end) => end,
                    None => continue,
                },
            };
            if end > m.start() {
                out.push(Finding {
                    start: m.start(),
                    end,
                    label: rule.label,
                });
            }
        }
    }
}

/// Only ASCII letters and spaces: no detector can match.
fn plain_words(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphabetic() || b == b' ')
}

/// Sorts by start and merges overlapping or touching findings; a merged finding keeps
/// the label of the one that starts first.
fn merge(out: &mut Vec<Finding>) {
    if out.len() < 2 {
        return;
    }
    out.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut write = 0;
    for read in 1..out.len() {
        let next = out[read];
        if next.start <= out[write].end {
            out[write].end = out[write].end.max(next.end);
        } else {
            write += 1;
            out[write] = next;
        }
    }
    out.truncate(write + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_overlaps_keeping_first_label() {
        let f = |start, end, label| Finding { start, end, label };
        let mut v = vec![
            f(10, 20, 1),
            f(0, 5, 2),
            f(3, 8, 3),
            f(20, 22, 4),
            f(30, 31, 5),
        ];
        merge(&mut v);
        assert_eq!(v, vec![f(0, 8, 2), f(10, 22, 1), f(30, 31, 5)]);
    }
}
