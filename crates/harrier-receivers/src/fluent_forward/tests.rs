//! Unit tests of framing and decoding: every event mode and time form, the encodings
//! real senders use (str8 and bin, 32-bit headers on small maps, several gzip
//! members), heartbeats, rejections, size caps, and a fuzz-style property test that
//! no input panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::decode::{self, DecodeError, Entry, Events, Message};
use super::frame::{self, FrameReader, MAX_DEPTH, Scanner};
use super::mapping;
use rmpv::Value;
use std::io::Write;

pub(super) const T0: u64 = 1_700_000_000;
const MAX: u64 = 1 << 20;

pub(super) fn enc(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, value).unwrap();
    out
}

pub(super) fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

/// EventTime: ext type 0 with big-endian seconds and nanoseconds.
pub(super) fn event_time(secs: u32, nanos: u32) -> Value {
    let mut data = secs.to_be_bytes().to_vec();
    data.extend_from_slice(&nanos.to_be_bytes());
    Value::Ext(0, data)
}

/// Decodes one complete message from bytes, as a connection would.
fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let len = Scanner::default()
        .advance(bytes, bytes.len().max(1))?
        .expect("a complete value");
    assert_eq!(len, bytes.len(), "one value, no trailing bytes");
    decode::message(frame::read_value(bytes)?, MAX)
}

fn events(bytes: &[u8]) -> Events {
    match decode(bytes).unwrap() {
        Message::Events(e) => e,
        other => panic!("expected events, got {other:?}"),
    }
}

fn record(pairs: &[(&str, &str)]) -> Vec<(Value, Value)> {
    pairs
        .iter()
        .map(|(k, v)| (Value::from(*k), Value::from(*v)))
        .collect()
}

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn message_mode_with_every_time_form() {
    let rec = map(&[("message", Value::from("hi"))]);
    let cases = [
        (Value::from(T0), T0 * 1_000_000_000),
        (event_time(T0 as u32, 123), T0 * 1_000_000_000 + 123),
        (
            Value::F64(T0 as f64 + 0.5),
            T0 * 1_000_000_000 + 500_000_000,
        ),
        (Value::F32(2.0), 2_000_000_000),
        (Value::from(-5), 0),
    ];
    for (time, nanos) in cases {
        let msg = Value::Array(vec![Value::from("app.web"), time, rec.clone()]);
        let e = events(&enc(&msg));
        assert_eq!(e.tag, "app.web");
        assert_eq!(e.chunk, None);
        assert_eq!(
            e.entries,
            vec![Entry {
                time_unix_nano: nanos,
                record: record(&[("message", "hi")]),
                metadata: vec![],
            }]
        );
    }
}

#[test]
fn message_mode_options_and_v15_metadata() {
    let msg = Value::Array(vec![
        Value::from("t"),
        Value::Array(vec![
            event_time(T0 as u32, 7),
            map(&[("m", Value::from(1))]),
        ]),
        map(&[("log", Value::from("x"))]),
        map(&[
            ("chunk", Value::from("Y2h1bmsx")),
            ("size", Value::from(1)),
            ("metadata", map(&[("n", Value::from(2))])),
            ("unknown", Value::from(true)),
        ]),
    ]);
    let e = events(&enc(&msg));
    assert_eq!(e.chunk, Some(Value::from("Y2h1bmsx")));
    assert_eq!(e.size, Some(1));
    assert_eq!(e.entries[0].time_unix_nano, T0 * 1_000_000_000 + 7);
    assert_eq!(
        e.entries[0].metadata,
        vec![
            (Value::from("m"), Value::from(1)),
            (Value::from("n"), Value::from(2))
        ]
    );
    // Docker 18 sends a nil option.
    let msg = Value::Array(vec![
        Value::from("t"),
        Value::from(T0),
        map(&[]),
        Value::Nil,
    ]);
    assert_eq!(events(&enc(&msg)).entries.len(), 1);
}

#[test]
fn forward_mode_with_plain_and_v15_entries() {
    let msg = Value::Array(vec![
        Value::from("fwd"),
        Value::Array(vec![
            Value::Array(vec![Value::from(T0), map(&[("a", Value::from("1"))])]),
            Value::Array(vec![
                Value::Array(vec![event_time(T0 as u32, 1), map(&[])]),
                map(&[("a", Value::from("2"))]),
            ]),
            Value::Array(vec![
                Value::Array(vec![event_time(T0 as u32, 2), Value::Nil]),
                map(&[("a", Value::from("3"))]),
            ]),
        ]),
        map(&[("chunk", Value::Binary(b"c1".to_vec()))]),
    ]);
    let e = events(&enc(&msg));
    assert_eq!(e.tag, "fwd");
    assert_eq!(e.chunk, Some(Value::Binary(b"c1".to_vec())));
    let times: Vec<u64> = e.entries.iter().map(|x| x.time_unix_nano).collect();
    let base = T0 * 1_000_000_000;
    assert_eq!(times, vec![base, base + 1, base + 2]);
    assert_eq!(e.entries[2].record, record(&[("a", "3")]));
    // An empty Forward message is valid (nothing to do, but still acknowledged).
    let msg = Value::Array(vec![Value::from("fwd"), Value::Array(vec![])]);
    assert!(events(&enc(&msg)).entries.is_empty());
}

/// What Fluent Bit 5.x sends by default: Forward mode, `[[EventTime, {}], record]`
/// entries, no option, and 32-bit array/map headers on small maps; strings as str8 or bin.
#[test]
fn fluent_bit_style_bytes_with_32_bit_headers() {
    let mut b = vec![0xdd, 0, 0, 0, 2]; // array32 of 2
    b.extend([0xd9, 3]); // str8 tag
    b.extend(b"k8s");
    b.extend([0xdd, 0, 0, 0, 1]); // array32: one entry
    b.extend([0xdd, 0, 0, 0, 2]); // entry
    b.extend([0xdd, 0, 0, 0, 2]); // [time, metadata]
    b.extend([0xd7, 0x00]); // fixext8 type 0 = EventTime
    b.extend((T0 as u32).to_be_bytes());
    b.extend(5u32.to_be_bytes());
    b.extend([0xdf, 0, 0, 0, 0]); // map32, empty metadata
    b.extend([0xdf, 0, 0, 0, 2]); // map32 record of 2
    b.extend([0xd9, 3]);
    b.extend(b"log");
    b.extend([0xc4, 5]); // bin8 value
    b.extend(b"hello");
    b.extend([0xc4, 6]); // bin8 key
    b.extend(b"stream");
    b.extend([0xd9, 6]);
    b.extend(b"stdout");
    let e = events(&b);
    assert_eq!(e.tag, "k8s");
    assert_eq!(e.entries.len(), 1);
    assert_eq!(e.entries[0].time_unix_nano, T0 * 1_000_000_000 + 5);
    let logs = mapping::to_batch(&e.tag, e.entries, 9);
    let log = &harrier_testkit::data::all_logs(&[logs])[0];
    assert_eq!(
        log.body.as_ref().unwrap().value,
        Some(harrier_pdata::otlp::common::v1::any_value::Value::StringValue("hello".into()))
    );
    assert_eq!(
        harrier_pdata::attrs::get_str(&log.attributes, "log.iostream"),
        Some("stdout")
    );
}

pub(super) fn entry_bytes(i: u64) -> Vec<u8> {
    enc(&Value::Array(vec![
        Value::Array(vec![event_time(T0 as u32, i as u32), map(&[])]),
        map(&[("i", Value::from(i))]),
    ]))
}

#[test]
fn packed_forward_as_str_and_bin() {
    let stream: Vec<u8> = (0..3).flat_map(entry_bytes).collect();
    let as_bin = Value::Array(vec![Value::from("p"), Value::Binary(stream.clone())]);
    // str8/16 "strings" holding raw msgpack (old clients): built by hand, not valid UTF-8.
    let mut as_str = vec![0x92, 0xa1, b'p', 0xda];
    as_str.extend((stream.len() as u16).to_be_bytes());
    as_str.extend(&stream);
    for bytes in [enc(&as_bin), as_str] {
        let e = events(&bytes);
        let is: Vec<_> = e.entries.iter().map(|x| x.record[0].1.clone()).collect();
        assert_eq!(is, vec![Value::from(0), Value::from(1), Value::from(2)]);
    }
}

#[test]
fn compressed_packed_forward_with_several_gzip_members_and_zstd() {
    let first: Vec<u8> = (0..2).flat_map(entry_bytes).collect();
    let second: Vec<u8> = (2..5).flat_map(entry_bytes).collect();
    let mut members = gzip(&first);
    members.extend(gzip(&second));
    let all: Vec<u8> = (0..5).flat_map(entry_bytes).collect();
    let zstd = zstd::encode_all(&all[..], 1).unwrap();
    for (codec, payload) in [("gzip", members), ("zstd", zstd)] {
        let msg = Value::Array(vec![
            Value::from("c"),
            Value::Binary(payload),
            map(&[
                ("compressed", Value::from(codec)),
                ("chunk", Value::from("k")),
                ("size", Value::from(5)),
            ]),
        ]);
        let e = events(&enc(&msg));
        assert_eq!(e.entries.len(), 5, "{codec}");
        assert_eq!(e.entries[4].record[0].1, Value::from(4));
        assert_eq!(e.chunk, Some(Value::from("k")));
    }
}

#[test]
fn decompression_stops_at_the_cap() {
    let bomb = gzip(&vec![0xc0; 4 << 20]); // 4 MiB of nil entries
    let msg = Value::Array(vec![
        Value::from("c"),
        Value::Binary(bomb),
        map(&[("compressed", Value::from("gzip"))]),
    ]);
    assert!(matches!(
        decode(&enc(&msg)),
        Err(DecodeError::DecompressedTooLarge(MAX))
    ));
    let garbage = Value::Array(vec![
        Value::from("c"),
        Value::Binary(b"not gzip".to_vec()),
        map(&[("compressed", Value::from("gzip"))]),
    ]);
    assert!(matches!(
        decode(&enc(&garbage)),
        Err(DecodeError::Decompress { codec: "gzip", .. })
    ));
}

#[test]
fn heartbeat_signals_and_unknown_compression() {
    assert_eq!(decode(&[0xc0]).unwrap(), Message::Heartbeat);
    for (signal, what) in [(1, "metrics"), (2, "traces")] {
        let msg = Value::Array(vec![
            Value::from("cm"),
            Value::Binary(vec![0x01]),
            map(&[
                ("fluent_signal", Value::from(signal)),
                ("chunk", Value::from("x")),
            ]),
        ]);
        match decode(&enc(&msg)).unwrap() {
            Message::Unsupported { reason, tag } => {
                assert_eq!(tag, "cm");
                assert!(reason.contains(what), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    let logs_signal = Value::Array(vec![
        Value::from("l"),
        Value::Array(vec![]),
        map(&[("fluent_signal", Value::from(0))]),
    ]);
    assert!(matches!(decode(&enc(&logs_signal)), Ok(Message::Events(_))));
    let lz4 = Value::Array(vec![
        Value::from("l"),
        Value::Binary(vec![1, 2]),
        map(&[("compressed", Value::from("lz4"))]),
    ]);
    assert!(matches!(
        decode(&enc(&lz4)),
        Ok(Message::Unsupported { .. })
    ));
}

#[test]
fn malformed_messages_are_errors() {
    let rec = map(&[("a", Value::from(1))]);
    let bad = [
        Value::from(1),
        Value::Array(vec![Value::from("only-tag")]),
        Value::Array(vec![Value::from(3), Value::from(T0), rec.clone()]),
        Value::Array(vec![Value::from("t"), Value::from(T0)]),
        Value::Array(vec![
            Value::from("t"),
            Value::from(T0),
            Value::from("not a map"),
        ]),
        Value::Array(vec![Value::from("t"), Value::Boolean(true), rec.clone()]),
        Value::Array(vec![
            Value::from("t"),
            Value::Ext(1, vec![0; 8]),
            rec.clone(),
        ]),
        Value::Array(vec![
            Value::from("t"),
            Value::Ext(0, vec![0; 4]),
            rec.clone(),
        ]),
        Value::Array(vec![
            Value::from("t"),
            Value::Array(vec![Value::Array(vec![Value::from(T0)])]),
        ]),
        Value::Array(vec![
            Value::from("t"),
            Value::Array(vec![]),
            Value::from("option must be a map"),
        ]),
        Value::Array(vec![
            Value::from("t"),
            Value::Array(vec![]),
            map(&[("chunk", Value::from(5))]),
        ]),
        // A packed stream that ends inside an entry.
        Value::Array(vec![Value::from("t"), Value::Binary(vec![0x92, 0x01])]),
        Value::Array(vec![
            Value::from("t"),
            Value::from(T0),
            rec.clone(),
            map(&[]),
            map(&[]),
        ]),
    ];
    for value in bad {
        let result = decode(&enc(&value));
        assert!(
            matches!(result, Err(DecodeError::Shape(_))),
            "{value}: {result:?}"
        );
    }
}

#[test]
fn scanner_refuses_early_and_resumes() {
    // A str32 announcing 1 GiB is refused from its 5-byte header.
    let mut s = Scanner::default();
    let err = s.advance(&[0xdb, 0x40, 0, 0, 0], 1024).unwrap_err();
    assert!(matches!(err, DecodeError::TooLarge { size, max: 1024 } if size > 1 << 30));
    // So is an array32 announcing more elements than bytes allowed.
    let err = Scanner::default()
        .advance(&[0xdd, 0xff, 0xff, 0xff, 0xff], 1024)
        .unwrap_err();
    assert!(matches!(err, DecodeError::TooLarge { .. }));
    assert!(matches!(
        Scanner::default().advance(&[0xc1], 10),
        Err(DecodeError::Msgpack(_))
    ));
    let deep = vec![0x91; MAX_DEPTH + 1];
    assert!(matches!(
        Scanner::default().advance(&deep, 1000),
        Err(DecodeError::TooDeep(_))
    ));
    // Byte by byte, the scanner reports the exact end of each value.
    let msg = enc(&Value::Array(vec![
        Value::from("t"),
        Value::from(T0),
        map(&[("k", Value::Array(vec![Value::from(1), Value::Nil]))]),
    ]));
    let mut s = Scanner::default();
    for n in 1..msg.len() {
        assert_eq!(s.advance(&msg[..n], 1024).unwrap(), None, "at {n}");
    }
    assert_eq!(s.advance(&msg, 1024).unwrap(), Some(msg.len()));
}

#[tokio::test]
async fn frame_reader_splits_a_stream_read_in_small_pieces() {
    let one = enc(&Value::Array(vec![
        Value::from("a"),
        Value::from(T0),
        map(&[("log", Value::from("x".repeat(300)))]),
    ]));
    let mut stream = one.clone();
    stream.push(0xc0); // heartbeat
    stream.extend(&one);
    let (mut tx, rx) = tokio::io::duplex(7);
    let writer = tokio::spawn({
        let stream = stream.clone();
        async move {
            use tokio::io::AsyncWriteExt;
            for piece in stream.chunks(5) {
                tx.write_all(piece).await.unwrap();
            }
        }
    });
    let mut reader = FrameReader::new(rx, 4096);
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().await.unwrap() {
        frames.push(f.to_vec());
    }
    writer.await.unwrap();
    assert_eq!(frames, vec![one.clone(), vec![0xc0], one.clone()]);
    // A stream cut in the middle of a message, and one too large.
    let mut cut = FrameReader::new(&one[..one.len() - 1], 4096);
    assert!(matches!(
        cut.next_frame().await,
        Err(frame::FrameError::Truncated(_))
    ));
    let mut small = FrameReader::new(&one[..], 64);
    assert!(matches!(
        small.next_frame().await,
        Err(frame::FrameError::Decode(DecodeError::TooLarge { .. }))
    ));
}
