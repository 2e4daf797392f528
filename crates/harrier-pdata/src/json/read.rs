//! Decoding primitives over `serde_json::Value` following the proto3 JSON mapping:
//! `null` as the default, integers as numbers or strings, doubles with the special
//! strings, enums by number or name, ids as hex and bytes as base64. Values are taken
//! by value so that strings move into the protobuf types without copying.

use super::{JsonError, Path};
use base64::Engine as _;
use serde_json::{Map, Value};

/// Decodes one message (or value) from JSON.
pub(super) type Dec<T> = fn(Value, &Path<'_>) -> Result<T, JsonError>;

/// The JSON type of `v`, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A wrong-JSON-type error at `path`.
pub(super) fn wrong_type(path: &Path<'_>, expected: &'static str, v: &Value) -> JsonError {
    JsonError::WrongType {
        path: path.render(),
        expected,
        found: kind(v),
    }
}

/// An invalid-value error at `path`.
pub(super) fn invalid(path: &Path<'_>, reason: impl Into<String>) -> JsonError {
    JsonError::InvalidValue {
        path: path.render(),
        reason: reason.into(),
    }
}

/// The members of a message; `null` is the empty message.
pub(super) fn object(v: Value, path: &Path<'_>) -> Result<Map<String, Value>, JsonError> {
    match v {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(wrong_type(path, "an object", &other)),
    }
}

/// A message field: `null` is absent.
pub(super) fn message<T>(v: Value, path: &Path<'_>, dec: Dec<T>) -> Result<Option<T>, JsonError> {
    if v.is_null() {
        Ok(None)
    } else {
        dec(v, path).map(Some)
    }
}

/// A repeated field: `null` is the empty list.
pub(super) fn list<T>(v: Value, path: &Path<'_>, dec: Dec<T>) -> Result<Vec<T>, JsonError> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| dec(item, &path.index(i)))
            .collect(),
        Value::Null => Ok(Vec::new()),
        other => Err(wrong_type(path, "an array", &other)),
    }
}

/// A string field.
pub(super) fn string(v: Value, path: &Path<'_>) -> Result<String, JsonError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        other => Err(wrong_type(path, "a string", &other)),
    }
}

/// A `bool` field.
pub(super) fn boolean(v: Value, path: &Path<'_>) -> Result<bool, JsonError> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        other => Err(wrong_type(path, "a boolean", &other)),
    }
}

/// An integral number within `[min, max]`, from a JSON number or string, as `i128`
/// (wide enough for every protobuf integer type).
fn integer(v: Value, path: &Path<'_>, min: i128, max: i128, what: &str) -> Result<i128, JsonError> {
    let parsed: Option<i128> = match &v {
        Value::Null => return Ok(0),
        Value::Number(n) => n
            .as_u64()
            .map(i128::from)
            .or_else(|| n.as_i64().map(i128::from))
            .or_else(|| n.as_f64().and_then(integral)),
        Value::String(s) => s
            .parse::<i128>()
            .ok()
            .or_else(|| s.parse::<f64>().ok().and_then(integral)),
        other => return Err(wrong_type(path, "an integer (number or string)", other)),
    };
    match parsed {
        Some(i) if (min..=max).contains(&i) => Ok(i),
        _ => Err(invalid(path, format!("expected {what}, found {v}"))),
    }
}

/// `f` as an integer if it is finite and has no fractional part (`1e3`, `5.0`).
fn integral(f: f64) -> Option<i128> {
    // Magnitudes of 1e30 and more cannot be valid values of any field; bounding them
    // first keeps the cast exact.
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 {
        Some(f as i128)
    } else {
        None
    }
}

/// A `uint64`/`fixed64` field.
pub(super) fn uint64(v: Value, path: &Path<'_>) -> Result<u64, JsonError> {
    let i = integer(
        v,
        path,
        0,
        i128::from(u64::MAX),
        "an unsigned 64-bit integer",
    )?;
    u64::try_from(i).map_err(|_| invalid(path, "expected an unsigned 64-bit integer"))
}

/// An `int64`/`sfixed64` field.
pub(super) fn int64(v: Value, path: &Path<'_>) -> Result<i64, JsonError> {
    let range = (i128::from(i64::MIN), i128::from(i64::MAX));
    let i = integer(v, path, range.0, range.1, "a signed 64-bit integer")?;
    i64::try_from(i).map_err(|_| invalid(path, "expected a signed 64-bit integer"))
}

/// A `uint32`/`fixed32` field.
pub(super) fn uint32(v: Value, path: &Path<'_>) -> Result<u32, JsonError> {
    let i = integer(
        v,
        path,
        0,
        i128::from(u32::MAX),
        "an unsigned 32-bit integer",
    )?;
    u32::try_from(i).map_err(|_| invalid(path, "expected an unsigned 32-bit integer"))
}

/// An `int32`/`sint32` field.
pub(super) fn int32(v: Value, path: &Path<'_>) -> Result<i32, JsonError> {
    let range = (i128::from(i32::MIN), i128::from(i32::MAX));
    let i = integer(v, path, range.0, range.1, "a signed 32-bit integer")?;
    i32::try_from(i).map_err(|_| invalid(path, "expected a signed 32-bit integer"))
}

/// A `double` field: a JSON number, `"NaN"`, `"Infinity"`, `"-Infinity"`, or a number
/// in a string.
pub(super) fn double(v: Value, path: &Path<'_>) -> Result<f64, JsonError> {
    match &v {
        Value::Null => Ok(0.0),
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| invalid(path, format!("expected a double, found {n}"))),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            // Rust also parses "inf" and "nan", which JSON does not allow.
            other => other
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| invalid(path, format!("expected a double, found {v}"))),
        },
        other => Err(wrong_type(path, "a number", other)),
    }
}

/// An `optional double` field: `null` is absent.
pub(super) fn opt_double(v: Value, path: &Path<'_>) -> Result<Option<f64>, JsonError> {
    if v.is_null() {
        Ok(None)
    } else {
        double(v, path).map(Some)
    }
}

/// An enum field: an integer, or a value name resolved by `by_name`.
pub(super) fn enumeration(
    v: Value,
    path: &Path<'_>,
    by_name: fn(&str) -> Option<i32>,
) -> Result<i32, JsonError> {
    if let Value::String(s) = &v {
        if let Some(i) = by_name(s) {
            return Ok(i);
        }
        if s.parse::<i64>().is_err() {
            return Err(invalid(path, format!("unknown enum value name {v}")));
        }
    }
    int32(v, path)
}

/// A trace or span id of `len` bytes as hex; an empty string or `null` is absent.
pub(super) fn id(v: Value, path: &Path<'_>, len: usize) -> Result<Vec<u8>, JsonError> {
    let s = match v {
        Value::String(s) => s,
        Value::Null => return Ok(Vec::new()),
        other => return Err(wrong_type(path, "a hex string", &other)),
    };
    if s.is_empty() {
        return Ok(Vec::new());
    }
    if s.len() != len * 2 {
        return Err(invalid(
            path,
            format!(
                "expected {} hex characters, found {}",
                len * 2,
                s.chars().count()
            ),
        ));
    }
    hex::decode(&s).map_err(|_| {
        invalid(
            path,
            format!(
                "expected {} hex characters, found a non-hex character",
                len * 2
            ),
        )
    })
}

/// A `bytes` field as base64 (standard or URL-safe alphabet, padding optional).
pub(super) fn bytes(v: Value, path: &Path<'_>) -> Result<Vec<u8>, JsonError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    let s = match v {
        Value::String(s) => s,
        Value::Null => return Ok(Vec::new()),
        other => return Err(wrong_type(path, "a base64 string", &other)),
    };
    STANDARD
        .decode(&s)
        .or_else(|_| URL_SAFE.decode(&s))
        .map_err(|_| invalid(path, "expected base64"))
}
