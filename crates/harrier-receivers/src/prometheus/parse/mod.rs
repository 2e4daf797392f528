//! Parser of the Prometheus exposition formats: the text format 0.0.4 ([`Format::Text`])
//! and OpenMetrics 1.0 ([`Format::OpenMetrics`]).
//!
//! [`parse`] takes a whole scrape body and returns its metric [`Family`]s in the order
//! they first appear, each with its [`Sample`]s in input order. It is one pass over the
//! input, without regular expressions, and zero-copy where the input allows: names are
//! slices of the input and label values and HELP texts are borrowed unless they contain
//! escapes. A malformed exposition fails as a whole with a [`ParseError`] naming the
//! 1-based line, because a scrape that is half understood is better reported than half
//! ingested.
//!
//! What is accepted follows Prometheus's own parsers:
//!
//! - **Text 0.0.4** is lenient about whitespace (any run of blanks and tabs between
//!   tokens, a trailing comma in a label set, blank and `#` comment lines). A `TYPE`
//!   names the family; histogram samples are `name_bucket` (with `le`), `name_sum` and
//!   `name_count`; summary samples are `name` (with `quantile`), `name_sum` and
//!   `name_count`. Samples without metadata form an untyped ([`MetricKind::Unknown`])
//!   family of their own name. Like Prometheus's `expfmt` parser, samples of a family
//!   seen earlier join it even when other families came in between; a second `TYPE` or
//!   `HELP` for a name, or a `TYPE` after the family's samples, is an error.
//! - **OpenMetrics 1.0** is strict: single spaces, only `# HELP`, `# TYPE`, `# UNIT` and
//!   a final `# EOF`, metadata before samples, families contiguous and unique, float
//!   timestamps in seconds, exemplars on counter `_total` and histogram `_bucket`
//!   samples only.
//! - In both, label values unescape `\\`, `\"` and `\n`, and HELP texts `\\` and `\n`
//!   (OpenMetrics also `\"`); any other backslash sequence is kept literally, as
//!   Prometheus does. Numbers are what Go's `strconv.ParseFloat` accepts in decimal
//!   (`NaN`, `+Inf`, `-inf`, `Infinity`, exponents; out-of-range values are errors), but
//!   not its hexadecimal form.
//! - The Prometheus 3 quoted names are accepted: `{"my.metric", "my.label"="v"} 1` and
//!   `# TYPE "my.metric" counter`, as long as the quoted name holds no escapes.
//!
//! Families that were declared by metadata but have no sample are left out of the
//! result.

mod lexer;
mod openmetrics;
#[cfg(test)]
mod tests;
mod text;

use std::borrow::Cow;
use std::collections::HashMap;

/// The `Accept` header Prometheus sends: OpenMetrics 1.0.0 first, then OpenMetrics
/// 0.0.1, then the text format 0.0.4.
pub const ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Text,
    /// OpenMetrics 1.0 (`application/openmetrics-text`).
    OpenMetrics,
}

impl Format {
    /// The format of a response with this `Content-Type`: OpenMetrics for
    /// `application/openmetrics-text` (whatever its parameters), the text format for
    /// anything else, as Prometheus does.
    pub fn from_content_type(content_type: &str) -> Format {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A monotonic counter (OpenMetrics samples `_total`, `_created`).
    Counter,
    /// A gauge.
    Gauge,
    /// A cumulative histogram (`_bucket`, `_sum`, `_count`, OpenMetrics `_created`).
    Histogram,
    /// An OpenMetrics gauge histogram (`_bucket`, `_gsum`, `_gcount`).
    GaugeHistogram,
    /// A summary (quantiles under the family name, `_sum`, `_count`, OpenMetrics
    /// `_created`).
    Summary,
    /// An OpenMetrics info metric (`_info`).
    Info,
    /// An OpenMetrics state set (the family name, with a label of the same name).
    StateSet,
    /// No type: a text-format `untyped` or a family without `TYPE`, or an OpenMetrics
    /// `unknown`.
    Unknown,
}

impl MetricKind {
    /// The sample-name suffixes a family of this kind has in `format`.
    pub fn suffixes(self, format: Format) -> &'static [&'static str] {
        match (self, format) {
            (MetricKind::Counter, Format::OpenMetrics) => &["_total", "_created"],
            (MetricKind::Histogram, Format::OpenMetrics) => {
                &["_bucket", "_count", "_sum", "_created"]
            }
            (MetricKind::Histogram, Format::Text) => &["_bucket", "_count", "_sum"],
            (MetricKind::GaugeHistogram, _) => &["_bucket", "_gcount", "_gsum"],
            (MetricKind::Summary, Format::OpenMetrics) => &["", "_count", "_sum", "_created"],
            (MetricKind::Summary, Format::Text) => &["", "_count", "_sum"],
            (MetricKind::Info, _) => &["_info"],
            (MetricKind::Counter, Format::Text)
            | (MetricKind::Gauge, _)
            | (MetricKind::StateSet, _)
            | (MetricKind::Unknown, _) => &[""],
        }
    }

    /// The suffix of `sample_name` if it is a sample name of a family of this kind
    /// called `family_name` in `format`.
    pub fn member_suffix(
        self,
        format: Format,
        family_name: &str,
        sample_name: &str,
    ) -> Option<&'static str> {
        let rest = sample_name.strip_prefix(family_name)?;
        self.suffixes(format)
            .iter()
            .copied()
            .find(|suffix| *suffix == rest)
    }

    /// The keyword of this kind in a `TYPE` line of `format` (text: `untyped` for
    /// [`MetricKind::Unknown`]).
    pub fn keyword(self, format: Format) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::GaugeHistogram => "gaugehistogram",
            MetricKind::Summary => "summary",
            MetricKind::Info => "info",
            MetricKind::StateSet => "stateset",
            MetricKind::Unknown => match format {
                Format::Text => "untyped",
                Format::OpenMetrics => "unknown",
            },
        }
    }

    /// The kind a `TYPE` keyword of `format` names, if it is one.
    pub fn from_keyword(keyword: &str, format: Format) -> Option<MetricKind> {
        let kind = match keyword {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "summary" => MetricKind::Summary,
            "untyped" if format == Format::Text => MetricKind::Unknown,
            "unknown" if format == Format::OpenMetrics => MetricKind::Unknown,
            "gaugehistogram" if format == Format::OpenMetrics => MetricKind::GaugeHistogram,
            "info" if format == Format::OpenMetrics => MetricKind::Info,
            "stateset" if format == Format::OpenMetrics => MetricKind::StateSet,
            _ => return None,
        };
        Some(kind)
    }
}

/// One metric family: its metadata and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family<'a> {
    /// The family name: as written on `TYPE`/`HELP` (an OpenMetrics counter's without
    /// `_total`), or the sample name for a family without metadata.
    pub name: &'a str,
    /// The declared type; [`MetricKind::Unknown`] without a `TYPE` line.
    pub kind: MetricKind,
    /// The `HELP` text, unescaped.
    pub help: Option<Cow<'a, str>>,
    /// The OpenMetrics `UNIT`, when declared and not empty.
    pub unit: Option<&'a str>,
    /// The samples, in input order.
    pub samples: Vec<Sample<'a>>,
}

impl<'a> Family<'a> {
    /// The suffix of `sample` in this family; see [`suffix_of`].
    pub fn suffix_of(&self, sample: &Sample<'a>) -> &'a str {
        suffix_of(self, sample)
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The full sample name as written, e.g. `http_request_duration_seconds_bucket`.
    pub name: &'a str,
    /// The labels in the order written, values unescaped.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds since the epoch (text: as written; OpenMetrics:
    /// float seconds, rounded to the nearest millisecond).
    pub timestamp_ms: Option<i64>,
    /// The OpenMetrics exemplar, if any.
    pub exemplar: Option<Exemplar<'a>>,
}

impl<'a> Sample<'a> {
    /// The value of the label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(label, _)| *label == name)
            .map(|(_, value)| value.as_ref())
    }
}

/// An OpenMetrics exemplar: a sample of the traffic behind a counter or bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels (typically `trace_id`, `span_id`), values unescaped.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    /// The exemplar's value.
    pub value: f64,
    /// The exemplar's timestamp in milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
}

/// Why an exposition could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// The 1-based line the problem is on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a whole exposition body in `format`.
///
/// # Errors
/// A [`ParseError`] at the first line that breaks the format's rules.
pub fn parse(input: &str, format: Format) -> Result<Vec<Family<'_>>, ParseError> {
    match format {
        Format::Text => text::parse(input),
        Format::OpenMetrics => openmetrics::parse(input),
    }
}

/// The suffix of `sample`'s name after its family's name: `""`, `"_bucket"`, `"_sum"`,
/// `"_count"`, `"_total"`, `"_created"`, `"_gcount"`, `"_gsum"` or `"_info"`. A
/// text-format counter's samples have the suffix `""` (their family is named after
/// them). Returns `""` for a sample that is not one of `family`'s.
pub fn suffix_of<'a>(family: &Family<'a>, sample: &Sample<'a>) -> &'a str {
    sample.name.strip_prefix(family.name).unwrap_or_default()
}

/// The lines of `input` with their 1-based numbers; a final newline ends the last line
/// rather than starting an empty one.
fn numbered_lines(input: &str) -> impl Iterator<Item = (usize, &str)> {
    let body = input.strip_suffix('\n').unwrap_or(input);
    let pieces = if input.is_empty() {
        None
    } else {
        Some(body.split('\n'))
    };
    pieces
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
}

/// Families under construction, shared by both formats' parsers.
struct Families<'a> {
    /// The families, in order of first appearance.
    list: Vec<Family<'a>>,
    /// Per family (same index): whether a `TYPE` line declared it.
    typed: Vec<bool>,
    /// Per family (same index): whether a `UNIT` line declared it.
    unit_declared: Vec<bool>,
    /// Families by name (the first family of each name).
    by_name: HashMap<&'a str, usize>,
    /// The family of the last line that had one.
    current: Option<usize>,
}

impl<'a> Families<'a> {
    /// No families.
    fn new() -> Self {
        Families {
            list: Vec::new(),
            typed: Vec::new(),
            unit_declared: Vec::new(),
            by_name: HashMap::new(),
            current: None,
        }
    }

    /// Adds an empty family called `name`, findable by name unless one of that name
    /// exists already, and makes it current.
    fn create(&mut self, name: &'a str, kind: MetricKind) -> usize {
        let index = self.list.len();
        self.list.push(Family {
            name,
            kind,
            help: None,
            unit: None,
            samples: Vec::new(),
        });
        self.typed.push(false);
        self.unit_declared.push(false);
        self.by_name.entry(name).or_insert(index);
        self.current = Some(index);
        index
    }

    /// The families that have samples.
    fn finish(self) -> Vec<Family<'a>> {
        let mut list = self.list;
        list.retain(|family| !family.samples.is_empty());
        list
    }
}

/// Checks the labels a sample of `kind` with `suffix` must have: `le` on buckets and
/// `quantile` on summary quantiles, both floats, and the state label of a state set.
fn check_required_labels(
    family: &Family<'_>,
    suffix: &str,
    sample: &Sample<'_>,
) -> Result<(), String> {
    let required = match (family.kind, suffix) {
        (MetricKind::Histogram | MetricKind::GaugeHistogram, "_bucket") => "le",
        (MetricKind::Summary, "") => "quantile",
        (MetricKind::StateSet, "") => {
            if sample.label(family.name).is_none() {
                return Err(format!(
                    "state set sample {} has no label {:?} naming its state",
                    sample.name, family.name
                ));
            }
            return Ok(());
        }
        _ => return Ok(()),
    };
    match sample.label(required) {
        None => Err(format!(
            "{} sample {} has no {required:?} label",
            family.kind.keyword(Format::OpenMetrics),
            sample.name
        )),
        Some(value) if lexer::parse_float(value).is_none() => Err(format!(
            "{required:?} label of {} is not a number: {value:?}",
            sample.name
        )),
        Some(_) => Ok(()),
    }
}
