//! OpenMetrics 1.0: `# HELP`, `# TYPE` and `# UNIT` lines before each family's samples,
//! sample lines `name{label="value",...} value [timestamp_s] [# {labels} value [ts]]`
//! with single spaces, and a final `# EOF`.

use super::lexer::{Cursor, Labels, is_metric_name_char, parse_float, parse_seconds_timestamp};
use super::{
    Exemplar, Families, Family, Format, MetricKind, ParseError, Sample, check_required_labels,
    lexer, numbered_lines,
};

/// Most UTF-8 characters an exemplar's label names and values may have together.
const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// Every suffix an OpenMetrics sample name can have after its family's name.
const SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// Parses an OpenMetrics body.
pub(super) fn parse(input: &str) -> Result<Vec<Family<'_>>, ParseError> {
    let mut families = Families::new();
    let mut eof_seen = false;
    let mut last_line = 0;
    for (number, line) in numbered_lines(input) {
        last_line = number;
        let at = |message: String| ParseError {
            line: number,
            message,
        };
        if eof_seen {
            return Err(at("content after \"# EOF\"".to_owned()));
        }
        if line == "# EOF" {
            eof_seen = true;
            continue;
        }
        parse_line(&mut families, line).map_err(at)?;
    }
    if !eof_seen {
        let line = if input.is_empty() || input.ends_with('\n') {
            last_line + 1
        } else {
            last_line
        };
        return Err(ParseError {
            line,
            message: "missing \"# EOF\" at the end of the exposition".to_owned(),
        });
    }
    Ok(families.finish())
}

/// Parses one line (not `# EOF`) into `families`.
fn parse_line<'a>(families: &mut Families<'a>, line: &'a str) -> Result<(), String> {
    let cursor = Cursor::new(line);
    match cursor.peek() {
        None => Err("empty line (not allowed in OpenMetrics)".to_owned()),
        Some(b'#') => metadata(families, cursor),
        Some(_) => sample(families, cursor),
    }
}

/// Which metadata line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Descriptor {
    /// `# HELP`
    Help,
    /// `# TYPE`
    Type,
    /// `# UNIT`
    Unit,
}

/// A `# HELP`, `# TYPE` or `# UNIT` line.
fn metadata<'a>(families: &mut Families<'a>, mut cursor: Cursor<'a>) -> Result<(), String> {
    let descriptor = if cursor.eat_str("# HELP ") {
        Descriptor::Help
    } else if cursor.eat_str("# TYPE ") {
        Descriptor::Type
    } else if cursor.eat_str("# UNIT ") {
        Descriptor::Unit
    } else {
        return Err(format!(
            "unexpected comment {:?}: OpenMetrics allows only \"# HELP\", \"# TYPE\", \"# UNIT\" and \"# EOF\"",
            cursor.rest()
        ));
    };
    let name = cursor.any_metric_name("a metric name")?;
    let text = if cursor.at_end() {
        ""
    } else if cursor.eat(b' ') {
        cursor.rest()
    } else {
        return Err(format!(
            "expected ' ' after metric name {name:?}, found {}",
            cursor.describe_next()
        ));
    };
    let index = declare(families, name)?;
    let Some(family) = families.list.get_mut(index) else {
        return Err(format!("internal error: no family {index}"));
    };
    match descriptor {
        Descriptor::Help => {
            if family.help.is_some() {
                return Err(format!("second HELP line for metric family {name:?}"));
            }
            family.help = Some(lexer::unescape_help(text, true));
        }
        Descriptor::Type => {
            let kind = MetricKind::from_keyword(text, Format::OpenMetrics).ok_or_else(|| {
                format!(
                    "unknown metric type {text:?} (expected counter, gauge, histogram, \
                     gaugehistogram, summary, info, stateset or unknown)"
                )
            })?;
            let typed = families.typed.get_mut(index);
            if typed.as_deref() == Some(&true) {
                return Err(format!("second TYPE line for metric family {name:?}"));
            }
            if let Some(typed) = typed {
                *typed = true;
            }
            family.kind = kind;
        }
        Descriptor::Unit => {
            let declared = families.unit_declared.get_mut(index);
            if declared.as_deref() == Some(&true) {
                return Err(format!("second UNIT line for metric family {name:?}"));
            }
            if let Some(declared) = declared {
                *declared = true;
            }
            if !text.bytes().all(is_metric_name_char) {
                return Err(format!("invalid unit {text:?}"));
            }
            if !text.is_empty() {
                let suffixed = name
                    .strip_suffix(text)
                    .is_some_and(|stem| stem.ends_with('_'));
                if !suffixed {
                    return Err(format!(
                        "unit {text:?} is not a suffix of metric family {name:?}"
                    ));
                }
                family.unit = Some(text);
            }
        }
    }
    Ok(())
}

/// The family a metadata line for `name` describes: the current one if it has that
/// name and no samples yet, or a new one.
fn declare<'a>(families: &mut Families<'a>, name: &'a str) -> Result<usize, String> {
    if let Some(index) = families.current
        && let Some(family) = families.list.get(index)
        && family.name == name
    {
        if !family.samples.is_empty() {
            return Err(format!(
                "metadata for metric family {name:?} after its samples"
            ));
        }
        return Ok(index);
    }
    if families.by_name.contains_key(name) {
        return Err(format!(
            "metric family {name:?} appears a second time (a family's lines must be contiguous)"
        ));
    }
    Ok(families.create(name, MetricKind::Unknown))
}

/// A sample line.
fn sample<'a>(families: &mut Families<'a>, mut cursor: Cursor<'a>) -> Result<(), String> {
    let mut name = None;
    if cursor.peek() != Some(b'{') {
        name = Some(cursor.any_metric_name("a metric name")?);
    }
    let mut labels = Vec::new();
    if cursor.eat(b'{') {
        cursor.label_set(false, &mut labels, Some(&mut name))?;
    }
    let name = name.ok_or("the label set names no metric (expected {\"name\", ...})")?;
    if !cursor.eat(b' ') {
        return Err(format!(
            "expected ' ' and a value after {name:?}, found {}",
            cursor.describe_next()
        ));
    }
    let value_text = cursor.token();
    let value = parse_float(value_text)
        .ok_or_else(|| format!("invalid value {value_text:?} of sample {name:?}"))?;
    let mut timestamp_ms = None;
    let mut exemplar = None;
    if cursor.eat(b' ') {
        if cursor.peek() != Some(b'#') {
            timestamp_ms = Some(parse_seconds_timestamp(cursor.token())?);
            if cursor.eat(b' ') && cursor.peek() != Some(b'#') {
                return Err(format!(
                    "unexpected text after the timestamp: {:?}",
                    cursor.rest()
                ));
            }
        }
        if cursor.peek() == Some(b'#') {
            exemplar = Some(parse_exemplar(&mut cursor)?);
        }
    }
    if !cursor.at_end() {
        return Err(format!(
            "unexpected {} after the value of {name:?}",
            cursor.describe_next()
        ));
    }
    let sample = Sample {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar,
    };
    let (index, suffix) = family_of(families, name)?;
    let Some(family) = families.list.get_mut(index) else {
        return Err(format!("internal error: no family {index}"));
    };
    check_required_labels(family, suffix, &sample)?;
    if sample.exemplar.is_some()
        && !matches!(
            (family.kind, suffix),
            (MetricKind::Counter, "_total")
                | (
                    MetricKind::Histogram | MetricKind::GaugeHistogram,
                    "_bucket"
                )
        )
    {
        return Err(format!(
            "exemplar on {name:?}: exemplars are only allowed on counter _total and histogram _bucket samples"
        ));
    }
    family.samples.push(sample);
    Ok(())
}

/// An exemplar, from its `#`: `# {labels} value [timestamp]`.
fn parse_exemplar<'a>(cursor: &mut Cursor<'a>) -> Result<Exemplar<'a>, String> {
    if !cursor.eat_str("# {") {
        return Err(format!(
            "expected an exemplar \"# {{...}} value\", found {:?}",
            cursor.rest()
        ));
    }
    let mut labels: Labels<'a> = Vec::new();
    cursor.label_set(false, &mut labels, None)?;
    let chars: usize = labels
        .iter()
        .map(|(name, value)| name.chars().count() + value.chars().count())
        .sum();
    if chars > MAX_EXEMPLAR_LABEL_CHARS {
        return Err(format!(
            "exemplar labels have {chars} characters, more than {MAX_EXEMPLAR_LABEL_CHARS}"
        ));
    }
    if !cursor.eat(b' ') {
        return Err(format!(
            "expected ' ' and a value after the exemplar's labels, found {}",
            cursor.describe_next()
        ));
    }
    let value_text = cursor.token();
    let value =
        parse_float(value_text).ok_or_else(|| format!("invalid exemplar value {value_text:?}"))?;
    let timestamp_ms = if cursor.eat(b' ') {
        Some(parse_seconds_timestamp(cursor.token())?)
    } else {
        None
    };
    Ok(Exemplar {
        labels,
        value,
        timestamp_ms,
    })
}

/// The family a sample called `name` belongs to, and its suffix there: the current
/// family, or else a new unknown family of its own, unless that would split an earlier
/// family.
fn family_of<'a>(
    families: &mut Families<'a>,
    name: &'a str,
) -> Result<(usize, &'static str), String> {
    if let Some(index) = families.current
        && let Some(family) = families.list.get(index)
    {
        if let Some(suffix) = family
            .kind
            .member_suffix(Format::OpenMetrics, family.name, name)
        {
            return Ok((index, suffix));
        }
        if family.name == name {
            return Err(format!(
                "sample {name:?} does not fit {} family {name:?} (expected {})",
                family.kind.keyword(Format::OpenMetrics),
                expected_names(family)
            ));
        }
    }
    if families.by_name.contains_key(name) {
        return Err(format!(
            "metric family {name:?} appears a second time (a family's lines must be contiguous)"
        ));
    }
    for suffix in SUFFIXES {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(family) = families
                .by_name
                .get(base)
                .and_then(|&i| families.list.get(i))
            && family
                .kind
                .member_suffix(Format::OpenMetrics, base, name)
                .is_some()
        {
            return Err(format!(
                "sample {name:?} is apart from the other lines of metric family {base:?} \
                 (a family's lines must be contiguous)"
            ));
        }
    }
    Ok((families.create(name, MetricKind::Unknown), ""))
}

/// The sample names `family` allows, for an error message.
fn expected_names(family: &Family<'_>) -> String {
    family
        .kind
        .suffixes(Format::OpenMetrics)
        .iter()
        .map(|suffix| format!("{}{suffix}", family.name))
        .collect::<Vec<_>>()
        .join(", ")
}
