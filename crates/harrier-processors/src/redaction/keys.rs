//! Key matching (blocked keys, AWS secret key names) and small attribute helpers.

use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};

/// `key` equals a blocked key or ends with one after `.`, `_` or `-`, ignoring case.
pub fn is_blocked(blocked_keys: &[String], key: &str) -> bool {
    let key = key.as_bytes();
    blocked_keys.iter().any(|blocked| {
        let blocked = blocked.as_bytes();
        key.len() >= blocked.len()
            && key[key.len() - blocked.len()..].eq_ignore_ascii_case(blocked)
            && (key.len() == blocked.len()
                || matches!(key[key.len() - blocked.len() - 1], b'.' | b'_' | b'-'))
    })
}

/// Whether a key names an AWS secret (`aws` and `secret` in it, any case).
pub fn names_aws_secret(key: &str) -> bool {
    contains_ignore_case(key, "aws") && contains_ignore_case(key, "secret")
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The bytes hashed for a whole value: strings and bytes as they are, other scalars as
/// text, maps and arrays as their debug text.
pub fn value_bytes(value: &AnyValue) -> Vec<u8> {
    match &value.value {
        Some(Value::StringValue(s)) => s.as_bytes().to_vec(),
        Some(Value::BytesValue(b)) => b.clone(),
        Some(Value::IntValue(i)) => i.to_string().into_bytes(),
        Some(Value::DoubleValue(d)) => d.to_string().into_bytes(),
        Some(Value::BoolValue(b)) => b.to_string().into_bytes(),
        other => format!("{other:?}").into_bytes(),
    }
}

/// Sets `key` to `value`, replacing an existing attribute of that key.
pub fn set(attrs: &mut Vec<KeyValue>, key: &str, value: Value) {
    let value = Some(AnyValue { value: Some(value) });
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attrs.push(KeyValue {
            key: key.to_string(),
            value,
            ..Default::default()
        }),
    }
}
