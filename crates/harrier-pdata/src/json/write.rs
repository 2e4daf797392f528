//! Low-level JSON writing into a `Vec<u8>`: an object builder that handles commas and
//! proto3 default omission, string escaping, and the OTLP/JSON scalar encodings
//! (64-bit integers as strings, ids as hex, bytes as base64, special doubles as strings).

use base64::Engine as _;
use std::io::Write as _;

/// Writes the members of one JSON object. Created with [`Obj::new`] (which writes `{`)
/// and finished with [`Obj::end`] (which writes `}`).
pub(super) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

/// Encodes one value of type `T` into the buffer.
pub(super) type Enc<T> = fn(&mut Vec<u8>, &T);

impl<'a> Obj<'a> {
    /// Starts an object.
    pub(super) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, empty: true }
    }

    /// Closes the object.
    pub(super) fn end(self) {
        self.out.push(b'}');
    }

    /// Writes `"name":` (after a comma if needed) and returns the buffer for the value.
    /// `name` must not need escaping (all OTLP field names are plain ASCII).
    pub(super) fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string field, left out when empty.
    pub(super) fn str(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            write_str(self.key(name), v);
        }
    }

    /// A `bool` field, left out when `false`.
    pub(super) fn bool(&mut self, name: &str, v: bool) {
        if v {
            self.key(name).extend_from_slice(b"true");
        }
    }

    /// A 32-bit unsigned field (a JSON number), left out when zero.
    pub(super) fn u32(&mut self, name: &str, v: u32) {
        if v != 0 {
            write_u64(self.key(name), u64::from(v));
        }
    }

    /// A 32-bit signed field or enum (a JSON number), left out when zero.
    pub(super) fn i32(&mut self, name: &str, v: i32) {
        if v != 0 {
            self.i32_always(name, v);
        }
    }

    /// A 32-bit signed field (a JSON number), written even when zero.
    pub(super) fn i32_always(&mut self, name: &str, v: i32) {
        write_i64(self.key(name), i64::from(v));
    }

    /// A 64-bit unsigned field (a decimal string), left out when zero.
    pub(super) fn u64(&mut self, name: &str, v: u64) {
        if v != 0 {
            self.u64_always(name, v);
        }
    }

    /// A 64-bit unsigned field (a decimal string), written even when zero.
    pub(super) fn u64_always(&mut self, name: &str, v: u64) {
        let out = self.key(name);
        out.push(b'"');
        write_u64(out, v);
        out.push(b'"');
    }

    /// A 64-bit signed field (a decimal string), written even when zero.
    pub(super) fn i64_always(&mut self, name: &str, v: i64) {
        let out = self.key(name);
        out.push(b'"');
        write_i64(out, v);
        out.push(b'"');
    }

    /// A double field, left out when zero.
    pub(super) fn f64(&mut self, name: &str, v: f64) {
        if v != 0.0 {
            self.f64_always(name, v);
        }
    }

    /// A double field, written even when zero.
    pub(super) fn f64_always(&mut self, name: &str, v: f64) {
        write_f64(self.key(name), v);
    }

    /// An `optional double` field, left out when absent.
    pub(super) fn f64_opt(&mut self, name: &str, v: Option<f64>) {
        if let Some(v) = v {
            self.f64_always(name, v);
        }
    }

    /// An id (trace or span id) as lowercase hex, left out when empty.
    pub(super) fn hex(&mut self, name: &str, v: &[u8]) {
        if !v.is_empty() {
            let out = self.key(name);
            out.push(b'"');
            write_hex(out, v);
            out.push(b'"');
        }
    }

    /// A `bytes` field as base64, written even when empty.
    pub(super) fn base64_always(&mut self, name: &str, v: &[u8]) {
        let out = self.key(name);
        out.push(b'"');
        write_base64(out, v);
        out.push(b'"');
    }

    /// A message field, left out when absent (a present but empty message is `{}`).
    pub(super) fn msg<T>(&mut self, name: &str, v: Option<&T>, enc: Enc<T>) {
        if let Some(v) = v {
            enc(self.key(name), v);
        }
    }

    /// A repeated message field, left out when empty.
    pub(super) fn list<T>(&mut self, name: &str, items: &[T], enc: Enc<T>) {
        if !items.is_empty() {
            let out = self.key(name);
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                enc(out, item);
            }
            out.push(b']');
        }
    }

    /// A repeated message field, written even when empty (as `[]`).
    pub(super) fn list_always<T>(&mut self, name: &str, items: &[T], enc: Enc<T>) {
        if items.is_empty() {
            self.key(name).extend_from_slice(b"[]");
        } else {
            self.list(name, items, enc);
        }
    }

    /// A repeated string field, left out when empty.
    pub(super) fn str_list(&mut self, name: &str, items: &[String]) {
        self.list(name, items, |out, s| write_str(out, s));
    }

    /// A repeated 64-bit unsigned field (decimal strings), written even when empty.
    pub(super) fn u64_list_always(&mut self, name: &str, items: &[u64]) {
        self.list_always(name, items, |out, v| {
            out.push(b'"');
            write_u64(out, *v);
            out.push(b'"');
        });
    }

    /// A repeated double field, written even when empty.
    pub(super) fn f64_list_always(&mut self, name: &str, items: &[f64]) {
        self.list_always(name, items, |out, v| write_f64(out, *v));
    }
}

/// Writes `s` as a JSON string literal, escaping `"`, `\` and control characters.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes `v` in decimal.
pub(super) fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // `v % 10` is below 10, so the cast cannot truncate.
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes `v` in decimal.
pub(super) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Writes a double as a JSON number (shortest representation that reads back the same
/// value), or as `"NaN"`, `"Infinity"` or `"-Infinity"`.
pub(super) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 {
            b"\"Infinity\""
        } else {
            b"\"-Infinity\""
        });
    } else {
        // `Debug` prints the shortest round-tripping form, switching to exponent
        // notation for very large or small magnitudes (`1e300`), which is valid JSON.
        // Writing into a `Vec` cannot fail.
        let _ = write!(out, "{v:?}");
    }
}

/// Writes `bytes` as lowercase hex.
pub(super) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// Writes `bytes` as standard base64 with padding.
pub(super) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let engine = &base64::engine::general_purpose::STANDARD;
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    match engine.encode_slice(bytes, &mut out[start..]) {
        Ok(written) => out.truncate(start + written),
        Err(_) => {
            // Only reachable if the length computation overflowed; fall back to an
            // allocating encode.
            out.truncate(start);
            out.extend_from_slice(engine.encode(bytes).as_bytes());
        }
    }
}
