//! Finding a log record's trace context in its attributes and body.
//!
//! [`Extractor`] holds the one compiled regex (built once per processor) and looks, in
//! order, at the record's attributes, then its body: a map (kvlist) body by key (and one
//! level of nested maps), a string body that is a JSON object by key (and one level of
//! nested objects, see [`super::json`]), then any string body as text
//! (`trace_id=<hex>`, `traceId: <hex>`, `traceparent=00-...`). The first of those
//! sources that yields a valid trace id wins and supplies the span id and flags too.
//! Nothing is allocated unless something is found.

use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value};
use regex::Regex;

/// A 16-byte trace id.
pub type TraceId = [u8; 16];
/// An 8-byte span id.
pub type SpanId = [u8; 8];

/// The trace context found for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id, when the same source had one.
    pub span_id: Option<SpanId>,
    /// W3C trace flags, from a `traceparent`.
    pub flags: Option<u8>,
    /// Indices of the attributes the context came from (for `remove_source_fields`).
    pub attribute_sources: [Option<usize>; 3],
}

/// What an attribute or JSON key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Trace,
    Span,
    TraceParent,
}

/// Classifies a key: `trace_id`, `traceId`, `trace.id`, `span_id`, `spanId`, `span.id`,
/// `traceparent`.
pub(crate) fn classify(key: &str) -> Option<KeyKind> {
    match key {
        "trace_id" | "traceId" | "trace.id" => Some(KeyKind::Trace),
        "span_id" | "spanId" | "span.id" => Some(KeyKind::Span),
        "traceparent" => Some(KeyKind::TraceParent),
        _ => None,
    }
}

/// Parses exactly `2 * N` hex digits (either case) into a non-zero id.
pub(crate) fn parse_id<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut id = [0u8; N];
    if text.len() != 2 * N || hex::decode_to_slice(text, &mut id).is_err() {
        return None;
    }
    id.iter().any(|b| *b != 0).then_some(id)
}

/// A parsed W3C `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceParent {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub flags: u8,
}

/// Parses `<version>-<32 hex>-<16 hex>-<2 hex>`. Version `ff` is invalid; version `00`
/// allows nothing after the flags, a later version allows `-` and more (W3C rules).
pub(crate) fn parse_traceparent(text: &str) -> Option<TraceParent> {
    let bytes = text.as_bytes();
    if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let version = parse_byte(text.get(0..2)?)?;
    let flags = parse_byte(text.get(53..55)?)?;
    let rest = &bytes[55..];
    let valid_tail = match version {
        0xff => false,
        0 => rest.is_empty(),
        _ => rest.is_empty() || rest[0] == b'-',
    };
    if !valid_tail {
        return None;
    }
    Some(TraceParent {
        trace_id: parse_id(text.get(3..35)?)?,
        span_id: parse_id(text.get(36..52)?)?,
        flags,
    })
}

fn parse_byte(text: &str) -> Option<u8> {
    let mut out = [0u8; 1];
    hex::decode_to_slice(text, &mut out).ok().map(|()| out[0])
}

/// Candidates gathered from one source; the first valid value of each kind wins.
#[derive(Debug, Default)]
pub(crate) struct Candidates {
    trace: Option<(TraceId, Option<usize>)>,
    span: Option<(SpanId, Option<usize>)>,
    parent: Option<(TraceParent, Option<usize>)>,
}

impl Candidates {
    /// Offers `value` found under a key of `kind`; `source` is the attribute index.
    pub(crate) fn offer(&mut self, kind: KeyKind, value: &str, source: Option<usize>) {
        match kind {
            KeyKind::Trace if self.trace.is_none() => {
                self.trace = parse_id(value).map(|id| (id, source));
            }
            KeyKind::Span if self.span.is_none() => {
                self.span = parse_id(value).map(|id| (id, source));
            }
            KeyKind::TraceParent if self.parent.is_none() => {
                self.parent = parse_traceparent(value).map(|tp| (tp, source));
            }
            _ => {}
        }
    }

    /// Whether a trace id (explicit or from a traceparent) was found.
    pub(crate) fn has_trace(&self) -> bool {
        self.trace.is_some() || self.parent.is_some()
    }

    /// Explicit `trace_id`/`span_id` keys win; a `traceparent` fills in what is missing
    /// when it names the same trace (or there is no explicit trace id). A span id
    /// without a trace id is ignored.
    pub(crate) fn resolve(self) -> Option<Found> {
        let mut sources = [None; 3];
        let (mut trace_id, mut span_id) = match self.trace {
            Some((id, src)) => {
                sources[0] = src;
                (Some(id), None)
            }
            None => (None, None),
        };
        if let Some((span, src)) = self.span {
            span_id = Some(span);
            sources[1] = src;
        }
        let mut flags = None;
        if let Some((tp, src)) = self.parent
            && trace_id.is_none_or(|t| t == tp.trace_id)
        {
            trace_id = Some(tp.trace_id);
            span_id = span_id.or(Some(tp.span_id));
            flags = Some(tp.flags);
            sources[2] = src;
        }
        Some(Found {
            trace_id: trace_id?,
            span_id,
            flags,
            attribute_sources: sources,
        })
    }
}

/// Looks for trace context in records; holds the compiled text pattern.
#[derive(Debug, Clone)]
pub struct Extractor {
    text: Regex,
}

/// `key` `=` or `:` (spaces, an optional quote) then a run of id characters; the key
/// must start at a word boundary. Values are checked in code, so a 33-digit run is a
/// miss rather than a 32-digit match.
const TEXT_PATTERN: &str = r#"(?-u:\b)(?:trace_id|traceId|trace\.id|span_id|spanId|span\.id|traceparent)"?[ \t]*[=:][ \t]*"?[0-9A-Za-z-]+"#;

impl Extractor {
    /// Compiles the text pattern.
    ///
    /// # Errors
    /// Never in practice: the pattern is a constant covered by tests.
    pub fn new() -> Result<Extractor, regex::Error> {
        Ok(Extractor {
            text: Regex::new(TEXT_PATTERN)?,
        })
    }

    /// The trace context of a record with these attributes and body, if any.
    pub fn find(&self, attributes: &[KeyValue], body: Option<&AnyValue>) -> Option<Found> {
        let mut from_attributes = Candidates::default();
        for (i, kv) in attributes.iter().enumerate() {
            if let Some(kind) = classify(&kv.key)
                && let Some(value) = kv.value.as_ref().and_then(as_str)
            {
                from_attributes.offer(kind, value, Some(i));
            }
        }
        if from_attributes.has_trace() {
            return from_attributes.resolve();
        }
        match body.and_then(|b| b.value.as_ref())? {
            any_value::Value::StringValue(text) => self.find_in_string(text),
            any_value::Value::KvlistValue(list) => {
                let mut from_body = Candidates::default();
                offer_map(&list.values, &mut from_body, 0);
                from_body.resolve()
            }
            _ => None,
        }
    }

    /// A string body: as a JSON object when it looks like one, else (or when that finds
    /// nothing) as text. Only bodies containing `trace` are looked at.
    pub fn find_in_string(&self, text: &str) -> Option<Found> {
        if !text.contains("trace") {
            return None;
        }
        if text.trim_start().starts_with('{')
            && let Some(found) = super::json::find(text)
        {
            return Some(found);
        }
        let mut candidates = Candidates::default();
        for m in self.text.find_iter(text) {
            if let Some((kind, value)) = split_match(m.as_str()) {
                candidates.offer(kind, value, None);
            }
        }
        candidates.resolve()
    }
}

/// Splits a text match into its key kind and value.
fn split_match(matched: &str) -> Option<(KeyKind, &str)> {
    let key_end = matched.find(['"', ' ', '\t', '=', ':'])?;
    let kind = classify(&matched[..key_end])?;
    let value = matched[key_end..].trim_start_matches(['"', ' ', '\t', '=', ':']);
    Some((kind, value))
}

/// Offers the keys of a kvlist, looking one level into nested kvlists.
fn offer_map(values: &[KeyValue], candidates: &mut Candidates, depth: usize) {
    for kv in values {
        let Some(value) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
            continue;
        };
        match (classify(&kv.key), value) {
            (Some(kind), any_value::Value::StringValue(s)) => candidates.offer(kind, s, None),
            (None, any_value::Value::KvlistValue(nested)) if depth == 0 => {
                offer_map(&nested.values, candidates, depth + 1);
            }
            _ => {}
        }
    }
}

fn as_str(value: &AnyValue) -> Option<&str> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}
