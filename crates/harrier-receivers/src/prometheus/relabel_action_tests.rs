//! `hashmod` against values computed with Prometheus's algorithm, and the label-name
//! and case actions (`labelmap`, `labeldrop`, `labelkeep`, `lowercase`, `uppercase`).

use super::*;

#[test]
fn hashmod_matches_prometheus() {
    // Expected values computed independently with Python:
    // int.from_bytes(hashlib.md5(s.encode()).digest()[8:], 'big') % m
    let cases: &[(&str, u64, &str)] = &[
        ("foo", 10, "6"),
        ("10.0.0.1:9100", 3, "2"),
        ("", 1000, "958"),
        ("foo", u64::MAX, "17145033699835028696"),
    ];
    for &(value, modulus, expected) in cases {
        let config = RelabelConfig {
            source_labels: vec!["a".into()],
            target_label: Some("shard".into()),
            modulus: Some(modulus),
            action: Action::HashMod,
            ..RelabelConfig::default()
        };
        let relabeler = Relabeler::new(&[config], KEY).unwrap();
        let mut actual = labels(&[("a", value)]);
        assert!(relabeler.apply(&mut actual));
        assert_eq!(
            get(&actual, "shard"),
            expected,
            "md5({value:?}) % {modulus}"
        );
    }
    // Several sources are hashed joined: "a;b" % 7 = 2, "node-1;prod" % (2^64-1).
    run(&[
        Case {
            name: "hashmod over joined sources",
            steps: r#"[[relabel_configs]]
source_labels = ["x", "y"]
modulus = 7
target_label = "__tmp_hash"
action = "hashmod""#,
            input: &[("x", "a"), ("y", "b")],
            output: Some(&[("x", "a"), ("y", "b"), ("__tmp_hash", "2")]),
        },
        Case {
            name: "hashmod then keep: sharding",
            steps: r#"[[relabel_configs]]
source_labels = ["host", "env"]
modulus = 18446744073709551615
target_label = "__tmp_hash"
action = "hashmod"
[[relabel_configs]]
source_labels = ["__tmp_hash"]
regex = "8300341277975788809"
action = "keep""#,
            input: &[("host", "node-1"), ("env", "prod")],
            output: Some(&[
                ("host", "node-1"),
                ("env", "prod"),
                ("__tmp_hash", "8300341277975788809"),
            ]),
        },
    ]);
}

#[test]
fn label_actions() {
    run(&[
        Case {
            name: "labelmap of Kubernetes pod labels",
            steps: r#"[[relabel_configs]]
regex = "__meta_kubernetes_pod_label_(.+)"
action = "labelmap""#,
            input: &[
                ("__meta_kubernetes_pod_label_app", "web"),
                ("__meta_kubernetes_pod_label_tier", "front"),
                ("__meta_kubernetes_pod_name", "web-1"),
            ],
            output: Some(&[
                ("__meta_kubernetes_pod_label_app", "web"),
                ("__meta_kubernetes_pod_label_tier", "front"),
                ("__meta_kubernetes_pod_name", "web-1"),
                ("app", "web"),
                ("tier", "front"),
            ]),
        },
        Case {
            name: "labelmap with a replacement template overwrites",
            steps: r#"[[relabel_configs]]
regex = "__meta_(.+)"
replacement = "meta_${1}"
action = "labelmap""#,
            input: &[("__meta_zone", "a"), ("meta_zone", "old")],
            output: Some(&[("__meta_zone", "a"), ("meta_zone", "a")]),
        },
        Case {
            name: "labelmap reads the labels as before the step; last write wins",
            steps: r#"[[relabel_configs]]
regex = "(a|b)"
replacement = "c"
action = "labelmap""#,
            input: &[("a", "1"), ("b", "2"), ("c", "2")],
            output: Some(&[("a", "1"), ("b", "2"), ("c", "2")]),
        },
        Case {
            name: "labelmap onto itself changes nothing",
            steps: r#"[[relabel_configs]]
regex = "(.*)"
action = "labelmap""#,
            input: &[("a", "1"), ("b", "2")],
            output: Some(&[("a", "1"), ("b", "2")]),
        },
        Case {
            name: "labelmap skips names that are not label names",
            steps: r#"[[relabel_configs]]
regex = "x(.*)"
action = "labelmap""#,
            input: &[("x1a", "1"), ("xb", "2")],
            output: Some(&[("x1a", "1"), ("xb", "2"), ("b", "2")]),
        },
        Case {
            name: "labeldrop",
            steps: r#"[[relabel_configs]]
regex = "pod_.*"
action = "labeldrop""#,
            input: &[("pod_ip", "1"), ("pod", "2"), ("xpod_ip", "3")],
            output: Some(&[("pod", "2"), ("xpod_ip", "3")]),
        },
        Case {
            name: "labelkeep",
            steps: r#"[[relabel_configs]]
regex = "__name__|job|instance"
action = "labelkeep""#,
            input: &[
                ("__name__", "up"),
                ("job", "j"),
                ("instance", "i"),
                ("jobs", "x"),
            ],
            output: Some(&[("__name__", "up"), ("job", "j"), ("instance", "i")]),
        },
        Case {
            name: "lowercase",
            steps: r#"[[relabel_configs]]
source_labels = ["a", "b"]
target_label = "lower"
action = "lowercase""#,
            input: &[("a", "MiXeD"), ("b", "ÄB")],
            output: Some(&[("a", "MiXeD"), ("b", "ÄB"), ("lower", "mixed;äb")]),
        },
        Case {
            name: "uppercase",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
target_label = "a"
action = "uppercase""#,
            input: &[("a", "MiXeD")],
            output: Some(&[("a", "MIXED")]),
        },
        Case {
            name: "lowercase of nothing deletes the target",
            steps: r#"[[relabel_configs]]
source_labels = ["missing"]
target_label = "a"
action = "lowercase""#,
            input: &[("a", "x"), ("b", "y")],
            output: Some(&[("b", "y")]),
        },
        Case {
            name: "a typical target relabeling",
            steps: r#"[[relabel_configs]]
source_labels = ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
regex = "true"
action = "keep"
[[relabel_configs]]
source_labels = ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"]
regex = '([^:]+)(?::\d+)?;(\d+)'
replacement = "$1:$2"
target_label = "__address__"
[[relabel_configs]]
regex = "__meta_kubernetes_pod_label_(.+)"
action = "labelmap"
[[relabel_configs]]
source_labels = ["__meta_kubernetes_namespace"]
target_label = "namespace""#,
            input: &[
                ("__address__", "10.0.0.5:80"),
                ("__meta_kubernetes_namespace", "shop"),
                (
                    "__meta_kubernetes_pod_annotation_prometheus_io_port",
                    "9102",
                ),
                (
                    "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
                    "true",
                ),
                ("__meta_kubernetes_pod_label_app", "cart"),
            ],
            output: Some(&[
                ("__address__", "10.0.0.5:9102"),
                ("__meta_kubernetes_namespace", "shop"),
                (
                    "__meta_kubernetes_pod_annotation_prometheus_io_port",
                    "9102",
                ),
                (
                    "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
                    "true",
                ),
                ("__meta_kubernetes_pod_label_app", "cart"),
                ("app", "cart"),
                ("namespace", "shop"),
            ]),
        },
    ]);
}
