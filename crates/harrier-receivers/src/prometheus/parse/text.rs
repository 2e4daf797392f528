//! The Prometheus text format 0.0.4: `# HELP`, `# TYPE`, other comments, blank lines and
//! sample lines `name{label="value",...} value [timestamp_ms]`, with any blanks and tabs
//! between tokens.

use super::lexer::{Cursor, parse_float, unescape_help};
use super::{
    Families, Family, Format, MetricKind, ParseError, Sample, check_required_labels, numbered_lines,
};

/// Parses a text-format body.
pub(super) fn parse(input: &str) -> Result<Vec<Family<'_>>, ParseError> {
    let mut families = Families::new();
    for (number, line) in numbered_lines(input) {
        parse_line(&mut families, line).map_err(|message| ParseError {
            line: number,
            message,
        })?;
    }
    Ok(families.finish())
}

/// Parses one line into `families`.
fn parse_line<'a>(families: &mut Families<'a>, line: &'a str) -> Result<(), String> {
    let mut cursor = Cursor::new(line);
    cursor.skip_blanks();
    match cursor.peek() {
        None => Ok(()),
        Some(b'#') => {
            cursor.eat(b'#');
            comment(families, cursor)
        }
        Some(_) => sample(families, cursor),
    }
}

/// A line starting with `#`: `HELP`, `TYPE`, or a comment to ignore.
fn comment<'a>(families: &mut Families<'a>, mut cursor: Cursor<'a>) -> Result<(), String> {
    cursor.skip_blanks();
    let is_help = match cursor.token() {
        "HELP" => true,
        "TYPE" => false,
        _ => return Ok(()),
    };
    if !cursor.skip_blanks() {
        // `# HELP` or `# TYPE` alone is a comment, as in `expfmt`.
        return Ok(());
    }
    let name = cursor.any_metric_name("a metric name")?;
    if !cursor.at_end() && !cursor.skip_blanks() {
        return Err(format!(
            "unexpected {} after metric name {name:?}",
            cursor.describe_next()
        ));
    }
    let index = match families.by_name.get(name) {
        Some(&index) => index,
        None => families.create(name, MetricKind::Unknown),
    };
    families.current = Some(index);
    let Some(family) = families.list.get_mut(index) else {
        return Err(format!("internal error: no family {index}"));
    };
    if is_help {
        if family.help.is_some() {
            return Err(format!("second HELP line for metric name {name:?}"));
        }
        family.help = Some(unescape_help(cursor.rest(), false));
        return Ok(());
    }
    let keyword = cursor.token();
    cursor.skip_blanks();
    if !cursor.at_end() {
        return Err(format!(
            "unexpected text after the type of {name:?}: {:?}",
            cursor.rest()
        ));
    }
    if keyword.is_empty() {
        return Err(format!("TYPE line for {name:?} has no type"));
    }
    let kind = MetricKind::from_keyword(keyword, Format::Text).ok_or_else(|| {
        format!(
            "unknown metric type {keyword:?} (expected counter, gauge, histogram, summary or untyped)"
        )
    })?;
    if families.typed.get(index).copied().unwrap_or(false) {
        return Err(format!("second TYPE line for metric name {name:?}"));
    }
    if !family.samples.is_empty() {
        return Err(format!(
            "TYPE line for metric name {name:?} after its samples"
        ));
    }
    family.kind = kind;
    if let Some(typed) = families.typed.get_mut(index) {
        *typed = true;
    }
    Ok(())
}

/// A sample line.
fn sample<'a>(families: &mut Families<'a>, mut cursor: Cursor<'a>) -> Result<(), String> {
    let mut name = None;
    if cursor.peek() != Some(b'{') {
        let plain = cursor.any_metric_name("a metric name")?;
        if !matches!(cursor.peek(), None | Some(b' ' | b'\t' | b'{')) {
            return Err(format!(
                "unexpected {} after metric name {plain:?}",
                cursor.describe_next()
            ));
        }
        name = Some(plain);
        cursor.skip_blanks();
    }
    let mut labels = Vec::new();
    if cursor.eat(b'{') {
        cursor.label_set(true, &mut labels, Some(&mut name))?;
    }
    let name = name.ok_or("the label set names no metric (expected {\"name\", ...})")?;
    cursor.skip_blanks();
    let value_text = cursor.token();
    if value_text.is_empty() {
        return Err(format!("sample {name:?} has no value"));
    }
    let value = parse_float(value_text)
        .ok_or_else(|| format!("invalid value {value_text:?} of sample {name:?}"))?;
    cursor.skip_blanks();
    let mut timestamp_ms = None;
    if !cursor.at_end() {
        let text = cursor.token();
        let timestamp: i64 = text
            .parse()
            .map_err(|_| format!("invalid timestamp {text:?} (expected integer milliseconds)"))?;
        timestamp_ms = Some(timestamp);
        cursor.skip_blanks();
        if !cursor.at_end() {
            return Err(format!(
                "unexpected text after the timestamp: {:?}",
                cursor.rest()
            ));
        }
    }
    let sample = Sample {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar: None,
    };
    let (index, suffix) = family_of(families, name);
    families.current = Some(index);
    let Some(family) = families.list.get_mut(index) else {
        return Err(format!("internal error: no family {index}"));
    };
    check_required_labels(family, suffix, &sample)?;
    family.samples.push(sample);
    Ok(())
}

/// The family a sample called `name` joins, and its suffix there: the current family,
/// or the family of that name, or the histogram or summary it is a `_bucket`, `_sum` or
/// `_count` of, or else a new untyped family of its own.
fn family_of<'a>(families: &mut Families<'a>, name: &'a str) -> (usize, &'static str) {
    let suffix_in = |families: &Families<'a>, index: usize| {
        let family = families.list.get(index)?;
        family
            .kind
            .member_suffix(Format::Text, family.name, name)
            .map(|suffix| (index, suffix))
    };
    if let Some(found) = families
        .current
        .and_then(|index| suffix_in(families, index))
    {
        return found;
    }
    if let Some(found) = families
        .by_name
        .get(name)
        .and_then(|&index| suffix_in(families, index))
    {
        return found;
    }
    for suffix in ["_bucket", "_count", "_sum"] {
        if let Some(found) = name
            .strip_suffix(suffix)
            .and_then(|base| families.by_name.get(base))
            .and_then(|&index| suffix_in(families, index))
        {
            return found;
        }
    }
    (families.create(name, MetricKind::Unknown), "")
}
