#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::component::ReceiverContext;
use crate::component::{
    BuildContext, Exporter, ExporterFactory, Factory, Processor, ProcessorFactory, Receiver,
    ReceiverFactory, Registry,
};
use crate::envelope::Envelope;
use crate::error::{ComponentError, ExportError};
use async_trait::async_trait;
use futures::future::BoxFuture;
use harrier_pdata::Batch;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct FakeConfig {
    endpoint: Option<String>,
    size: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    #[allow(dead_code)]
    interval: Option<Duration>,
}

struct Fake(&'static str, &'static [Signal]);

impl Factory for Fake {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn aliases(&self) -> &'static [&'static str] {
        if self.0 == "otlp_http" {
            &["otlphttp"]
        } else {
            &[]
        }
    }
    fn description(&self) -> &'static str {
        "fake"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<FakeConfig>(config)
            .map(|_| ())
            .map_err(|e| vec![e])
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse_config::<FakeConfig>(config)
            .ok()
            .and_then(|c| c.endpoint)
            .and_then(|e| e.parse().ok())
            .map(|a| vec![("endpoint".to_string(), a)])
            .unwrap_or_default()
    }
}

struct Nothing;
#[async_trait]
impl Receiver for Nothing {
    async fn start(
        self: Box<Self>,
        _ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        Ok(Box::pin(async {}))
    }
}
impl Processor for Nothing {
    fn process(&mut self, envelope: Envelope, out: &mut Vec<Envelope>) {
        out.push(envelope);
    }
}
#[async_trait]
impl Exporter for Nothing {
    async fn export(&self, _batch: &Batch) -> Result<(), ExportError> {
        Ok(())
    }
}

impl ReceiverFactory for Fake {
    fn signals(&self) -> &'static [Signal] {
        self.1
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(Nothing))
    }
}
impl ProcessorFactory for Fake {
    fn signals(&self) -> &'static [Signal] {
        self.1
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Box<dyn Processor>, ConfigError> {
        Ok(Box::new(Nothing))
    }
}
impl ExporterFactory for Fake {
    fn signals(&self) -> &'static [Signal] {
        self.1
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Arc<dyn Exporter>, ConfigError> {
        Ok(Arc::new(Nothing))
    }
}

const ALL: &[Signal] = &[Signal::Traces, Signal::Metrics, Signal::Logs];

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_receiver(Fake("otlp", ALL));
    r.add_receiver(Fake("prom", &[Signal::Metrics]));
    r.add_processor(Fake("batch", ALL));
    r.add_exporter(Fake("otlp", ALL));
    r.add_exporter(Fake("otlp_http", ALL));
    crate::extensions::register_all(&mut r);
    r
}

fn load(text: &str) -> Result<Config, Vec<ConfigError>> {
    Config::from_toml_with_env(text, &|name: &str| match name {
        "PORT" => Some("5317".to_string()),
        _ => None,
    })
}

fn errors_of(text: &str) -> Vec<String> {
    match load(text) {
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
        Ok(config) => match graph::check(&config, &registry()) {
            Err(errs) => errs.iter().map(ToString::to_string).collect(),
            Ok(_) => Vec::new(),
        },
    }
}

const GOOD: &str = r#"
[receivers.otlp]
endpoint = "127.0.0.1:${env:PORT}"
[processors.batch]
[exporters."otlp/gateway"]
endpoint = "http://gw:4317"
timeout = "1s"
[exporters.otlphttp]
[extensions.health_check]
[service]
extensions = ["health_check"]
[service.pipelines.traces]
receivers = ["otlp"]
processors = ["batch"]
exporters = ["otlp/gateway"]
[service.pipelines."logs/security"]
receivers = ["otlp"]
exporters = ["otlphttp", "otlp/gateway"]
"#;

#[test]
fn loads_a_full_config() {
    let config = load(GOOD).unwrap();
    assert_eq!(config.receivers.len(), 1);
    let endpoint = config.receivers[&ComponentId::parse("otlp").unwrap()]["endpoint"].as_str();
    assert_eq!(endpoint, Some("127.0.0.1:5317"));
    let logs = PipelineId {
        signal: Signal::Logs,
        name: Some("security".into()),
    };
    assert_eq!(
        config.service.pipelines[&logs].exporters[1].to_string(),
        "otlp/gateway"
    );
    assert_eq!(config.service.shutdown_timeout, Duration::from_secs(30));
    assert_eq!(config.service.telemetry.metrics.address, "127.0.0.1:8888");
    let checked = graph::check(&config, &registry()).unwrap();
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

#[test]
fn reports_unknown_references_with_key_paths() {
    let text = GOOD.replace(
        r#"exporters = ["otlphttp", "otlp/gateway"]"#,
        r#"exporters = ["otlphttp", "otlp/missing"]"#,
    );
    let errs = errors_of(&text);
    assert_eq!(
        errs,
        vec![
            r#"service.pipelines.logs/security.exporters[1]: unknown exporter "otlp/missing": it is not defined under [exporters]"#
        ]
    );
}

#[test]
fn reports_every_error_at_once() {
    let errs = errors_of(
        r#"
        bogus = 1
        [receivers."ot lp"]
        [receivers.nope]
        [exporters.otlp]
        endpoint = 5
        [service.pipelines.traces]
        receivers = ["otlp"]
        exporters = ["otlp"]
        [service.pipelines.spans]
        receivers = ["otlp"]
        "#,
    );
    let joined = errs.join("\n");
    assert!(
        joined.contains(r#"receivers.ot lp: invalid component id"#),
        "{joined}"
    );
    assert!(joined.contains("bogus: unknown top-level key"), "{joined}");
    assert!(
        joined.contains("service.pipelines.spans: unknown signal \"spans\""),
        "{joined}"
    );
    assert_eq!(errs.len(), 3, "{joined}");
}

#[test]
fn graph_errors() {
    let errs = errors_of(
        r#"
        [receivers.prom]
        [receivers.nope]
        [exporters.otlp]
        endpoint = 5
        [service.pipelines.traces]
        receivers = ["prom", "otlp"]
        processors = ["batch"]
        exporters = ["otlp", "otlp"]
        [service.pipelines.logs]
        "#,
    );
    let joined = errs.join("\n");
    for expected in [
        r#"receivers.nope: unknown receiver type "nope""#,
        "exporters.otlp.endpoint: invalid type: integer `5`, expected a string",
        r#"service.pipelines.traces.receivers[0]: receiver "prom" does not support traces (it supports: metrics)"#,
        r#"service.pipelines.traces.receivers[1]: unknown receiver "otlp""#,
        r#"service.pipelines.traces.processors[0]: unknown processor "batch""#,
        r#"service.pipelines.traces.exporters[1]: exporter "otlp" is listed twice"#,
        "service.pipelines.logs.receivers: a pipeline needs at least one receiver",
        "service.pipelines.logs.exporters: a pipeline needs at least one exporter",
    ] {
        assert!(
            joined.contains(expected),
            "missing {expected:?} in:\n{joined}"
        );
    }
}

#[test]
fn unknown_keys_and_bad_values_name_their_path() {
    let errs = errors_of(
        r#"
        [receivers.otlp]
        endpoint = "127.0.0.1:1"
        sise = 5
        [exporters.otlp]
        [service.pipelines.traces]
        receivers = ["otlp"]
        exporters = ["otlp"]
        "#,
    );
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("receivers.otlp.sise: unknown field `sise`"),
        "{}",
        errs[0]
    );
    let errs = errors_of(
        r#"
        [receivers.otlp]
        interval = "5 parsecs"
        [exporters.otlp]
        [service]
        shutdown_timeout = "soon"
        [service.pipelines.traces]
        receivers = ["otlp"]
        exporters = ["otlp"]
        "#,
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("service.shutdown_timeout: invalid duration \"soon\"")),
        "{errs:?}"
    );
}

#[test]
fn unused_components_are_warnings() {
    let config = load(&format!(
        "{GOOD}\n[receivers.prom]\n[processors.\"batch/2\"]\n"
    ))
    .unwrap();
    let checked = graph::check(&config, &registry()).unwrap();
    assert_eq!(
        checked.warnings,
        vec![
            "receivers.prom: defined but not used in any pipeline".to_string(),
            "processors.batch/2: defined but not used in any pipeline".to_string()
        ]
    );
}

#[test]
fn duplicate_ports_are_errors() {
    let errs = errors_of(
        r#"
        [receivers.otlp]
        endpoint = "0.0.0.0:8888"
        [exporters.otlp]
        [service.pipelines.traces]
        receivers = ["otlp"]
        exporters = ["otlp"]
        "#,
    );
    assert_eq!(
        errs,
        vec![
            "receivers.otlp.endpoint: address 0.0.0.0:8888 is already used by service.telemetry.metrics.address"
        ]
    );
}

#[test]
fn env_errors_and_toml_syntax() {
    let errs = errors_of("[receivers.otlp]\nendpoint = \"${env:NOT_SET}\"\n");
    assert!(
        errs[0].starts_with("receivers.otlp.endpoint: environment variable \"NOT_SET\" is not set"),
        "{errs:?}"
    );
    let errs = errors_of("[receivers.otlp\n");
    assert!(errs[0].starts_with("invalid TOML"), "{errs:?}");
    let errs = errors_of("[receivers]\notlp = 5\n[service.pipelines.traces]\n");
    assert!(
        errs.iter()
            .any(|e| e == "receivers.otlp: expected a table of settings, found integer"),
        "{errs:?}"
    );
}

#[test]
fn aliases_resolve() {
    let r = registry();
    assert_eq!(
        r.exporter("otlphttp").map(|f| f.type_name()),
        Some("otlp_http")
    );
    assert!(r.exporter("zipkin").is_none());
}
