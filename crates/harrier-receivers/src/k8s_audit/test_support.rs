//! Helpers shared by the unit tests: the fixtures in `testdata/` and accessors for the
//! attributes of a mapped record.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use super::event::{Event, Stage, parse_payload};
use super::mapping::{Mapper, Outcome};
use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_pdata::otlp::logs::v1::LogRecord;

pub(crate) const OBSERVED: u64 = 42;

pub(crate) fn fixture(name: &str) -> Vec<Event> {
    let bytes = match name {
        "reads" => include_bytes!("testdata/reads.json").as_slice(),
        "write" => include_bytes!("testdata/write.json"),
        "forbidden" => include_bytes!("testdata/forbidden.json"),
        "exec" => include_bytes!("testdata/exec.json"),
        "impersonation" => include_bytes!("testdata/impersonation.json"),
        "anonymous" => include_bytes!("testdata/anonymous.json"),
        "panic" => include_bytes!("testdata/panic.json"),
        "nonresource" => include_bytes!("testdata/nonresource.json"),
        other => panic!("no fixture {other}"),
    };
    parse_payload(bytes).unwrap()
}

pub(crate) fn default_mapper() -> Mapper {
    Mapper::new(
        vec![Stage::ResponseComplete, Stage::Panic],
        true,
        Some("prod-eu-1"),
    )
}

pub(crate) fn map(event: &Event) -> LogRecord {
    match default_mapper().map(event.clone(), OBSERVED) {
        Outcome::Record(r) => r,
        other => panic!("expected a record, got {other:?}"),
    }
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

/// Follows a path of keys / indexes in a kvlist / array value.
pub(crate) fn dig<'a>(mut v: &'a Value, path: &[&str]) -> &'a Value {
    for step in path {
        v = match v {
            Value::KvlistValue(l) => l
                .values
                .iter()
                .find(|kv| kv.key == *step)
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| v.value.as_ref())
                .unwrap_or_else(|| panic!("no key {step}")),
            Value::ArrayValue(a) => a.values[step.parse::<usize>().unwrap()]
                .value
                .as_ref()
                .unwrap(),
            other => panic!("cannot step into {other:?} with {step}"),
        };
    }
    v
}

/// nanoseconds of `2024-06-11T<hms>Z` plus `micros`.
pub(crate) fn at(h: u64, m: u64, sec: u64, micros: u64) -> u64 {
    let midnight = 1_718_064_000u64; // 2024-06-11T00:00:00Z
    ((midnight + h * 3600 + m * 60 + sec) * 1_000_000 + micros) * 1000
}
