//! Tests of the `otlp` exporter against a real tonic server on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::test_server::{Reply, serve, serve_with, testdata};
use super::*;
use crate::shared::partial_success::REJECTED_METRIC;
use crate::shared::rpc_status::{
    ProtoAny, ProtoDuration, RETRY_INFO_TYPE_URL, RetryInfo, RpcStatus,
};
use crate::shared::test_support::{self, ctx, logs, metrics, toml, traces};
use exporter::classify_status;
use harrier_core::error::{ErrorKind, ExportError};
use prost::Message;
use std::time::Duration;
use tonic::transport::{Identity, ServerTlsConfig};
use tonic::{Code, Status};

/// Builds and starts an exporter from a TOML section.
async fn exporter(section: &str, build_ctx: &BuildContext) -> Arc<dyn Exporter> {
    test_support::install_crypto();
    let exporter = OtlpExporterFactory
        .build(&toml(section), build_ctx)
        .unwrap();
    exporter.start().await.unwrap();
    exporter
}

async fn export_error(reply: Reply) -> ExportError {
    let (addr, _mock) = serve(reply).await;
    let exporter = exporter(&format!("endpoint = \"http://{addr}\""), &ctx("otlp")).await;
    exporter.export(&traces(1, "x")).await.unwrap_err()
}

#[tokio::test]
async fn delivers_every_signal_intact_with_gzip_and_headers() {
    let (addr, mock) = serve(Reply::Ok).await;
    let section = format!(
        r#"
        endpoint = "http://{addr}"
        headers = {{ authorization = "Bearer s3cret", "X-Tenant" = "blue" }}
        "#
    );
    let exporter = exporter(&section, &ctx("otlp/gateway")).await;
    let sent = [traces(3, "a"), metrics(), logs(2, "b")];
    for batch in &sent {
        exporter.export(batch).await.unwrap();
    }
    let received = mock.received.lock().unwrap();
    assert_eq!(received.len(), 3);
    for (got, want) in received.iter().zip(&sent) {
        assert_eq!(&got.batch, want);
        let md = &got.metadata;
        assert_eq!(md.get("authorization").unwrap(), "Bearer s3cret");
        assert_eq!(md.get("x-tenant").unwrap(), "blue");
        assert_eq!(md.get("grpc-encoding").unwrap(), "gzip");
        assert!(
            md.get("user-agent")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("harrier-exporter/")
        );
    }
}

#[tokio::test]
async fn sends_zstd_and_uncompressed() {
    for (compression, expected) in [("zstd", Some("zstd")), ("none", None)] {
        let (addr, mock) = serve(Reply::Ok).await;
        let section = format!("endpoint = \"{addr}\"\ncompression = \"{compression}\"");
        let exporter = exporter(&section, &ctx("otlp")).await;
        exporter.export(&logs(4, "z")).await.unwrap();
        let received = mock.received.lock().unwrap();
        assert_eq!(received[0].batch, logs(4, "z"));
        let encoding = received[0].metadata.get("grpc-encoding");
        assert_eq!(
            encoding.map(|v| v.to_str().unwrap()),
            expected,
            "{compression}"
        );
    }
}

#[tokio::test]
async fn classifies_server_statuses() {
    let unavailable = export_error(Reply::Fail(Status::unavailable("draining"))).await;
    assert_eq!(
        unavailable.kind(),
        ErrorKind::Retryable { retry_after: None }
    );
    assert!(
        unavailable.to_string().contains("draining"),
        "{unavailable}"
    );

    let invalid = export_error(Reply::Fail(Status::invalid_argument("bad span"))).await;
    assert_eq!(invalid.kind(), ErrorKind::Permanent);
    assert!(invalid.to_string().contains("bad span"), "{invalid}");

    let exhausted = export_error(Reply::Fail(Status::resource_exhausted("full"))).await;
    assert_eq!(exhausted.kind(), ErrorKind::Permanent);

    let details = RpcStatus {
        code: Code::ResourceExhausted as i32,
        message: "full".into(),
        details: vec![ProtoAny {
            type_url: RETRY_INFO_TYPE_URL.into(),
            value: RetryInfo {
                retry_delay: Some(ProtoDuration::from_duration(Duration::from_secs(3))),
            }
            .encode_to_vec(),
        }],
    }
    .encode_to_vec();
    let status = Status::with_details(Code::ResourceExhausted, "full", details.into());
    let throttled = export_error(Reply::Fail(status)).await;
    assert_eq!(
        throttled.kind(),
        ErrorKind::Retryable {
            retry_after: Some(Duration::from_secs(3))
        }
    );
}

#[test]
fn classification_follows_the_otlp_spec() {
    let retryable = [
        Code::Unavailable,
        Code::Cancelled,
        Code::DeadlineExceeded,
        Code::Aborted,
        Code::OutOfRange,
        Code::DataLoss,
    ];
    let permanent = [
        Code::Unknown,
        Code::InvalidArgument,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Unimplemented,
        Code::Internal,
        Code::Unauthenticated,
    ];
    for code in retryable {
        assert!(
            classify_status(&Status::new(code, "x")).is_retryable(),
            "{code:?}"
        );
    }
    for code in permanent {
        assert!(
            !classify_status(&Status::new(code, "x")).is_retryable(),
            "{code:?}"
        );
    }
}

#[tokio::test]
async fn connection_refused_is_retryable_and_start_does_not_connect() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let exporter = exporter(&format!("endpoint = \"127.0.0.1:{port}\""), &ctx("otlp")).await;
    let error = exporter.export(&metrics()).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test]
async fn partial_success_is_counted_not_failed() {
    let (addr, _mock) = serve(Reply::Partial(2, "2 spans too old")).await;
    let build_ctx = ctx("otlp/partial");
    let exporter = exporter(&format!("endpoint = \"http://{addr}\""), &build_ctx).await;
    exporter.export(&traces(5, "p")).await.unwrap();
    exporter.export(&traces(5, "p")).await.unwrap();
    let rejected = build_ctx
        .telemetry
        .counter_value(REJECTED_METRIC, &[("exporter", "otlp/partial")]);
    assert_eq!(rejected, Some(4));
}

#[test]
fn validation_reports_every_problem_with_its_path() {
    let errors = |text: &str| -> Vec<(String, String)> {
        OtlpExporterFactory
            .validate(&toml(text))
            .unwrap_err()
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect()
    };
    let e = errors("");
    assert_eq!(e[0].0, "endpoint");
    assert!(e[0].1.contains("required"));

    let e = errors(r#"endpoint = "ftp://x:1""#);
    assert_eq!(e[0].0, "endpoint");
    assert!(e[0].1.contains("scheme"), "{e:?}");

    let e = errors(r#"endpoint = "http://x:4317/v1/traces""#);
    assert_eq!(e[0].0, "endpoint");

    let e = errors(
        r#"endpoint = "http://x:4317"
compression = "brotli""#,
    );
    assert_eq!(e[0].0, "compression");
    assert!(e[0].1.contains("gzip"), "{e:?}");

    let e = errors(
        r#"endpoint = "http://x:4317"
endpiont = "y""#,
    );
    assert_eq!(e[0].0, "endpiont");
    assert!(e[0].1.contains("unknown field"), "{e:?}");

    let e = errors(
        r#"endpoint = "http://x:4317"
tls = { insecure = false, ca_flie = "x" }"#,
    );
    assert_eq!(e[0].0, "tls.ca_flie");
    assert!(e[0].1.contains("unknown field"), "{e:?}");

    let e = errors(
        r#"endpoint = "https://x:4317"
headers = { "bad key" = "v", "grpc-timeout" = "1S", ok = "bad\nvalue" }"#,
    );
    let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "headers.bad key",
            "headers.grpc-timeout",
            "headers.ok",
            "tls.ca_file"
        ]
    );
}

#[test]
fn accepts_the_documented_endpoint_forms() {
    for text in [
        r#"endpoint = "http://gateway:4317""#,
        r#"endpoint = "gateway:4317""#,
        r#"endpoint = "http://[::1]:4317/""#,
        r#"endpoint = "https://gateway:4317"
tls.ca_file = "/etc/ca.pem""#,
        r#"endpoint = "https://gateway"
tls.insecure = true"#,
    ] {
        assert_eq!(OtlpExporterFactory.validate(&toml(text)), Ok(()), "{text}");
    }
    let default = OtlpConfig::default();
    assert_eq!(default.compression, GrpcCompression::Gzip);
    assert!(!default.tls.insecure);
}

#[tokio::test]
async fn unreadable_or_invalid_ca_file_fails_start() {
    let section = r#"endpoint = "https://localhost:4317"
tls.ca_file = "/nonexistent/harrier-ca.pem""#;
    let exporter = OtlpExporterFactory
        .build(&toml(section), &ctx("otlp"))
        .unwrap();
    let error = exporter.start().await.unwrap_err();
    assert!(
        error.message.contains("/nonexistent/harrier-ca.pem"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let section = format!(
        "endpoint = \"https://localhost:4317\"\ntls.ca_file = {:?}",
        garbage.display().to_string()
    );
    let exporter = OtlpExporterFactory
        .build(&toml(&section), &ctx("otlp"))
        .unwrap();
    let error = exporter.start().await.unwrap_err();
    assert!(error.message.contains("garbage.pem"), "{error}");
}

#[tokio::test]
async fn verifies_the_server_with_the_configured_ca() {
    test_support::install_crypto();
    let identity = Identity::from_pem(
        std::fs::read(testdata("server.pem")).unwrap(),
        std::fs::read(testdata("server.key")).unwrap(),
    );
    let tls = ServerTlsConfig::new().identity(identity);
    let (addr, mock) = serve_with(Reply::Ok, Some(tls)).await;
    let section = format!(
        "endpoint = \"https://localhost:{}\"\ntls.ca_file = {:?}",
        addr.port(),
        testdata("ca.pem").display().to_string()
    );
    let trusting = exporter(&section, &ctx("otlp/tls")).await;
    trusting.export(&traces(2, "tls")).await.unwrap();
    assert_eq!(mock.received.lock().unwrap()[0].batch, traces(2, "tls"));

    // The server's own certificate is no CA: verification fails, as a retryable error.
    let section = format!(
        "endpoint = \"https://localhost:{}\"\ntls.ca_file = {:?}",
        addr.port(),
        testdata("server.pem").display().to_string()
    );
    let untrusting = exporter(&section, &ctx("otlp/tls")).await;
    let error = untrusting.export(&traces(1, "tls")).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(mock.received.lock().unwrap().len(), 1);
}
