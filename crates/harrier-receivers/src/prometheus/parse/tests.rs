#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;
mod fuzz;
mod rules;

use super::*;
use std::fmt::Write as _;

/// A line-oriented dump of parsed families, the expected-output format of the corpus:
///
/// ```text
/// family <name> <Kind> help=<"debug-escaped"|-> unit=<unit|->
///   <sample name> {<label>="<debug-escaped value>",...} <value> [ts=<ms>] [# {...} <value> [ts=<ms>]]
/// ```
pub(super) fn dump(families: &[Family<'_>]) -> String {
    let mut out = String::new();
    for family in families {
        let help = family
            .help
            .as_ref()
            .map_or_else(|| "-".to_owned(), |help| format!("{help:?}"));
        writeln!(
            out,
            "family {} {:?} help={help} unit={}",
            family.name,
            family.kind,
            family.unit.unwrap_or("-")
        )
        .unwrap();
        for sample in &family.samples {
            write!(
                out,
                "  {} {} {:?}",
                sample.name,
                dump_labels(&sample.labels),
                sample.value
            )
            .unwrap();
            if let Some(ts) = sample.timestamp_ms {
                write!(out, " ts={ts}").unwrap();
            }
            if let Some(exemplar) = &sample.exemplar {
                write!(
                    out,
                    " # {} {:?}",
                    dump_labels(&exemplar.labels),
                    exemplar.value
                )
                .unwrap();
                if let Some(ts) = exemplar.timestamp_ms {
                    write!(out, " ts={ts}").unwrap();
                }
            }
            out.push('\n');
        }
    }
    out
}

/// `{name="value",...}` with Rust-escaped values.
fn dump_labels(labels: &[(&str, Cow<'_, str>)]) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Parses `input`, expecting success.
pub(super) fn ok(input: &str, format: Format) -> Vec<Family<'_>> {
    match parse(input, format) {
        Ok(families) => families,
        Err(e) => panic!("{format:?} input should parse, got {e}\n---\n{input}"),
    }
}

/// Parses `input`, expecting a failure, and returns it.
pub(super) fn err(input: &str, format: Format) -> ParseError {
    match parse(input, format) {
        Ok(families) => panic!(
            "{format:?} input should fail, got\n{}---\n{input}",
            dump(&families)
        ),
        Err(e) => e,
    }
}
