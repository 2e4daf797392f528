//! Unit tests of `Batch`: counting, sizing, protobuf encoding, appending and splitting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::attrs::string_kv;
use crate::{Batch, Signal, metric_point_count};
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric,
    number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn resource(name: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![string_kv("service.name", name)],
        ..Resource::default()
    })
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        version: "1.0".into(),
        ..InstrumentationScope::default()
    })
}

fn span(name: &str) -> Span {
    Span {
        name: name.into(),
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        ..Span::default()
    }
}

/// Spans named `r{resource}s{scope}-{index}`, `counts[r][s]` of them per scope.
fn traces(counts: &[&[usize]]) -> Batch {
    Batch::Traces(
        counts
            .iter()
            .enumerate()
            .map(|(r, scopes)| ResourceSpans {
                resource: resource(&format!("r{r}")),
                scope_spans: scopes
                    .iter()
                    .enumerate()
                    .map(|(s, &n)| ScopeSpans {
                        scope: scope(&format!("r{r}s{s}")),
                        spans: (0..n).map(|i| span(&format!("r{r}s{s}-{i}"))).collect(),
                        schema_url: format!("scope-schema-{r}{s}"),
                    })
                    .collect(),
                schema_url: format!("resource-schema-{r}"),
            })
            .collect(),
    )
}

fn logs(counts: &[usize]) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: resource("logs"),
        scope_logs: counts
            .iter()
            .enumerate()
            .map(|(s, &n)| ScopeLogs {
                scope: scope(&format!("s{s}")),
                log_records: (0..n)
                    .map(|i| LogRecord {
                        severity_text: format!("s{s}-{i}"),
                        time_unix_nano: i as u64,
                        ..LogRecord::default()
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect(),
        schema_url: String::new(),
    }])
}

fn number_points(n: usize) -> Vec<NumberDataPoint> {
    (0..n)
        .map(|i| NumberDataPoint {
            time_unix_nano: i as u64 + 1,
            value: Some(number_data_point::Value::AsInt(i as i64)),
            ..NumberDataPoint::default()
        })
        .collect()
}

fn metric(name: &str, data: metric::Data) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name} description"),
        unit: "By".into(),
        metadata: vec![string_kv("meta", name)],
        data: Some(data),
    }
}

/// One metric of every type: 2 gauge + 5 sum + 3 histogram + 2 exponential + 4 summary
/// points, plus a metric without data = 16 points.
fn all_metric_types() -> Batch {
    let metrics = vec![
        metric(
            "gauge",
            metric::Data::Gauge(Gauge {
                data_points: number_points(2),
            }),
        ),
        metric(
            "sum",
            metric::Data::Sum(Sum {
                data_points: number_points(5),
                aggregation_temporality: 2,
                is_monotonic: true,
            }),
        ),
        metric(
            "histogram",
            metric::Data::Histogram(Histogram {
                data_points: (0..3)
                    .map(|i| HistogramDataPoint {
                        count: i,
                        bucket_counts: vec![i],
                        ..HistogramDataPoint::default()
                    })
                    .collect(),
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "exponential",
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint::default(); 2],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "summary",
            metric::Data::Summary(Summary {
                data_points: (0..4)
                    .map(|i| SummaryDataPoint {
                        count: i,
                        ..SummaryDataPoint::default()
                    })
                    .collect(),
            }),
        ),
        Metric {
            name: "no data".into(),
            ..Metric::default()
        },
    ];
    Batch::Metrics(vec![ResourceMetrics {
        resource: resource("metrics"),
        scope_metrics: vec![ScopeMetrics {
            scope: scope("m"),
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

fn span_names(batch: &Batch) -> Vec<String> {
    let Batch::Traces(rs) = batch else {
        panic!("not traces: {batch:?}")
    };
    rs.iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.clone())
        .collect()
}

/// Every (resource name, scope name, span name) triple, to check that items keep their
/// resource and scope.
fn span_owners(batch: &Batch) -> Vec<(String, String, String)> {
    let Batch::Traces(rs) = batch else {
        panic!("not traces: {batch:?}")
    };
    let mut out = Vec::new();
    for r in rs {
        let rname = crate::attrs::get_str(&r.resource.as_ref().unwrap().attributes, "service.name")
            .unwrap()
            .to_string();
        for s in &r.scope_spans {
            let sname = s.scope.as_ref().unwrap().name.clone();
            assert_eq!(
                s.schema_url,
                format!("scope-schema-{}", &sname[1..].replace('s', ""))
            );
            for span in &s.spans {
                out.push((rname.clone(), sname.clone(), span.name.clone()));
            }
        }
        assert_eq!(r.schema_url, format!("resource-schema-{}", &rname[1..]));
    }
    out
}

#[test]
fn signal_names() {
    for signal in Signal::ALL {
        assert_eq!(Signal::parse(signal.as_str()), Some(signal));
        assert_eq!(signal.to_string(), signal.as_str());
        assert_eq!(Batch::empty(signal).signal(), signal);
        assert!(Batch::empty(signal).is_empty());
    }
    assert_eq!(Signal::parse("profiles"), None);
    assert_eq!(Signal::Metrics.item_noun(), "metric_points");
}

#[test]
fn item_count_per_signal() {
    assert_eq!(traces(&[&[2, 3], &[1, 4]]).item_count(), 10);
    assert_eq!(traces(&[&[0], &[]]).item_count(), 0);
    assert!(traces(&[&[0], &[]]).is_empty());
    assert_eq!(logs(&[3, 0, 2]).item_count(), 5);
    let metrics = all_metric_types();
    assert_eq!(metrics.item_count(), 16);
    let Batch::Metrics(rm) = &metrics else {
        unreachable!()
    };
    let per_metric: Vec<usize> = rm[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| metric_point_count(m.data.as_ref()))
        .collect();
    assert_eq!(per_metric, [2, 5, 3, 2, 4, 0]);
}

#[test]
fn byte_size_matches_encoded_request() {
    for batch in [
        traces(&[&[2, 3], &[1, 4]]),
        traces(&[&[200]]),
        logs(&[3, 0, 2]),
        all_metric_types(),
        Batch::empty(Signal::Traces),
        Batch::empty(Signal::Metrics),
        Batch::empty(Signal::Logs),
    ] {
        let encoded = batch.encode_request();
        assert_eq!(batch.byte_size(), encoded.len(), "{batch:?}");
        let mut into = vec![0xaa];
        batch.encode_request_into(&mut into);
        assert_eq!(into[0], 0xaa, "encode_request_into must append");
        assert_eq!(&into[1..], &encoded[..]);
    }
}

#[test]
fn protobuf_decode_request_round_trip() {
    for batch in [
        traces(&[&[2, 3], &[1, 4]]),
        logs(&[3, 0, 2]),
        all_metric_types(),
    ] {
        let bytes = batch.encode_request();
        assert_eq!(
            Batch::decode_request(batch.signal(), &bytes).unwrap(),
            batch
        );
    }
    assert!(Batch::decode_request(Signal::Traces, &[0x0a, 0x05, 0x01]).is_err());
}

#[test]
fn append_same_and_different_signal() {
    let mut a = traces(&[&[2]]);
    a.append(traces(&[&[3], &[1]])).unwrap();
    assert_eq!(a.item_count(), 6);
    let Batch::Traces(rs) = &a else {
        unreachable!()
    };
    assert_eq!(rs.len(), 3);

    let other = logs(&[4]);
    let back = a.append(other.clone()).unwrap_err();
    assert_eq!(back, other);
    assert_eq!(a.item_count(), 6);
    let mut m = all_metric_types();
    assert_eq!(
        m.append(Batch::empty(Signal::Traces)),
        Err(Batch::empty(Signal::Traces))
    );
    m.append(all_metric_types()).unwrap();
    assert_eq!(m.item_count(), 32);
}

#[test]
fn split_spans_across_resources_and_scopes() {
    // 2 resources x 2 scopes holding 2, 3 | 1, 4 spans.
    let mut batch = traces(&[&[2, 3], &[1, 4]]);
    let all = span_owners(&batch);
    let front = batch.split_off_front(3);
    assert_eq!(front.item_count(), 3);
    assert_eq!(batch.item_count(), 7);
    assert_eq!(span_names(&front), ["r0s0-0", "r0s0-1", "r0s1-0"]);
    // Items keep their resource and scope on both halves, in order.
    let (head, tail) = (span_owners(&front), span_owners(&batch));
    assert_eq!(head, all[..3]);
    assert_eq!(tail, all[3..]);
    // The cut scope appears on both halves.
    let (Batch::Traces(f), Batch::Traces(b)) = (&front, &batch) else {
        unreachable!()
    };
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].scope_spans.len(), 2);
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].resource, f[0].resource);
    assert_eq!(b[0].scope_spans[0].scope, f[0].scope_spans[1].scope);
    assert_eq!(b[0].scope_spans[0].spans.len(), 2);
}

#[test]
fn split_metric_points_inside_one_metric() {
    let mut batch = Batch::Metrics(vec![ResourceMetrics {
        resource: resource("m"),
        scope_metrics: vec![ScopeMetrics {
            scope: scope("s"),
            metrics: vec![metric(
                "requests",
                metric::Data::Sum(Sum {
                    data_points: number_points(5),
                    aggregation_temporality: 1,
                    is_monotonic: true,
                }),
            )],
            schema_url: "u".into(),
        }],
        schema_url: "r".into(),
    }]);
    let front = batch.split_off_front(2);
    assert_eq!((front.item_count(), batch.item_count()), (2, 3));
    for (half, times) in [(&front, vec![1, 2]), (&batch, vec![3, 4, 5])] {
        let Batch::Metrics(rm) = half else {
            unreachable!()
        };
        assert_eq!(rm.len(), 1);
        assert_eq!(rm[0].resource, resource("m"));
        assert_eq!(rm[0].schema_url, "r");
        assert_eq!(rm[0].scope_metrics[0].scope, scope("s"));
        assert_eq!(rm[0].scope_metrics[0].schema_url, "u");
        let m = &rm[0].scope_metrics[0].metrics[0];
        assert_eq!(m.name, "requests");
        assert_eq!(m.description, "requests description");
        assert_eq!(m.unit, "By");
        assert_eq!(m.metadata, vec![string_kv("meta", "requests")]);
        let Some(metric::Data::Sum(sum)) = &m.data else {
            panic!("not a sum: {m:?}")
        };
        assert_eq!(sum.aggregation_temporality, 1);
        assert!(sum.is_monotonic);
        let got: Vec<u64> = sum.data_points.iter().map(|p| p.time_unix_nano).collect();
        assert_eq!(got, times);
    }
}

#[test]
fn split_every_metric_type() {
    // Cut inside each metric in turn; the metric keeps its type and settings.
    for at in 1..16 {
        let mut batch = all_metric_types();
        let front = batch.split_off_front(at);
        assert_eq!(
            (front.item_count(), batch.item_count()),
            (at, 16 - at),
            "at {at}"
        );
        let mut joined = front.clone();
        joined.append(batch.clone()).unwrap();
        let (Batch::Metrics(j), Batch::Metrics(orig)) = (&joined, &all_metric_types()) else {
            unreachable!()
        };
        let flatten = |rm: &[ResourceMetrics]| -> Vec<(String, Option<i32>, usize)> {
            rm.iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .map(|m| {
                    let temporality = match &m.data {
                        Some(metric::Data::Sum(s)) => Some(s.aggregation_temporality),
                        Some(metric::Data::Histogram(h)) => Some(h.aggregation_temporality),
                        Some(metric::Data::ExponentialHistogram(h)) => {
                            Some(h.aggregation_temporality)
                        }
                        _ => None,
                    };
                    (
                        m.name.clone(),
                        temporality,
                        metric_point_count(m.data.as_ref()),
                    )
                })
                .filter(|(_, _, n)| *n > 0)
                .collect()
        };
        let mut merged: Vec<(String, Option<i32>, usize)> = Vec::new();
        for (name, t, n) in flatten(j) {
            match merged.last_mut() {
                Some(last) if last.0 == name => {
                    assert_eq!(last.1, t);
                    last.2 += n;
                }
                _ => merged.push((name, t, n)),
            }
        }
        assert_eq!(merged, flatten(orig), "at {at}");
    }
}

#[test]
fn split_at_or_beyond_count_moves_everything() {
    for max in [10, 11, usize::MAX] {
        let mut batch = traces(&[&[2, 3], &[1, 4]]);
        let original = batch.clone();
        let front = batch.split_off_front(max);
        assert_eq!(front, original);
        assert!(batch.is_empty());
        assert_eq!(batch, Batch::empty(Signal::Traces));
    }
    let mut logs_batch = logs(&[3, 2]);
    let front = logs_batch.split_off_front(5);
    assert_eq!(front.item_count(), 5);
    assert_eq!(logs_batch, Batch::empty(Signal::Logs));
}

#[test]
fn split_at_zero_returns_empty() {
    for mut batch in [
        traces(&[&[2, 3], &[1, 4]]),
        logs(&[3, 2]),
        all_metric_types(),
    ] {
        let original = batch.clone();
        let front = batch.split_off_front(0);
        assert_eq!(front, Batch::empty(batch.signal()));
        assert_eq!(batch, original);
    }
    let mut empty = Batch::empty(Signal::Metrics);
    assert_eq!(empty.split_off_front(3), Batch::empty(Signal::Metrics));
}

#[test]
fn repeated_splitting_preserves_every_item_in_order() {
    for chunk in 1..=11 {
        let mut batch = traces(&[&[2, 3], &[1, 4], &[], &[0, 5]]);
        let all = span_owners(&batch);
        let mut seen = Vec::new();
        let mut chunks = 0;
        while !batch.is_empty() {
            let front = batch.split_off_front(chunk);
            let n = front.item_count();
            assert!(n > 0 && n <= chunk, "chunk {chunk}: got {n}");
            seen.extend(span_owners(&front));
            chunks += 1;
        }
        assert_eq!(seen, all, "chunk {chunk}");
        assert_eq!(chunks, all.len().div_ceil(chunk));
    }
    for chunk in [1, 3, 7] {
        let mut batch = logs(&[3, 0, 4, 2]);
        let mut texts = Vec::new();
        while !batch.is_empty() {
            let Batch::Logs(rl) = batch.split_off_front(chunk) else {
                unreachable!()
            };
            for sl in &rl[0].scope_logs {
                let scope_name = &sl.scope.as_ref().unwrap().name;
                for l in &sl.log_records {
                    assert!(l.severity_text.starts_with(scope_name.as_str()));
                    texts.push(l.severity_text.clone());
                }
            }
        }
        assert_eq!(texts.len(), 9, "chunk {chunk}");
        assert_eq!(texts[0], "s0-0");
        assert_eq!(texts[8], "s3-1");
    }
    for chunk in [1, 2, 5, 6] {
        let mut batch = all_metric_types();
        let mut total = 0;
        while !batch.is_empty() {
            let n = batch.split_off_front(chunk).item_count();
            assert!(n > 0 && n <= chunk);
            total += n;
        }
        assert_eq!(total, 16);
    }
}
