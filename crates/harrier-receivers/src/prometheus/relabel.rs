//! Prometheus relabeling (`relabel_configs`, `metric_relabel_configs`), with the
//! semantics of Prometheus's `model/relabel` package.
//!
//! A list of [`RelabelConfig`] steps is validated and compiled once into a
//! [`Relabeler`]; [`Relabeler::apply`] then runs the steps in order over a sorted
//! [`Labels`] set and says whether the target or series survives.
//!
//! The rules, as in Prometheus:
//! - `regex` is fully anchored: it is compiled as `^(?:regex)$`.
//! - The values of `source_labels` are joined with `separator`; a missing label
//!   contributes an empty string.
//! - `replacement` and a `target_label` containing `$` are templates: `$1`, `${1}`,
//!   `$name`, `${name}` expand to a capture group (empty when the group does not exist
//!   or did not take part in the match), `$$` is a literal `$`, and a `$` not followed
//!   by a reference stays literal. As in Go, `$name` takes the longest run of letters,
//!   digits and `_`, so `$1suffix` refers to a group named `1suffix` (empty) and
//!   `${1}suffix` must be used instead.
//! - Setting a label to the empty string deletes it; labels with empty values never
//!   survive [`Relabeler::apply`].
//!
//! Known differences from Prometheus (Go's RE2 vs the `regex` crate): the classes
//! `\d`, `\w`, `\s` and `\b` are Unicode-aware here and ASCII-only in Go; case mapping
//! for `lowercase`/`uppercase` uses Rust's per-character Unicode mappings, which differ
//! from Go's simple mappings for a handful of characters (e.g. `İ`). Label names are
//! checked against the classic rule `[a-zA-Z_][a-zA-Z0-9_]*`.
//!
//! Performance: `apply` runs once per scraped sample for `metric_relabel_configs`, so
//! it does not allocate when no label changes. The joined value, the expanded target
//! and value and the regex capture slots live in a scratch area owned by the
//! `Relabeler` behind a `Mutex` that is only ever `try_lock`ed: the uncontended case
//! (one scrape loop per relabeler) costs one atomic operation per `apply`, and a
//! concurrent caller gets a freshly allocated scratch area instead of waiting. The
//! `Relabeler` is therefore `Send + Sync` and can be shared through an `Arc`; a
//! clone gets its own scratch area.
//!
//! The settings and their validation are in `relabel_config.rs` (re-exported here).

#[path = "relabel_config.rs"]
mod config;

pub use config::{
    Action, DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, RelabelConfig,
    is_valid_label_name,
};

use harrier_core::error::ConfigError;
use md5::{Digest, Md5};
use regex::{CaptureLocations, Regex};
use std::fmt::Write as _;
use std::sync::{Mutex, TryLockError};

/// A label set: `(name, value)` pairs sorted by name, names unique.
///
/// [`normalize`] establishes that order for a set built in another order.
pub type Labels = Vec<(String, String)>;

/// One piece of a compiled `$` template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Copied as is.
    Literal(String),
    /// The text of this capture group, if it took part in the match.
    Group(usize),
}

/// A `replacement` or `target_label` template with its references resolved against
/// the step's regex (a reference to a group that does not exist expands to nothing
/// and is left out).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `template` with Go's `Regexp.Expand` rules.
    fn parse(template: &str, regex: &Regex) -> Template {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(dollar) = rest.find('$') {
            literal.push_str(&rest[..dollar]);
            rest = &rest[dollar + 1..];
            if let Some(after) = rest.strip_prefix('$') {
                literal.push('$');
                rest = after;
                continue;
            }
            let Some((name, after)) = extract_reference(rest) else {
                // Malformed reference: the `$` is literal text.
                literal.push('$');
                continue;
            };
            rest = after;
            if let Some(group) = resolve_group(name, regex) {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Group(group));
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Template { pieces }
    }

    /// Writes the expansion for a match of `haystack` into `out` (cleared first).
    fn expand(&self, locs: &CaptureLocations, haystack: &str, out: &mut String) {
        out.clear();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Group(group) => {
                    if let Some(text) = locs.get(*group).and_then(|(s, e)| haystack.get(s..e)) {
                        out.push_str(text);
                    }
                }
            }
        }
    }
}

/// Splits a reference (`name` or `{name}`) off the text after a `$`; `None` when it is
/// malformed (empty name, missing `}`).
fn extract_reference(text: &str) -> Option<(&str, &str)> {
    let (braced, body) = match text.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let len = body
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    if len == 0 {
        return None;
    }
    let (name, mut rest) = body.split_at(len);
    if braced {
        rest = rest.strip_prefix('}')?;
    }
    Some((name, rest))
}

/// The capture group a reference names: a number without leading zeros (at most nine
/// digits, as in Go), else a group name.
fn resolve_group(name: &str, regex: &Regex) -> Option<usize> {
    let numeric = name.len() <= 9
        && name.bytes().all(|b| b.is_ascii_digit())
        && !(name.len() > 1 && name.starts_with('0'));
    if numeric {
        let group: usize = name.parse().ok()?;
        (group < regex.captures_len()).then_some(group)
    } else {
        regex.capture_names().position(|n| n == Some(name))
    }
}

/// A validated, compiled [`RelabelConfig`].
#[derive(Debug, Clone)]
struct Step {
    action: Action,
    source_labels: Vec<String>,
    separator: String,
    regex: Regex,
    /// The target label; for `replace` with `$` references, see `target_template`.
    target_label: String,
    /// Set for `replace` when `target_label` contains `$`.
    target_template: Option<Template>,
    replacement: Template,
    /// Above zero (only meaningful for `hashmod`).
    modulus: u64,
}

/// Buffers reused across [`Relabeler::apply`] calls so that an unchanged label set
/// costs no allocation.
#[derive(Debug)]
struct Scratch {
    /// The joined source value.
    joined: String,
    /// The expanded target label name.
    target: String,
    /// The computed value.
    value: String,
    /// Capture slots, one per step (each belongs to its step's regex).
    locs: Vec<CaptureLocations>,
    /// `labelmap` writes, applied after the pass over the labels.
    pending: Vec<(String, String)>,
}

/// A compiled list of relabeling steps. `Send + Sync`; see the module docs for how it
/// avoids allocation.
#[derive(Debug)]
pub struct Relabeler {
    steps: Vec<Step>,
    scratch: Mutex<Scratch>,
}

impl Clone for Relabeler {
    /// A relabeler with the same steps and its own scratch area (regexes are shared).
    fn clone(&self) -> Relabeler {
        Relabeler {
            steps: self.steps.clone(),
            scratch: Mutex::new(new_scratch(&self.steps)),
        }
    }
}

impl Relabeler {
    /// Validates and compiles `configs`. `key` is the path of the list in the
    /// configuration (e.g. `receivers.prometheus.scrape_configs[0].relabel_configs`);
    /// errors name `key[i].field`.
    ///
    /// # Errors
    /// Every problem of every step: invalid regex, missing or invalid `target_label`,
    /// `hashmod` without a positive `modulus`, fields that the action does not take.
    pub fn new(configs: &[RelabelConfig], key: &str) -> Result<Relabeler, Vec<ConfigError>> {
        let mut steps = Vec::with_capacity(configs.len());
        let mut errors = Vec::new();
        for (i, config) in configs.iter().enumerate() {
            match config.compile(&format!("{key}[{i}]")) {
                Ok(step) => steps.push(step),
                Err(mut step_errors) => errors.append(&mut step_errors),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let scratch = Mutex::new(new_scratch(&steps));
        Ok(Relabeler { steps, scratch })
    }

    /// Whether there are no steps (then [`Relabeler::apply`] only removes empty values
    /// and the caller may skip it).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Applies all steps in order to `labels` (sorted by name, unique names, see
    /// [`Labels`]). Returns `false` if a step dropped the target/series; `labels` is
    /// then in an unspecified state. Labels with empty values are removed, as in
    /// Prometheus. Does not allocate unless a label is added or grows.
    pub fn apply(&self, labels: &mut Labels) -> bool {
        debug_assert!(
            labels.windows(2).all(|w| w[0].0 < w[1].0),
            "labels must be sorted by name with unique names"
        );
        match self.scratch.try_lock() {
            Ok(mut scratch) => self.apply_with(labels, &mut scratch),
            // A panic while holding the lock leaves only buffers behind; they are
            // cleared before every use.
            Err(TryLockError::Poisoned(poisoned)) => {
                self.apply_with(labels, &mut poisoned.into_inner())
            }
            Err(TryLockError::WouldBlock) => self.apply_with(labels, &mut new_scratch(&self.steps)),
        }
    }

    fn apply_with(&self, labels: &mut Labels, scratch: &mut Scratch) -> bool {
        // An empty value is the same as a missing label.
        labels.retain(|(_, value)| !value.is_empty());
        let Scratch {
            joined,
            target,
            value,
            locs,
            pending,
        } = scratch;
        for (step, locs) in self.steps.iter().zip(locs.iter_mut()) {
            joined.clear();
            for (i, name) in step.source_labels.iter().enumerate() {
                if i > 0 {
                    joined.push_str(&step.separator);
                }
                joined.push_str(get(labels, name));
            }
            let joined = joined.as_str();
            match step.action {
                Action::Keep => {
                    if !step.regex.is_match(joined) {
                        return false;
                    }
                }
                Action::Drop => {
                    if step.regex.is_match(joined) {
                        return false;
                    }
                }
                Action::KeepEqual => {
                    if get(labels, &step.target_label) != joined {
                        return false;
                    }
                }
                Action::DropEqual => {
                    if get(labels, &step.target_label) == joined {
                        return false;
                    }
                }
                Action::Replace => {
                    if step.regex.captures_read(locs, joined).is_none() {
                        continue;
                    }
                    let target_name = match &step.target_template {
                        Some(template) => {
                            template.expand(locs, joined, target);
                            target.as_str()
                        }
                        None => step.target_label.as_str(),
                    };
                    if !is_valid_label_name(target_name) {
                        continue;
                    }
                    step.replacement.expand(locs, joined, value);
                    set(labels, target_name, value);
                }
                Action::Lowercase | Action::Uppercase => {
                    value.clear();
                    for c in joined.chars() {
                        if step.action == Action::Lowercase {
                            value.extend(c.to_lowercase());
                        } else {
                            value.extend(c.to_uppercase());
                        }
                    }
                    set(labels, &step.target_label, value);
                }
                Action::HashMod => {
                    let hash = Md5::digest(joined.as_bytes());
                    // As Prometheus: the last 8 bytes of the MD5 sum, big-endian.
                    let mut tail = [0u8; 8];
                    tail.copy_from_slice(&hash[8..16]);
                    value.clear();
                    // Writing to a String cannot fail.
                    let _ = write!(value, "{}", u64::from_be_bytes(tail) % step.modulus);
                    set(labels, &step.target_label, value);
                }
                Action::LabelMap => {
                    // Every match reads the labels as they were before the step (as
                    // Prometheus's Builder.Range does), so writes are collected first.
                    pending.clear();
                    for (name, label_value) in labels.iter() {
                        if step.regex.captures_read(locs, name).is_none() {
                            continue;
                        }
                        step.replacement.expand(locs, name, target);
                        if !is_valid_label_name(target) {
                            continue;
                        }
                        // Skipping an unchanged write is only sound while no earlier
                        // write of this step is pending (it might target the same name).
                        if pending.is_empty() && get(labels, target) == label_value {
                            continue;
                        }
                        pending.push((target.clone(), label_value.clone()));
                    }
                    for (name, label_value) in pending.drain(..) {
                        set_owned(labels, name, label_value);
                    }
                }
                Action::LabelDrop => labels.retain(|(name, _)| !step.regex.is_match(name)),
                Action::LabelKeep => labels.retain(|(name, _)| step.regex.is_match(name)),
            }
        }
        true
    }
}

fn new_scratch(steps: &[Step]) -> Scratch {
    Scratch {
        joined: String::new(),
        target: String::new(),
        value: String::new(),
        locs: steps.iter().map(|s| s.regex.capture_locations()).collect(),
        pending: Vec::new(),
    }
}

/// The value of `name`, or `""` when it is missing.
pub fn get<'a>(labels: &'a Labels, name: &str) -> &'a str {
    match labels.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
        Ok(i) => labels.get(i).map_or("", |(_, v)| v.as_str()),
        Err(_) => "",
    }
}

/// Sets `name` to `value` keeping the order; an empty value deletes the label. Does
/// not allocate when the value is unchanged or fits the existing buffer.
pub fn set(labels: &mut Labels, name: &str, value: &str) {
    match labels.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
        Ok(i) if value.is_empty() => {
            labels.remove(i);
        }
        Ok(i) => {
            if let Some((_, old)) = labels.get_mut(i)
                && old != value
            {
                old.clear();
                old.push_str(value);
            }
        }
        Err(i) if !value.is_empty() => labels.insert(i, (name.to_string(), value.to_string())),
        Err(_) => {}
    }
}

/// [`set`] with owned strings.
fn set_owned(labels: &mut Labels, name: String, value: String) {
    match labels.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
        Ok(i) if value.is_empty() => {
            labels.remove(i);
        }
        Ok(i) => {
            if let Some((_, old)) = labels.get_mut(i) {
                *old = value;
            }
        }
        Err(i) if !value.is_empty() => labels.insert(i, (name, value)),
        Err(_) => {}
    }
}

/// Sorts `labels` by name and removes duplicate names, keeping the last occurrence,
/// so that a set built in any order satisfies the [`Labels`] invariant.
pub fn normalize(labels: &mut Labels) {
    // Stable sort: among equal names the original order is kept, so the last
    // occurrence is the one to keep.
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    let mut i = labels.len();
    while i > 1 {
        i -= 1;
        if labels.get(i - 1).map(|l| &l.0) == labels.get(i).map(|l| &l.0) {
            labels.remove(i - 1);
        }
    }
}

/// Removes the internal labels, those whose names start with `__` (`__address__`,
/// `__meta_*`, `__param_*`, `__tmp*`, ...), as Prometheus does after target
/// relabeling. `__name__` is left alone: whether the metric name label stays is the
/// caller's business (target label sets do not normally have one).
pub fn drop_internal(labels: &mut Labels) {
    labels.retain(|(name, _)| !name.starts_with("__") || name == "__name__");
}

#[cfg(test)]
#[path = "relabel_tests.rs"]
mod tests;
