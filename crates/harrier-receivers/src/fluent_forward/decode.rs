//! Forward protocol messages: one decoded msgpack value -> [`Message`].
//!
//! The four event modes of the Forward Protocol Specification v1 are told apart by the
//! second element of the message array:
//!
//! - **Message** `[tag, time, record, option?]` (time is an integer, a float or an
//!   EventTime, or the v1.5 `[time, {metadata}]` pair);
//! - **Forward** `[tag, [[time, record], ...], option?]`;
//! - **PackedForward** `[tag, <str|bin of concatenated entries>, option?]`;
//! - **CompressedPackedForward**: PackedForward with `compressed: "gzip"` (several gzip
//!   members allowed; `"zstd"` is accepted too).
//!
//! A bare `nil` is a heartbeat. Entries may use the v1.5 form `[[time, {metadata}],
//! record]` that recent Fluent Bit sends. Strings may be str or bin anywhere. Nothing
//! here panics or trusts a length: values arrive complete and bounded (see
//! [`super::frame`]), and decompression stops at `max_decompressed_size`.

use super::frame;
use rmpv::Value;
use std::io::Read;

/// Why a message was refused as malformed. The connection that sent it is closed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not msgpack.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// A message (or a header inside it) announces more bytes than allowed.
    #[error("message of at least {size} bytes exceeds max_message_size ({max} bytes)")]
    TooLarge {
        /// Bytes the message needs at least.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Arrays and maps nested too deep.
    #[error("msgpack nested deeper than {0} levels")]
    TooDeep(usize),
    /// Compressed entries inflate past the limit.
    #[error("entries exceed max_decompressed_size ({0} bytes) once decompressed")]
    DecompressedTooLarge(u64),
    /// Compressed entries cannot be decompressed.
    #[error("cannot decompress {codec} entries: {message}")]
    Decompress {
        /// `gzip` or `zstd`.
        codec: &'static str,
        /// What went wrong.
        message: String,
    },
    /// Valid msgpack, but not a forward protocol message.
    #[error("not a forward protocol message: {0}")]
    Shape(String),
}

fn shape(message: impl Into<String>) -> DecodeError {
    DecodeError::Shape(message.into())
}

/// One event: its time, record and (v1.5) metadata.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// Event time in nanoseconds since the Unix epoch (0 when before the epoch).
    pub time_unix_nano: u64,
    /// The record's key/value pairs.
    pub record: Vec<(Value, Value)>,
    /// Metadata pairs (v1.5 `[time, {metadata}]`, or Message mode's `metadata`
    /// option); usually empty.
    pub metadata: Vec<(Value, Value)>,
}

/// The events of one message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Events {
    /// The tag, shared by every entry.
    pub tag: String,
    /// The entries, in order.
    pub entries: Vec<Entry>,
    /// The `chunk` option, to echo back in `{"ack": chunk}`.
    pub chunk: Option<Value>,
    /// The `size` option (the sender's entry count), if given.
    pub size: Option<u64>,
}

/// One decoded forward protocol message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Message {
    /// A bare `nil`: the client checks the connection. Nothing is answered.
    Heartbeat,
    /// Log events.
    Events(Events),
    /// A well-formed message this receiver does not take (Fluent Bit metrics or
    /// traces, `fluent_signal` 1 or 2; an unknown compression). Skipped, never
    /// acknowledged.
    Unsupported {
        /// Why, for the log.
        reason: String,
        /// The tag, for the log.
        tag: String,
    },
}

/// The options map, the last element of a message.
#[derive(Default)]
struct Options {
    chunk: Option<Value>,
    size: Option<u64>,
    compressed: Option<String>,
    fluent_signal: u64,
    metadata: Vec<(Value, Value)>,
}

/// Text of a str or bin value (lossy), for tags and map keys.
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Value::Binary(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn options(value: Option<Value>) -> Result<Options, DecodeError> {
    let pairs = match value {
        None | Some(Value::Nil) => return Ok(Options::default()),
        Some(Value::Map(pairs)) => pairs,
        Some(_) => return Err(shape("the option element must be a map")),
    };
    let mut out = Options::default();
    for (key, value) in pairs {
        match text(&key).as_deref() {
            Some("chunk") => match value {
                Value::String(_) | Value::Binary(_) => out.chunk = Some(value),
                _ => return Err(shape("option chunk must be a string")),
            },
            Some("size") => match value.as_u64() {
                Some(n) => out.size = Some(n),
                None => return Err(shape("option size must be a non-negative integer")),
            },
            Some("compressed") => match text(&value) {
                Some(c) => out.compressed = Some(c),
                None => return Err(shape("option compressed must be a string")),
            },
            Some("fluent_signal") => match value.as_u64() {
                Some(n) => out.fluent_signal = n,
                None => return Err(shape("option fluent_signal must be an integer")),
            },
            Some("metadata") => match value {
                Value::Map(m) => out.metadata = m,
                Value::Nil => {}
                _ => return Err(shape("option metadata must be a map")),
            },
            _ => {}
        }
    }
    Ok(out)
}

/// An event time: integer or float seconds, or EventTime (ext type 0: big-endian u32
/// seconds and u32 nanoseconds). Times before the epoch become 0 (unknown).
pub(crate) fn event_time(value: &Value) -> Result<u64, DecodeError> {
    const NANOS: u64 = 1_000_000_000;
    match value {
        Value::Integer(i) => Ok(i.as_u64().map_or(0, |s| s.saturating_mul(NANOS))),
        Value::F32(f) => Ok(float_time(f64::from(*f))),
        Value::F64(f) => Ok(float_time(*f)),
        Value::Ext(0, data) => match <[u8; 8]>::try_from(data.as_slice()) {
            Ok(b) => {
                let secs = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                let nanos = u64::from(u32::from_be_bytes([b[4], b[5], b[6], b[7]]));
                Ok(secs * NANOS + nanos)
            }
            Err(_) => Err(shape(format!(
                "EventTime must hold 8 bytes, found {}",
                data.len()
            ))),
        },
        Value::Ext(kind, _) => Err(shape(format!(
            "time is an ext of type {kind}, expected EventTime (type 0)"
        ))),
        other => Err(shape(format!(
            "time must be an integer, a float or an EventTime, found {}",
            kind(other)
        ))),
    }
}

fn float_time(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        // `as` saturates at u64::MAX.
        (seconds * 1e9) as u64
    } else {
        0
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "a binary",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Ext(..) => "an ext",
    }
}

fn is_time(value: &Value) -> bool {
    matches!(
        value,
        Value::Integer(_) | Value::F32(_) | Value::F64(_) | Value::Ext(..)
    )
}

/// Time and metadata from a time element: `time` or the v1.5 `[time, {metadata}]`.
fn time_and_metadata(value: Value) -> Result<(u64, Vec<(Value, Value)>), DecodeError> {
    match value {
        Value::Array(mut pair) if pair.len() == 2 => {
            let metadata = match pair.pop() {
                Some(Value::Map(m)) => m,
                Some(Value::Nil) | None => Vec::new(),
                Some(other) => {
                    return Err(shape(format!(
                        "event metadata must be a map, found {}",
                        kind(&other)
                    )));
                }
            };
            let time = pair.pop().ok_or_else(|| shape("empty time element"))?;
            Ok((event_time(&time)?, metadata))
        }
        Value::Array(_) => Err(shape("a [time, metadata] element must have 2 elements")),
        other => Ok((event_time(&other)?, Vec::new())),
    }
}

fn record(value: Value) -> Result<Vec<(Value, Value)>, DecodeError> {
    match value {
        Value::Map(pairs) => Ok(pairs),
        other => Err(shape(format!(
            "a record must be a map, found {}",
            kind(&other)
        ))),
    }
}

/// One `[time, record]` entry of Forward and PackedForward modes.
fn entry(value: Value) -> Result<Entry, DecodeError> {
    let Value::Array(items) = value else {
        return Err(shape("an entry must be a [time, record] array"));
    };
    let [time, body]: [Value; 2] = items
        .try_into()
        .map_err(|_| shape("an entry must be a [time, record] array of 2 elements"))?;
    let (time_unix_nano, metadata) = time_and_metadata(time)?;
    Ok(Entry {
        time_unix_nano,
        record: record(body)?,
        metadata,
    })
}

/// Decompresses PackedForward entries, refusing more than `max` bytes of output.
fn decompress(codec: &str, data: &[u8], max: u64) -> Result<Vec<u8>, DecodeError> {
    let (codec, reader): (&'static str, Box<dyn Read + '_>) = match codec {
        "gzip" => ("gzip", Box::new(flate2::read::MultiGzDecoder::new(data))),
        "zstd" => match zstd::stream::read::Decoder::new(data) {
            Ok(d) => ("zstd", Box::new(d)),
            Err(e) => {
                return Err(DecodeError::Decompress {
                    codec: "zstd",
                    message: e.to_string(),
                });
            }
        },
        _ => {
            return Err(DecodeError::Decompress {
                codec: "unknown",
                message: format!("unsupported compression {codec:?}"),
            });
        }
    };
    let mut out = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Decompress {
            codec,
            message: e.to_string(),
        })?;
    if out.len() as u64 > max {
        return Err(DecodeError::DecompressedTooLarge(max));
    }
    Ok(out)
}

/// Interprets one decoded msgpack value. `max_decompressed` caps the entries of a
/// CompressedPackedForward message once inflated.
///
/// # Errors
/// [`DecodeError`] when the value is not a forward protocol message.
pub(crate) fn message(value: Value, max_decompressed: u64) -> Result<Message, DecodeError> {
    let mut items = match value {
        Value::Nil => return Ok(Message::Heartbeat),
        Value::Array(items) => items,
        other => {
            return Err(shape(format!(
                "a message must be an array (or nil), found {}",
                kind(&other)
            )));
        }
    };
    if !(2..=4).contains(&items.len()) {
        return Err(shape(format!(
            "a message has 2 to 4 elements, found {}",
            items.len()
        )));
    }
    let tag = text(&items[0]).ok_or_else(|| shape("the tag must be a string"))?;
    let message_mode = match &items[1] {
        Value::Array(a) => a.len() == 2 && is_time(&a[0]) && matches!(a[1], Value::Map(_)),
        other => is_time(other),
    };
    let (option_at, max_len) = if message_mode { (3, 4) } else { (2, 3) };
    if items.len() > max_len || (message_mode && items.len() < 3) {
        return Err(shape(format!(
            "{} mode takes {} elements, found {}",
            if message_mode { "Message" } else { "Forward" },
            if message_mode { "3 or 4" } else { "2 or 3" },
            items.len()
        )));
    }
    let opts = options(if items.len() > option_at {
        items.pop()
    } else {
        None
    })?;
    if opts.fluent_signal != 0 {
        let what = match opts.fluent_signal {
            1 => "metrics",
            2 => "traces",
            _ => "an unknown signal",
        };
        return Ok(Message::Unsupported {
            reason: format!(
                "fluent_signal {} ({what}) is not supported: only logs are",
                opts.fluent_signal
            ),
            tag,
        });
    }
    if let Some(codec) = opts.compressed.as_deref()
        && !matches!(codec, "" | "text" | "gzip" | "zstd")
        && matches!(items.get(1), Some(Value::String(_) | Value::Binary(_)))
    {
        return Ok(Message::Unsupported {
            reason: format!("compression {codec:?} is not supported (use gzip or zstd)"),
            tag,
        });
    }
    let mut entries = Vec::new();
    if message_mode {
        let body = items.pop().ok_or_else(|| shape("missing record"))?;
        let time = items.pop().ok_or_else(|| shape("missing time"))?;
        let (time_unix_nano, mut metadata) = time_and_metadata(time)?;
        metadata.extend(opts.metadata);
        entries.push(Entry {
            time_unix_nano,
            record: record(body)?,
            metadata,
        });
    } else {
        let payload = items.pop().ok_or_else(|| shape("missing entries"))?;
        let values = match payload {
            Value::Array(values) => values,
            Value::String(s) => packed(s.as_bytes(), opts.compressed.as_deref(), max_decompressed)?,
            Value::Binary(b) => packed(&b, opts.compressed.as_deref(), max_decompressed)?,
            other => {
                return Err(shape(format!(
                    "the second element must be a time, an entry array or packed entries, found {}",
                    kind(&other)
                )));
            }
        };
        entries = values.into_iter().map(entry).collect::<Result<_, _>>()?;
    }
    Ok(Message::Events(Events {
        tag,
        entries,
        chunk: opts.chunk,
        size: opts.size,
    }))
}

/// PackedForward entries, decompressed first for CompressedPackedForward.
fn packed(
    bytes: &[u8],
    compressed: Option<&str>,
    max_decompressed: u64,
) -> Result<Vec<Value>, DecodeError> {
    match compressed {
        None | Some("" | "text") => frame::read_values(bytes),
        Some(codec) => frame::read_values(&decompress(codec, bytes, max_decompressed)?),
    }
}
