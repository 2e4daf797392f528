//! Audit detector tests: positives and near misses, in event time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::names::workload_of_pod;
use super::tests_support::*;

// ---- novel_api_call -------------------------------------------------------------

#[test]
fn novel_api_call_fires_only_after_the_learning_period_in_event_time() {
    let (mut p, telemetry) = build(&only("novel_api_call", ""));
    let sa = "system:serviceaccount:ci:deployer";
    assert_eq!(one(&mut p, audit(sa, "get", "pods").ns("ci").at(T0)), None);
    // Just inside the learning period: learned silently.
    let r = audit(sa, "list", "configmaps").ns("ci").at(T0 + DAY - 1);
    assert_eq!(one(&mut p, r), None);
    // Exactly at its end: new values fire.
    let t = one(&mut p, audit(sa, "list", "secrets").at(T0 + DAY)).unwrap();
    assert_eq!(t.types, ["novel_api_call"]);
    assert_eq!(t.severity, "high");
    assert_eq!(
        t.reasons,
        [
            "first `list secrets` (cluster-wide) by system:serviceaccount:ci:deployer in 1d of history"
        ]
    );
    // Known values stay quiet; the one learned in the learning period too.
    assert_eq!(
        one(&mut p, audit(sa, "list", "secrets").at(T0 + DAY + 5)),
        None
    );
    assert_eq!(
        one(
            &mut p,
            audit(sa, "list", "configmaps").ns("ci").at(T0 + 2 * DAY)
        ),
        None
    );
    // A non-sensitive new call is medium; another namespace is another value.
    let t = one(
        &mut p,
        audit(sa, "list", "configmaps").ns("prod").at(T0 + 2 * DAY),
    )
    .unwrap();
    assert_eq!(t.severity, "medium");
    assert_eq!(
        telemetry.counter_value(
            "harrier_processor_anomaly_findings",
            &[("processor", "anomaly"), ("detector", "novel_api_call")]
        ),
        Some(2)
    );
}

#[test]
fn novel_api_call_grades_sensitive_resources_high() {
    let (mut p, _) = build(&only("novel_api_call", "learning_period = \"1h\""));
    let u = "alice";
    one(&mut p, audit(u, "get", "pods").ns("a").at(T0));
    let cases = [
        (
            audit(u, "create", "clusterrolebindings").group("rbac.authorization.k8s.io"),
            "high",
        ),
        (
            audit(u, "create", "serviceaccounts").sub("token").ns("a"),
            "high",
        ),
        (audit(u, "create", "pods").sub("exec").ns("a"), "high"),
        (
            audit(u, "create", "certificatesigningrequests").group("certificates.k8s.io"),
            "high",
        ),
        (audit(u, "get", "serviceaccounts").ns("a"), "medium"),
        (
            audit(u, "create", "deployments").group("apps").ns("a"),
            "medium",
        ),
    ];
    for (i, (event, severity)) in cases.into_iter().enumerate() {
        let t = one(&mut p, event.at(T0 + HOUR + i as u64)).unwrap();
        assert_eq!(t.severity, severity, "{:?}", t.reasons);
    }
}

#[test]
fn request_received_events_are_not_judged() {
    let (mut p, _) = build(&only("novel_api_call", "learning_period = \"1h\""));
    one(&mut p, audit("bob", "get", "pods").ns("a").at(T0));
    let mut early = audit("bob", "list", "secrets").at(T0 + 2 * HOUR);
    early
        .attributes
        .retain(|kv| kv.key != "k8s.audit.stage" && kv.key != "http.response.status_code");
    early
        .attributes
        .push(kv("k8s.audit.stage", "RequestReceived"));
    assert_eq!(one(&mut p, early), None);
    assert!(one(&mut p, audit("bob", "list", "secrets").at(T0 + 2 * HOUR)).is_some());
}

#[test]
fn denied_calls_are_not_learned_as_api_calls() {
    let (mut p, _) = build(&only("novel_api_call", "learning_period = \"1h\""));
    one(&mut p, audit("bob", "get", "pods").ns("a").at(T0));
    assert_eq!(
        one(
            &mut p,
            audit("bob", "list", "secrets")
                .status(403)
                .at(T0 + 2 * HOUR)
        ),
        None
    );
    // Once allowed it is still new: the denial taught nothing.
    assert!(one(&mut p, audit("bob", "list", "secrets").at(T0 + 3 * HOUR)).is_some());
}

#[test]
fn forgotten_values_fire_again_and_forgotten_identities_learn_again() {
    let (mut p, _) = build(&only(
        "novel_api_call",
        "learning_period = \"1d\"\nforget_after = \"14d\"",
    ));
    let u = "carol";
    one(&mut p, audit(u, "get", "pods").ns("a").at(T0));
    one(&mut p, audit(u, "list", "nodes").at(T0 + HOUR));
    // Keep the identity alive with daily pod reads.
    for day in 1..=20 {
        assert_eq!(
            one(&mut p, audit(u, "get", "pods").ns("a").at(T0 + day * DAY)),
            None
        );
    }
    // `list nodes` last seen at T0 + 1h: 13d later it is still known...
    let early = audit(u, "list", "nodes").at(T0 + HOUR + 13 * DAY);
    assert_eq!(one(&mut p, early), None);
    // ...and 14d after that it has been forgotten.
    let late = audit(u, "list", "nodes").at(T0 + HOUR + 27 * DAY);
    assert!(fired(&one(&mut p, late), "novel_api_call"));

    // An identity silent for longer than forget_after starts a new learning period.
    let quiet = T0 + 50 * DAY;
    assert_eq!(
        one(&mut p, audit(u, "delete", "pods").ns("a").at(quiet)),
        None
    );
    assert_eq!(
        one(&mut p, audit(u, "watch", "pods").ns("a").at(quiet + HOUR)),
        None
    );
    assert!(one(&mut p, audit(u, "patch", "pods").ns("a").at(quiet + DAY)).is_some());
}

// ---- rbac_denied / rbac_denied_burst --------------------------------------------

#[test]
fn rbac_denied_tags_every_401_and_403() {
    let (mut p, _) = build(&only("rbac_denied", ""));
    let t = one(
        &mut p,
        audit("dave", "list", "secrets")
            .ns("kube-system")
            .status(403)
            .at(T0),
    )
    .unwrap();
    assert_eq!(t.types, ["rbac_denied"]);
    assert_eq!(t.severity, "low");
    assert!(t.reasons[0].starts_with("dave was denied `list secrets` in namespace kube-system"));
    let t = one(
        &mut p,
        audit("x", "list", "pods").anonymous().status(401).at(T0),
    )
    .unwrap();
    assert_eq!(t.severity, "medium");
    assert!(
        t.reasons[0].starts_with("unauthenticated client 10.0.0.1 was denied"),
        "{t:?}"
    );
    assert_eq!(
        one(&mut p, audit("dave", "list", "pods").status(404).at(T0)),
        None
    );
    assert_eq!(one(&mut p, audit("dave", "list", "pods").at(T0)), None);
}

#[test]
fn rbac_denied_severity_can_be_overridden() {
    let (mut p, _) = build(&only("rbac_denied", "severity = \"high\""));
    let t = one(&mut p, audit("e", "get", "pods").status(403).at(T0)).unwrap();
    assert_eq!(t.severity, "high");
}

#[test]
fn burst_fires_at_threshold_denials_once_per_window() {
    let (mut p, _) = build(&only(
        "rbac_denied_burst",
        "threshold = 3\ndistinct_resources = 100\nwindow = \"5m\"",
    ));
    let min = 60 * 1_000_000_000;
    let deny = |t| audit("mallory", "get", "secrets").ns("a").status(403).at(t);
    assert_eq!(one(&mut p, deny(T0)), None);
    assert_eq!(one(&mut p, deny(T0 + min)), None);
    let t = one(&mut p, deny(T0 + 2 * min)).unwrap();
    assert_eq!(t.types, ["rbac_denied_burst"]);
    assert_eq!(t.severity, "high");
    assert!(t.reasons[0].contains("denied 3 times"), "{t:?}");
    // Still in the same window: quiet.
    assert_eq!(one(&mut p, deny(T0 + 3 * min)), None);
    assert_eq!(one(&mut p, deny(T0 + 6 * min)), None);
    // A window after the last firing, with 3 denials inside it: fires again.
    assert!(one(&mut p, deny(T0 + 7 * min)).is_some());
    // Another identity is counted apart.
    assert_eq!(
        one(
            &mut p,
            audit("bob", "get", "secrets").status(403).at(T0 + 7 * min)
        ),
        None
    );
}

#[test]
fn burst_below_threshold_spread_over_windows_does_not_fire() {
    let (mut p, _) = build(&only(
        "rbac_denied_burst",
        "threshold = 3\ndistinct_resources = 100\nwindow = \"5m\"",
    ));
    let min = 60 * 1_000_000_000;
    for i in 0..10 {
        let r = audit("slow", "get", "secrets")
            .status(403)
            .at(T0 + i * 3 * min);
        assert_eq!(one(&mut p, r), None, "denial {i}");
    }
}

#[test]
fn burst_fires_at_distinct_denied_resources() {
    let (mut p, _) = build(&only(
        "rbac_denied_burst",
        "threshold = 100\ndistinct_resources = 3",
    ));
    let deny = |verb: &str, res: &str, t| audit("scanner", verb, res).status(403).at(t);
    assert_eq!(one(&mut p, deny("list", "secrets", T0)), None);
    // The same operation again does not add a distinct one.
    assert_eq!(one(&mut p, deny("list", "secrets", T0 + 1)), None);
    assert_eq!(one(&mut p, deny("list", "nodes", T0 + 2)), None);
    let t = one(&mut p, deny("get", "nodes", T0 + 3)).unwrap();
    assert!(t.reasons[0].contains("(3 distinct operations)"), "{t:?}");
}

#[test]
fn failed_authentication_bursts_group_by_source_address() {
    let (mut p, _) = build(&only("rbac_denied_burst", "threshold = 2"));
    let anon = |ip: &str, t| {
        audit("-", "get", "pods")
            .anonymous()
            .source(ip)
            .status(401)
            .at(t)
    };
    assert_eq!(one(&mut p, anon("198.51.100.7", T0)), None);
    assert_eq!(one(&mut p, anon("198.51.100.8", T0 + 1)), None);
    let t = one(&mut p, anon("198.51.100.7", T0 + 2)).unwrap();
    assert!(t.reasons[0].starts_with("unauthenticated client 198.51.100.7"));
}

// ---- novel_source ---------------------------------------------------------------

#[test]
fn novel_source_flags_new_addresses_and_clients_but_not_new_versions() {
    let (mut p, _) = build(&only("novel_source", "learning_period = \"1h\""));
    let u = "system:serviceaccount:ci:deployer";
    one(&mut p, audit(u, "get", "pods").at(T0));
    // A kubectl upgrade: same normalised agent.
    let upgraded = audit(u, "get", "pods")
        .agent("kubectl/v1.31.0 (darwin/arm64) kubernetes/aaaaaaa")
        .at(T0 + 2 * HOUR);
    assert_eq!(one(&mut p, upgraded), None);
    let t = one(
        &mut p,
        audit(u, "get", "pods")
            .agent("curl/8.5.0")
            .at(T0 + 3 * HOUR),
    )
    .unwrap();
    assert_eq!(t.types, ["novel_source"]);
    assert_eq!(t.severity, "low");
    assert!(t.reasons[0].contains("new user agent `curl`"), "{t:?}");
    let t = one(
        &mut p,
        audit(u, "get", "pods")
            .source("203.0.113.9")
            .at(T0 + 4 * HOUR),
    )
    .unwrap();
    assert_eq!(t.severity, "medium");
    assert!(t.reasons[0].contains("new address 203.0.113.9"), "{t:?}");
}

#[test]
fn novel_source_can_track_only_the_user_agent() {
    let (mut p, _) = build(&only(
        "novel_source",
        "learning_period = \"1h\"\nfields = [\"user_agent\"]",
    ));
    one(&mut p, audit("u", "get", "pods").at(T0));
    let r = audit("u", "get", "pods")
        .source("203.0.113.9")
        .at(T0 + 2 * HOUR);
    assert_eq!(one(&mut p, r), None);
}

// ---- novel_image ----------------------------------------------------------------

#[test]
fn novel_image_from_pod_specs_and_workload_templates() {
    let (mut p, _) = build(&only("novel_image", "learning_period = \"1h\""));
    let pod = |images: &[&str], ns: &str, t| {
        audit("alice", "create", "pods")
            .ns(ns)
            .name("web-1")
            .request(map(vec![("spec", pod_spec(images))]))
            .at(t)
    };
    assert_eq!(one(&mut p, pod(&["nginx:1.25"], "shop", T0)), None);
    // A new tag of a known repository is not novel (image_identity = repository).
    assert_eq!(
        one(&mut p, pod(&["nginx:1.27"], "shop", T0 + 2 * HOUR)),
        None
    );
    let t = one(
        &mut p,
        pod(
            &["nginx:1.27", "docker.io/xmrig/xmrig:latest"],
            "shop",
            T0 + 3 * HOUR,
        ),
    )
    .unwrap();
    assert_eq!(t.types, ["novel_image"]);
    assert_eq!(t.severity, "medium");
    assert!(
        t.reasons[0].contains("docker.io/xmrig/xmrig (new to namespace shop and the cluster)"),
        "{t:?}"
    );
    // A known image in a namespace that is still learning: quiet.
    assert_eq!(one(&mut p, pod(&["nginx"], "new-ns", T0 + 4 * HOUR)), None);
    // A deployment template in a learned namespace with an image the cluster knows.
    let template = map(vec![(
        "spec",
        map(vec![(
            "template",
            map(vec![("spec", pod_spec(&["docker.io/xmrig/xmrig:v2"]))]),
        )]),
    )]);
    let deploy = audit("bob", "create", "deployments")
        .group("apps")
        .ns("payments")
        .request(template);
    one(&mut p, pod(&["redis"], "payments", T0));
    let t = one(&mut p, deploy.at(T0 + 5 * HOUR)).unwrap();
    assert!(
        t.reasons[0].contains("(new to namespace payments)"),
        "{t:?}"
    );
    // Reads never carry new images.
    assert_eq!(
        one(
            &mut p,
            audit("bob", "get", "pods").ns("shop").at(T0 + 6 * HOUR)
        ),
        None
    );
}

#[test]
fn novel_image_by_reference_flags_new_tags() {
    let (mut p, _) = build(&only(
        "novel_image",
        "learning_period = \"1h\"\nimage_identity = \"reference\"",
    ));
    let pod = |image: &str, t| {
        audit("a", "create", "pods")
            .ns("shop")
            .request(map(vec![("spec", pod_spec(&[image]))]))
            .at(t)
    };
    one(&mut p, pod("nginx:1.25", T0));
    assert!(one(&mut p, pod("nginx:1.27", T0 + 2 * HOUR)).is_some());
}

// ---- novel_exec -----------------------------------------------------------------

#[test]
fn novel_exec_is_per_identity_and_workload() {
    let (mut p, _) = build(&only("novel_exec", "learning_period = \"1h\""));
    let exec = |user: &str, pod: &str, verb: &str, t| {
        audit(user, verb, "pods")
            .sub("exec")
            .ns("shop")
            .name(pod)
            .at(t)
    };
    assert_eq!(
        one(
            &mut p,
            exec("oncall", "checkout-5d9c7b8f4-x2x8k", "create", T0)
        ),
        None
    );
    // Another pod of the same Deployment: the same workload.
    let r = exec("oncall", "checkout-5d9c7b8f4-q7z2p", "get", T0 + 2 * HOUR);
    assert_eq!(one(&mut p, r), None);
    let t = one(&mut p, exec("oncall", "payments-0", "get", T0 + 3 * HOUR)).unwrap();
    assert_eq!(t.types, ["novel_exec"]);
    assert_eq!(
        t.reasons,
        ["first exec by oncall into workload shop/payments (pod payments-0) in 3h of history"]
    );
    // Plain pod reads are not execs.
    let r = audit("oncall", "get", "pods")
        .ns("shop")
        .name("cart-7")
        .at(T0 + 4 * HOUR);
    assert_eq!(one(&mut p, r), None);
}

#[test]
fn workloads_are_derived_from_pod_names() {
    for (pod, workload) in [
        ("checkout-5d9c7b8f4-x2x8k", "checkout"),
        ("my-app-7c9f8b6d5b-abcde", "my-app-7c9f8b6d5b-abcde"), // vowels: not generated
        ("my-app-7c9f8b6d5b-bcdfg", "my-app"),
        ("api-3435235478-wx2zp", "api"), // old numeric pod-template-hash
        ("fluent-bit-x7k2p", "fluent-bit"), // DaemonSet
        ("postgres-0", "postgres"),      // StatefulSet
        ("redis-12", "redis"),
        ("api-proxy", "api-proxy"),
        ("standalone", "standalone"),
        ("-bcdfg", "-bcdfg"),
    ] {
        assert_eq!(workload_of_pod(pod), workload, "{pod}");
    }
}

#[test]
fn first_exec_of_an_identity_known_from_other_calls_is_novel() {
    let (mut p, _) = build(&format!(
        "{}\n[detectors.novel_api_call]\nlearning_period = \"1h\"\nenabled = true\n",
        only("novel_exec", "learning_period = \"1h\"")
            .replace("[detectors.novel_api_call]\nenabled = false\n", "")
    ));
    one(&mut p, audit("dev", "list", "pods").ns("shop").at(T0));
    let exec = |t| {
        audit("dev", "create", "pods")
            .sub("exec")
            .ns("shop")
            .name("cart-5c8d7b9f4-q7w2e")
            .at(t)
    };
    let t = one(&mut p, exec(T0 + 2 * HOUR)).unwrap();
    assert!(t.types.iter().any(|k| k == "novel_exec"), "{t:?}");
    // The same workload again: known.
    let t = one(&mut p, exec(T0 + 3 * HOUR));
    assert!(!fired(&t, "novel_exec"), "{t:?}");
    // An identity first seen through its exec is still learning.
    let t = one(
        &mut p,
        audit("newbie", "create", "pods")
            .sub("exec")
            .ns("shop")
            .name("cart-5c8d7b9f4-q7w2e")
            .at(T0 + 4 * HOUR),
    );
    assert!(!fired(&t, "novel_exec"), "{t:?}");
}

#[test]
fn denied_requests_from_a_new_address_are_a_novel_source() {
    let (mut p, _) = build(&only("novel_source", "learning_period = \"1h\""));
    one(
        &mut p,
        audit("sa", "get", "configmaps")
            .ns("shop")
            .source("10.0.0.1")
            .at(T0),
    );
    let probe =
        |ip: &str, code: i64, t| audit("sa", "list", "secrets").source(ip).status(code).at(t);
    let t = one(&mut p, probe("203.0.113.50", 403, T0 + 2 * HOUR));
    assert!(fired(&t, "novel_source"), "{t:?}");
    // A 401 has no authenticated identity: no source finding.
    let t = one(&mut p, probe("203.0.113.99", 401, T0 + 3 * HOUR));
    assert!(!fired(&t, "novel_source"), "{t:?}");
}
