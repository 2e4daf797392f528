//! Unit tests of the OTLP mapping (body, attributes, severity, Kubernetes resources),
//! the handshake digests (fixed vectors computed with Python's hashlib) and the config.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::config::{FluentForwardConfig, SecurityConfig, UserConfig};
use super::decode::Entry;
use super::handshake::{Challenge, Verdict, password_digest, shared_key_digest};
use super::mapping::{self, severity_number};
use super::tests::{T0, map};
use harrier_core::component::parse_config;
use harrier_pdata::Batch;
use harrier_pdata::attrs::{get, get_str};
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value as V};
use harrier_pdata::otlp::logs::v1::ResourceLogs;
use rmpv::Value;

fn entry(record: Value) -> Entry {
    let Value::Map(record) = record else {
        unreachable!()
    };
    Entry {
        time_unix_nano: T0 * 1_000_000_000,
        record,
        metadata: Vec::new(),
    }
}

fn resources(entries: Vec<Entry>) -> Vec<ResourceLogs> {
    match mapping::to_batch("app.tag", entries, 42) {
        Batch::Logs(rl) => rl,
        other => panic!("{other:?}"),
    }
}

fn value(attrs: &[KeyValue], key: &str) -> Option<V> {
    get(attrs, key).and_then(|v| v.value.clone())
}

fn string(s: &str) -> Option<V> {
    Some(V::StringValue(s.into()))
}

#[test]
fn body_attributes_and_times() {
    let big = u64::MAX;
    let rl = resources(vec![entry(map(&[
        ("msg", Value::from("third choice")),
        ("log", Value::from("the line")),
        ("count", Value::from(3)),
        ("huge", Value::from(big)),
        ("ratio", Value::F64(0.5)),
        ("ok", Value::Boolean(true)),
        ("raw", Value::Binary(vec![0, 0xff])),
        ("none", Value::Nil),
        ("list", Value::Array(vec![Value::from(1), Value::from("a")])),
        ("nested", map(&[("inner", map(&[("x", Value::from(1))]))])),
        ("stream", Value::from("stderr")),
    ]))]);
    assert_eq!(rl.len(), 1);
    assert_eq!(rl[0].resource.as_ref().unwrap().attributes, vec![]);
    let log = &rl[0].scope_logs[0].log_records[0];
    assert_eq!(log.time_unix_nano, T0 * 1_000_000_000);
    assert_eq!(log.observed_time_unix_nano, 42);
    assert_eq!(log.body.as_ref().unwrap().value, string("the line"));
    let a = &log.attributes;
    assert_eq!(value(a, "msg"), string("third choice"));
    assert_eq!(value(a, "count"), Some(V::IntValue(3)));
    assert_eq!(value(a, "huge"), string(&big.to_string()));
    assert_eq!(value(a, "ratio"), Some(V::DoubleValue(0.5)));
    assert_eq!(value(a, "ok"), Some(V::BoolValue(true)));
    assert_eq!(value(a, "raw"), Some(V::BytesValue(vec![0, 0xff])));
    assert_eq!(value(a, "none"), None);
    let Some(V::ArrayValue(list)) = value(a, "list") else {
        panic!()
    };
    assert_eq!(list.values[1].value, string("a"));
    let Some(V::KvlistValue(nested)) = value(a, "nested") else {
        panic!()
    };
    let Some(V::KvlistValue(inner)) = value(&nested.values, "inner") else {
        panic!()
    };
    assert_eq!(value(&inner.values, "x"), Some(V::IntValue(1)));
    assert_eq!(get_str(a, "log.iostream"), Some("stderr"));
    assert_eq!(get_str(a, "fluent.tag"), Some("app.tag"));
    assert!(get(a, "log").is_none() && get(a, "stream").is_none());
}

#[test]
fn record_without_a_message_becomes_a_kvlist_body() {
    let rl = resources(vec![entry(map(&[
        ("user", Value::from("ada")),
        ("level", Value::from("INFO")),
        ("message", Value::from(12)), // not a string: stays in the record
    ]))]);
    let log = &rl[0].scope_logs[0].log_records[0];
    let Some(V::KvlistValue(body)) = log.body.as_ref().unwrap().value.clone() else {
        panic!("{:?}", log.body)
    };
    assert_eq!(value(&body.values, "user"), string("ada"));
    assert_eq!(value(&body.values, "message"), Some(V::IntValue(12)));
    assert!(get(&body.values, "level").is_none());
    assert_eq!(log.severity_text, "INFO");
    assert_eq!(log.severity_number, 9);
    assert_eq!(log.attributes.len(), 1, "{:?}", log.attributes);
    assert_eq!(get_str(&log.attributes, "fluent.tag"), Some("app.tag"));
}

#[test]
fn severity_names_map_case_insensitively() {
    let cases = [
        ("trace", 1),
        ("DEBUG", 5),
        ("Info", 9),
        ("notice", 10),
        ("warn", 13),
        ("WARNING", 13),
        ("error", 17),
        ("ERR", 17),
        ("fatal", 21),
        ("Critical", 21),
        ("crit", 21),
        ("alert", 21),
        ("EMERG", 21),
        ("verbose-ish", 0),
    ];
    for (name, number) in cases {
        assert_eq!(severity_number(name), number, "{name}");
    }
    for field in ["level", "severity", "lvl"] {
        let rl = resources(vec![entry(map(&[
            (field, Value::from("Warning")),
            ("log", Value::from("x")),
        ]))]);
        let log = &rl[0].scope_logs[0].log_records[0];
        assert_eq!(
            (log.severity_number, log.severity_text.as_str()),
            (13, "Warning")
        );
        assert!(get(&log.attributes, field).is_none());
    }
}

fn k8s_record(pod: &str, container: &str, line: &str) -> Value {
    map(&[
        ("log", Value::from(line)),
        (
            "kubernetes",
            map(&[
                ("pod_name", Value::from(pod)),
                ("namespace_name", Value::from("shop")),
                ("container_name", Value::from(container)),
                ("pod_id", Value::from(format!("uid-{pod}"))),
                ("host", Value::from("node-1")),
                ("labels", map(&[("app", Value::from("cart"))])),
                ("annotations", map(&[("team", Value::from("a"))])),
                ("docker_id", Value::from("abc123")),
                (
                    "container_image",
                    Value::from("registry.io:5000/shop/cart:1.2"),
                ),
                ("pod_ip", Value::from("10.0.0.1")),
            ]),
        ),
    ])
}

#[test]
fn kubernetes_metadata_becomes_the_resource_and_groups_records() {
    let rl = resources(vec![
        entry(k8s_record("cart-1", "app", "one")),
        entry(k8s_record("cart-2", "app", "two")),
        entry(k8s_record("cart-1", "app", "three")),
        entry(map(&[("log", Value::from("no pod"))])),
        entry(k8s_record("cart-1", "sidecar", "four")),
    ]);
    let bodies: Vec<Vec<String>> = rl
        .iter()
        .map(|r| {
            r.scope_logs[0]
                .log_records
                .iter()
                .map(|l| match l.body.as_ref().unwrap().value.clone() {
                    Some(V::StringValue(s)) => s,
                    other => panic!("{other:?}"),
                })
                .collect()
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            vec!["one", "three"],
            vec!["two"],
            vec!["no pod"],
            vec!["four"]
        ]
    );
    let res = &rl[0].resource.as_ref().unwrap().attributes;
    for (key, expected) in [
        ("k8s.pod.name", "cart-1"),
        ("k8s.namespace.name", "shop"),
        ("k8s.container.name", "app"),
        ("k8s.pod.uid", "uid-cart-1"),
        ("k8s.node.name", "node-1"),
        ("k8s.pod.label.app", "cart"),
        ("k8s.pod.annotation.team", "a"),
        ("container.id", "abc123"),
        ("container.image.name", "registry.io:5000/shop/cart"),
        ("fluent.kubernetes.pod_ip", "10.0.0.1"),
    ] {
        assert_eq!(get_str(res, key), Some(expected), "{key}");
    }
    let Some(V::ArrayValue(tags)) = value(res, "container.image.tags") else {
        panic!()
    };
    assert_eq!(
        tags.values,
        vec![AnyValue {
            value: string("1.2")
        }]
    );
    let log = &rl[0].scope_logs[0].log_records[0];
    assert!(get(&log.attributes, "kubernetes").is_none());
    assert_eq!(rl[2].resource.as_ref().unwrap().attributes, vec![]);
}

#[test]
fn v15_metadata_becomes_prefixed_attributes() {
    let mut e = entry(map(&[("log", Value::from("x"))]));
    e.metadata = vec![(Value::from("otlp"), map(&[("trace", Value::from(1))]))];
    let rl = resources(vec![e]);
    let attrs = &rl[0].scope_logs[0].log_records[0].attributes;
    assert!(matches!(
        value(attrs, "fluent.metadata.otlp"),
        Some(V::KvlistValue(_))
    ));
}

fn security(users: Vec<UserConfig>) -> SecurityConfig {
    SecurityConfig {
        shared_key: "secret".into(),
        self_hostname: "harrier.example".into(),
        users,
        handshake_timeout: std::time::Duration::from_secs(1),
    }
}

const NONCE: &[u8; 16] = b"nonce0123456789a";
const SALT: &str = "salt0123456789ab";
const AUTH_SALT: &[u8; 16] = b"authsalt01234567";
const CLIENT_DIGEST: &str = "a546b7b467c8f1161987aac62543b9fa4eb7d55a0077ded0e4ae5a62d69f7644b20cf0b4122ba909028b779449776be6413e70fc647c7fb3fcb36c7ce419e02f";
const SERVER_DIGEST: &str = "6780628c7018b49b764e321b0621d71fb5420f9b1b7125ff2997fecb4f92f5791aa1a404f776ac14c3c760bfd592a7989011ba86e6ae8020e540ce74f89ca361";
const PASSWORD_DIGEST: &str = "59ec06d73192276c4cf282a29ff0e38aff424257a03edf3c8d96344965c93691b141d5129d681b58838b97cf4fed40422a898cedf9bf05a9546e202b8fff03aa";

fn ping(digest: &str, user: &str, password_digest: &str) -> Value {
    Value::Array(
        [
            "PING",
            "client.example",
            SALT,
            digest,
            user,
            password_digest,
        ]
        .iter()
        .map(|s| Value::from(*s))
        .collect(),
    )
}

fn decoded(bytes: &[u8]) -> Value {
    rmpv::decode::read_value(&mut &bytes[..]).unwrap()
}

#[test]
fn digests_match_fixed_vectors() {
    let client = shared_key_digest(SALT.as_bytes(), b"client.example", NONCE, b"secret");
    assert_eq!(client, CLIENT_DIGEST);
    let password = password_digest(AUTH_SALT, b"alice", b"wonderland");
    assert_eq!(password, PASSWORD_DIGEST);
}

#[test]
fn ping_with_the_shared_key_gets_a_verifiable_pong() {
    let sec = security(vec![]);
    let challenge = Challenge::fixed(*NONCE, None);
    let helo = decoded(&challenge.helo());
    assert_eq!(helo[0], Value::from("HELO"));
    let options = helo[1].as_map().unwrap();
    assert!(options.contains(&(Value::from("nonce"), Value::Binary(NONCE.to_vec()))));
    assert!(options.contains(&(Value::from("auth"), Value::from(""))));
    let Verdict::Accepted { pong, client } = challenge
        .check_ping(&sec, &ping(CLIENT_DIGEST, "", ""))
        .unwrap()
    else {
        panic!("refused")
    };
    assert_eq!(client, "client.example");
    let pong = decoded(&pong);
    let expected: Vec<Value> = vec![
        "PONG".into(),
        true.into(),
        "".into(),
        "harrier.example".into(),
        SERVER_DIGEST.into(),
    ];
    assert_eq!(pong, Value::Array(expected));
    // Upper-case hex is accepted too.
    assert!(matches!(
        challenge.check_ping(&sec, &ping(&CLIENT_DIGEST.to_uppercase(), "", "")),
        Ok(Verdict::Accepted { .. })
    ));
}

#[test]
fn wrong_key_user_or_message_is_refused() {
    let sec = security(vec![UserConfig {
        username: "alice".into(),
        password: "wonderland".into(),
    }]);
    let challenge = Challenge::fixed(*NONCE, Some(*AUTH_SALT));
    let helo = decoded(&challenge.helo());
    let options = helo[1].as_map().unwrap();
    assert!(options.contains(&(Value::from("auth"), Value::Binary(AUTH_SALT.to_vec()))));
    let ok = challenge.check_ping(&sec, &ping(CLIENT_DIGEST, "alice", PASSWORD_DIGEST));
    assert!(matches!(ok, Ok(Verdict::Accepted { .. })), "{ok:?}");
    let wrong_key = shared_key_digest(SALT.as_bytes(), b"client.example", NONCE, b"guess");
    let cases = [
        (
            ping(&wrong_key, "alice", PASSWORD_DIGEST),
            "shared_key mismatch",
        ),
        (
            ping(CLIENT_DIGEST, "bob", PASSWORD_DIGEST),
            "username/password mismatch",
        ),
        (
            ping(CLIENT_DIGEST, "alice", CLIENT_DIGEST),
            "username/password mismatch",
        ),
    ];
    for (message, why) in cases {
        let Ok(Verdict::Refused { pong, reason }) = challenge.check_ping(&sec, &message) else {
            panic!("accepted {message}")
        };
        assert_eq!(reason, why);
        let pong = decoded(&pong);
        assert_eq!(pong[1], Value::Boolean(false));
        assert_eq!(pong[2], Value::from(why));
    }
    for not_ping in [
        Value::Nil,
        Value::Array(vec![Value::from("PING")]),
        ping("", "", "")
            .as_array()
            .map(|a| {
                let mut a = a.clone();
                a[0] = Value::from("PONG");
                Value::Array(a)
            })
            .unwrap(),
    ] {
        assert!(challenge.check_ping(&sec, &not_ping).is_err());
    }
}

fn parse(text: &str) -> Result<FluentForwardConfig, String> {
    let value: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    let config: FluentForwardConfig = parse_config(&value).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| {
        e.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    Ok(config)
}

#[test]
fn config_defaults_and_validation() {
    let config = parse("").unwrap();
    assert_eq!(config, FluentForwardConfig::default());
    assert_eq!(config.endpoint, "127.0.0.1:24224");
    assert_eq!(config.max_message_size.0, 16 << 20);
    assert_eq!(config.listen_addresses().len(), 1);
    let config = parse(
        r#"
        endpoint = ""
        socket_path = "/tmp/fluent.sock"
        acknowledgement = "delivered"
        [security]
        shared_key = "k"
        users = [{ username = "a", password = "p" }]
        "#,
    )
    .unwrap();
    assert_eq!(config.acknowledgement, super::Acknowledgement::Delivered);
    assert!(config.listen_addresses().is_empty());
    let security = config.security.unwrap();
    assert_eq!(security.self_hostname, "localhost");
    for (text, error) in [
        ("endpoint = \"\"", "endpoint: nothing to listen on"),
        ("endpoint = \"nowhere\"", "endpoint: invalid address"),
        (
            "max_connections = 0",
            "max_connections: must be greater than 0",
        ),
        (
            "max_message_size = \"0B\"",
            "max_message_size: must be greater than 0",
        ),
        ("acknowledgement = \"maybe\"", "acknowledgement"),
        (
            "[security]\nshared_key = \"\"",
            "security.shared_key: must not be empty",
        ),
        (
            "[security]\nshared_key = \"k\"\nusers = [{ username = \"a\", password = \"1\" }, { username = \"a\", password = \"2\" }]",
            "security.users[1].username: duplicate user",
        ),
        ("bogus = 1", "unknown field"),
    ] {
        let err = parse(text).unwrap_err();
        assert!(err.contains(error), "{text}: {err}");
    }
}
