//! Small helpers for OTLP attributes (`KeyValue` / `AnyValue`).

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};

/// Builds a string attribute.
pub fn string_kv(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// Builds an integer attribute.
pub fn int_kv(key: impl Into<String>, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

/// Finds the value of `key` in an attribute list.
pub fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// Finds the string value of `key` in an attribute list.
pub fn get_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match get(attrs, key)?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

/// Converts JSON to an OTLP value: objects become kvlists, arrays arrays, integers that
/// fit `i64` ints, other numbers doubles, `null` an empty value. Takes the value by
/// value so strings move instead of being copied.
pub fn json_to_any(value: serde_json::Value) -> AnyValue {
    use any_value::Value as V;
    let value = match value {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(V::BoolValue(b)),
        serde_json::Value::Number(n) => Some(match n.as_i64() {
            Some(i) => V::IntValue(i),
            None => V::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        serde_json::Value::String(s) => Some(V::StringValue(s)),
        serde_json::Value::Array(items) => Some(V::ArrayValue(ArrayValue {
            values: items.into_iter().map(json_to_any).collect(),
        })),
        serde_json::Value::Object(map) => Some(V::KvlistValue(KeyValueList {
            values: map
                .into_iter()
                .map(|(key, v)| KeyValue {
                    key,
                    value: Some(json_to_any(v)),
                    ..Default::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}
