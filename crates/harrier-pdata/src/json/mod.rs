//! The OTLP/JSON codec: export requests as JSON, per the OTLP specification's
//! "JSON Protobuf Encoding" (the proto3 JSON mapping with OTLP's exceptions).
//!
//! Encoding ([`encode_request`]) writes straight into a byte buffer, with no intermediate
//! JSON tree:
//! - field names are lowerCamelCase;
//! - `traceId`, `spanId` and `parentSpanId` are lowercase hex strings, not base64;
//! - enum values are integers;
//! - 64-bit integers (`int64`, `uint64`, `fixed64`, `sfixed64`) are decimal strings;
//! - `bytesValue` is standard base64 with padding;
//! - doubles are JSON numbers, except NaN and ±infinity, which are the strings `"NaN"`,
//!   `"Infinity"` and `"-Infinity"`.
//!
//! Fields holding their proto3 default (empty string or list, zero, `false`, absent
//! message) are left out, as the OTel Collector does, except where the value carries
//! meaning on its own: the set case of a oneof (`AnyValue`'s value, a data point's
//! `asDouble`/`asInt`), the `count` of histogram and summary points, a histogram's
//! `bucketCounts` and `explicitBounds`, an exponential histogram's `scale` and
//! `zeroCount`, a summary's `sum` and a quantile's `quantile` and `value`. A message that
//! is present but empty is written as `{}`, so that decoding gives back the same data.
//!
//! Decoding ([`decode_request`]) follows the proto3 JSON mapping: it accepts
//! lowerCamelCase and the original snake_case field names, 64-bit integers as strings or
//! numbers, enums as integers or by name, ids as hex (an empty string means "absent"),
//! and treats `null` as the default value. Unknown fields are ignored, as OTLP receivers
//! must. Every error names the JSON path of the offending value.

mod decode;
mod decode_metrics;
mod encode;
mod encode_metrics;
mod read;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edge;
#[cfg(test)]
mod tests_fixtures;
#[cfg(test)]
mod tests_roundtrip;

use crate::{Batch, Signal};

/// Encodes `batch` as one OTLP/JSON export request object (`{"resourceSpans":[...]}`,
/// `{"resourceMetrics":[...]}` or `{"resourceLogs":[...]}`) appended to `out`, no
/// trailing newline.
pub fn encode_request(batch: &Batch, out: &mut Vec<u8>) {
    encode::request(batch, out);
}

/// Decodes an OTLP/JSON export request body for `signal`.
///
/// # Errors
/// Returns a [`JsonError`] when `bytes` is not valid JSON, is not a JSON object, or holds
/// a value of the wrong JSON type or an invalid value (such as a malformed trace id) for
/// a known field.
pub fn decode_request(signal: Signal, bytes: &[u8]) -> Result<Batch, JsonError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(JsonError::Syntax)?;
    decode::request(signal, value)
}

/// An OTLP/JSON body that could not be decoded. The message says what is wrong and
/// where: a JSON path such as `resourceSpans[0].scopeSpans[1].spans[3].traceId`, or
/// `request body` for the top level.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The body is not well-formed JSON (the message gives line and column).
    #[error("invalid JSON: {0}")]
    Syntax(#[source] serde_json::Error),
    /// A value has the wrong JSON type, e.g. a string where an object is required.
    #[error("{}: expected {expected}, found {found}", display_path(path))]
    WrongType {
        /// JSON path of the value; empty for the request body itself.
        path: String,
        /// What the field requires, e.g. `an object`.
        expected: &'static str,
        /// The JSON type found, e.g. `a string`.
        found: &'static str,
    },
    /// A value has the right JSON type but cannot be used, e.g. an id of the wrong length.
    #[error("{}: {reason}", display_path(path))]
    InvalidValue {
        /// JSON path of the value; empty for the request body itself.
        path: String,
        /// What is wrong with it, e.g. `expected 32 hex characters, found 30`.
        reason: String,
    },
}

impl JsonError {
    /// The JSON path of the offending value (`None` for a syntax error, empty for the
    /// request body itself).
    pub fn path(&self) -> Option<&str> {
        match self {
            JsonError::Syntax(_) => None,
            JsonError::WrongType { path, .. } | JsonError::InvalidValue { path, .. } => Some(path),
        }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "request body"
    } else {
        path
    }
}

/// A JSON path under construction while decoding: a chain of borrowed links, rendered
/// to a string only when an error is reported.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The request body.
    Root,
    /// A field of an object.
    Key(&'a Path<'a>, &'a str),
    /// An element of an array.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// The path of field `key` below `self`.
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    /// The path of element `index` below `self`.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    /// Renders the path as `a[0].b.c`.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.render_into(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
}
