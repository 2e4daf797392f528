//! Tests of the `otlp_http` exporter against a small hyper server on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::response::{ResponseParts, classify_response, parse_retry_after};
use super::*;
use crate::shared::partial_success::REJECTED_METRIC;
use crate::shared::rpc_status::RpcStatus;
use crate::shared::test_support::{self, ctx, logs, metrics, toml, traces};
use bytes::Bytes;
use harrier_core::error::{ErrorKind, ExportError};
use harrier_pdata::Batch;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use reqwest::StatusCode;
use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A request the server received.
struct Captured {
    path: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

/// What the server answers.
#[derive(Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

fn ok() -> Canned {
    Canned {
        status: 200,
        headers: vec![],
        body: vec![],
    }
}

async fn serve(reply: Canned) -> (SocketAddr, Arc<Mutex<Vec<Captured>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let captured = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&captured);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen);
            let reply = reply.clone();
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let seen = Arc::clone(&seen);
                let reply = reply.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await.unwrap().to_bytes().to_vec();
                    seen.lock().unwrap().push(Captured {
                        path: parts.uri.path().to_string(),
                        headers: parts.headers,
                        body,
                    });
                    let mut response = hyper::Response::builder().status(reply.status);
                    for (name, value) in &reply.headers {
                        response = response.header(*name, *value);
                    }
                    Ok::<_, Infallible>(response.body(Full::new(Bytes::from(reply.body))).unwrap())
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (addr, captured)
}

async fn exporter(section: &str, build_ctx: &BuildContext) -> Arc<dyn Exporter> {
    test_support::install_crypto();
    let exporter = OtlpHttpExporterFactory
        .build(&toml(section), build_ctx)
        .unwrap();
    exporter.start().await.unwrap();
    exporter
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn posts_gzipped_protobuf_to_the_signal_paths() {
    let (addr, captured) = serve(ok()).await;
    let section = format!(
        r#"
        endpoint = "http://{addr}/"
        headers = {{ "X-Scope-OrgID" = "blue" }}
        "#
    );
    let exporter = exporter(&section, &ctx("otlp_http")).await;
    let sent = [traces(3, "a"), metrics(), logs(2, "b")];
    for batch in &sent {
        exporter.export(batch).await.unwrap();
    }
    let captured = captured.lock().unwrap();
    let paths: Vec<&str> = captured.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["/v1/traces", "/v1/metrics", "/v1/logs"]);
    for (got, want) in captured.iter().zip(&sent) {
        assert_eq!(got.headers["content-type"], "application/x-protobuf");
        assert_eq!(got.headers["content-encoding"], "gzip");
        assert_eq!(got.headers["x-scope-orgid"], "blue");
        let body = gunzip(&got.body);
        assert_eq!(&Batch::decode_request(want.signal(), &body).unwrap(), want);
    }
}

#[tokio::test]
async fn posts_uncompressed_json_and_honours_url_overrides() {
    let (addr, captured) = serve(ok()).await;
    let section = format!(
        r#"
        endpoint = "http://{addr}/otlp"
        logs_endpoint = "http://{addr}/custom/logs"
        encoding = "json"
        compression = "none"
        "#
    );
    let exporter = exporter(&section, &ctx("otlphttp/json")).await;
    exporter.export(&metrics()).await.unwrap();
    exporter.export(&logs(3, "j")).await.unwrap();
    let captured = captured.lock().unwrap();
    assert_eq!(captured[0].path, "/otlp/v1/metrics");
    assert_eq!(captured[1].path, "/custom/logs");
    for (got, want) in captured.iter().zip([metrics(), logs(3, "j")]) {
        assert_eq!(got.headers["content-type"], "application/json");
        assert!(got.headers.get("content-encoding").is_none());
        let decoded = harrier_pdata::json::decode_request(want.signal(), &got.body).unwrap();
        assert_eq!(decoded, want);
    }
}

async fn export_error(reply: Canned) -> ExportError {
    let (addr, _captured) = serve(reply).await;
    let exporter = exporter(&format!("endpoint = \"http://{addr}\""), &ctx("otlp_http")).await;
    exporter.export(&traces(1, "e")).await.unwrap_err()
}

#[tokio::test]
async fn classifies_failures_per_the_otlp_http_spec() {
    let unavailable = export_error(Canned {
        status: 503,
        headers: vec![("retry-after", "7")],
        body: vec![],
    })
    .await;
    assert_eq!(
        unavailable.kind(),
        ErrorKind::Retryable {
            retry_after: Some(Duration::from_secs(7))
        }
    );

    let throttled = export_error(Canned {
        status: 429,
        headers: vec![],
        body: vec![],
    })
    .await;
    assert_eq!(throttled.kind(), ErrorKind::Retryable { retry_after: None });

    let status = RpcStatus {
        code: 3,
        message: "span 0 has no trace id".into(),
        details: vec![],
    };
    let bad = export_error(Canned {
        status: 400,
        headers: vec![("content-type", "application/x-protobuf")],
        body: status.encode_to_vec(),
    })
    .await;
    assert_eq!(bad.kind(), ErrorKind::Permanent);
    assert!(bad.to_string().contains("400"), "{bad}");
    assert!(bad.to_string().contains("span 0 has no trace id"), "{bad}");

    let server_error = export_error(Canned {
        status: 500,
        headers: vec![("content-type", "application/json")],
        body: br#"{"code":13,"message":"disk full"}"#.to_vec(),
    })
    .await;
    assert_eq!(server_error.kind(), ErrorKind::Permanent);
    assert!(
        server_error.to_string().contains("disk full"),
        "{server_error}"
    );
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let exporter = exporter(
        &format!("endpoint = \"http://127.0.0.1:{port}\""),
        &ctx("otlp_http"),
    )
    .await;
    let error = exporter.export(&logs(1, "r")).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test]
async fn partial_success_is_counted_not_failed() {
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "too old".into(),
        }),
    };
    let (addr, _captured) = serve(Canned {
        status: 200,
        headers: vec![("content-type", "application/x-protobuf")],
        body: response.encode_to_vec(),
    })
    .await;
    let build_ctx = ctx("otlp_http/partial");
    let exporter = exporter(&format!("endpoint = \"http://{addr}\""), &build_ctx).await;
    exporter.export(&traces(4, "p")).await.unwrap();
    let rejected = build_ctx
        .telemetry
        .counter_value(REJECTED_METRIC, &[("exporter", "otlp_http/partial")]);
    assert_eq!(rejected, Some(2));
}

#[test]
fn reads_json_partial_success_and_ignores_unreadable_bodies() {
    let now = SystemTime::now();
    let parts = |body: &'static [u8]| ResponseParts {
        status: StatusCode::OK,
        retry_after: None,
        content_type: Some("application/json; charset=utf-8"),
        body,
    };
    let partial = classify_response(
        Signal::Logs,
        HttpEncoding::Json,
        parts(br#"{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"x"}}"#),
        now,
    )
    .unwrap();
    assert_eq!(partial.rejected, 3);
    assert_eq!(partial.error_message, "x");
    let partial = classify_response(
        Signal::Metrics,
        HttpEncoding::Proto,
        parts(br#"{"partial_success":{"rejected_data_points":5}}"#),
        now,
    )
    .unwrap();
    assert_eq!(partial.rejected, 5);
    let partial =
        classify_response(Signal::Traces, HttpEncoding::Json, parts(b"not json"), now).unwrap();
    assert_eq!(partial.rejected, 0);
}

#[test]
fn parses_retry_after_seconds_and_dates() {
    let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
    assert_eq!(
        parse_retry_after(" 120 ", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_retry_after("-5", now), None);
}

#[test]
fn validation_reports_every_problem_with_its_path() {
    let errors = |text: &str| -> Vec<(String, String)> {
        OtlpHttpExporterFactory
            .validate(&toml(text))
            .unwrap_err()
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect()
    };
    let e = errors("");
    assert_eq!(e[0].0, "endpoint");
    assert!(e[0].1.contains("required"), "{e:?}");

    let e = errors(
        r#"endpoint = "gateway:4318"
traces_endpoint = "ftp://x/v1/traces"
headers = { "content-type" = "text/plain", "bad name" = "v" }"#,
    );
    let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "endpoint",
            "traces_endpoint",
            "headers.bad name",
            "headers.content-type"
        ]
    );

    let e = errors(
        r#"endpoint = "http://x:4318"
compression = "zstd""#,
    );
    assert_eq!(e[0].0, "compression");
    assert!(e[0].1.contains("gzip"), "{e:?}");

    let e = errors(
        r#"endpoint = "http://x:4318"
encoding = "yaml""#,
    );
    assert_eq!(e[0].0, "encoding");

    let e = errors(
        r#"endpoint = "http://x:4318"
tls = { insecure = true }"#,
    );
    assert_eq!(e[0].0, "tls.insecure");
}

#[test]
fn build_requires_a_url_for_every_signal_served() {
    let section = toml(r#"traces_endpoint = "http://x:4318/v1/traces""#);
    assert_eq!(OtlpHttpExporterFactory.validate(&section), Ok(()));
    let mut traces_only = ctx("otlp_http");
    traces_only.signals = vec![Signal::Traces];
    assert!(
        OtlpHttpExporterFactory
            .build(&section, &traces_only)
            .is_ok()
    );
    let error = OtlpHttpExporterFactory
        .build(&section, &ctx("otlp_http"))
        .err()
        .unwrap();
    assert_eq!(error.path, "endpoint");
    assert!(error.message.contains("metrics"), "{error}");
    let default = OtlpHttpConfig::default();
    assert_eq!(default.encoding, HttpEncoding::Proto);
    assert_eq!(default.compression, HttpCompression::Gzip);
}

#[tokio::test]
async fn start_checks_the_ca_file() {
    test_support::install_crypto();
    let start = |ca_file: String| async move {
        let section = format!("endpoint = \"https://localhost:4318\"\ntls.ca_file = {ca_file:?}");
        let exporter = OtlpHttpExporterFactory
            .build(&toml(&section), &ctx("otlp_http"))
            .unwrap();
        exporter.start().await
    };
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/shared/testdata/ca.pem");
    start(ca.display().to_string()).await.unwrap();
    let error = start("/nonexistent/ca.pem".into()).await.unwrap_err();
    assert!(error.message.contains("/nonexistent/ca.pem"), "{error}");
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnope\n").unwrap();
    let error = start(garbage.display().to_string()).await.unwrap_err();
    assert!(error.message.contains("garbage.pem"), "{error}");
}
