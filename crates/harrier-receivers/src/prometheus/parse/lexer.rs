//! The tokens both formats share: names, quoted strings, label sets and numbers, read
//! from one line at a time by a [`Cursor`]. Errors are messages; the format parsers add
//! the line number.

use std::borrow::Cow;

/// Labels as parsed: names borrowed, values unescaped.
pub(super) type Labels<'a> = Vec<(&'a str, Cow<'a, str>)>;

/// A read position in one line.
pub(super) struct Cursor<'a> {
    /// The line, without its newline.
    line: &'a str,
    /// Byte offset of the next unread byte; always on a character boundary.
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `line`.
    pub(super) fn new(line: &'a str) -> Self {
        Cursor { line, pos: 0 }
    }

    /// The next byte, if any.
    pub(super) fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    /// Whether the whole line has been read.
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    /// The unread rest of the line.
    pub(super) fn rest(&self) -> &'a str {
        self.line.get(self.pos..).unwrap_or_default()
    }

    /// Consumes `byte` (ASCII) if it is next.
    pub(super) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `prefix` if the rest starts with it.
    pub(super) fn eat_str(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Skips blanks and tabs; returns whether there were any.
    pub(super) fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Reads the bytes up to the next blank, tab or the end of the line.
    pub(super) fn token(&mut self) -> &'a str {
        self.take_while(|b| b != b' ' && b != b'\t')
    }

    /// Reads the longest run of ASCII bytes matching `accept`.
    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let bytes = self.line.as_bytes();
        while bytes.get(self.pos).is_some_and(|&b| accept(b)) {
            self.pos += 1;
        }
        // Only ever stops before a byte `accept` refused or at the end; a multi-byte
        // character's bytes are all >= 0x80, which the name predicates refuse, and
        // `token` stops only at ASCII blanks.
        self.line.get(start..self.pos).unwrap_or_default()
    }

    /// Reads a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`); empty when there is none.
    pub(super) fn metric_name(&mut self) -> &'a str {
        if !self.peek().is_some_and(is_metric_name_start) {
            return "";
        }
        self.take_while(is_metric_name_char)
    }

    /// Reads a label name (`[a-zA-Z_][a-zA-Z0-9_]*`); empty when there is none.
    pub(super) fn label_name(&mut self) -> &'a str {
        if !self.peek().is_some_and(is_label_name_start) {
            return "";
        }
        self.take_while(is_label_name_char)
    }

    /// Reads a metric name, plain or quoted (Prometheus 3 UTF-8 names).
    ///
    /// # Errors
    /// When there is no name.
    pub(super) fn any_metric_name(&mut self, what: &str) -> Result<&'a str, String> {
        if self.peek() == Some(b'"') {
            return self.quoted_name(what);
        }
        let name = self.metric_name();
        if name.is_empty() {
            return Err(format!("expected {what}, found {}", self.describe_next()));
        }
        Ok(name)
    }

    /// Reads a quoted name (at a `"`), which must not be empty nor hold escapes.
    fn quoted_name(&mut self, what: &str) -> Result<&'a str, String> {
        match self.quoted()? {
            Cow::Borrowed("") => Err(format!("empty quoted {what}")),
            Cow::Borrowed(name) => Ok(name),
            Cow::Owned(name) => Err(format!(
                "quoted {what} {name:?} has escapes, which are not supported in names"
            )),
        }
    }

    /// Reads a quoted string (at its opening `"`), unescaping `\\`, `\"` and `\n` and
    /// keeping other backslash sequences as written.
    ///
    /// # Errors
    /// When the line ends before the closing quote.
    pub(super) fn quoted(&mut self) -> Result<Cow<'a, str>, String> {
        if !self.eat(b'"') {
            return Err(format!(
                "expected a quoted string, found {}",
                self.describe_next()
            ));
        }
        let start = self.pos;
        let rest = self.rest();
        // A byte scan: both delimiters are ASCII, so never inside a UTF-8 character.
        let Some(stop) = rest.bytes().position(|b| b == b'"' || b == b'\\') else {
            return Err(unterminated(rest));
        };
        if rest.as_bytes().get(stop) == Some(&b'"') {
            self.pos += stop + 1;
            return Ok(Cow::Borrowed(rest.get(..stop).unwrap_or_default()));
        }
        let mut value = String::with_capacity(rest.len());
        let mut chars = rest.char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + offset + 1;
                    return Ok(Cow::Owned(value));
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => break,
                },
                other => value.push(other),
            }
        }
        Err(unterminated(rest))
    }

    /// Reads a label set after its `{`, through the closing `}`, into `labels`.
    ///
    /// `blanks` allows blanks and tabs between the tokens (text format). When
    /// `name_slot` is given, a quoted name standing alone as the first item is the
    /// metric name (`{"my.metric", a="b"}`) and is stored there.
    ///
    /// # Errors
    /// On a malformed label set, an invalid or duplicate label name or `__name__`.
    pub(super) fn label_set(
        &mut self,
        blanks: bool,
        labels: &mut Labels<'a>,
        mut name_slot: Option<&mut Option<&'a str>>,
    ) -> Result<(), String> {
        let mut first = true;
        loop {
            if blanks {
                self.skip_blanks();
            }
            if self.eat(b'}') {
                return Ok(());
            }
            let quoted = self.peek() == Some(b'"');
            let name = if quoted {
                self.quoted_name("label name")?
            } else {
                let name = self.label_name();
                if name.is_empty() {
                    return Err(format!(
                        "expected a label name or '}}', found {}",
                        self.describe_next()
                    ));
                }
                name
            };
            if blanks {
                self.skip_blanks();
            }
            let stands_alone = matches!(self.peek(), Some(b',' | b'}'));
            if quoted
                && first
                && stands_alone
                && let Some(slot) = name_slot.as_deref_mut()
                && slot.is_none()
            {
                *slot = Some(name);
                first = false;
                self.eat(b',');
                continue;
            }
            first = false;
            if !self.eat(b'=') {
                return Err(format!(
                    "expected '=' after label name {name:?}, found {}",
                    self.describe_next()
                ));
            }
            if blanks {
                self.skip_blanks();
            }
            let value = self.quoted()?;
            if name == "__name__" {
                return Err("label name \"__name__\" is reserved".to_owned());
            }
            if labels.iter().any(|(existing, _)| *existing == name) {
                return Err(format!("duplicate label name {name:?}"));
            }
            labels.push((name, value));
            if blanks {
                self.skip_blanks();
            }
            if self.eat(b',') {
                continue;
            }
            if self.peek() != Some(b'}') {
                return Err(format!(
                    "expected ',' or '}}' after the value of label {name:?}, found {}",
                    self.describe_next()
                ));
            }
        }
    }

    /// The next character for an error message, or "end of line".
    pub(super) fn describe_next(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("{c:?}"),
            None => "end of line".to_owned(),
        }
    }
}

/// The error of a quoted string the line ends in.
fn unterminated(rest: &str) -> String {
    let shown: String = rest.chars().take(40).collect();
    format!("unterminated quoted string \"{shown}")
}

/// `[a-zA-Z_:]`
fn is_metric_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

/// `[a-zA-Z0-9_:]`
pub(super) fn is_metric_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// `[a-zA-Z_]`
fn is_label_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// `[a-zA-Z0-9_]`
fn is_label_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Parses a float as Go's `strconv.ParseFloat` does for decimal input: optional sign,
/// digits with an optional point and exponent, or `inf`/`infinity` (signed or not) and
/// unsigned `nan`, case-insensitively. Finite text too large for an `f64` is refused,
/// as Go reports a range error. Hexadecimal floats and `_` separators are refused.
pub(super) fn parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let first = *unsigned.as_bytes().first()?;
    if first.is_ascii_digit() || first == b'.' {
        // Rust's grammar for digits, point and exponent is Go's decimal one.
        let value: f64 = text.parse().ok()?;
        return value.is_finite().then_some(value);
    }
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if text.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    None
}

/// Parses an OpenMetrics timestamp (float seconds) into milliseconds, rounded to the
/// nearest millisecond.
pub(super) fn parse_seconds_timestamp(text: &str) -> Result<i64, String> {
    let seconds = parse_float(text)
        .filter(|s| s.is_finite())
        .ok_or_else(|| format!("invalid timestamp {text:?}"))?;
    let millis = (seconds * 1000.0).round();
    // The i64 range is [-2^63, 2^63); 2^63 itself is exactly representable.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&millis) {
        return Err(format!("timestamp {text:?} is out of range"));
    }
    #[allow(clippy::cast_possible_truncation)] // in range and integral: checked above
    Ok(millis as i64)
}

/// Unescapes a HELP text: `\\` and `\n`, and `\"` when `quote` (OpenMetrics). Other
/// backslash sequences, and a lone final backslash, are kept as written.
pub(super) fn unescape_help(text: &str, quote: bool) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut help = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            help.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => help.push('\\'),
            Some('n') => help.push('\n'),
            Some('"') if quote => help.push('"'),
            Some(other) => {
                help.push('\\');
                help.push(other);
            }
            None => help.push('\\'),
        }
    }
    Cow::Owned(help)
}
