//! Tests of keys (blocked, allowed, ignored, Kubernetes Secrets), actions, summaries,
//! metrics, validation and registration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{
    METRIC, array, body_str, build, keys, kv, log, log_attr, logs_with_attr, map, record, s,
};
use super::*;
use harrier_core::envelope::Envelope;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::attrs::{get, get_str, int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{AnyValue, any_value};

#[test]
fn blocked_keys_exact_suffix_and_case() {
    let (mut p, telemetry) = build("");
    let cases = [
        ("password", true),
        ("DB_PASSWORD", true),
        ("http.request.header.authorization", true),
        ("http.response.header.set-cookie", true),
        ("x-api_key", true),
        ("github.token", true),
        ("passwordless", false),
        ("mytoken", false),
        ("tokens", false),
        ("token_count", false),
    ];
    for (key, blocked) in cases {
        let mut batch = log(
            vec![string_kv(key, "plain value"), int_kv("other", 1)],
            None,
        );
        p.redact(&mut batch);
        let want = if blocked { "****" } else { "plain value" };
        assert_eq!(log_attr(&batch, key).as_deref(), Some(want), "key {key}");
    }
    // Non-string values are scrubbed whole too.
    let mut batch = log(
        vec![
            int_kv("pin.secret", 1234),
            kv("credentials", map(vec![("u", s("x"))])),
        ],
        None,
    );
    p.redact(&mut batch);
    assert_eq!(log_attr(&batch, "pin.secret").as_deref(), Some("****"));
    assert_eq!(log_attr(&batch, "credentials").as_deref(), Some("****"));
    assert_eq!(
        telemetry.counter_sum(METRIC, &[("detector", "blocked_key")]),
        8
    );
    // A configured list replaces the default.
    let (mut p, _) = build("blocked_keys = [\"ssn\"]");
    let mut batch = log(
        vec![string_kv("user.SSN", "x"), string_kv("password", "y")],
        None,
    );
    p.redact(&mut batch);
    assert_eq!(log_attr(&batch, "user.SSN").as_deref(), Some("****"));
    assert_eq!(log_attr(&batch, "password").as_deref(), Some("y"));
}

fn k8s_object(kind: &str) -> AnyValue {
    map(vec![
        ("kind", s(kind)),
        ("metadata", map(vec![("name", s("db-creds"))])),
        (
            "data",
            map(vec![
                ("tls.key", s("LS0tLS1CRUdJTg==")),
                ("user", s("YWRtaW4=")),
            ]),
        ),
        ("stringData", map(vec![("pass", s("hunter2"))])),
    ])
}

#[test]
fn kubernetes_secret_data_is_scrubbed() {
    let (mut p, _) = build("");
    let mut batch = log(
        vec![
            kv("k8s.audit.request_object", k8s_object("Secret")),
            kv("k8s.audit.response_object", k8s_object("ConfigMap")),
        ],
        None,
    );
    p.redact(&mut batch);
    let expected = map(vec![
        ("kind", s("Secret")),
        ("metadata", map(vec![("name", s("db-creds"))])),
        (
            "data",
            map(vec![("tls.key", s("****")), ("user", s("****"))]),
        ),
        ("stringData", map(vec![("pass", s("****"))])),
    ]);
    let attrs = &record(&batch).attributes;
    assert_eq!(get(attrs, "k8s.audit.request_object"), Some(&expected));
    assert_eq!(
        get(attrs, "k8s.audit.response_object"),
        Some(&k8s_object("ConfigMap"))
    );

    let (mut p, _) = build("action = \"remove\"");
    let mut batch = log(
        vec![kv("k8s.audit.request_object", k8s_object("Secret"))],
        None,
    );
    p.redact(&mut batch);
    let expected = map(vec![
        ("kind", s("Secret")),
        ("metadata", map(vec![("name", s("db-creds"))])),
        ("data", map(vec![])),
        ("stringData", map(vec![])),
    ]);
    assert_eq!(
        get(&record(&batch).attributes, "k8s.audit.request_object"),
        Some(&expected)
    );
}

#[test]
fn allowed_and_ignored_keys() {
    let (mut p, _) = build(
        "allowed_keys = [\"http.route\", \"user\"]\nignored_keys = [\"debug.raw\"]\nsummary = \"debug\"",
    );
    let mut batch = log(
        vec![
            string_kv("http.route", "/a"),
            string_kv("user", "bob@example.com"),
            string_kv("debug.raw", "bob@example.com"),
            string_kv("client.ip", "10.0.0.1"),
        ],
        None,
    );
    p.redact(&mut batch);
    let attrs = &record(&batch).attributes;
    assert_eq!(
        keys(attrs),
        vec!["http.route", "user", "debug.raw", COUNT_KEY, KEYS_KEY]
    );
    assert_eq!(get_str(attrs, "user"), Some("****"));
    assert_eq!(get_str(attrs, "debug.raw"), Some("bob@example.com"));
    assert_eq!(
        get(attrs, KEYS_KEY),
        Some(&array(vec![s("client.ip"), s("user")]))
    );

    // Ignored keys are not inspected at any depth, even when their name is blocked.
    let (mut p, _) = build("ignored_keys = [\"password\"]");
    let mut batch = log(vec![kv("cfg", map(vec![("password", s("a@b.io"))]))], None);
    p.redact(&mut batch);
    assert_eq!(
        get(&record(&batch).attributes, "cfg"),
        Some(&map(vec![("password", s("a@b.io"))]))
    );
}

#[test]
fn hash_action_is_keyed_and_stable() {
    let (mut p, _) = build("action = \"hash\"\nhash_key = \"k3y\"");
    let hmac = hmac::HmacSha256::new(b"k3y");
    let mut batch = log(
        vec![
            string_kv("msg", "from bob@example.com"),
            string_kv("password", "hunter2"),
        ],
        None,
    );
    p.redact(&mut batch);
    assert_eq!(
        log_attr(&batch, "msg").unwrap(),
        format!("from {}", hmac.token(b"bob@example.com"))
    );
    assert_eq!(
        log_attr(&batch, "password").unwrap(),
        hmac.token(b"hunter2")
    );
    assert!(log_attr(&batch, "password").unwrap().starts_with("hmac:"));
}

#[test]
fn remove_action() {
    let (mut p, _) = build("action = \"remove\"");
    let mut batch = log(
        vec![
            string_kv("msg", "from bob@example.com"),
            string_kv("password", "hunter2"),
            kv("list", array(vec![s("ok"), s("123-45-6789")])),
            string_kv("keep", "fine"),
        ],
        Some(s("card 4111111111111111")),
    );
    p.redact(&mut batch);
    let attrs = &record(&batch).attributes;
    assert_eq!(keys(attrs), vec!["list", "keep"]);
    assert_eq!(get(attrs, "list"), Some(&array(vec![s("ok")])));
    assert_eq!(body_str(&batch), MASK);
}

#[test]
fn summary_modes() {
    let input = || {
        log(
            vec![
                string_kv("a", "x@example.com y@example.com"),
                string_kv("password", "p"),
            ],
            Some(s("ssn 123-45-6789")),
        )
    };
    let (mut p, _) = build("");
    let mut batch = input();
    p.redact(&mut batch);
    assert_eq!(keys(&record(&batch).attributes), vec!["a", "password"]);

    let (mut p, _) = build("summary = \"info\"");
    let mut batch = input();
    p.redact(&mut batch);
    let attrs = &record(&batch).attributes;
    assert_eq!(
        get(attrs, COUNT_KEY).unwrap().value,
        Some(any_value::Value::IntValue(4))
    );
    assert!(get(attrs, KEYS_KEY).is_none());

    let (mut p, _) = build("summary = \"debug\"");
    let mut batch = input();
    p.redact(&mut batch);
    let attrs = &record(&batch).attributes;
    assert_eq!(
        get(attrs, KEYS_KEY),
        Some(&array(vec![s("a"), s("body"), s("password")]))
    );
    // An untouched item gets no summary, and the resource was untouched.
    let mut clean = log(vec![string_kv("a", "fine")], None);
    p.redact(&mut clean);
    assert_eq!(keys(&record(&clean).attributes), vec!["a"]);
    let Batch::Logs(rl) = &batch else { panic!() };
    assert_eq!(
        keys(&rl[0].resource.as_ref().unwrap().attributes),
        vec!["service.name"]
    );
}

#[test]
fn metric_counts_per_detector() {
    let (mut p, telemetry) = build("");
    let mut batch = log(
        vec![
            string_kv("a", "x@example.com y@example.com"),
            string_kv("b", "4111111111111111"),
            string_kv("token", "t"),
        ],
        None,
    );
    p.process(Envelope::new(batch.clone()), &mut Vec::new());
    p.redact(&mut batch);
    let labels = |d| {
        [
            ("processor", "redaction"),
            ("pipeline", "logs"),
            ("detector", d),
        ]
    };
    assert_eq!(telemetry.counter_value(METRIC, &labels("email")), Some(4));
    assert_eq!(
        telemetry.counter_value(METRIC, &labels("credit_card")),
        Some(2)
    );
    assert_eq!(
        telemetry.counter_value(METRIC, &labels("blocked_key")),
        Some(2)
    );
    assert_eq!(telemetry.counter_value(METRIC, &labels("jwt")), Some(0));
    assert!(
        telemetry
            .render()
            .contains("harrier_processor_redaction_masked_values_total{")
    );
}

#[test]
fn clean_strings_are_not_copied() {
    let (mut p, _) = build("detectors.ip_address = true");
    let line = "2024-05-01T12:00:00Z INFO GET /api/v1/orders/12345 200 35ms trace=4bf92f3577b34da6";
    let mut batch = logs_with_attr("msg", line);
    let before = match &batch {
        Batch::Logs(rl) => rl[0].scope_logs[0].log_records[0].attributes[0]
            .value
            .clone(),
        _ => None,
    };
    let ptr = |b: &Batch| match record(b).attributes[0]
        .value
        .as_ref()
        .unwrap()
        .value
        .as_ref()
    {
        Some(any_value::Value::StringValue(s)) => s.as_ptr(),
        _ => std::ptr::null(),
    };
    let p0 = ptr(&batch);
    p.redact(&mut batch);
    assert_eq!(ptr(&batch), p0);
    assert_eq!(record(&batch).attributes[0].value, before);
}

#[test]
fn validation_names_the_key() {
    let check = |text: &str| {
        RedactionFactory
            .validate(&toml::from_str(text).unwrap())
            .unwrap_err()
    };
    let errs = check("action = \"hash\"");
    assert_eq!(errs[0].path, "hash_key");
    let errs = check("blocked_values = [\"ok\", \"(unclosed\"]");
    assert_eq!(errs[0].path, "blocked_values[1]");
    assert!(
        errs[0].message.starts_with("invalid regex"),
        "{}",
        errs[0].message
    );
    let errs = check("detectors.phone = true");
    assert_eq!(errs[0].path, "detectors.phone");
    assert!(errs[0].message.contains("phone"));
    let errs = check("action = \"shred\"");
    assert_eq!(errs[0].path, "action");
    let errs = check("allowed_keys = [\"\"]");
    assert_eq!(errs[0].path, "allowed_keys[0]");
    assert!(
        RedactionFactory
            .validate(&toml::from_str("").unwrap())
            .is_ok()
    );
    assert!(
        RedactionFactory
            .validate(&toml::from_str("action = \"hash\"\nhash_key = \"k\"").unwrap())
            .is_ok()
    );
}

#[test]
fn registered_and_built_by_the_factory() {
    let mut registry = harrier_core::component::Registry::new();
    crate::register_all(&mut registry);
    let factory = registry.processor("redaction").unwrap();
    let ctx = BuildContext::new(ComponentId::parse("redaction").unwrap(), Telemetry::new());
    let mut p = factory.build(&toml::from_str("").unwrap(), &ctx).unwrap();
    let mut out = Vec::new();
    p.process(
        Envelope::new(logs_with_attr("m", "a@example.com")),
        &mut out,
    );
    assert_eq!(log_attr(&out[0].batch, "m").as_deref(), Some("****"));
}
