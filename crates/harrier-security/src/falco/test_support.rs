//! Helpers shared by the unit tests: the fixtures in `testdata/` and accessors for the
//! attributes of a mapped record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_pdata::otlp::logs::v1::LogRecord;

pub(crate) const OBSERVED: u64 = 42;

pub(crate) const TERMINAL_SHELL: &str = include_str!("testdata/falco_terminal_shell.json");
pub(crate) const WRITE_BELOW_ETC: &str = include_str!("testdata/falco_write_below_etc.json");
pub(crate) const OUTBOUND: &str = include_str!("testdata/falco_outbound_connection.json");
pub(crate) const SIDEKICK: &str = include_str!("testdata/falcosidekick.json");
pub(crate) const TETRAGON: &str = include_str!("testdata/tetragon.jsonl");

/// Nanoseconds of `2024-06-11T09:<m>:<s>Z` plus `nanos`.
pub(crate) fn at(m: u64, s: u64, nanos: u64) -> u64 {
    (1_718_096_400 + m * 60 + s) * 1_000_000_000 + nanos
}

pub(crate) fn attr<'a>(r: &'a LogRecord, key: &str) -> Option<&'a Value> {
    harrier_pdata::attrs::get(&r.attributes, key).and_then(|v| v.value.as_ref())
}

pub(crate) fn s<'a>(r: &'a LogRecord, key: &str) -> &'a str {
    match attr(r, key) {
        Some(Value::StringValue(v)) => v,
        other => panic!("{key}: expected a string, got {other:?}"),
    }
}

pub(crate) fn int(r: &LogRecord, key: &str) -> i64 {
    match attr(r, key) {
        Some(Value::IntValue(v)) => *v,
        other => panic!("{key}: expected an int, got {other:?}"),
    }
}

pub(crate) fn strings(r: &LogRecord, key: &str) -> Vec<String> {
    match attr(r, key) {
        Some(Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(|v| match &v.value {
                Some(Value::StringValue(s)) => s.clone(),
                other => panic!("{key}: non-string element {other:?}"),
            })
            .collect(),
        other => panic!("{key}: expected an array, got {other:?}"),
    }
}

pub(crate) fn keys(r: &LogRecord) -> Vec<&str> {
    r.attributes.iter().map(|kv| kv.key.as_str()).collect()
}

pub(crate) fn body(r: &LogRecord) -> &str {
    match r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(s)) => s,
        other => panic!("body is not a string: {other:?}"),
    }
}
