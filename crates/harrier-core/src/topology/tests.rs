use super::*;
use crate::component::{ExporterFactory, Factory, ReceiverFactory, parse_config};
use crate::error::ExportError;
use async_trait::async_trait;
use futures::future::BoxFuture;
use harrier_pdata::Batch;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A receiver that stops on its own the first time it runs (a failure after start-up).
struct Flaky(Arc<AtomicUsize>);

#[async_trait]
impl Receiver for Flaky {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Box::pin(async move {
            if n > 0 {
                ctx.shutdown.cancelled().await;
            }
        }))
    }
}

struct FlakyFactory(Arc<AtomicUsize>);

impl Factory for FlakyFactory {
    fn type_name(&self) -> &'static str {
        "flaky"
    }
    fn description(&self) -> &'static str {
        "test"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<toml::Table>(config)
            .map(|_| ())
            .map_err(|e| vec![e])
    }
}

impl ReceiverFactory for FlakyFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(Flaky(Arc::clone(&self.0))))
    }
}

struct Discard;

#[async_trait]
impl Exporter for Discard {
    async fn export(&self, _: &Batch) -> Result<(), ExportError> {
        Ok(())
    }
}

impl Factory for Discard {
    fn type_name(&self) -> &'static str {
        "discard"
    }
    fn description(&self) -> &'static str {
        "test"
    }
    fn validate(&self, _: &toml::Value) -> Result<(), Vec<ConfigError>> {
        Ok(())
    }
}

impl ExporterFactory for Discard {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Arc<dyn Exporter>, ConfigError> {
        Ok(Arc::new(Discard))
    }
}

#[tokio::test]
async fn a_receiver_that_fails_after_start_up_is_restarted() {
    let starts = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::new();
    registry.add_receiver(FlakyFactory(Arc::clone(&starts)));
    registry.add_exporter(Discard);
    let config = Config::from_toml(
        r#"
        [receivers.flaky]
        [exporters.discard]
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.logs]
        receivers = ["flaky"]
        exporters = ["discard"]
        "#,
    )
    .unwrap();
    let running = Topology::build(&config, &registry, &Telemetry::new())
        .unwrap()
        .start()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while starts.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the receiver was not restarted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = running.shutdown().await;
    assert!(report.clean);
    assert_eq!(
        starts.load(Ordering::SeqCst),
        2,
        "restarted once, then ran until shutdown"
    );
}

#[tokio::test]
async fn start_up_failure_names_the_component_and_stops_the_rest() {
    let mut registry = Registry::new();
    registry.add_exporter(Discard);
    crate::extensions::register_all(&mut registry);
    registry.add_receiver(FlakyFactory(Arc::new(AtomicUsize::new(1))));
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let config = Config::from_toml(&format!(
        r#"
        [receivers.flaky]
        [exporters.discard]
        [extensions.health_check]
        endpoint = "127.0.0.1:{port}"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.logs]
        receivers = ["flaky"]
        exporters = ["discard"]
        "#
    ))
    .unwrap();
    let err = Topology::build(&config, &registry, &Telemetry::new())
        .unwrap()
        .start()
        .await
        .err()
        .unwrap();
    assert_eq!(err.component, "extensions.health_check");
    assert!(
        err.to_string()
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
}

/// A processor whose instances count themselves in state shared per component id.
struct Sharing(Arc<std::sync::Mutex<Vec<Arc<AtomicUsize>>>>);

impl Factory for Sharing {
    fn type_name(&self) -> &'static str {
        "sharing"
    }
    fn description(&self) -> &'static str {
        "test"
    }
    fn validate(&self, _: &toml::Value) -> Result<(), Vec<ConfigError>> {
        Ok(())
    }
}

struct PassThrough;

impl crate::component::Processor for PassThrough {
    fn process(
        &mut self,
        envelope: crate::envelope::Envelope,
        out: &mut Vec<crate::envelope::Envelope>,
    ) {
        out.push(envelope);
    }
}

impl crate::component::ProcessorFactory for Sharing {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        _: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn crate::component::Processor>, ConfigError> {
        let state = ctx.shared.get_or_init(&ctx.id, || AtomicUsize::new(0));
        state.fetch_add(1, Ordering::SeqCst);
        self.0.lock().unwrap().push(state);
        Ok(Box::new(PassThrough))
    }
}

#[test]
fn instances_of_one_id_share_state_across_pipelines() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut registry = Registry::new();
    registry.add_receiver(FlakyFactory(Arc::new(AtomicUsize::new(1))));
    registry.add_exporter(Discard);
    registry.add_processor(Sharing(Arc::clone(&seen)));
    let config = Config::from_toml(
        r#"
        [receivers.flaky]
        [processors.sharing]
        [processors."sharing/other"]
        [exporters.discard]
        [service.pipelines.traces]
        receivers = ["flaky"]
        processors = ["sharing", "sharing/other"]
        exporters = ["discard"]
        [service.pipelines.logs]
        receivers = ["flaky"]
        processors = ["sharing"]
        exporters = ["discard"]
        "#,
    )
    .unwrap();
    let _topology = Topology::build(&config, &registry, &Telemetry::new()).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let counts: Vec<usize> = seen.iter().map(|s| s.load(Ordering::SeqCst)).collect();
    // `sharing` (in two pipelines) has one state counted twice; `sharing/other` its own.
    let shared = seen
        .iter()
        .filter(|s| s.load(Ordering::SeqCst) == 2)
        .count();
    assert_eq!(shared, 2, "{counts:?}");
    assert!(Arc::ptr_eq(&seen[0], &seen[2]) || Arc::ptr_eq(&seen[1], &seen[2]));
}
