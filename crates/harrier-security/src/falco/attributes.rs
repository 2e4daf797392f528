//! Pieces both mappings share: an attribute list builder that leaves out empty values,
//! JSON -> OTLP value conversion, image reference and pod name parsing, RFC 3339 time
//! parsing, and the one-`ResourceLogs`-per-request batch.

use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;
use serde_json::Value;

/// The instrumentation scope name of every record.
pub const SCOPE_NAME: &str = "harrier/receiver/falco";

/// A record's attributes, built in order; empty strings and JSON `null`s are left out so
/// that no attribute is written without a value.
#[derive(Debug, Default)]
pub(crate) struct Attrs(pub Vec<KeyValue>);

impl Attrs {
    /// An empty list with room for `n` attributes.
    pub fn with_capacity(n: usize) -> Attrs {
        Attrs(Vec::with_capacity(n))
    }

    fn push(&mut self, key: impl Into<String>, value: any_value::Value) {
        self.0.push(KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        });
    }

    /// A string attribute, unless `value` is empty.
    pub fn str(&mut self, key: impl Into<String>, value: &str) {
        if !value.is_empty() {
            self.push(key, any_value::Value::StringValue(value.to_string()));
        }
    }

    /// An integer attribute.
    pub fn int(&mut self, key: impl Into<String>, value: i64) {
        self.push(key, any_value::Value::IntValue(value));
    }

    /// A string-array attribute, unless `values` is empty.
    pub fn strings(&mut self, key: impl Into<String>, values: &[&str]) {
        if values.is_empty() {
            return;
        }
        let values = values
            .iter()
            .map(|v| AnyValue {
                value: Some(any_value::Value::StringValue((*v).to_string())),
            })
            .collect();
        self.push(key, any_value::Value::ArrayValue(ArrayValue { values }));
    }

    /// A JSON value converted with [`json_to_any`], unless it is `null` or `""`.
    pub fn json(&mut self, key: impl Into<String>, value: &Value) {
        match value {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            other => {
                if let Some(v) = json_to_any(other).value {
                    self.push(key, v);
                }
            }
        }
    }

    /// A port (or pid): an integer, also when sent as a numeric string. Anything else
    /// is left out.
    pub fn port(&mut self, key: impl Into<String>, value: &Value) {
        if let Some(n) = as_int(value) {
            self.int(key, n);
        }
    }

    /// `container.image.name`, `container.image.tags` from an image reference (see
    /// [`split_image`]).
    pub fn image(&mut self, reference: &str) {
        let (name, tag) = split_image(reference);
        self.str("container.image.name", name);
        if let Some(tag) = tag {
            self.strings("container.image.tags", &[tag]);
        }
    }
}

/// An integer from a JSON number or a string of digits.
pub(crate) fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The text of a JSON string, `""` for anything else.
pub(crate) fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or("")
}

/// Converts a borrowed JSON value (see [`harrier_pdata::attrs::json_to_any`]).
pub(crate) fn json_to_any(value: &Value) -> AnyValue {
    harrier_pdata::attrs::json_to_any(value.clone())
}

/// Splits an image reference into its name and tag: `registry:5000/shop/cart:1.4` ->
/// (`registry:5000/shop/cart`, `1.4`). A digest (`@sha256:...`) is dropped from the
/// name; a colon before the last `/` belongs to a registry port, not a tag.
pub(crate) fn split_image(reference: &str) -> (&str, Option<&str>) {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].rfind(':') {
        Some(colon) => {
            let at = last_slash + colon;
            let tag = &without_digest[at + 1..];
            (&without_digest[..at], (!tag.is_empty()).then_some(tag))
        }
        None => (without_digest, None),
    }
}

/// The workload a pod belongs to, guessed from its name (a heuristic: the pod's owner
/// references are not in a Falco alert):
///
/// - `<name>-<pod-template-hash>-<5>` (a Deployment's pod): `<name>`;
/// - `<name>-<8+ digits>-<5>` (a CronJob's Job's pod): `<name>`;
/// - `<name>-<5>` (DaemonSet, Job, bare ReplicaSet): `<name>`;
/// - `<name>-<ordinal>` (StatefulSet): `<name>`;
/// - anything else (a bare pod, a static pod): `None`.
///
/// The generated parts use Kubernetes' suffix alphabet (consonants and digits), so a
/// pod named `web-frontend` is not cut.
pub(crate) fn workload_from_pod(pod: &str) -> Option<&str> {
    // One heuristic for the whole crate: the anomaly detectors derive workloads the
    // same way, so a workload named here matches their baselines.
    let workload = crate::anomaly::names::workload_of_pod(pod);
    (workload != pod).then_some(workload)
}

/// The current time in nanoseconds since the Unix epoch.
pub(crate) fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Parses an RFC 3339 timestamp (`2024-06-11T09:00:00.123456789Z`, any fraction up to
/// nanoseconds, `Z` or a `±hh:mm` offset) to nanoseconds since the Unix epoch. `None`
/// for anything else, or a time before 1970.
pub(crate) fn parse_timestamp(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let digits = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|(at, c)| b.get(*at) != Some(c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let second = second.min(59); // a leap second reads as :59
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        for pos in 0..9 {
            let digit = b
                .get(start + pos)
                .filter(|_| start + pos < i)
                .map_or(0, |d| i64::from(d - b'0'));
            nanos = nanos * 10 + digit;
        }
    }
    let offset = match b.get(i..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(i + 1, i + 3)?, digits(i + 4, i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 3600 + m * 60
            } else {
                -(h * 3600 + m * 60)
            }
        }
        _ => return None,
    };
    // Days since the epoch of a proleptic Gregorian date (H. Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(seconds)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(u64::try_from(nanos).ok()?)
}

/// One `ResourceLogs` with `service.name = service` holding `records`.
pub(crate) fn batch(service: &str, records: Vec<LogRecord>) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: Some(Resource {
            attributes: vec![harrier_pdata::attrs::string_kv("service.name", service)],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }),
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn workloads_from_pod_names() {
        for (pod, workload) in [
            ("checkout-5d9c7b8f4-x2x8k", Some("checkout")),
            ("payment-api-7d9f8b6c5d-qz4xw", Some("payment-api")),
            ("fluent-bit-7xk2q", Some("fluent-bit")),
            ("db-migrate-28731540-kq9zv", Some("db-migrate")),
            ("postgres-0", Some("postgres")),
            ("kafka-broker-12", Some("kafka-broker")),
            ("web-frontend", None),
            ("xwing", None),
            ("kube-apiserver-control-plane", None),
            ("-x2x8k", None),
            ("app-", None),
        ] {
            assert_eq!(workload_from_pod(pod), workload, "{pod}");
        }
    }

    #[test]
    fn image_references_split_into_name_and_tag() {
        for (reference, name, tag) in [
            ("nginx", "nginx", None),
            ("nginx:1.25", "nginx", Some("1.25")),
            (
                "docker.io/library/nginx:1.25.3",
                "docker.io/library/nginx",
                Some("1.25.3"),
            ),
            ("registry:5000/shop/cart", "registry:5000/shop/cart", None),
            (
                "registry:5000/shop/cart:1.4@sha256:0123abcd",
                "registry:5000/shop/cart",
                Some("1.4"),
            ),
            (
                "quay.io/cilium/tetragon@sha256:0123",
                "quay.io/cilium/tetragon",
                None,
            ),
            ("nginx:", "nginx", None),
        ] {
            assert_eq!(split_image(reference), (name, tag), "{reference}");
        }
    }

    #[test]
    fn timestamps() {
        // 2024-06-11T09:00:00Z
        let base = 1_718_096_400u64 * 1_000_000_000;
        assert_eq!(parse_timestamp("2024-06-11T09:00:00Z"), Some(base));
        assert_eq!(
            parse_timestamp("2024-06-11T09:00:00.123456789Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(
            parse_timestamp("2024-06-11T09:00:00.5Z"),
            Some(base + 500_000_000)
        );
        assert_eq!(
            parse_timestamp("2024-06-11T11:00:00.000001+02:00"),
            Some(base + 1000)
        );
        for bad in [
            "",
            "2024-06-11",
            "2024-06-11T09:00:00",
            "2024-13-11T09:00:00Z",
            "2024-06-11T09:00:00.Z",
            "1969-12-31T23:59:59Z",
            "2024-06-11T09:00:00+2:00",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_values_keep_their_types() {
        use any_value::Value as V;
        let v = serde_json::json!({"a": 1, "b": true, "c": 1.5, "d": [null, "x"]});
        let Some(V::KvlistValue(list)) = json_to_any(&v).value else {
            panic!()
        };
        let values: Vec<_> = list
            .values
            .iter()
            .map(|kv| kv.value.clone().unwrap().value)
            .collect();
        assert_eq!(values[0], Some(V::IntValue(1)));
        assert_eq!(values[1], Some(V::BoolValue(true)));
        assert_eq!(values[2], Some(V::DoubleValue(1.5)));
        let Some(V::ArrayValue(a)) = &values[3] else {
            panic!()
        };
        assert_eq!(a.values[0].value, None);
    }
}
