//! Config validation: every error with its key path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::*;

#[test]
fn validation_reports_every_error_with_its_path() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            r#"logs.log_record = { any = [{ severity_below = "INFO" }, { body_matches = "(" }] }"#,
            vec!["logs.log_record.any[1].body_matches: invalid regex"],
        ),
        (
            r#"traces.span = { severity_below = "INFO" }"#,
            vec!["traces.span.severity_below: does not apply to spans"],
        ),
        (
            r#"logs.log_record = { name = "x" }"#,
            vec!["logs.log_record.name: does not apply to log records"],
        ),
        (
            r#"metrics.metric = { attribute = { key = "x" } }"#,
            vec!["metrics.metric.attribute: does not apply to metrics"],
        ),
        (
            r#"traces.span = { kind = "sideways" }"#,
            vec!["traces.span.kind: unknown span kind"],
        ),
        (
            r#"traces.span = { status_code = "bad" }"#,
            vec!["traces.span.status_code: unknown status code"],
        ),
        (
            r#"logs.log_record = { severity_below = "LOUD" }"#,
            vec!["logs.log_record.severity_below: expected a severity"],
        ),
        (
            r#"traces.span = { all = [] }"#,
            vec!["traces.span.all: must hold at least one condition"],
        ),
        (
            r#"traces.span = { not = { name_matches = ["ok", "["] } }"#,
            vec!["traces.span.not.name_matches: invalid regex"],
        ),
        (
            r#"traces.span = { attribute = { key = "a", equals = 1, matches = "x" } }"#,
            vec!["traces.span.attribute: give equals or matches, not both"],
        ),
        (
            r#"traces.span_event = { name_matches = "(" }
               metrics.data_point = { body_matches = "x" }"#,
            vec![
                "traces.span_event.name_matches: invalid regex",
                "metrics.data_point.body_matches: does not apply to data points",
            ],
        ),
        (
            r#"traces.span = { colour = "red" }"#,
            vec!["traces.span: unknown variant `colour`"],
        ),
        (
            r#"traces.spans = { name = "x" }"#,
            vec!["traces.spans: unknown field `spans`"],
        ),
    ];
    for (config, want) in cases {
        let got = errors(&FilterFactory, config);
        assert_eq!(got.len(), want.len(), "{config}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(g.starts_with(w), "{config}: got {g:?}, want {w:?}");
        }
    }
    assert!(errors(&FilterFactory, "").is_empty());
}
