//! Pre-built Fluent Forward protocol frames (msgpack), as Fluent Bit's `forward` output
//! sends them.
//!
//! A frame carries [`RecordShape::records`] container-log records of about
//! [`RecordShape::record_size`] bytes each, in one of the four event modes
//! ([`ForwardMode`]). With a `chunk` option, the frame also knows the exact bytes of the
//! `{"ack": chunk}` answer the server must send back ([`ForwardFrame::acks`]), so a client
//! can compare instead of decoding.
//!
//! A record looks like what Fluent Bit's CRI parser and Kubernetes filter produce:
//! `{"stream": "stdout", "logtag": "F", "log": "<line>", "kubernetes": {...}}`, the
//! `kubernetes` map only with [`RecordShape::kubernetes`]. The `log` line is padded with
//! words so that one encoded entry (`[EventTime, record]`) is `record_size` bytes (or
//! the smallest possible size, when `record_size` is below it).
//!
//! Chunk ids are 32 hex digits, distinct per pre-built frame; the pool is resent, so a
//! server sees each id many times (Harrier's receiver does not de-duplicate chunks).

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use rmpv::Value;
use std::io::Write;

/// The tag of every message (Fluent Bit's tail input names container logs like this).
pub const TAG: &str = "kube.var.log.containers.checkout-5d9c7b8f4-x2x8k_shop_app";

/// The Forward protocol event mode of the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardMode {
    /// Forward mode: `[tag, [[time, record], ...], option]`.
    Forward,
    /// PackedForward: `[tag, bin(entries, one msgpack stream), option]` (Fluent Bit's
    /// default).
    Packed,
    /// CompressedPackedForward: the packed entries gzip-compressed, option
    /// `compressed: "gzip"`.
    Compressed,
    /// Message mode: `[tag, time, record, option]`, one message per record, the frame's
    /// messages written back to back.
    Message,
}

impl ForwardMode {
    /// The flag value (`forward`, `packed`, `compressed`, `message`).
    pub fn name(self) -> &'static str {
        match self {
            ForwardMode::Forward => "forward",
            ForwardMode::Packed => "packed",
            ForwardMode::Compressed => "compressed",
            ForwardMode::Message => "message",
        }
    }
}

/// The records of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordShape {
    /// Records per frame.
    pub records: usize,
    /// Target size in bytes of one encoded entry (`[time, record]`).
    pub record_size: usize,
    /// Whether records carry Fluent Bit's `kubernetes` metadata map.
    pub kubernetes: bool,
}

/// One pre-built frame and the answer it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFrame {
    /// The bytes to write: one message, or in Message mode one message per record.
    pub bytes: Bytes,
    /// The `{"ack": chunk}` answers expected, back to back, in order (one per message
    /// with a chunk); empty when no chunk was asked for.
    pub acks: Bytes,
    /// Records in the frame.
    pub records: usize,
}

/// Builds `pool` frames with distinct chunk ids (when `chunk`) and log lines.
///
/// # Errors
/// Encoding or compression failed (both write to memory; not expected in practice).
pub fn build_frames(
    mode: ForwardMode,
    shape: RecordShape,
    chunk: bool,
    pool: usize,
) -> std::io::Result<Vec<ForwardFrame>> {
    let now = now_secs();
    (0..pool.max(1))
        .map(|seed| {
            let id = chunk.then(|| format!("{:032x}", rand::random::<u128>()));
            build_frame(mode, shape, id.as_deref(), seed, now)
        })
        .collect()
}

/// Builds one frame. `seed` varies the log lines and the pod; `now` is the event time
/// (Unix seconds) of the first record.
///
/// # Errors
/// Encoding or compression failed (both write to memory; not expected in practice).
pub fn build_frame(
    mode: ForwardMode,
    shape: RecordShape,
    chunk: Option<&str>,
    seed: usize,
    now: u32,
) -> std::io::Result<ForwardFrame> {
    let pod = (shape.kubernetes).then(|| kubernetes(seed));
    let records: Vec<(Value, Value)> = (0..shape.records)
        .map(|i| {
            let time = event_time(now, (i as u32).wrapping_mul(1_000_003) % 1_000_000_000);
            let record = record(seed, i, shape.record_size, pod.as_ref())?;
            Ok((time, record))
        })
        .collect::<std::io::Result<_>>()?;
    let mut bytes = Vec::new();
    let mut acks = Vec::new();
    let options = |compressed: bool| {
        let mut pairs = Vec::new();
        if let Some(id) = chunk {
            pairs.push((Value::from("chunk"), Value::from(id)));
        }
        pairs.push((Value::from("size"), Value::from(shape.records as u64)));
        if compressed {
            pairs.push((Value::from("compressed"), Value::from("gzip")));
        }
        Value::Map(pairs)
    };
    match mode {
        ForwardMode::Forward => {
            let entries = records
                .into_iter()
                .map(|(time, record)| Value::Array(vec![time, record]))
                .collect();
            let message = Value::Array(vec![
                Value::from(TAG),
                Value::Array(entries),
                options(false),
            ]);
            rmpv::encode::write_value(&mut bytes, &message)?;
        }
        ForwardMode::Packed | ForwardMode::Compressed => {
            let mut packed = Vec::new();
            for (time, record) in records {
                rmpv::encode::write_value(&mut packed, &Value::Array(vec![time, record]))?;
            }
            let compressed = mode == ForwardMode::Compressed;
            if compressed {
                let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
                encoder.write_all(&packed)?;
                packed = encoder.finish()?;
            }
            let message = Value::Array(vec![
                Value::from(TAG),
                Value::Binary(packed),
                options(compressed),
            ]);
            rmpv::encode::write_value(&mut bytes, &message)?;
        }
        ForwardMode::Message => {
            for (i, (time, record)) in records.into_iter().enumerate() {
                let mut message = vec![Value::from(TAG), time, record];
                if let Some(id) = chunk {
                    let id = format!("{id}-{i}");
                    write_ack(&mut acks, &id)?;
                    message.push(Value::Map(vec![(Value::from("chunk"), Value::from(id))]));
                }
                rmpv::encode::write_value(&mut bytes, &Value::Array(message))?;
            }
        }
    }
    if mode != ForwardMode::Message
        && let Some(id) = chunk
    {
        write_ack(&mut acks, id)?;
    }
    Ok(ForwardFrame {
        bytes: Bytes::from(bytes),
        acks: Bytes::from(acks),
        records: shape.records,
    })
}

/// Appends the server's answer to `chunk`: `{"ack": chunk}`.
fn write_ack(out: &mut Vec<u8>, chunk: &str) -> std::io::Result<()> {
    let ack = Value::Map(vec![(Value::from("ack"), Value::from(chunk))]);
    rmpv::encode::write_value(out, &ack)?;
    Ok(())
}

/// EventTime: msgpack ext type 0, big-endian u32 seconds then u32 nanoseconds.
fn event_time(secs: u32, nanos: u32) -> Value {
    let mut data = Vec::with_capacity(8);
    data.extend_from_slice(&secs.to_be_bytes());
    data.extend_from_slice(&nanos.to_be_bytes());
    Value::Ext(0, data)
}

/// Words the log lines are padded with.
const WORDS: [&str; 16] = [
    "request",
    "handled",
    "upstream",
    "cache",
    "miss",
    "order",
    "customer",
    "latency",
    "retry",
    "tenant",
    "region=eu-west-1",
    "user_agent=okhttp/4.12",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    "items=3",
    "payment",
    "ok",
];

/// One record map. The `log` line is padded so the encoded `[EventTime, record]` entry
/// is `size` bytes when possible.
fn record(
    seed: usize,
    index: usize,
    size: usize,
    kubernetes: Option<&Value>,
) -> std::io::Result<Value> {
    let head = format!(
        "2026-11-23T11:41:{:02}.{:06}Z INFO [http-nio-8080-exec-{}] c.e.shop.CheckoutController \
         - GET /api/v1/orders/{} status=200 duration_ms={}",
        index % 60,
        (index * 7_919) % 1_000_000,
        index % 16,
        seed * 100_000 + index,
        (seed * 31 + index * 17) % 500,
    );
    let build = |log: String| {
        let mut pairs = vec![
            (Value::from("stream"), Value::from("stdout")),
            (Value::from("logtag"), Value::from("F")),
            (Value::from("log"), Value::from(log)),
        ];
        if let Some(k) = kubernetes {
            pairs.push((Value::from("kubernetes"), k.clone()));
        }
        Value::Map(pairs)
    };
    // The entry's size without the log line's text: EventTime (10 bytes) + the array
    // header (1) + the record with an empty log.
    let mut probe = Vec::new();
    rmpv::encode::write_value(&mut probe, &build(String::new()))?;
    let fixed = probe.len() + 11;
    // Room for the text; its str header grows with it (1, 2, 3 or 5 bytes).
    let mut room = size.saturating_sub(fixed);
    for header_growth in [0, 1, 2, 4] {
        let text_len = size.saturating_sub(fixed + header_growth);
        if str_header_growth(text_len) == header_growth {
            room = text_len;
            break;
        }
    }
    let head_len = head.len();
    let mut log = head;
    let mut state = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ index as u64 ^ 1;
    while log.len() < room {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        log.push(' ');
        log.push_str(WORDS[(state % WORDS.len() as u64) as usize]);
    }
    // Cut the padding (ASCII only) to size, never the head.
    log.truncate(room.max(head_len));
    Ok(build(log))
}

/// Bytes a str header of `len` takes beyond the 1-byte fixstr header.
fn str_header_growth(len: usize) -> usize {
    match len {
        0..=31 => 0,
        32..=255 => 1,
        256..=65_535 => 2,
        _ => 4,
    }
}

/// Fluent Bit's Kubernetes filter metadata for one pod (varied by `seed`).
fn kubernetes(seed: usize) -> Value {
    let hash = "5d9c7b8f4";
    let pod = format!("checkout-{hash}-{:05x}", seed * 7_777 % 0xfffff);
    let map = |pairs: Vec<(&str, Value)>| {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        )
    };
    map(vec![
        ("pod_name", Value::from(pod)),
        ("namespace_name", Value::from("shop")),
        (
            "pod_id",
            Value::from(format!(
                "3f8e2d1c-0b9a-4877-a6c5-{:012x}",
                seed * 104_729 + 1
            )),
        ),
        (
            "labels",
            map(vec![
                ("app", Value::from("checkout")),
                ("pod-template-hash", Value::from(hash)),
            ]),
        ),
        ("host", Value::from(format!("node-{}", seed % 8))),
        ("container_name", Value::from("app")),
        (
            "docker_id",
            Value::from(format!(
                "{:064x}",
                (seed as u128 + 1) * 0x9e37_79b9_7f4a_7c15
            )),
        ),
        (
            "container_image",
            Value::from("registry.example.com/shop/checkout:1.4.2"),
        ),
    ])
}

fn now_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    const SHAPE: RecordShape = RecordShape {
        records: 100,
        record_size: 1024,
        kubernetes: false,
    };

    fn read_all(mut bytes: &[u8]) -> Vec<Value> {
        let mut values = Vec::new();
        while !bytes.is_empty() {
            values.push(rmpv::decode::read_value(&mut bytes).unwrap());
        }
        values
    }

    fn encoded_len(value: &Value) -> usize {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, value).unwrap();
        out.len()
    }

    fn option<'a>(options: &'a Value, key: &str) -> Option<&'a Value> {
        options
            .as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    fn field<'a>(record: &'a Value, key: &str) -> Option<&'a Value> {
        option(record, key)
    }

    /// Checks one `[time, record]` entry and returns its encoded size.
    fn check_entry(entry: &Value, kubernetes: bool) -> usize {
        let pair = entry.as_array().unwrap();
        assert_eq!(pair.len(), 2);
        let Value::Ext(0, time) = &pair[0] else {
            panic!("time is not an EventTime: {:?}", pair[0]);
        };
        assert_eq!(time.len(), 8);
        let record = &pair[1];
        assert_eq!(field(record, "stream").unwrap().as_str(), Some("stdout"));
        assert!(
            field(record, "log")
                .unwrap()
                .as_str()
                .unwrap()
                .contains("GET /api/v1/orders/")
        );
        assert_eq!(field(record, "kubernetes").is_some(), kubernetes);
        encoded_len(entry)
    }

    fn single_ack(frame: &ForwardFrame) -> String {
        let acks = read_all(&frame.acks);
        assert_eq!(acks.len(), 1);
        let chunk = option(&acks[0], "ack").unwrap();
        chunk.as_str().unwrap().to_string()
    }

    #[test]
    fn forward_frames_have_the_forward_shape_and_record_size() {
        let frame = build_frame(ForwardMode::Forward, SHAPE, Some("c1"), 3, 1_700_000_000).unwrap();
        let values = read_all(&frame.bytes);
        assert_eq!(values.len(), 1, "one message");
        let message = values[0].as_array().unwrap();
        assert_eq!(message.len(), 3);
        assert_eq!(message[0].as_str(), Some(TAG));
        let entries = message[1].as_array().unwrap();
        assert_eq!(entries.len(), 100);
        for entry in entries {
            assert_eq!(check_entry(entry, false), 1024);
        }
        assert_eq!(option(&message[2], "chunk").unwrap().as_str(), Some("c1"));
        assert_eq!(option(&message[2], "size").unwrap().as_u64(), Some(100));
        assert_eq!(single_ack(&frame), "c1");
        assert_eq!(frame.records, 100);
        // 100 entries of 1 KiB plus a small envelope.
        assert!((102_400..103_000).contains(&frame.bytes.len()));
    }

    #[test]
    fn packed_and_compressed_frames_hold_the_same_entries() {
        let packed = build_frame(ForwardMode::Packed, SHAPE, Some("c2"), 5, 1_700_000_000).unwrap();
        let compressed =
            build_frame(ForwardMode::Compressed, SHAPE, Some("c3"), 5, 1_700_000_000).unwrap();
        let decode = |frame: &ForwardFrame| {
            let values = read_all(&frame.bytes);
            assert_eq!(values.len(), 1);
            let message = values[0].as_array().unwrap().clone();
            assert_eq!(message.len(), 3);
            assert_eq!(message[0].as_str(), Some(TAG));
            let Value::Binary(bin) = &message[1] else {
                panic!("entries are not bin: {:?}", message[1]);
            };
            (bin.clone(), message[2].clone())
        };
        let (plain, options) = decode(&packed);
        assert!(option(&options, "compressed").is_none());
        assert_eq!(option(&options, "size").unwrap().as_u64(), Some(100));
        let entries = read_all(&plain);
        assert_eq!(entries.len(), 100);
        assert!(entries.iter().all(|e| check_entry(e, false) == 1024));
        assert_eq!(single_ack(&packed), "c2");

        let (gz, options) = decode(&compressed);
        assert_eq!(
            option(&options, "compressed").unwrap().as_str(),
            Some("gzip")
        );
        let mut inflated = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut inflated).unwrap();
        assert_eq!(inflated, plain, "same seed and time: the same entries");
        assert!(gz.len() < plain.len() / 2, "log lines compress");
        assert_eq!(single_ack(&compressed), "c3");
    }

    #[test]
    fn message_mode_writes_one_message_and_one_ack_per_record() {
        let shape = RecordShape {
            records: 7,
            record_size: 512,
            kubernetes: true,
        };
        let frame = build_frame(ForwardMode::Message, shape, Some("m"), 1, 1_700_000_000).unwrap();
        let messages = read_all(&frame.bytes);
        assert_eq!(messages.len(), 7);
        let acks = read_all(&frame.acks);
        assert_eq!(acks.len(), 7);
        for (i, (message, ack)) in messages.iter().zip(&acks).enumerate() {
            let m = message.as_array().unwrap();
            assert_eq!(m.len(), 4);
            assert_eq!(m[0].as_str(), Some(TAG));
            let entry = Value::Array(vec![m[1].clone(), m[2].clone()]);
            assert_eq!(check_entry(&entry, true), 512);
            let chunk = format!("m-{i}");
            assert_eq!(option(&m[3], "chunk").unwrap().as_str(), Some(&*chunk));
            assert_eq!(option(ack, "ack").unwrap().as_str(), Some(&*chunk));
        }
        let k8s = field(&messages[0].as_array().unwrap()[2], "kubernetes").unwrap();
        assert_eq!(field(k8s, "namespace_name").unwrap().as_str(), Some("shop"));
    }

    #[test]
    fn without_chunk_nothing_is_acknowledged() {
        let frame = build_frame(ForwardMode::Packed, SHAPE, None, 0, 1_700_000_000).unwrap();
        assert!(frame.acks.is_empty());
        let message = read_all(&frame.bytes)[0].as_array().unwrap().clone();
        assert!(option(&message[2], "chunk").is_none());
        let frame = build_frame(ForwardMode::Message, SHAPE, None, 0, 1_700_000_000).unwrap();
        assert!(frame.acks.is_empty());
        assert!(
            read_all(&frame.bytes)
                .iter()
                .all(|m| m.as_array().unwrap().len() == 3)
        );
    }

    #[test]
    fn record_sizes_follow_the_flag_and_never_cut_the_head() {
        for size in [64, 200, 300, 1024, 4096, 70_000] {
            let shape = RecordShape {
                records: 2,
                record_size: size,
                kubernetes: false,
            };
            let frame = build_frame(ForwardMode::Forward, shape, None, 9, 1).unwrap();
            let message = read_all(&frame.bytes)[0].as_array().unwrap().clone();
            for entry in message[1].as_array().unwrap() {
                let len = check_entry(entry, false);
                if size >= 300 {
                    assert_eq!(len, size);
                } else {
                    assert!(len >= size, "{len} < {size}");
                }
            }
        }
    }

    #[test]
    fn pools_have_distinct_chunks() {
        let frames = build_frames(ForwardMode::Forward, SHAPE, true, 4).unwrap();
        let mut chunks: Vec<String> = frames.iter().map(single_ack).collect();
        chunks.sort();
        chunks.dedup();
        assert_eq!(chunks.len(), 4);
        assert!(chunks.iter().all(|c| c.len() == 32));
    }
}
