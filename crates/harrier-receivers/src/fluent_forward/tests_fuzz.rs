//! A fuzz-style property test: thousands of random and mutated byte strings go through
//! everything a connection does with bytes (framing, msgpack, message decoding, the
//! OTLP mapping, the handshake check) and nothing panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::config::SecurityConfig;
use super::decode::{self, Message};
use super::frame::{self, Scanner};
use super::handshake::Challenge;
use super::mapping;
use super::tests::{enc, entry_bytes, event_time, gzip, map};
use rmpv::Value;

/// xorshift64*: deterministic pseudo-random numbers without a dependency.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Runs bytes through everything a connection does with them; must never panic.
fn digest_everything(bytes: &[u8], security: &SecurityConfig, challenge: &Challenge) {
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let Ok(Some(len)) = Scanner::default().advance(rest, 4096) else {
            return;
        };
        offset += len;
        let Ok(value) = frame::read_value(&rest[..len]) else {
            continue;
        };
        let _ = challenge.check_ping(security, &value);
        if let Ok(Message::Events(e)) = decode::message(value, 64 * 1024) {
            let _ = mapping::to_batch(&e.tag, e.entries, 1);
        }
    }
}

#[test]
fn no_input_panics() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let security = SecurityConfig {
        shared_key: "k".into(),
        self_hostname: "h".into(),
        users: vec![super::config::UserConfig {
            username: "u".into(),
            password: "p".into(),
        }],
        handshake_timeout: std::time::Duration::from_secs(1),
    };
    let challenge = Challenge::new(&security);
    let seeds: Vec<Vec<u8>> = vec![
        enc(&Value::Array(vec![
            Value::from("t"),
            Value::Array(vec![Value::Array(vec![
                Value::Array(vec![event_time(1, 2), map(&[("m", Value::from(1))])]),
                map(&[
                    ("log", Value::from("hello")),
                    ("level", Value::from("warn")),
                    (
                        "kubernetes",
                        map(&[
                            ("pod_name", Value::from("p")),
                            ("labels", map(&[("app", Value::from("a"))])),
                        ]),
                    ),
                ]),
            ])]),
            map(&[("chunk", Value::from("c")), ("size", Value::from(1))]),
        ])),
        enc(&Value::Array(vec![
            Value::from("p"),
            Value::Binary((0..4).flat_map(entry_bytes).collect()),
        ])),
        enc(&Value::Array(vec![
            Value::from("g"),
            Value::Binary(gzip(&(0..4).flat_map(entry_bytes).collect::<Vec<_>>())),
            map(&[("compressed", Value::from("gzip"))]),
        ])),
        enc(&Value::Array(vec![
            Value::from("m"),
            Value::F64(1.5),
            map(&[("msg", Value::Binary(vec![0xff, 0xfe]))]),
        ])),
    ];
    for round in 0..20_000 {
        let bytes: Vec<u8> = if round % 4 == 0 {
            (0..rng.below(200)).map(|_| rng.next_u64() as u8).collect()
        } else {
            let mut b = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(4) {
                match rng.below(3) {
                    0 if !b.is_empty() => {
                        let i = rng.below(b.len());
                        b[i] = rng.next_u64() as u8;
                    }
                    1 if !b.is_empty() => b.truncate(rng.below(b.len())),
                    _ => {
                        let i = rng.below(b.len() + 1);
                        b.insert(i, rng.next_u64() as u8);
                    }
                }
            }
            b
        };
        digest_everything(&bytes, &security, &challenge);
    }
}
