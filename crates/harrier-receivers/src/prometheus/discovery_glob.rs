//! File-name globs for `file_sd_configs` ([`expand_globs`]), with the syntax of Go's
//! `filepath.Match`, interpreted in the last path component only.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Whether `text` contains a glob character (`*`, `?`, `[` or the escape `\`).
pub(super) fn has_glob_chars(text: &str) -> bool {
    text.contains(['*', '?', '[', '\\'])
}

/// The files matching `patterns`, each pattern's matches sorted by name, without
/// duplicates. A pattern without glob characters yields its path if that is an
/// existing file. Glob characters are only interpreted in the last path component
/// (Go's `filepath.Match` syntax: `*`, `?`, `[a-z]`, `[^a-z]`, `\` escapes; `*` also
/// matches names starting with a dot). A malformed glob or an unreadable directory
/// yields nothing ([`super::FileSdConfig::problems`] reports malformed globs).
pub fn expand_globs(patterns: &[String]) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    let mut result = Vec::new();
    for pattern in patterns {
        for path in expand_glob(Path::new(pattern)) {
            if seen.insert(path.clone()) {
                result.push(path);
            }
        }
    }
    result
}

fn expand_glob(pattern: &Path) -> Vec<PathBuf> {
    let Some(name_pattern) = pattern.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    if !has_glob_chars(name_pattern) {
        return if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let Ok(glob) = Glob::parse(name_pattern) else {
        return Vec::new();
    };
    let parent = pattern.parent().unwrap_or(Path::new(""));
    let dir = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut matches: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_str().is_some_and(|n| glob.matches(n)))
        .map(|entry| parent.join(entry.file_name()))
        .filter(|path| path.is_file())
        .collect();
    matches.sort();
    matches
}

/// One element of a file-name glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GlobToken {
    /// Exactly this character.
    Char(char),
    /// `?`: any one character.
    AnyChar,
    /// `*`: any run of characters.
    AnyRun,
    /// `[...]`: one character in (or, negated, not in) the inclusive ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled file-name glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Glob {
    tokens: Vec<GlobToken>,
}

impl Glob {
    /// Parses a glob with Go's `filepath.Match` syntax.
    pub(super) fn parse(pattern: &str) -> Result<Glob, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        let escaped = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            chars
                .next()
                .ok_or_else(|| "glob ends with a lone \\".to_string())
        };
        while let Some(c) = chars.next() {
            match c {
                '*' => tokens.push(GlobToken::AnyRun),
                '?' => tokens.push(GlobToken::AnyChar),
                '\\' => tokens.push(GlobToken::Char(escaped(&mut chars)?)),
                '[' => {
                    let negated = chars.next_if_eq(&'^').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        let lo = match chars.next() {
                            None => return Err("unclosed [ in glob".to_string()),
                            Some(']') if !ranges.is_empty() => break,
                            Some(']' | '-') => {
                                return Err("glob character class must start with a \
                                            character (escape ] and - with \\)"
                                    .to_string());
                            }
                            Some('\\') => escaped(&mut chars)?,
                            Some(c) => c,
                        };
                        let hi = if chars.next_if_eq(&'-').is_some() {
                            match chars.next() {
                                None => return Err("unclosed [ in glob".to_string()),
                                Some('\\') => escaped(&mut chars)?,
                                Some(']' | '-') => {
                                    return Err("glob range has no upper bound".to_string());
                                }
                                Some(c) => c,
                            }
                        } else {
                            lo
                        };
                        if hi < lo {
                            return Err(format!("glob range {lo}-{hi} is reversed"));
                        }
                        ranges.push((lo, hi));
                    }
                    tokens.push(GlobToken::Class { negated, ranges });
                }
                c => tokens.push(GlobToken::Char(c)),
            }
        }
        Ok(Glob { tokens })
    }

    /// Whether `name` matches the whole glob.
    pub(super) fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let tokens = &self.tokens;
        let (mut t, mut n) = (0, 0);
        // Where to resume after the last `*`: (token after it, name position).
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            match (tokens.get(t), name.get(n)) {
                (Some(GlobToken::AnyRun), _) => {
                    backtrack = Some((t + 1, n));
                    t += 1;
                    continue;
                }
                (Some(token), Some(&c)) if token_matches(token, c) => {
                    t += 1;
                    n += 1;
                    continue;
                }
                (None, None) => return true,
                _ => {}
            }
            // Mismatch: let the last `*` take one more character.
            match backtrack {
                Some((resume, start)) if start < name.len() => {
                    backtrack = Some((resume, start + 1));
                    t = resume;
                    n = start + 1;
                }
                _ => return false,
            }
        }
    }
}

fn token_matches(token: &GlobToken, c: char) -> bool {
    match token {
        GlobToken::Char(expected) => *expected == c,
        GlobToken::AnyChar => true,
        GlobToken::AnyRun => false,
        GlobToken::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}
