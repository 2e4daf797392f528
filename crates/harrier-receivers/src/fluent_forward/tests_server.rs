//! In-process tests: the receiver in a real topology with the testkit's Probe exporter,
//! spoken to over TCP and a unix socket with hand-built forward messages. Acks only for
//! accepted (or delivered) chunks; backpressure stops reading and loses nothing; the
//! handshake refuses a wrong key; a malformed connection does not disturb others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::frame::FrameReader;
use super::handshake::shared_key_digest;
use super::tests::{T0, enc, event_time, map};
use harrier_core::component::Registry;
use harrier_core::config::Config;
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::{PIPELINE_CHANNEL_LIMITS, RunningTopology, Topology};
use harrier_pdata::attrs::get_str;
use harrier_testkit::data;
use harrier_testkit::exporters::{Probe, register_probe};
use rmpv::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

struct Harness {
    probe: Arc<Probe>,
    running: Option<RunningTopology>,
    telemetry: Telemetry,
    port: u16,
}

async fn start(receiver: &str, processors: &str, exporter: &str) -> Harness {
    let probe = Probe::new();
    let port = harrier_testkit::free_port();
    let text = format!(
        r#"
        [processors.memory_limiter]
        limit_mib = 1
        spike_limit_mib = 0
        [exporters.probe]
        {exporter}
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.logs]
        receivers = ["fluent_forward"]
        processors = [{processors}]
        exporters = ["probe"]
        [receivers.fluent_forward]
        endpoint = "127.0.0.1:{port}"
        {receiver}
        "#
    );
    let config = Config::from_toml(&text).unwrap();
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    harrier_processors::register_all(&mut registry);
    register_probe(&mut registry, &probe);
    let telemetry = Telemetry::new();
    let topology = Topology::build(&config, &registry, &telemetry).unwrap();
    let running = topology.start().await.unwrap();
    Harness {
        probe,
        running: Some(running),
        telemetry,
        port,
    }
}

impl Harness {
    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
    fn counter(&self, name: &str, transport: &str) -> u64 {
        self.telemetry
            .counter_value(
                name,
                &[("receiver", "fluent_forward"), ("transport", transport)],
            )
            .unwrap_or(0)
    }
    fn accepted(&self) -> u64 {
        self.counter("otelcol_receiver_accepted_log_records", "tcp")
    }
    async fn connect(&self) -> Client<tokio::net::TcpStream> {
        Client::new(
            tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .unwrap(),
        )
    }
}

/// A forward client: writes messages, reads the server's msgpack answers.
struct Client<S> {
    reader: FrameReader<ReadHalf<S>>,
    writer: WriteHalf<S>,
}

impl<S: AsyncRead + AsyncWrite> Client<S> {
    fn new(stream: S) -> Client<S> {
        let (r, w) = tokio::io::split(stream);
        Client {
            reader: FrameReader::new(r, 1 << 20),
            writer: w,
        }
    }
    async fn send(&mut self, value: &Value) {
        self.writer.write_all(&enc(value)).await.unwrap();
    }
    /// The next answer; `None` if nothing comes within `wait`. Panics on a closed
    /// connection.
    async fn answer(&mut self, wait: Duration) -> Option<Value> {
        match tokio::time::timeout(wait, self.reader.next_frame()).await {
            Ok(Ok(Some(frame))) => Some(super::frame::read_value(&frame).unwrap()),
            Ok(other) => panic!("connection closed: {other:?}"),
            Err(_) => None,
        }
    }
    /// Whether the server closed the connection within a second.
    async fn closed(&mut self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(1), self.reader.next_frame()).await,
            Ok(Ok(None) | Err(_))
        )
    }
    async fn ack(&mut self) -> Value {
        let answer = self
            .answer(Duration::from_secs(5))
            .await
            .expect("an ack within 5s");
        let pairs = answer.as_map().expect("a map");
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, Value::from("ack"));
        pairs[0].1.clone()
    }
}

fn message(tag: &str, log: &str, chunk: Option<&str>) -> Value {
    let mut items = vec![
        Value::from(tag),
        event_time(T0 as u32, 1),
        map(&[("log", Value::from(log))]),
    ];
    if let Some(c) = chunk {
        items.push(map(&[("chunk", Value::from(c))]));
    }
    Value::Array(items)
}

fn bodies(probe: &Probe) -> Vec<String> {
    data::all_logs(&probe.batches())
        .into_iter()
        .map(|l| match l.body.and_then(|b| b.value) {
            Some(harrier_pdata::otlp::common::v1::any_value::Value::StringValue(s)) => s,
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_arrive_for_accepted_chunks_in_every_mode() {
    let mut h = start("", "", "").await;
    let mut c = h.connect().await;
    c.send(&message("app", "one", Some("a"))).await;
    assert_eq!(c.ack().await, Value::from("a"));
    let forward = Value::Array(vec![
        Value::from("app"),
        Value::Array(vec![
            Value::Array(vec![Value::from(T0), map(&[("log", Value::from("two"))])]),
            Value::Array(vec![
                Value::Array(vec![event_time(T0 as u32, 2), map(&[])]),
                map(&[("log", Value::from("three"))]),
            ]),
        ]),
        map(&[
            ("chunk", Value::Binary(b"b".to_vec())),
            ("size", Value::from(2)),
        ]),
    ]);
    c.send(&forward).await;
    assert_eq!(c.ack().await, Value::Binary(b"b".to_vec()));
    // Heartbeat, no chunk, and metrics (skipped, never acknowledged): no answers.
    c.send(&Value::Nil).await;
    c.send(&message("app", "four", None)).await;
    let metrics = Value::Array(vec![
        Value::from("cmetrics"),
        Value::Binary(vec![0x80]),
        map(&[
            ("fluent_signal", Value::from(1)),
            ("chunk", Value::from("m")),
        ]),
    ]);
    c.send(&metrics).await;
    let entries: Vec<u8> = ["five", "six"]
        .iter()
        .flat_map(|log| {
            enc(&Value::Array(vec![
                Value::from(T0),
                map(&[("log", Value::from(*log))]),
            ]))
        })
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &entries).unwrap();
    let packed = Value::Array(vec![
        Value::from("app"),
        Value::Binary(gz.finish().unwrap()),
        map(&[
            ("chunk", Value::from("c")),
            ("compressed", Value::from("gzip")),
            ("size", Value::from(3)), // wrong on purpose: counted, processed anyway
        ]),
    ]);
    c.send(&packed).await;
    assert_eq!(c.ack().await, Value::from("c"), "m is never acknowledged");
    assert_eq!(c.answer(Duration::from_millis(200)).await, None);
    h.stop().await;
    assert_eq!(
        bodies(&h.probe),
        ["one", "two", "three", "four", "five", "six"]
    );
    let logs = data::all_logs(&h.probe.batches());
    assert_eq!(get_str(&logs[0].attributes, "fluent.tag"), Some("app"));
    assert_eq!(h.accepted(), 6);
    let count = |name| h.counter(name, "tcp");
    assert_eq!(
        count("harrier_receiver_fluent_forward_unsupported_messages"),
        1
    );
    assert_eq!(count("harrier_receiver_fluent_forward_size_mismatches"), 1);
    assert_eq!(count("harrier_receiver_fluent_forward_acks"), 3);
    assert_eq!(count("harrier_receiver_malformed_requests"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_chunks_are_not_acknowledged() {
    // limit_mib = 1: any real process is above it, so everything is refused.
    let mut h = start("", "\"memory_limiter\"", "").await;
    let mut c = h.connect().await;
    c.send(&message("app", "refused", Some("r"))).await;
    assert!(
        c.closed().await,
        "refused data closes the connection unacknowledged"
    );
    h.stop().await;
    assert_eq!(h.probe.items(), 0);
    assert_eq!(h.counter("otelcol_receiver_refused_log_records", "tcp"), 1);
    assert_eq!(
        h.counter(
            "harrier_receiver_fluent_forward_unacknowledged_chunks",
            "tcp"
        ),
        1
    );
}

/// A paused exporter fills its queue and the pipeline: the receiver stops reading, the
/// sender's writes block, exactly what fits in flight is acknowledged, and everything
/// arrives once the exporter resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_exporter_stops_reading_and_loses_nothing() {
    const MESSAGES: usize = 512;
    let mut h = start(
        "",
        "",
        "sending_queue = { queue_size = 2, num_consumers = 1 }",
    )
    .await;
    h.probe.pause();
    let c = h.connect().await;
    let Client {
        mut reader,
        mut writer,
    } = c;
    let line = "x".repeat(64 * 1024);
    let sender = tokio::spawn(async move {
        for i in 0..MESSAGES {
            let msg = message("bulk", &format!("{i} {line}"), Some(&i.to_string()));
            writer.write_all(&enc(&msg)).await.unwrap();
        }
        writer
    });
    let (acked_tx, mut acked_rx) = tokio::sync::watch::channel(0usize);
    let acks = tokio::spawn(async move {
        let mut n = 0;
        while n < MESSAGES {
            let frame = reader.next_frame().await.unwrap().unwrap();
            let ack = super::frame::read_value(&frame).unwrap();
            assert_eq!(ack.as_map().unwrap()[0].1, Value::from(n.to_string()));
            n += 1;
            acked_tx.send_replace(n);
        }
    });
    // Wait until acks stop coming.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "acks never settled");
        let before = *acked_rx.borrow_and_update();
        let quiet = tokio::time::timeout(Duration::from_millis(500), acked_rx.changed())
            .await
            .is_err();
        if quiet && before > 0 {
            break;
        }
    }
    // In flight: 1 in the exporter, 2 in its queue, 1 held by the pipeline task and
    // the pipeline channel's messages.
    let expected = 1 + 2 + 1 + PIPELINE_CHANNEL_LIMITS.max_messages;
    assert_eq!(*acked_rx.borrow(), expected);
    assert_eq!(h.accepted(), expected as u64);
    assert_eq!(h.probe.in_export(), 1);
    assert!(!sender.is_finished(), "the sender's writes block");
    h.probe.resume();
    tokio::time::timeout(Duration::from_secs(20), acks)
        .await
        .expect("every chunk acknowledged after resume")
        .unwrap();
    drop(sender.await.unwrap());
    h.stop().await;
    let got = bodies(&h.probe);
    assert_eq!(got.len(), MESSAGES);
    for (i, body) in got.iter().enumerate() {
        assert!(body.starts_with(&format!("{i} ")), "record {i} in order");
    }
    assert_eq!(h.accepted(), MESSAGES as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_mode_acks_only_after_delivery() {
    let mut h = start("acknowledgement = \"delivered\"", "", "").await;
    h.probe.pause();
    let mut c = h.connect().await;
    c.send(&message("app", "slow", Some("d1"))).await;
    assert_eq!(c.answer(Duration::from_millis(300)).await, None);
    assert_eq!(h.accepted(), 1, "accepted, but not yet delivered");
    h.probe.resume();
    assert_eq!(c.ack().await, Value::from("d1"));
    h.stop().await;
    assert_eq!(bodies(&h.probe), ["slow"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_mode_never_acks_dropped_data() {
    let mut h = start(
        "acknowledgement = \"delivered\"",
        "",
        "retry_on_failure = { enabled = false }",
    )
    .await;
    h.probe.fail_next(1);
    let mut c = h.connect().await;
    c.send(&message("app", "lost", Some("x"))).await;
    assert!(
        c.closed().await,
        "a failed delivery closes the connection unacknowledged"
    );
    let mut c = h.connect().await;
    c.send(&message("app", "retried", Some("y"))).await;
    assert_eq!(c.ack().await, Value::from("y"));
    h.stop().await;
    assert_eq!(bodies(&h.probe), ["retried"]);
    assert_eq!(
        h.counter(
            "harrier_receiver_fluent_forward_unacknowledged_chunks",
            "tcp"
        ),
        1
    );
}

const SECURITY: &str =
    "[receivers.fluent_forward.security]\nshared_key = \"secret\"\nself_hostname = \"harrier\"";

async fn handshake(c: &mut Client<tokio::net::TcpStream>, key: &str) -> Value {
    let helo = c.answer(Duration::from_secs(5)).await.expect("HELO");
    assert_eq!(helo[0], Value::from("HELO"));
    let nonce = match &helo[1].as_map().unwrap()[0] {
        (k, Value::Binary(n)) if k.as_str() == Some("nonce") => n.clone(),
        other => panic!("{other:?}"),
    };
    let salt = "0123456789abcdef";
    let digest = shared_key_digest(salt.as_bytes(), b"client", &nonce, key.as_bytes());
    let ping: Vec<Value> = ["PING", "client", salt, digest.as_str(), "", ""]
        .iter()
        .map(|s| Value::from(*s))
        .collect();
    c.send(&Value::Array(ping)).await;
    let pong = c.answer(Duration::from_secs(5)).await.expect("PONG");
    if pong[1] == Value::Boolean(true) {
        let server = shared_key_digest(salt.as_bytes(), b"harrier", &nonce, b"secret");
        assert_eq!(
            pong[4],
            Value::from(server),
            "the server proves it knows the key"
        );
    }
    pong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_refuses_a_wrong_shared_key() {
    let mut h = start(SECURITY, "", "").await;
    let mut c = h.connect().await;
    let pong = handshake(&mut c, "guess").await;
    assert_eq!(pong[1], Value::Boolean(false));
    assert_eq!(pong[2], Value::from("shared_key mismatch"));
    assert!(c.closed().await);
    let mut c = h.connect().await;
    let pong = handshake(&mut c, "secret").await;
    assert_eq!(pong[1], Value::Boolean(true));
    c.send(&message("auth", "welcome", Some("k"))).await;
    assert_eq!(c.ack().await, Value::from("k"));
    // Events before the handshake are not a PING: malformed, closed.
    let mut c = h.connect().await;
    let _helo = c.answer(Duration::from_secs(5)).await;
    c.send(&message("auth", "too early", Some("z"))).await;
    assert!(c.closed().await);
    h.stop().await;
    assert_eq!(bodies(&h.probe), ["welcome"]);
    assert_eq!(
        h.counter("harrier_receiver_fluent_forward_auth_failures", "tcp"),
        1
    );
    assert_eq!(h.counter("harrier_receiver_malformed_requests", "tcp"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bytes_close_only_their_connection() {
    let mut h = start("max_message_size = \"1KiB\"", "", "").await;
    let mut good = h.connect().await;
    good.send(&message("app", "before", Some("g1"))).await;
    assert_eq!(good.ack().await, Value::from("g1"));
    for garbage in [
        vec![0xc1],
        enc(&Value::Array(vec![Value::from(1), Value::from(2)])),
        enc(&message("app", &"y".repeat(2048), Some("big"))),
    ] {
        let mut bad = h.connect().await;
        bad.writer.write_all(&garbage).await.unwrap();
        assert!(bad.closed().await, "{garbage:?}");
    }
    good.send(&message("app", "after", Some("g2"))).await;
    assert_eq!(good.ack().await, Value::from("g2"));
    h.stop().await;
    assert_eq!(bodies(&h.probe), ["before", "after"]);
    assert_eq!(h.counter("harrier_receiver_malformed_requests", "tcp"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_replaces_a_stale_socket_file() {
    let dir = std::env::temp_dir().join(format!(
        "harrier-ff-{}-{}",
        std::process::id(),
        harrier_testkit::free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("forward.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists(), "a stale socket file");
    let mut h = start(&format!("socket_path = \"{}\"", path.display()), "", "").await;
    let mut c = Client::new(tokio::net::UnixStream::connect(&path).await.unwrap());
    c.send(&message("sock", "via unix", Some("u"))).await;
    assert_eq!(c.ack().await, Value::from("u"));
    h.stop().await;
    assert!(!path.exists(), "the socket file is removed at shutdown");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(bodies(&h.probe), ["via unix"]);
    assert_eq!(
        h.counter("otelcol_receiver_accepted_log_records", "unix"),
        1
    );
}
