#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::glob::Glob;
use super::*;
use serde::Deserialize;
use std::fs;
use std::path::Path;
use std::time::{Instant, UNIX_EPOCH};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn group(targets: &[&str], pairs: &[(&str, &str)], source: String) -> TargetGroup {
    TargetGroup {
        targets: targets.iter().map(|t| t.to_string()).collect(),
        labels: labels(pairs),
        source,
    }
}

/// Writes `content` to `path` and sets its modification time to `UNIX_EPOCH + secs`,
/// so that change detection does not depend on the clock's resolution.
fn write(path: &Path, content: &str, secs: u64) {
    fs::write(path, content).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn parses_json() {
    let path = Path::new("/etc/targets/nodes.json");
    let content = r#"[
        {"targets": ["10.0.0.1:9100", "node-2.example.com:9100"], "labels": {"env": "prod", "team": "db"}},
        {"targets": ["[::1]:9100"]},
        {"labels": {"empty": "yes"}}
    ]"#;
    let groups = parse_target_file(path, content).unwrap();
    let file = "/etc/targets/nodes.json";
    assert_eq!(
        groups,
        vec![
            group(
                &["10.0.0.1:9100", "node-2.example.com:9100"],
                &[("env", "prod"), ("team", "db"), (FILEPATH_LABEL, file)],
                format!("{file}:0"),
            ),
            group(
                &["[::1]:9100"],
                &[(FILEPATH_LABEL, file)],
                format!("{file}:1")
            ),
            group(
                &[],
                &[("empty", "yes"), (FILEPATH_LABEL, file)],
                format!("{file}:2"),
            ),
        ]
    );
}

#[test]
fn parses_yaml() {
    let content = "
- targets: ['a:1', b.example:2]
  labels:
    env: prod
    port: 9100
    enabled: true
    __meta_filepath: overridden
- targets: []
";
    for ext in ["yml", "yaml", "YAML"] {
        let name = format!("dir/t.{ext}");
        let groups = parse_target_file(Path::new(&name), content).unwrap();
        assert_eq!(
            groups,
            vec![
                group(
                    &["a:1", "b.example:2"],
                    &[
                        ("env", "prod"),
                        ("port", "9100"),
                        ("enabled", "true"),
                        (FILEPATH_LABEL, &name),
                    ],
                    format!("{name}:0"),
                ),
                group(&[], &[(FILEPATH_LABEL, &name)], format!("{name}:1")),
            ]
        );
    }
    assert_eq!(parse_target_file(Path::new("t.yml"), ""), Ok(vec![]));
    assert_eq!(
        parse_target_file(Path::new("t.yml"), "# nothing\n"),
        Ok(vec![])
    );
    assert_eq!(parse_target_file(Path::new("t.json"), "[]"), Ok(vec![]));
}

#[test]
fn rejects_bad_files_naming_the_culprit() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "t.json",
            r#"[{"targets": ["http://h:80"]}]"#,
            "\"http://h:80\"",
        ),
        (
            "t.json",
            r#"[{"targets": ["h:80/metrics"]}]"#,
            "without a path",
        ),
        ("t.yml", "- targets: ['h']", "has no port"),
        ("t.yml", "- targets: ['::1:9100']", "in brackets"),
        ("t.yml", "- targets: ['h:http']", "invalid port"),
        ("t.yml", "- targets: ['ok:1', 'h:99999']", "group 0"),
        (
            "t.json",
            r#"[{"targets": []}, {"labels": {"bad-name": "x"}}]"#,
            "group 1: \"bad-name\"",
        ),
        ("t.json", r#"[{"target": ["h:1"]}]"#, "unknown field"),
        ("t.json", r#"{"targets": ["h:1"]}"#, "expected a sequence"),
        ("t.json", "", "EOF"),
        ("t.yml", "- targets: [a:1\n", ""),
        ("t.yml", "- null\n", ""),
        ("t.txt", "[]", "unsupported file extension"),
    ];
    for (name, content, expected) in cases {
        let err = parse_target_file(Path::new(name), content).unwrap_err();
        assert!(err.contains(expected), "{name} {content:?}: {err}");
    }
}

#[test]
fn target_validation() {
    for ok in [
        "localhost:9100",
        "10.0.0.1:1",
        "node_1.example.com:65535",
        "[::1]:9100",
        "[fe80::1%eth0]:9100",
        "[2001:db8::1]:80",
    ] {
        assert_eq!(validate_target(ok), Ok(()), "{ok}");
    }
    for (bad, expected) in [
        ("", "empty target"),
        ("http://h:80", "scheme"),
        ("h:80/metrics", "path"),
        ("h:80?x=1", "contains '?'"),
        ("user@h:80", "contains '@'"),
        ("h :80", "contains ' '"),
        ("h", "no port"),
        (":9100", "no host"),
        ("h:0", "invalid port"),
        ("h:+80", "invalid port"),
        ("h:", "invalid port"),
        ("::1", "in brackets"),
        ("[::1]", "with a port"),
        ("[nope]:80", "not an IPv6 address"),
        ("a]b:80", "malformed host"),
    ] {
        let err = validate_target(bad).unwrap_err();
        assert!(err.contains(expected), "{bad}: {err}");
        if !bad.is_empty() {
            assert!(err.contains(&format!("{bad:?}")), "names the target: {err}");
        }
    }
}

#[test]
fn static_configs() {
    #[derive(Deserialize)]
    struct Wrapper {
        static_configs: Vec<StaticConfig>,
    }
    let wrapper: Wrapper = toml::from_str(
        r#"
[[static_configs]]
targets = ["a:1", "b:2"]
labels = { env = "prod" }
[[static_configs]]
targets = ["http://c:3", "d"]
labels = { "bad-name" = "x" }
"#,
    )
    .unwrap();
    let configs = wrapper.static_configs;
    assert!(configs[0].problems("k[0]").is_empty());
    let paths: Vec<String> = configs[1]
        .problems("k[1]")
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        paths,
        ["k[1].targets[0]", "k[1].targets[1]", "k[1].labels.bad-name"]
    );
    let groups = static_groups(&configs[..1]);
    assert_eq!(
        groups,
        vec![group(
            &["a:1", "b:2"],
            &[("env", "prod")],
            "static:0".to_string()
        )]
    );
    assert!(toml::from_str::<Wrapper>("[[static_configs]]\ntarget = []").is_err());
}

#[test]
fn file_sd_config() {
    #[derive(Deserialize)]
    struct Wrapper {
        file_sd_configs: Vec<FileSdConfig>,
    }
    let wrapper: Wrapper = toml::from_str(
        r#"
[[file_sd_configs]]
files = ["targets/*.json", "/etc/prom/nodes.yml"]
[[file_sd_configs]]
files = ["t-[0-9].yaml"]
refresh_interval = "30s"
"#,
    )
    .unwrap();
    let configs = wrapper.file_sd_configs;
    assert_eq!(configs[0].refresh_interval, Duration::from_secs(300));
    assert_eq!(configs[1].refresh_interval, Duration::from_secs(30));
    assert!(configs[0].problems("k").is_empty());
    assert!(configs[1].problems("k").is_empty());

    let bad = FileSdConfig {
        files: vec![
            "targets/*.txt".into(),
            "*/nodes.json".into(),
            "t-[.json".into(),
            "nodes.Json".into(),
            "ok.json".into(),
        ],
        refresh_interval: Duration::ZERO,
    };
    let errors = bad.problems("k");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "k.files[0]",
            "k.files[1]",
            "k.files[2]",
            "k.files[3]",
            "k.refresh_interval"
        ]
    );
    assert!(errors[1].message.contains("only the file name"));
    let empty = FileSdConfig::default();
    assert_eq!(empty.problems("k")[0].path, "k.files");
    assert!(
        toml::from_str::<Wrapper>("[[file_sd_configs]]\nfiles = []\nrefresh = \"1s\"").is_err()
    );
    assert!(
        toml::from_str::<Wrapper>("[[file_sd_configs]]\nfiles = []\nrefresh_interval = \"x\"")
            .is_err()
    );
}

#[test]
fn glob_syntax() {
    let cases: &[(&str, &str, bool)] = &[
        ("*.json", "a.json", true),
        ("*.json", ".hidden.json", true),
        ("*.json", "a.json.bak", false),
        ("*.json", "a.yml", false),
        ("*", "", true),
        ("a*b*c", "abc", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("a*c", "acac", true),
        ("?.yml", "a.yml", true),
        ("?.yml", "ab.yml", false),
        ("t-[0-9].yml", "t-5.yml", true),
        ("t-[0-9].yml", "t-x.yml", false),
        ("t-[^0-9].yml", "t-x.yml", true),
        ("t-[^0-9].yml", "t-5.yml", false),
        ("t-[abc].yml", "t-b.yml", true),
        ("t-[a-cx].yml", "t-x.yml", true),
        ("\\*.json", "*.json", true),
        ("\\*.json", "a.json", false),
        ("[\\]].json", "].json", true),
        ("ü*", "über.json", true),
    ];
    for &(pattern, name, expected) in cases {
        let glob = Glob::parse(pattern).unwrap();
        assert_eq!(glob.matches(name), expected, "{pattern} vs {name}");
    }
    for bad in ["[", "[a-", "[]", "a\\", "[z-a]", "[-a]"] {
        assert!(Glob::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn expands_globs_in_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["b.json", "a.json", "c.yml", "a.json.bak"] {
        fs::write(dir.path().join(name), "[]").unwrap();
    }
    fs::create_dir(dir.path().join("sub.json")).unwrap();
    let pattern = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
    let found = expand_globs(&[
        pattern("*.json"),
        pattern("c.yml"),
        pattern("a.json"),
        pattern("missing.yml"),
        pattern("[.json"),
        pattern("nodir/*.json"),
    ]);
    assert_eq!(
        found,
        vec![
            dir.path().join("a.json"),
            dir.path().join("b.json"),
            dir.path().join("c.yml"),
        ]
    );
    assert_eq!(
        expand_globs(&[pattern("?.yml")]),
        vec![dir.path().join("c.yml")]
    );
}

#[test]
fn watcher_follows_changes() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = dir.path().join("nodes.json");
    let extra = dir.path().join("extra.yml");
    write(
        &nodes,
        r#"[{"targets": ["a:1"], "labels": {"env": "prod"}}]"#,
        1_000,
    );
    let config = FileSdConfig {
        files: vec![
            dir.path().join("*.json").to_str().unwrap().to_string(),
            extra.to_str().unwrap().to_string(),
        ],
        ..FileSdConfig::default()
    };
    let mut watcher = FileWatcher::new(std::slice::from_ref(&config));
    let start = Instant::now();
    let at = |secs: u64| start + Duration::from_secs(secs);
    let nodes_label = nodes.to_str().unwrap();
    let extra_label = extra.to_str().unwrap();

    // The first poll reports the groups.
    let (groups, errors) = watcher.poll_at(at(0));
    assert!(errors.is_empty(), "{errors:?}");
    let first = vec![group(
        &["a:1"],
        &[("env", "prod"), (FILEPATH_LABEL, nodes_label)],
        format!("{nodes_label}:0"),
    )];
    assert_eq!(groups, Some(first.clone()));

    // Nothing changed: nothing to report.
    assert_eq!(watcher.poll_at(at(5)), (None, vec![]));

    // A rewrite of the same size with a new mtime is picked up.
    write(
        &nodes,
        r#"[{"targets": ["b:2"], "labels": {"env": "prod"}}]"#,
        2_000,
    );
    let (groups, errors) = watcher.poll_at(at(10));
    assert!(errors.is_empty(), "{errors:?}");
    let second = vec![group(
        &["b:2"],
        &[("env", "prod"), (FILEPATH_LABEL, nodes_label)],
        format!("{nodes_label}:0"),
    )];
    assert_eq!(groups, Some(second.clone()));

    // A configured file that appears is read; a new glob match too.
    write(&extra, "- targets: ['c:3']\n", 3_000);
    let more = dir.path().join("more.json");
    write(&more, r#"[{"targets": ["d:4"]}]"#, 3_000);
    let (groups, _) = watcher.poll_at(at(15));
    let more_label = more.to_str().unwrap();
    let third = vec![
        group(
            &["c:3"],
            &[(FILEPATH_LABEL, extra_label)],
            format!("{extra_label}:0"),
        ),
        group(
            &["d:4"],
            &[(FILEPATH_LABEL, more_label)],
            format!("{more_label}:0"),
        ),
        second[0].clone(),
    ];
    assert_eq!(groups, Some(third.clone()));

    // A broken file keeps its groups and the error is reported once per change.
    write(&nodes, r#"[{"targets": ["http://b:2"]}]"#, 4_000);
    let (groups, errors) = watcher.poll_at(at(20));
    assert_eq!(groups, None);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with(nodes_label), "{errors:?}");
    assert!(errors[0].contains("\"http://b:2\""), "{errors:?}");
    assert_eq!(watcher.poll_at(at(25)), (None, vec![]));

    // Fixed again.
    write(&nodes, r#"[{"targets": ["e:5"]}]"#, 5_000);
    let (groups, errors) = watcher.poll_at(at(30));
    assert!(errors.is_empty());
    let groups = groups.unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[2].targets, ["e:5"]);

    // A removed file loses its groups.
    fs::remove_file(&more).unwrap();
    let (groups, errors) = watcher.poll_at(at(35));
    assert!(errors.is_empty());
    let groups = groups.unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0], third[0]);
    assert_eq!(groups[1].source, format!("{nodes_label}:0"));

    fs::remove_file(&extra).unwrap();
    fs::remove_file(&nodes).unwrap();
    assert_eq!(watcher.poll_at(at(40)), (Some(vec![]), vec![]));
    assert_eq!(watcher.poll_at(at(45)), (None, vec![]));
    let _ = first;
}

#[test]
fn watcher_rereads_everything_each_refresh_interval() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = dir.path().join("nodes.json");
    write(&nodes, r#"[{"targets": ["a:1"]}]"#, 1_000);
    let config = FileSdConfig {
        files: vec![nodes.to_str().unwrap().to_string()],
        refresh_interval: Duration::from_secs(60),
    };
    let mut watcher = FileWatcher::new(&[config]);
    let start = Instant::now();
    assert!(watcher.poll_at(start).0.is_some());
    // Same size, same mtime: invisible to the stat...
    write(&nodes, r#"[{"targets": ["b:1"]}]"#, 1_000);
    assert_eq!(
        watcher.poll_at(start + Duration::from_secs(30)),
        (None, vec![])
    );
    // ...until the full re-read.
    let (groups, _) = watcher.poll_at(start + Duration::from_secs(60));
    assert_eq!(groups.unwrap()[0].targets, ["b:1"]);

    // A broken file is reported again at every full re-read, as Prometheus does.
    write(&nodes, "[{", 2_000);
    assert_eq!(watcher.poll_at(start + Duration::from_secs(65)).1.len(), 1);
    assert_eq!(watcher.poll_at(start + Duration::from_secs(70)).1.len(), 0);
    assert_eq!(watcher.poll_at(start + Duration::from_secs(125)).1.len(), 1);
}

#[test]
fn watcher_refuses_huge_files() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let file = fs::File::create(&big).unwrap();
    file.set_len(MAX_TARGET_FILE_BYTES + 1).unwrap();
    let mut watcher = FileWatcher::new(&[FileSdConfig {
        files: vec![big.to_str().unwrap().to_string()],
        ..FileSdConfig::default()
    }]);
    let (groups, errors) = watcher.poll();
    assert_eq!(groups, Some(vec![]));
    assert!(errors[0].contains("larger than"), "{errors:?}");
}

#[test]
fn poll_interval() {
    let config = |secs: u64| FileSdConfig {
        files: vec!["x.json".into()],
        refresh_interval: Duration::from_secs(secs),
    };
    assert_eq!(
        FileWatcher::new(&[config(300)]).poll_interval(),
        MAX_POLL_INTERVAL
    );
    assert_eq!(
        FileWatcher::new(&[config(300), config(2)]).poll_interval(),
        Duration::from_secs(2)
    );
    assert_eq!(
        FileWatcher::new(&[config(0)]).poll_interval(),
        MIN_POLL_INTERVAL
    );
    assert_eq!(FileWatcher::new(&[]).poll_interval(), MAX_POLL_INTERVAL);
}
