//! One test per rule, each with its near misses.

use super::super::lexer::{parse_float, parse_seconds_timestamp};
use super::*;

use Format::{OpenMetrics as Om, Text};

#[test]
fn content_type_selects_the_format() {
    for (content_type, format) in [
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Om,
        ),
        ("application/openmetrics-text;version=0.0.1", Om),
        ("application/openmetrics-text", Om),
        ("  Application/OpenMetrics-Text ; version=1.0.0", Om),
        ("text/plain; version=0.0.4; charset=utf-8", Text),
        ("text/plain", Text),
        ("application/openmetrics-textual", Text),
        ("application/json", Text),
        ("", Text),
    ] {
        assert_eq!(
            Format::from_content_type(content_type),
            format,
            "{content_type}"
        );
    }
}

#[test]
fn accept_header_is_prometheus_s() {
    assert_eq!(
        ACCEPT_HEADER,
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    );
}

#[test]
fn floats_follow_go_parse_float() {
    for (text, value) in [
        ("1", 1.0),
        ("-1.5", -1.5),
        ("+2", 2.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("1e+3", 1000.0),
        ("1e-400", 0.0),
        ("Inf", f64::INFINITY),
        ("+inf", f64::INFINITY),
        ("-INF", f64::NEG_INFINITY),
        ("Infinity", f64::INFINITY),
        ("-infinity", f64::NEG_INFINITY),
    ] {
        assert_eq!(parse_float(text), Some(value), "{text}");
    }
    assert!(parse_float("NaN").unwrap().is_nan());
    assert!(parse_float("nan").unwrap().is_nan());
    for text in [
        "", "+", "-", ".", "e3", "1e", "1e400", "-1e400", "+NaN", "-nan", "nana", "infin", "0x10",
        "1_000", "1,5", " 1", "1 ", "inf1", "1.2.3", "∞",
    ] {
        assert_eq!(parse_float(text), None, "{text:?}");
    }
}

#[test]
fn openmetrics_timestamps_are_seconds_rounded_to_milliseconds() {
    assert_eq!(parse_seconds_timestamp("1.001"), Ok(1001));
    assert_eq!(
        parse_seconds_timestamp("1700000000.123"),
        Ok(1_700_000_000_123)
    );
    assert_eq!(parse_seconds_timestamp("-0.5"), Ok(-500));
    assert_eq!(
        parse_seconds_timestamp("1e15"),
        Ok(1_000_000_000_000_000_000)
    );
    for text in ["1e16", "-1e17", "NaN", "+Inf", "", "1s"] {
        assert!(parse_seconds_timestamp(text).is_err(), "{text}");
    }
}

#[test]
fn text_timestamps_are_integer_milliseconds() {
    let families = ok("a 1 -9223372036854775808\nb 1 +5\n", Text);
    assert_eq!(families[0].samples[0].timestamp_ms, Some(i64::MIN));
    assert_eq!(families[1].samples[0].timestamp_ms, Some(5));
    for line in ["a 1 9223372036854775808", "a 1 1.0", "a 1 1e3", "a 1 0x10"] {
        assert!(
            err(line, Text).message.contains("invalid timestamp"),
            "{line}"
        );
    }
}

#[test]
fn values_are_borrowed_unless_escaped() {
    let input = "# HELP m plain help\nm{a=\"plain\",b=\"esc\\\\aped\"} 1\n";
    let families = ok(input, Text);
    assert!(matches!(
        families[0].help,
        Some(Cow::Borrowed("plain help"))
    ));
    let labels = &families[0].samples[0].labels;
    assert!(matches!(labels[0].1, Cow::Borrowed("plain")));
    assert!(matches!(&labels[1].1, Cow::Owned(v) if v == "esc\\aped"));
    let families = ok("# HELP m a \\\\ b\nm 1\n", Text);
    assert_eq!(families[0].help.as_deref(), Some("a \\ b"));
}

#[test]
fn label_lookup() {
    let families = ok("m{a=\"1\",b=\"x\\ny\"} 1\n", Text);
    let sample = &families[0].samples[0];
    assert_eq!(sample.label("a"), Some("1"));
    assert_eq!(sample.label("b"), Some("x\ny"));
    assert_eq!(sample.label("c"), None);
    assert_eq!(sample.label("A"), None);
}

#[test]
fn escapes_match_prometheus() {
    let families = ok(r#"m{a="\\",b="\"",c="\n",d="\t\x",e="\\n"} 1"#, Text);
    let sample = &families[0].samples[0];
    assert_eq!(sample.label("a"), Some("\\"));
    assert_eq!(sample.label("b"), Some("\""));
    assert_eq!(sample.label("c"), Some("\n"));
    assert_eq!(sample.label("d"), Some("\\t\\x"), "unknown escapes stay");
    assert_eq!(sample.label("e"), Some("\\n"));
    // Text HELP has no `\"` escape; OpenMetrics HELP has.
    let families = ok("# HELP m say \\\"hi\\\" \\n\\\\ \\\nm 1\n", Text);
    assert_eq!(families[0].help.as_deref(), Some("say \\\"hi\\\" \n\\ \\"));
    let families = ok("# HELP m say \\\"hi\\\"\nm 1\n# EOF\n", Om);
    assert_eq!(families[0].help.as_deref(), Some("say \"hi\""));
    // A backslash just before the closing quote escapes it: unterminated.
    assert!(err("m{a=\"\\\"} 1", Text).message.contains("unterminated"));
}

#[test]
fn suffixes_identify_the_sample_role() {
    let input = "\
# TYPE c counter
c_total 1
c_created 2
# TYPE h histogram
h_bucket{le=\"1\"} 1
h_count 1
h_sum 1
h_created 1
# TYPE g gaugehistogram
g_bucket{le=\"1\"} 1
g_gcount 1
g_gsum 1
# TYPE s summary
s{quantile=\"0.5\"} 1
s_count 1
s_sum 1
s_created 1
# TYPE i info
i_info 1
# TYPE st stateset
st{st=\"on\"} 1
# TYPE u unknown
u 1
# EOF
";
    let families = ok(input, Om);
    let suffixes: Vec<Vec<&str>> = families
        .iter()
        .map(|f| f.samples.iter().map(|s| suffix_of(f, s)).collect())
        .collect();
    assert_eq!(
        suffixes,
        vec![
            vec!["_total", "_created"],
            vec!["_bucket", "_count", "_sum", "_created"],
            vec!["_bucket", "_gcount", "_gsum"],
            vec!["", "_count", "_sum", "_created"],
            vec!["_info"],
            vec![""],
            vec![""],
        ]
    );
    let kinds: Vec<MetricKind> = families.iter().map(|f| f.kind).collect();
    use MetricKind::*;
    assert_eq!(
        kinds,
        vec![
            Counter,
            Histogram,
            GaugeHistogram,
            Summary,
            Info,
            StateSet,
            Unknown
        ]
    );
    assert_eq!(families[0].suffix_of(&families[0].samples[0]), "_total");
}

#[test]
fn text_families_follow_their_type_lines() {
    let input = "\
# TYPE h histogram
h_bucket{le=\"0.5\"} 1
h_bucket{le=\"+Inf\"} 2
h_sum 3
h_count 2
h 7
# TYPE s summary
s_count 1
s{quantile=\"1\"} 2
s_created 1
# TYPE c counter
c_total 1
c 2
";
    let families = ok(input, Text);
    let dumped: Vec<(&str, MetricKind, usize)> = families
        .iter()
        .map(|f| (f.name, f.kind, f.samples.len()))
        .collect();
    use MetricKind::*;
    assert_eq!(
        dumped,
        vec![
            ("h", Histogram, 4),
            // A bare sample of a histogram's name is a metric of its own, not a bucket.
            ("h", Unknown, 1),
            ("s", Summary, 2),
            ("s_created", Unknown, 1),
            // Families are in order of first appearance, declaration included.
            ("c", Counter, 1),
            ("c_total", Unknown, 1),
        ]
    );
}

#[test]
fn text_metadata_rules() {
    // HELP and TYPE in either order, HELP after samples.
    ok("# HELP a x\n# TYPE a gauge\na 1\n", Text);
    ok("# TYPE a gauge\n# HELP a x\na 1\n", Text);
    ok("# TYPE a gauge\na 1\n# HELP a x\n", Text);
    // Samples of a family resume after other families, as in expfmt.
    let families = ok("# TYPE a gauge\na 1\nb 1\na 2\n", Text);
    assert_eq!(families[0].samples.len(), 2);
    // The TYPE of a histogram after one of its `_count` samples is fine: that sample
    // was an untyped family of its own.
    ok("h_count 1\n# TYPE h histogram\nh_count 2\n", Text);
    assert_eq!(err("a 1\n# TYPE a gauge\n", Text).line, 2);
    assert_eq!(err("# TYPE a gauge\n# TYPE a gauge\n", Text).line, 2);
    assert_eq!(err("# TYPE a gauge\n\n\n# TYPE a counter\n", Text).line, 4);
    assert_eq!(err("# HELP a x\n# HELP a x\n", Text).line, 2);
    assert_eq!(err("# TYPE a Counter\n", Text).line, 1);
    assert_eq!(err("# TYPE a unknown\n", Text).line, 1);
    assert_eq!(err("# TYPE a info\n", Text).line, 1);
    assert_eq!(err("# TYPE 1a gauge\n", Text).line, 1);
    assert_eq!(err("# TYPE a{} gauge\n", Text).line, 1);
    // Not metadata: plain comments, whatever they say.
    ok("# HELPER a x\n#TYPEa b\n# type a gauge\n# TYPE\n#\n", Text);
}

#[test]
fn text_whitespace_is_free() {
    let families = ok(
        "\t m \t{\ta\t=\t\"1\"\t,\tb=\"2\" , } \t 3 \t 4 \t\n  \t\n",
        Text,
    );
    let sample = &families[0].samples[0];
    assert_eq!((sample.value, sample.timestamp_ms), (3.0, Some(4)));
    assert_eq!(sample.labels.len(), 2);
    ok("m{} 1\nm {} 1\nm{}1\n", Text);
}

#[test]
fn label_set_near_misses() {
    for line in [
        "m{,} 1",
        "m{a=\"1\",,} 1",
        "m{a=\"1\" b=\"2\"} 1",
        "m{a=\"1\"",
        "m{a=\"1\",",
        "m{a=} 1",
        "m{a} 1",
        "m{=\"1\"} 1",
        "m{a=\"1\"}} 1",
        "m{a=\"1\",a=\"2\"} 1",
        "m{__name__=\"x\"} 1",
        "m{é=\"x\"} 1",
        "m{a-b=\"x\"} 1",
        "m{a=\"x\"é} 1",
        "mé 1",
        "m}",
        "{",
        "{}",
        "{} 1",
        "\"",
        "m{\"",
        "m{\"a",
        "m{a=\"\\",
    ] {
        for format in [Text, Om] {
            let input = format!("{line}\n# EOF\n");
            let error = err(&input, format);
            assert_eq!(error.line, 1, "{line:?} {format:?}: {error}");
        }
    }
    // Allowed: a trailing comma (both formats, as Prometheus), label names with
    // leading underscores and digits, `}` `,` `=` `#` inside values.
    for line in [
        "m{a=\"1\",} 1",
        "m{_a1=\"}\",__b=\",=#{\"} 1",
        "m{a=\"\"} 1",
    ] {
        ok(&format!("{line}\n# EOF\n"), Om);
        ok(line, Text);
    }
}

#[test]
fn sample_line_near_misses() {
    for line in [
        "m",
        "m ",
        "m{}",
        "m one",
        "m 1 2 3",
        "m 1 2 x",
        "m - 1",
        "m 0x1p3",
        "1m 1",
        ":m:x 1 ts",
        "m 1\u{0}",
    ] {
        assert_eq!(err(line, Text).line, 1, "{line:?}");
    }
    ok(":m:x 1\n_m 2\nm_ 3\n", Text);
}

#[test]
fn histogram_and_summary_labels_are_checked() {
    ok(
        "# TYPE h histogram\nh_bucket{le=\"1e3\"} 1\nh_sum{le=\"x\"} 1\n",
        Text,
    );
    for input in [
        "# TYPE h histogram\nh_bucket 1\n",
        "# TYPE h histogram\nh_bucket{le=\"\"} 1\n",
        "# TYPE h histogram\nh_bucket{le=\"inf\"} 1\nh_bucket{le=\"1,5\"} 1\n",
        "# TYPE s summary\ns{q=\"0.5\"} 1\n",
        "# TYPE s summary\ns{quantile=\"half\"} 1\n",
    ] {
        let error = err(input, Text);
        assert!(error.line >= 2, "{input:?}: {error}");
        let error = err(&format!("{input}# EOF\n"), Om);
        assert!(error.line >= 2, "{input:?}: {error}");
    }
    assert!(
        err("# TYPE g gaugehistogram\ng_bucket 1\n# EOF\n", Om)
            .message
            .contains("\"le\"")
    );
}

#[test]
fn untyped_samples_group_by_name() {
    let families = ok("a 1\na{x=\"1\"} 2\nb 3\na_count 4\n", Text);
    let names: Vec<(&str, usize)> = families.iter().map(|f| (f.name, f.samples.len())).collect();
    assert_eq!(names, vec![("a", 2), ("b", 1), ("a_count", 1)]);
    assert!(families.iter().all(|f| f.kind == MetricKind::Unknown));
    let families = ok("a 1\na{x=\"1\"} 2\nb 3\n# EOF\n", Om);
    let names: Vec<(&str, usize)> = families.iter().map(|f| (f.name, f.samples.len())).collect();
    assert_eq!(names, vec![("a", 2), ("b", 1)]);
}

#[test]
fn empty_and_metadata_only_inputs() {
    assert!(ok("", Text).is_empty());
    assert!(ok("\n\n", Text).is_empty());
    assert!(ok("# TYPE a gauge\n# HELP a x", Text).is_empty());
    assert!(ok("# EOF", Om).is_empty());
    assert!(ok("# EOF\n", Om).is_empty());
    assert!(ok("# TYPE a gauge\n# HELP a x\n# EOF\n", Om).is_empty());
    assert_eq!(err("", Om).line, 1);
    assert_eq!(err("\n", Om).line, 1);
    assert_eq!(err("# EOF\n\n", Om).line, 2);
    assert_eq!(err("# EOF\n# EOF\n", Om).line, 2);
    assert_eq!(err("a 1\n", Om).line, 2);
    // In the text format `# EOF` is a comment like any other.
    assert_eq!(ok("a 1\n# EOF\nb 2\n", Text).len(), 2);
}

#[test]
fn openmetrics_metadata_rules() {
    let families = ok("# HELP a\na 1\n# HELP b \nb 1\n# EOF\n", Om);
    assert_eq!(families[0].help.as_deref(), Some(""));
    assert_eq!(families[1].help.as_deref(), Some(""));
    let families = ok(
        "# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1\n# EOF\n",
        Om,
    );
    assert_eq!(families[0].unit, Some("seconds"));
    for (input, line) in [
        ("# TYPE a gauge\n# HELP a x\n# HELP a y\n# EOF\n", 3),
        ("# TYPE a gauge\na 1\n# TYPE a gauge\n# EOF\n", 3),
        ("# UNIT a_s s\n# UNIT a_s s\n# EOF\n", 2),
        ("# UNIT as s\n# EOF\n", 1),
        ("# UNIT a_s s.s\n# EOF\n", 1),
        ("#  TYPE a gauge\n# EOF\n", 1),
        ("# TYPE  a gauge\n# EOF\n", 1),
        ("# TYPE a  gauge\n# EOF\n", 1),
        ("# TYPE a gauge \n# EOF\n", 1),
        ("# TYPE a GAUGE\n# EOF\n", 1),
        ("# TYPE a\n# EOF\n", 1),
        ("#TYPE a gauge\n# EOF\n", 1),
        ("# EOF \n", 1),
        ("#\n# EOF\n", 1),
        (" a 1\n# EOF\n", 1),
        ("a 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n", 4),
    ] {
        assert_eq!(err(input, Om).line, line, "{input:?}");
    }
}

#[test]
fn openmetrics_sample_rules() {
    let families = ok(
        "# TYPE c counter\nc_total 1 1.5 # {a=\"b\"} 2 3.25\n# EOF\n",
        Om,
    );
    let sample = &families[0].samples[0];
    assert_eq!(sample.timestamp_ms, Some(1500));
    let exemplar = sample.exemplar.as_ref().unwrap();
    assert_eq!((exemplar.value, exemplar.timestamp_ms), (2.0, Some(3250)));
    for line in [
        "c_total 1 # {a=\"b\"}",
        "c_total 1 # {a=\"b\"} ",
        "c_total 1 # {a=\"b\"} 1 2 3",
        "c_total 1 # {a=\"b\"}  1",
        "c_total 1 # {a=\"b\"} x",
        "c_total 1 # a=\"b\" 1",
        "c_total 1 #",
        "c_total 1  # {} 1",
        "c_total 1 1 #{} 1",
        "c_total 1 1 2",
        "c_total 1\t1",
        "c_total 1 1 # {} 1 #",
        "c_total 1 # {a=\"1\",a=\"2\"} 1",
    ] {
        let input = format!("# TYPE c counter\n{line}\n# EOF\n");
        assert_eq!(err(&input, Om).line, 2, "{line:?}");
    }
    // Exactly 128 characters of exemplar labels is fine; UTF-8 characters count once.
    let value = "é".repeat(120);
    ok(
        &format!("# TYPE c counter\nc_total 1 # {{trace_id=\"{value}\"}} 1\n# EOF\n"),
        Om,
    );
    let value = "é".repeat(121);
    err(
        &format!("# TYPE c counter\nc_total 1 # {{trace_id=\"{value}\"}} 1\n# EOF\n"),
        Om,
    );
    // Exemplars on buckets of gauge histograms too, never on other samples.
    ok(
        "# TYPE g gaugehistogram\ng_bucket{le=\"1\"} 1 # {} 1\n# EOF\n",
        Om,
    );
    for line in ["h_count 1 # {} 1", "h_sum 1 # {} 1"] {
        err(&format!("# TYPE h histogram\n{line}\n# EOF\n"), Om);
    }
    err("u 1 # {} 1\n# EOF\n", Om);
}

#[test]
fn openmetrics_families_are_contiguous() {
    ok(
        "# TYPE a counter\na_total 1\na_created 1\na_total{x=\"1\"} 1\n# EOF\n",
        Om,
    );
    for (input, line) in [
        ("a 1\nb 1\na 1\n# EOF\n", 3),
        ("# TYPE a counter\na_total 1\nb 1\na_total 1\n# EOF\n", 4),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nx 1\nh_sum 1\n# EOF\n",
            4,
        ),
        ("# TYPE a counter\na_total 1\na 1\n# EOF\n", 3),
    ] {
        assert_eq!(err(input, Om).line, line, "{input:?}");
    }
}

#[test]
fn quoted_names() {
    let input = "# TYPE \"a.b\" counter\n{\"a.b_total\",\"l.x\"=\"1\"} 1\n# EOF\n";
    let families = ok(input, Om);
    assert_eq!(families[0].name, "a.b");
    assert_eq!(families[0].samples[0].name, "a.b_total");
    assert_eq!(families[0].samples[0].label("l.x"), Some("1"));
    for line in [
        "{\"\"} 1",
        "m{\"\"=\"x\"} 1",
        "{\"a\",\"b\"} 1",
        "m{\"b\"} 1",
        "{a=\"1\",\"b\"} 1",
        "{\"a\\n\"} 1",
    ] {
        assert_eq!(err(line, Text).line, 1, "{line:?}");
    }
}

#[test]
fn errors_display_their_line() {
    let error = err("a 1\nb\n", Text);
    assert_eq!(error.line, 2);
    assert_eq!(error.to_string(), format!("line 2: {}", error.message));
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert!(boxed.to_string().starts_with("line 2: "));
}

#[test]
fn weird_inputs_do_not_panic() {
    let long = "9".repeat(5000);
    let deep = "{".repeat(10_000);
    let nested_quotes = "\"".repeat(10_001);
    for input in [
        long.as_str(),
        &format!("m {long}"),
        &format!("m 1 {long}"),
        &format!("m{{a=\"{long}\"}} 1"),
        deep.as_str(),
        nested_quotes.as_str(),
        "\u{feff}m 1",
        "m\u{a0}1",
        "\0",
        "#\0",
        "# TYPE m histogram\nm_bucket{le=\"é\"} 1",
        "# HELP m \\",
        "\r\n\r\n",
        "m{a=\"\\é\"} 1",
    ] {
        for format in [Text, Om] {
            let _ = parse(input, format);
            let _ = parse(&format!("{input}\n# EOF\n"), format);
        }
    }
    assert!(ok(&format!("m 1{}", "e-3000"), Text)[0].samples[0].value == 0.0);
    assert_eq!(
        ok("m{a=\"\\é\"} 1", Text)[0].samples[0].label("a"),
        Some("\\é")
    );
}
