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

#[path = "relabel_action_tests.rs"]
mod actions;
#[path = "relabel_config_tests.rs"]
mod config;
