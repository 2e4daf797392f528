//! Runtime and network detector tests, and the name normalisation they rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::names::{image_repository, is_external_host, is_external_ip, normalize_user_agent};
use super::tests_support::*;
use harrier_pdata::otlp::trace::v1::span::SpanKind;

// ---- novel_process --------------------------------------------------------------

#[test]
fn novel_process_per_image_ignores_tags() {
    let (mut p, _) = build(&only("novel_process", "learning_period = \"1h\""));
    let ev =
        |exe: &str, image: &str, t| record(runtime(exe, image, "shop", "web-5d9c7b8f4-x2x8k"), t);
    assert_eq!(one(&mut p, ev("nginx", "nginx:1.25", T0)), None);
    assert_eq!(one(&mut p, ev("sh", "nginx:1.25", T0 + 10)), None); // still learning
    assert_eq!(one(&mut p, ev("nginx", "nginx:1.27", T0 + 2 * HOUR)), None);
    assert_eq!(
        one(&mut p, ev("sh", "nginx@sha256:abc", T0 + 2 * HOUR)),
        None
    );
    let t = one(&mut p, ev("nc", "nginx:1.27", T0 + 3 * HOUR)).unwrap();
    assert_eq!(t.types, ["novel_process"]);
    assert_eq!(t.severity, "high");
    assert_eq!(
        t.reasons,
        [
            "process `nc` never seen before in image nginx (3h of history), pod shop/web-5d9c7b8f4-x2x8k: `nc -x`"
        ]
    );
    // Another image has its own baseline (and is learning).
    assert_eq!(one(&mut p, ev("nc", "busybox", T0 + 3 * HOUR)), None);
}

#[test]
fn novel_process_per_workload() {
    let (mut p, _) = build(&only(
        "novel_process",
        "learning_period = \"1h\"\ngroup_by = \"workload\"",
    ));
    one(
        &mut p,
        record(runtime("java", "app:1", "shop", "cart-5d9c7b8f4-x2x8k"), T0),
    );
    // Another pod of the workload, another image: same baseline.
    let r = record(
        runtime("java", "app:2", "shop", "cart-5d9c7b8f4-bbbbb"),
        T0 + 2 * HOUR,
    );
    assert_eq!(one(&mut p, r), None);
    let r = record(
        runtime("curl", "app:2", "shop", "cart-5d9c7b8f4-bbbbb"),
        T0 + 2 * HOUR,
    );
    assert!(one(&mut p, r).unwrap().reasons[0].contains("workload shop/cart"));
}

// ---- novel_connection -----------------------------------------------------------

#[test]
fn novel_connection_from_flows_marks_external_destinations() {
    let (mut p, _) = build(&only("novel_connection", "learning_period = \"1h\""));
    let src = ("shop", "checkout");
    one(
        &mut p,
        record(flow(src, "10.2.0.9", Some(("shop", "cart")), 8080), T0),
    );
    // Known edge, another pod IP: the workload is the destination.
    let r = record(
        flow(src, "10.2.7.1", Some(("shop", "cart")), 8080),
        T0 + 2 * HOUR,
    );
    assert_eq!(one(&mut p, r), None);
    // New internal edge: medium.
    let r = record(
        flow(src, "10.3.0.1", Some(("db", "postgres")), 5432),
        T0 + 2 * HOUR,
    );
    let t = one(&mut p, r).unwrap();
    assert_eq!(t.severity, "medium");
    assert_eq!(
        t.reasons,
        ["first connection from shop/checkout to db/postgres:5432/tcp in 2h of history"]
    );
    // A private address without a workload is internal.
    let r = record(flow(src, "192.168.4.4", None, 9000), T0 + 2 * HOUR);
    assert_eq!(one(&mut p, r).unwrap().severity, "medium");
    // A public address is external: high.
    let r = record(flow(src, "203.0.113.50", None, 4444), T0 + 2 * HOUR);
    let t = one(&mut p, r).unwrap();
    assert_eq!(t.severity, "high");
    assert!(
        t.reasons[0].contains("203.0.113.50:4444/tcp (external destination)"),
        "{t:?}"
    );
    // The same edge again: quiet.
    let r = record(flow(src, "203.0.113.50", None, 4444), T0 + 3 * HOUR);
    assert_eq!(one(&mut p, r), None);
}

#[test]
fn novel_connection_from_client_spans_only() {
    let (mut p, _) = build(&only("novel_connection", "learning_period = \"1h\""));
    let call =
        |host: &str, port: i64| vec![kv("server.address", host), kv_int("server.port", port)];
    let batch = spans(
        "checkout",
        "shop",
        vec![(SpanKind::Client, call("cart", 8080), T0)],
    );
    assert_eq!(tags_of_batch(&run(&mut p, batch)), [None]);
    let later = T0 + 2 * HOUR;
    let batch = spans(
        "checkout",
        "shop",
        vec![
            (SpanKind::Client, call("cart", 8080), later),
            (SpanKind::Server, call("evil.example.com", 443), later),
            (
                SpanKind::Client,
                call("payments.shop.svc.cluster.local", 8443),
                later,
            ),
            (SpanKind::Client, call("api.stripe.com", 443), later),
            (SpanKind::Client, vec![kv("peer.service", "ledger")], later),
        ],
    );
    let tags = tags_of_batch(&run(&mut p, batch));
    assert_eq!(tags[0], None);
    assert_eq!(tags[1], None, "server spans are not connections");
    let internal = tags[2].as_ref().unwrap();
    assert_eq!(internal.severity, "medium");
    let external = tags[3].as_ref().unwrap();
    assert_eq!(external.severity, "high");
    assert_eq!(
        external.reasons,
        [
            "first connection from shop/checkout to api.stripe.com:443 (external destination) in 2h of history"
        ]
    );
    assert_eq!(types(&tags[4]), ["novel_connection"]);
}

#[test]
fn address_classification() {
    for (ip, external) in [
        ("10.1.2.3", Some(false)),
        ("172.16.0.1", Some(false)),
        ("192.168.1.1", Some(false)),
        ("127.0.0.1", Some(false)),
        ("169.254.169.254", Some(false)),
        ("100.64.1.1", Some(false)),
        ("8.8.8.8", Some(true)),
        ("::1", Some(false)),
        ("fd00::1", Some(false)),
        ("fe80::1", Some(false)),
        ("::ffff:10.0.0.1", Some(false)),
        ("2001:db8::1", Some(true)),
        ("[2606:4700::1111]", Some(true)),
        ("cart", None),
    ] {
        assert_eq!(is_external_ip(ip), external, "{ip}");
    }
    assert!(!is_external_host("cart"));
    assert!(!is_external_host("cart.shop.svc.cluster.local"));
    assert!(!is_external_host("db.internal"));
    assert!(is_external_host("api.stripe.com"));
    assert!(is_external_host("1.1.1.1"));
}

#[test]
fn images_and_agents_are_normalised() {
    assert_eq!(image_repository("nginx"), "nginx");
    assert_eq!(image_repository("nginx:1.25"), "nginx");
    assert_eq!(
        image_repository("ghcr.io/acme/api:1.2@sha256:ab"),
        "ghcr.io/acme/api"
    );
    assert_eq!(image_repository("localhost:5000/app"), "localhost:5000/app");
    assert_eq!(
        image_repository("localhost:5000/app:v1"),
        "localhost:5000/app"
    );
    assert_eq!(
        normalize_user_agent("kubectl/v1.30.2 (linux/amd64) kubernetes/39683505"),
        "kubectl kubernetes"
    );
    assert_eq!(normalize_user_agent("curl/8.5.0"), "curl");
    assert_eq!(normalize_user_agent("Go-http-client/2.0"), "Go-http-client");
}

#[test]
fn runtime_events_with_a_destination_feed_novel_connection() {
    let (mut p, _) = build(&only("novel_connection", "learning_period = \"1h\""));
    // A Falco outbound-connection alert: a runtime record with destination fields.
    let alert = |ip: &str, port: i64| {
        let mut attrs = runtime("curl", "shop/frontend", "shop", "frontend-7d9f8c6b5-x2x8k");
        attrs.push(harrier_pdata::attrs::string_kv("destination.address", ip));
        attrs.push(harrier_pdata::attrs::int_kv("destination.port", port));
        attrs.push(harrier_pdata::attrs::string_kv("network.transport", "tcp"));
        attrs
    };
    one(&mut p, record(alert("10.2.0.9", 8080), T0));
    assert_eq!(
        one(&mut p, record(alert("10.2.0.9", 8080), T0 + 2 * HOUR)),
        None
    );
    let t = one(&mut p, record(alert("203.0.113.9", 443), T0 + 2 * HOUR)).unwrap();
    assert_eq!(t.types, ["novel_connection"]);
    assert_eq!(t.severity, "high");
    assert!(t.reasons[0].contains("shop/frontend"), "{:?}", t.reasons);
    // A runtime event without a destination is no connection.
    let plain = runtime("sh", "shop/frontend", "shop", "frontend-7d9f8c6b5-x2x8k");
    assert_eq!(one(&mut p, record(plain, T0 + 3 * HOUR)), None);
}
