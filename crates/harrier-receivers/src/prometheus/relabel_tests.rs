#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use regex::Regex;
use serde::Deserialize;
use std::sync::Arc;

const KEY: &str = "receivers.prometheus.scrape_configs[0].relabel_configs";

#[derive(Deserialize)]
struct Steps {
    relabel_configs: Vec<RelabelConfig>,
}

/// Parses a TOML `[[relabel_configs]]` list.
fn configs(toml_text: &str) -> Vec<RelabelConfig> {
    toml::from_str::<Steps>(toml_text)
        .unwrap_or_else(|e| panic!("bad test config {toml_text}: {e}"))
        .relabel_configs
}

fn relabeler(toml_text: &str) -> Relabeler {
    Relabeler::new(&configs(toml_text), KEY)
        .unwrap_or_else(|e| panic!("config {toml_text} rejected: {e:?}"))
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    let mut labels: Labels = pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    normalize(&mut labels);
    labels
}

/// One relabeling case: steps, input, expected output (`None`: dropped).
struct Case {
    name: &'static str,
    steps: &'static str,
    input: &'static [(&'static str, &'static str)],
    output: Option<&'static [(&'static str, &'static str)]>,
}

fn run(cases: &[Case]) {
    for case in cases {
        let relabeler = relabeler(case.steps);
        let mut actual = labels(case.input);
        let kept = relabeler.apply(&mut actual);
        match case.output {
            None => assert!(!kept, "{}: expected a drop, got {actual:?}", case.name),
            Some(expected) => {
                assert!(kept, "{}: unexpectedly dropped", case.name);
                assert_eq!(actual, labels(expected), "{}", case.name);
            }
        }
        // A second run over the result must not trip over reused scratch state.
        if kept {
            let mut again = actual.clone();
            let mut expected_again = actual.clone();
            let kept_again = relabeler.apply(&mut again);
            let kept_fresh = Relabeler::new(&configs(case.steps), KEY)
                .unwrap()
                .apply(&mut expected_again);
            assert_eq!(kept_again, kept_fresh, "{}: rerun", case.name);
            if kept_again {
                assert_eq!(again, expected_again, "{}: rerun", case.name);
            }
        }
    }
}

#[test]
fn replace() {
    run(&[
        Case {
            name: "default regex copies the source value",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
target_label = "b""#,
            input: &[("a", "foo")],
            output: Some(&[("a", "foo"), ("b", "foo")]),
        },
        Case {
            name: "groups and ${n}",
            steps: r#"[[relabel_configs]]
source_labels = ["__address__"]
regex = '([^:]+):(\d+)'
replacement = "${1}_${2}"
target_label = "host_port""#,
            input: &[("__address__", "node1:9100")],
            output: Some(&[("__address__", "node1:9100"), ("host_port", "node1_9100")]),
        },
        Case {
            name: "${1}suffix",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(f)(o+)"
replacement = "${1}suffix"
target_label = "b""#,
            input: &[("a", "foo")],
            output: Some(&[("a", "foo"), ("b", "fsuffix")]),
        },
        Case {
            name: "$1suffix names a group 1suffix: empty, so the target is deleted",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(f)(o+)"
replacement = "$1suffix"
target_label = "b""#,
            input: &[("a", "foo"), ("b", "old")],
            output: Some(&[("a", "foo")]),
        },
        Case {
            name: "$2 beyond the groups expands to empty",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(.*)"
replacement = "x${2}y-$2"
target_label = "b""#,
            input: &[("a", "foo")],
            output: Some(&[("a", "foo"), ("b", "xy-")]),
        },
        Case {
            name: "group that did not take part in the match is empty",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(x)?(foo)"
replacement = "$1"
target_label = "b""#,
            input: &[("a", "foo"), ("b", "old")],
            output: Some(&[("a", "foo")]),
        },
        Case {
            name: "named groups, $name and ${name}",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = '(?P<host>[a-z]+)-(?P<num>\d+)'
replacement = "$num.${host}"
target_label = "b""#,
            input: &[("a", "web-12")],
            output: Some(&[("a", "web-12"), ("b", "12.web")]),
        },
        Case {
            name: "$$ is a literal dollar, a lone $ stays literal",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(.*)"
replacement = "$$1 costs $ ${1"
target_label = "b""#,
            input: &[("a", "foo")],
            output: Some(&[("a", "foo"), ("b", "$1 costs $ ${1")]),
        },
        Case {
            name: "no match: nothing changes",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "bar"
replacement = "x"
target_label = "b""#,
            input: &[("a", "foo"), ("b", "old")],
            output: Some(&[("a", "foo"), ("b", "old")]),
        },
        Case {
            name: "anchoring: foo does not match foobar",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "foo"
replacement = "matched"
target_label = "b""#,
            input: &[("a", "foobar")],
            output: Some(&[("a", "foobar")]),
        },
        Case {
            name: "anchoring: foo does not match xfoo",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "foo"
replacement = "matched"
target_label = "b""#,
            input: &[("a", "xfoo")],
            output: Some(&[("a", "xfoo")]),
        },
        Case {
            name: "anchoring wraps alternations: a|b does not match ab",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "x|y"
replacement = "matched"
target_label = "b""#,
            input: &[("a", "xy")],
            output: Some(&[("a", "xy")]),
        },
        Case {
            name: "anchoring: .* suffix matches",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "foo.*"
replacement = "matched"
target_label = "b""#,
            input: &[("a", "foobar")],
            output: Some(&[("a", "foobar"), ("b", "matched")]),
        },
        Case {
            name: "several sources joined by the separator, missing ones empty",
            steps: r#"[[relabel_configs]]
source_labels = ["a", "missing", "c"]
target_label = "joined""#,
            input: &[("a", "1"), ("c", "3")],
            output: Some(&[("a", "1"), ("c", "3"), ("joined", "1;;3")]),
        },
        Case {
            name: "custom separator",
            steps: r#"[[relabel_configs]]
source_labels = ["a", "c"]
separator = "/"
regex = "(.*)/(.*)"
replacement = "$2-$1"
target_label = "joined""#,
            input: &[("a", "1"), ("c", "3")],
            output: Some(&[("a", "1"), ("c", "3"), ("joined", "3-1")]),
        },
        Case {
            name: "no sources: a constant label",
            steps: r#"[[relabel_configs]]
target_label = "env"
replacement = "prod""#,
            input: &[("a", "1")],
            output: Some(&[("a", "1"), ("env", "prod")]),
        },
        Case {
            name: "empty replacement deletes the target",
            steps: r#"[[relabel_configs]]
target_label = "a"
replacement = """#,
            input: &[("a", "1"), ("b", "2")],
            output: Some(&[("b", "2")]),
        },
        Case {
            name: "target label with references",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(.+)=(.+)"
target_label = "tag_${1}"
replacement = "$2""#,
            input: &[("a", "team=db")],
            output: Some(&[("a", "team=db"), ("tag_team", "db")]),
        },
        Case {
            name: "expanded target that is not a label name: no-op",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(.+)=(.+)"
target_label = "$1"
replacement = "$2""#,
            input: &[("a", "9team=db")],
            output: Some(&[("a", "9team=db")]),
        },
        Case {
            name: "empty expanded target: no-op",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(x?)(.*)"
target_label = "$1"
replacement = "$2""#,
            input: &[("a", "foo")],
            output: Some(&[("a", "foo")]),
        },
        Case {
            name: "dot does not match newline (as RE2)",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "a.b"
replacement = "matched"
target_label = "b""#,
            input: &[("a", "a\nb")],
            output: Some(&[("a", "a\nb")]),
        },
        Case {
            name: "overwrite an existing label",
            steps: r#"[[relabel_configs]]
source_labels = ["__address__"]
target_label = "instance""#,
            input: &[("__address__", "h:1"), ("instance", "old")],
            output: Some(&[("__address__", "h:1"), ("instance", "h:1")]),
        },
        Case {
            name: "input labels with empty values are removed",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
target_label = "b""#,
            input: &[("a", "1"), ("e", "")],
            output: Some(&[("a", "1"), ("b", "1")]),
        },
    ]);
}

#[test]
fn keep_and_drop() {
    run(&[
        Case {
            name: "keep on match",
            steps: r#"[[relabel_configs]]
source_labels = ["job"]
regex = "node|api"
action = "keep""#,
            input: &[("job", "api")],
            output: Some(&[("job", "api")]),
        },
        Case {
            name: "keep drops a near miss",
            steps: r#"[[relabel_configs]]
source_labels = ["job"]
regex = "node|api"
action = "keep""#,
            input: &[("job", "apis")],
            output: None,
        },
        Case {
            name: "keep with a missing label matches the empty string",
            steps: r#"[[relabel_configs]]
source_labels = ["missing"]
regex = ""
action = "keep""#,
            input: &[("job", "api")],
            output: Some(&[("job", "api")]),
        },
        Case {
            name: "drop on match",
            steps: r#"[[relabel_configs]]
source_labels = ["__name__"]
regex = "go_.*"
action = "drop""#,
            input: &[("__name__", "go_goroutines")],
            output: None,
        },
        Case {
            name: "drop keeps a near miss",
            steps: r#"[[relabel_configs]]
source_labels = ["__name__"]
regex = "go_.*"
action = "Drop""#,
            input: &[("__name__", "xgo_goroutines")],
            output: Some(&[("__name__", "xgo_goroutines")]),
        },
        Case {
            name: "a drop stops later steps",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
regex = "1"
action = "drop"
[[relabel_configs]]
target_label = "never"
replacement = "x""#,
            input: &[("a", "1")],
            output: None,
        },
        Case {
            name: "keepequal keeps equal values",
            steps: r#"[[relabel_configs]]
source_labels = ["__meta_port"]
target_label = "port"
action = "keepequal""#,
            input: &[("__meta_port", "9100"), ("port", "9100")],
            output: Some(&[("__meta_port", "9100"), ("port", "9100")]),
        },
        Case {
            name: "keepequal drops different values",
            steps: r#"[[relabel_configs]]
source_labels = ["__meta_port"]
target_label = "port"
action = "keepequal""#,
            input: &[("__meta_port", "9100"), ("port", "9101")],
            output: None,
        },
        Case {
            name: "keepequal: missing target equals empty source",
            steps: r#"[[relabel_configs]]
source_labels = ["missing"]
target_label = "port"
action = "keepequal""#,
            input: &[("a", "1")],
            output: Some(&[("a", "1")]),
        },
        Case {
            name: "dropequal drops equal values",
            steps: r#"[[relabel_configs]]
source_labels = ["a", "b"]
target_label = "c"
action = "dropequal""#,
            input: &[("a", "1"), ("b", "2"), ("c", "1;2")],
            output: None,
        },
        Case {
            name: "dropequal keeps different values",
            steps: r#"[[relabel_configs]]
source_labels = ["a"]
target_label = "c"
action = "dropequal""#,
            input: &[("a", "1"), ("c", "2")],
            output: Some(&[("a", "1"), ("c", "2")]),
        },
    ]);
}

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

#[test]
fn unchanged_labels_keep_their_buffers() {
    let relabeler = relabeler(
        r#"[[relabel_configs]]
source_labels = ["a"]
target_label = "b"
[[relabel_configs]]
source_labels = ["a"]
regex = "x.*"
action = "drop"
[[relabel_configs]]
regex = "(.*)"
action = "labelmap""#,
    );
    let mut labels = labels(&[("a", "1"), ("b", "1")]);
    let vec_ptr = labels.as_ptr();
    let value_ptrs: Vec<*const u8> = labels.iter().map(|(_, v)| v.as_ptr()).collect();
    for _ in 0..3 {
        assert!(relabeler.apply(&mut labels));
    }
    assert_eq!(labels.as_ptr(), vec_ptr);
    let after: Vec<*const u8> = labels.iter().map(|(_, v)| v.as_ptr()).collect();
    assert_eq!(after, value_ptrs);
}

#[test]
fn shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Relabeler>();
    let relabeler = Arc::new(relabeler(
        r#"[[relabel_configs]]
source_labels = ["a"]
regex = "(.*)-(.*)"
replacement = "$2"
target_label = "b""#,
    ));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let relabeler = Arc::clone(&relabeler);
            std::thread::spawn(move || {
                for j in 0..200 {
                    let value = format!("{i}-{j}");
                    let mut l = labels(&[("a", &value)]);
                    assert!(relabeler.apply(&mut l));
                    assert_eq!(get(&l, "b"), j.to_string());
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let cloned = (*relabeler).clone();
    let mut l = labels(&[("a", "x-y")]);
    assert!(cloned.apply(&mut l));
    assert_eq!(get(&l, "b"), "y");
    assert_eq!(cloned.len(), 1);
}

#[test]
fn defaults_and_action_names() {
    let config = &configs("[[relabel_configs]]\ntarget_label = \"x\"")[0];
    assert_eq!(config.separator, ";");
    assert_eq!(config.regex, "(.*)");
    assert_eq!(config.replacement, "$1");
    assert_eq!(config.action, Action::Replace);
    assert_eq!(config.modulus, None);
    assert_eq!(
        *config,
        RelabelConfig {
            target_label: Some("x".into()),
            ..RelabelConfig::default()
        }
    );
    for action in Action::ALL {
        assert_eq!(Action::parse(action.name()), Some(action));
        assert_eq!(
            Action::parse(&action.name().to_uppercase()),
            Some(action),
            "case-insensitive like Prometheus"
        );
    }
    assert_eq!(Action::parse("labelKeep"), Some(Action::LabelKeep));
    let err = toml::from_str::<Steps>("[[relabel_configs]]\naction = \"rename\"")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown relabel action \"rename\""), "{err}");
    let err = toml::from_str::<Steps>("[[relabel_configs]]\ntarget = \"x\"")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn validation_names_the_field() {
    let cases: &[(&str, &[&str])] = &[
        (
            "regex = \"(unclosed\"\ntarget_label = \"a\"",
            &["[0].regex"],
        ),
        ("source_labels = [\"a\"]", &["[0].target_label"]),
        ("target_label = \"\"", &["[0].target_label"]),
        ("target_label = \"1abc\"", &["[0].target_label"]),
        ("target_label = \"a-b\"", &["[0].target_label"]),
        ("target_label = \"${1\"", &["[0].target_label"]),
        ("target_label = \"$1-x\"", &["[0].target_label"]),
        (
            "action = \"hashmod\"\ntarget_label = \"h\"",
            &["[0].modulus"],
        ),
        (
            "action = \"hashmod\"\ntarget_label = \"h\"\nmodulus = 0",
            &["[0].modulus"],
        ),
        ("action = \"hashmod\"\nmodulus = 3", &["[0].target_label"]),
        (
            "action = \"hashmod\"\nmodulus = 3\ntarget_label = \"$1\"",
            &["[0].target_label"],
        ),
        ("action = \"lowercase\"", &["[0].target_label"]),
        (
            "action = \"uppercase\"\ntarget_label = \"a\"\nreplacement = \"x\"",
            &["[0].replacement"],
        ),
        ("action = \"keepequal\"", &["[0].target_label"]),
        (
            "action = \"dropequal\"\ntarget_label = \"a\"\nregex = \"x\"\nseparator = \",\"",
            &["[0].regex", "[0].separator"],
        ),
        (
            "action = \"labeldrop\"\nregex = \"x\"\nsource_labels = [\"a\"]\ntarget_label = \"b\"",
            &["[0].source_labels", "[0].target_label"],
        ),
        (
            "action = \"labelkeep\"\nreplacement = \"x\"\nmodulus = 2",
            &["[0].modulus", "[0].replacement"],
        ),
        (
            "action = \"labelmap\"\nsource_labels = [\"a\"]",
            &["[0].source_labels"],
        ),
        (
            "action = \"labelmap\"\nreplacement = \"not-a-name\"",
            &["[0].replacement"],
        ),
        (
            "source_labels = [\"bad-name\"]\ntarget_label = \"a\"",
            &["[0].source_labels[0]"],
        ),
    ];
    for (body, expected_paths) in cases {
        let toml_text = format!("[[relabel_configs]]\n{body}");
        let errors = Relabeler::new(&configs(&toml_text), KEY)
            .err()
            .unwrap_or_else(|| {
                panic!("accepted: {body}");
            });
        let mut paths: Vec<String> = errors.iter().map(|e| e.path.clone()).collect();
        paths.sort();
        let mut expected: Vec<String> =
            expected_paths.iter().map(|p| format!("{KEY}{p}")).collect();
        expected.sort();
        assert_eq!(paths, expected, "{body}: {errors:?}");
    }

    // Errors of several steps are all reported, each at its index.
    let errors = Relabeler::new(
        &configs(
            "[[relabel_configs]]\ntarget_label = \"ok\"\n\
             [[relabel_configs]]\naction = \"hashmod\"\ntarget_label = \"h\"\n\
             [[relabel_configs]]\nregex = \"[\"\ntarget_label = \"a\"",
        ),
        KEY,
    )
    .err()
    .unwrap();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [format!("{KEY}[1].modulus"), format!("{KEY}[2].regex")]
    );
    assert!(errors[1].to_string().contains("invalid regular expression"));

    // What Prometheus accepts is accepted.
    for body in [
        "target_label = \"${1}_x\"",
        "target_label = \"$name\"\nregex = \"(?P<name>.*)\"",
        "action = \"keep\"",
        "action = \"drop\"\nsource_labels = [\"__name__\"]\nregex = \"go_.*\"",
        "action = \"labelmap\"\nreplacement = \"k8s_$1\"\nregex = \"__meta_(.+)\"",
        "action = \"labeldrop\"\nregex = \"tmp_.*\"",
        "action = \"keepequal\"\ntarget_label = \"a\"\nsource_labels = [\"b\"]",
        "action = \"hashmod\"\ntarget_label = \"__tmp_h\"\nmodulus = 4",
    ] {
        let toml_text = format!("[[relabel_configs]]\n{body}");
        let cfgs = configs(&toml_text);
        assert!(cfgs[0].problems("x").is_empty(), "{body}");
        assert!(Relabeler::new(&cfgs, KEY).is_ok(), "{body}");
    }
    assert!(Relabeler::new(&[], KEY).unwrap().is_empty());
    // An empty target_label is unset, as in Prometheus.
    let cfgs = configs("[[relabel_configs]]\naction = \"labeldrop\"\ntarget_label = \"\"");
    assert!(Relabeler::new(&cfgs, KEY).is_ok());
}

#[test]
fn template_parsing_follows_go_expand() {
    let regex = Regex::new("^(?:(?P<first>a)(b)?)$").unwrap();
    let cases: &[(&str, &str)] = &[
        ("$1", "a"),
        ("${1}", "a"),
        ("$first", "a"),
        ("${first}", "a"),
        ("$2", ""),
        ("$3", ""),
        ("$01", ""),
        ("$0", "a"),
        ("x$1y", "x"),
        ("x${1}y", "xay"),
        ("$$", "$"),
        ("$$$1", "$a"),
        ("$", "$"),
        ("$-", "$-"),
        ("${", "${"),
        ("${1", "${1"),
        ("${}", "${}"),
        ("a$", "a$"),
        ("$unknown", ""),
        // Go takes letters in the Unicode sense: `$1ü` names group "1ü".
        ("ü$1ü", "ü"),
        ("ü${1}ü", "üaü"),
        ("$1.$2", "a."),
    ];
    let mut locs = regex.capture_locations();
    regex.captures_read(&mut locs, "a").unwrap();
    for &(template, expected) in cases {
        let mut out = String::from("garbage");
        Template::parse(template, &regex).expand(&locs, "a", &mut out);
        assert_eq!(out, expected, "template {template:?}");
    }
}

#[test]
fn label_helpers() {
    assert!(is_valid_label_name("_"));
    assert!(is_valid_label_name("a1_B"));
    assert!(!is_valid_label_name(""));
    assert!(!is_valid_label_name("1a"));
    assert!(!is_valid_label_name("a.b"));
    assert!(!is_valid_label_name("ä"));

    let mut l = labels(&[("b", "2"), ("a", "1"), ("b", "3")]);
    assert_eq!(l, vec![("a".into(), "1".into()), ("b".into(), "3".into())]);
    set(&mut l, "c", "4");
    set(&mut l, "a", "");
    set(&mut l, "zz", "");
    assert_eq!(l, labels(&[("b", "3"), ("c", "4")]));

    let mut l = labels(&[
        ("__address__", "h:1"),
        ("__meta_x", "y"),
        ("__name__", "up"),
        ("_single", "s"),
        ("job", "j"),
    ]);
    drop_internal(&mut l);
    assert_eq!(
        l,
        labels(&[("__name__", "up"), ("_single", "s"), ("job", "j")])
    );
}
