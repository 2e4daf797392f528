//! Relabeling settings: defaults, action names, validation errors with their key
//! paths, template parsing and the label helpers.

use super::*;

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
