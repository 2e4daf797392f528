#![allow(clippy::unwrap_used, clippy::expect_used)]

use harrier_core::component::Registry;
use harrier_core::config::Config;
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::{RunningTopology, Topology};
use harrier_pdata::Batch;
use harrier_pdata::otlp::collector::trace::v1::trace_service_client::TraceServiceClient;
use harrier_pdata::otlp::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use harrier_testkit::data;
use harrier_testkit::exporters::{Probe, register_probe};
use prost::Message;
use std::io::Write;
use std::sync::Arc;

use super::http::RpcStatus;

fn registry(probe: &Arc<Probe>) -> Registry {
    let mut r = Registry::new();
    crate::register_all(&mut r);
    harrier_processors::register_all(&mut r);
    register_probe(&mut r, probe);
    r
}

struct Harness {
    probe: Arc<Probe>,
    running: Option<RunningTopology>,
    telemetry: Telemetry,
    grpc: u16,
    http: u16,
}

async fn start(extra_receiver: &str, processors: &str, exporter: &str) -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let probe = Probe::new();
    let grpc = harrier_testkit::free_port();
    let http = harrier_testkit::free_port();
    let text = format!(
        r#"
        [receivers.otlp]
        {extra_receiver}
        [receivers.otlp.grpc]
        endpoint = "127.0.0.1:{grpc}"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{http}"
        max_request_body_size = "1MiB"
        [processors.memory_limiter]
        limit_mib = 1
        spike_limit_mib = 0
        [exporters.probe]
        {exporter}
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = [{processors}]
        exporters = ["probe"]
        [service.pipelines.logs]
        receivers = ["otlp"]
        exporters = ["probe"]
        "#
    );
    let config = Config::from_toml(&text).unwrap();
    let telemetry = Telemetry::new();
    let topology = Topology::build(&config, &registry(&probe), &telemetry).unwrap();
    let running = topology.start().await.unwrap();
    Harness {
        probe,
        running: Some(running),
        telemetry,
        grpc,
        http,
    }
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http)
    }
    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
    fn accepted(&self, transport: &str) -> u64 {
        self.telemetry
            .counter_value(
                "otelcol_receiver_accepted_spans",
                &[("receiver", "otlp"), ("transport", transport)],
            )
            .unwrap_or(0)
    }
    fn refused(&self, transport: &str) -> u64 {
        self.telemetry
            .counter_value(
                "otelcol_receiver_refused_spans",
                &[("receiver", "otlp"), ("transport", transport)],
            )
            .unwrap_or(0)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn proto(batch: &Batch) -> Vec<u8> {
    batch.encode_request()
}

fn json(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    harrier_pdata::json::encode_request(batch, &mut out);
    out
}

async fn post(
    url: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let client = reqwest::Client::new();
    let mut req = client
        .post(url)
        .header("content-type", content_type)
        .body(body);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_accepts_protobuf_json_and_gzip() {
    let mut h = start("", "", "").await;
    let r = post(
        &h.url("/v1/traces"),
        "application/x-protobuf",
        None,
        proto(&data::spans(0, 3)),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    let resp = ExportTraceServiceResponse::decode(r.bytes().await.unwrap()).unwrap();
    assert!(resp.partial_success.is_none());
    let r = post(
        &h.url("/v1/traces"),
        "application/json",
        Some("gzip"),
        gzip(&json(&data::spans(3, 2))),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "{}");
    let r = post(
        &h.url("/v1/logs"),
        "application/json; charset=utf-8",
        None,
        json(&data::logs(0, 4)),
    )
    .await;
    assert_eq!(r.status(), 200);
    h.stop().await;
    let spans = data::all_spans(&h.probe.batches());
    assert_eq!(spans, data::all_spans(&[data::spans(0, 5)]));
    assert_eq!(
        data::all_logs(&h.probe.batches()),
        data::all_logs(&[data::logs(0, 4)])
    );
    assert_eq!(h.accepted("http"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_answers_bad_requests_per_spec() {
    let mut h = start("", "", "").await;
    // Malformed protobuf: 400 with a google.rpc.Status body.
    let r = post(
        &h.url("/v1/traces"),
        "application/x-protobuf",
        None,
        vec![0xff, 0xff, 0xff],
    )
    .await;
    assert_eq!(r.status(), 400);
    let status = RpcStatus::decode(r.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, 3);
    assert!(
        status.message.contains("malformed traces request"),
        "{}",
        status.message
    );
    // Malformed JSON: 400 with a JSON Status naming the path.
    let r = post(
        &h.url("/v1/traces"),
        "application/json",
        None,
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 3);
    assert!(
        body["message"].as_str().unwrap().contains("traceId"),
        "{body}"
    );
    // Unsupported type, unknown path, wrong method, unknown encoding.
    assert_eq!(
        post(&h.url("/v1/traces"), "text/plain", None, b"x".to_vec())
            .await
            .status(),
        415
    );
    assert_eq!(
        post(
            &h.url("/v1/nothing"),
            "application/json",
            None,
            b"{}".to_vec()
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        post(
            &h.url("/v1/metrics"),
            "application/json",
            None,
            b"{}".to_vec()
        )
        .await
        .status(),
        404,
        "no metrics pipeline"
    );
    assert_eq!(
        reqwest::get(h.url("/v1/traces")).await.unwrap().status(),
        405
    );
    assert_eq!(
        post(
            &h.url("/v1/traces"),
            "application/json",
            Some("br"),
            b"{}".to_vec()
        )
        .await
        .status(),
        400
    );
    // Oversize body and a gzip bomb (64 MiB of zeros in ~64 KiB): 413, nothing inflated past the cap.
    assert_eq!(
        post(
            &h.url("/v1/traces"),
            "application/x-protobuf",
            None,
            vec![0; 2 << 20]
        )
        .await
        .status(),
        413
    );
    let bomb = gzip(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 1 << 20);
    assert_eq!(
        post(
            &h.url("/v1/traces"),
            "application/x-protobuf",
            Some("gzip"),
            bomb
        )
        .await
        .status(),
        413
    );
    // Still serving.
    let r = post(
        &h.url("/v1/traces"),
        "application/x-protobuf",
        None,
        proto(&data::spans(0, 1)),
    )
    .await;
    assert_eq!(r.status(), 200);
    h.stop().await;
    let malformed = h.telemetry.counter_value(
        "harrier_receiver_malformed_requests",
        &[("receiver", "otlp"), ("transport", "http")],
    );
    assert_eq!(malformed, Some(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_success_reports_invalid_items() {
    let mut h = start("", "", "").await;
    let mut batch = data::spans(0, 4);
    if let Batch::Traces(rs) = &mut batch {
        rs[0].scope_spans[0].spans[1].trace_id = vec![1, 2, 3];
        rs[0].scope_spans[0].spans[2].span_id = vec![0; 8];
    }
    // OTLP/JSON cannot express a 3-byte trace id (its decoder rejects the request), so
    // the wrong-length case goes over protobuf; the response's encoding follows the
    // request's.
    let r = post(
        &h.url("/v1/traces"),
        "application/x-protobuf",
        None,
        proto(&batch),
    )
    .await;
    assert_eq!(r.status(), 200);
    let resp = ExportTraceServiceResponse::decode(r.bytes().await.unwrap()).unwrap();
    let partial = resp.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 2);
    assert!(partial.error_message.contains("trace_id"));
    let mut only_zero_ids = data::spans(10, 2);
    if let Batch::Traces(rs) = &mut only_zero_ids {
        rs[0].scope_spans[0].spans[0].span_id = vec![0; 8];
    }
    let r = post(
        &h.url("/v1/traces"),
        "application/json",
        None,
        json(&only_zero_ids),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["partialSuccess"]["rejectedSpans"], "1");
    assert!(
        body["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("span_id")
    );
    // gRPC reports the same through partial_success.
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", h.grpc))
        .await
        .unwrap();
    let Batch::Traces(resource_spans) = batch else {
        unreachable!()
    };
    let resp = client
        .export(ExportTraceServiceRequest { resource_spans })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.partial_success.map(|p| p.rejected_spans), Some(2));
    h.stop().await;
    assert_eq!(h.probe.items(), 2 + 1 + 2);
    assert_eq!(h.refused("http"), 3);
    assert_eq!(h.refused("grpc"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_accepts_gzip_and_zstd() {
    let mut h = start("", "", "").await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", h.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    for (i, enc) in [
        tonic::codec::CompressionEncoding::Gzip,
        tonic::codec::CompressionEncoding::Zstd,
    ]
    .into_iter()
    .enumerate()
    {
        let mut client = TraceServiceClient::new(channel.clone()).send_compressed(enc);
        let Batch::Traces(resource_spans) = data::spans(i as u64 * 10, 10) else {
            unreachable!()
        };
        let resp = client
            .export(ExportTraceServiceRequest { resource_spans })
            .await
            .unwrap()
            .into_inner();
        assert!(resp.partial_success.is_none());
    }
    h.stop().await;
    assert_eq!(h.probe.items(), 20);
    assert_eq!(h.accepted("grpc"), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_rejects_malformed_and_oversize() {
    let mut h = start("", "", "").await;
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", h.grpc))
        .await
        .unwrap();
    // A span whose name is 5 MiB: above max_recv_msg_size_mib = 4.
    let mut batch = data::spans(0, 1);
    if let Batch::Traces(rs) = &mut batch {
        rs[0].scope_spans[0].spans[0].name = "x".repeat(5 << 20);
    }
    let Batch::Traces(resource_spans) = batch else {
        unreachable!()
    };
    let err = client
        .export(ExportTraceServiceRequest { resource_spans })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err}");
    // Bytes that are not protobuf: INVALID_ARGUMENT, as the OTLP spec says.
    let err = raw_grpc_call(h.grpc, &[0xff, 0xff, 0xff, 0xff]).await;
    assert_eq!(err, "3");
    let malformed = h.telemetry.counter_value(
        "harrier_receiver_malformed_requests",
        &[("receiver", "otlp"), ("transport", "grpc")],
    );
    assert_eq!(malformed, Some(2));
    // Still serving.
    let Batch::Traces(resource_spans) = data::spans(0, 2) else {
        unreachable!()
    };
    client
        .export(ExportTraceServiceRequest { resource_spans })
        .await
        .unwrap();
    h.stop().await;
    assert_eq!(h.probe.items(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limiter_refusal_is_retryable_on_both_transports() {
    // limit_mib = 1: any real process is above it, so every request is refused.
    let mut h = start("", "\"memory_limiter\"", "").await;
    let r = post(
        &h.url("/v1/traces"),
        "application/x-protobuf",
        None,
        proto(&data::spans(0, 3)),
    )
    .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let status = RpcStatus::decode(r.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, 14);
    assert!(
        status.message.contains("memory usage"),
        "{}",
        status.message
    );
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", h.grpc))
        .await
        .unwrap();
    let Batch::Traces(resource_spans) = data::spans(0, 2) else {
        unreachable!()
    };
    let err = client
        .export(ExportTraceServiceRequest { resource_spans })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    // Logs have no memory_limiter in this config: still accepted.
    let r = post(
        &h.url("/v1/logs"),
        "application/x-protobuf",
        None,
        proto(&data::logs(0, 1)),
    )
    .await;
    assert_eq!(r.status(), 200);
    h.stop().await;
    assert_eq!(h.probe.items(), 1);
    assert_eq!(h.refused("http"), 3);
    assert_eq!(h.refused("grpc"), 2);
}

/// Fills a stalled exporter and checks the exact number of items the collector holds
/// before it starts refusing, then that everything held is delivered once it resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpressure_bounds_items_in_flight() {
    const PER_REQUEST: u64 = 10;
    let mut h = start(
        "backpressure_wait = \"200ms\"",
        "",
        "sending_queue = { queue_size = 2, num_consumers = 1 }",
    )
    .await;
    h.probe.pause();
    let mut accepted_requests = 0u64;
    let mut refused = None;
    for i in 0..200u64 {
        let r = post(
            &h.url("/v1/traces"),
            "application/x-protobuf",
            None,
            proto(&data::spans(i * PER_REQUEST, PER_REQUEST)),
        )
        .await;
        if r.status() == 200 {
            accepted_requests += 1;
        } else {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the collector never pushed back");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    // In flight: 1 batch in the exporter, 2 in its queue, 1 held by the pipeline task
    // waiting on the queue, and the pipeline channel's 64 messages.
    let limits = harrier_core::topology::PIPELINE_CHANNEL_LIMITS;
    let expected = 1 + 2 + 1 + limits.max_messages as u64;
    assert_eq!(accepted_requests, expected);
    assert_eq!(h.accepted("http"), expected * PER_REQUEST);
    assert_eq!(h.refused("http"), PER_REQUEST);
    assert_eq!(h.probe.in_export(), 1);
    h.probe.resume();
    h.stop().await;
    assert_eq!(h.probe.items() as u64, expected * PER_REQUEST);
    let spans = data::all_spans(&h.probe.batches());
    assert_eq!(
        spans,
        data::all_spans(&[data::spans(0, expected * PER_REQUEST)])
    );
    assert_eq!(
        h.telemetry
            .counter_value("otelcol_exporter_sent_spans", &[("exporter", "probe")]),
        Some(expected * PER_REQUEST)
    );
}

/// Sends a raw gRPC frame to TraceService/Export and returns the grpc-status.
async fn raw_grpc_call(port: u16, payload: &[u8]) -> String {
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let mut body = vec![0u8];
    body.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    body.extend_from_slice(payload);
    let resp = client
        .post(format!(
            "http://127.0.0.1:{port}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(body)
        .send()
        .await
        .unwrap();
    resp.headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}
