//! The processor in a real topology: a feed receiver, a logs and a traces pipeline both
//! listing `anomaly`, and the testkit's probe exporter; then a restart on the same
//! storage directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests_support::*;
use async_trait::async_trait;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, Registry,
};
use harrier_core::config::Config;
use harrier_core::envelope::Envelope;
use harrier_core::error::{ComponentError, ConfigError};
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::{RunningTopology, Topology};
use harrier_pdata::Batch;
use harrier_pdata::otlp::trace::v1::span::SpanKind;
use harrier_testkit::exporters::{Probe, register_probe};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

type Feed = Arc<Mutex<Option<mpsc::Receiver<Batch>>>>;

/// A receiver that forwards the batches the test sends it.
struct FeedReceiver(Feed);

#[async_trait]
impl Receiver for FeedReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let rx = self.0.lock().unwrap().take();
        Ok(Box::pin(async move {
            let Some(mut rx) = rx else {
                ctx.shutdown.cancelled().await;
                return;
            };
            loop {
                tokio::select! {
                    () = ctx.shutdown.cancelled() => return,
                    batch = rx.recv() => match batch {
                        Some(batch) => ctx.output.send(Envelope::new(batch), None).await.unwrap(),
                        None => {
                            ctx.shutdown.cancelled().await;
                            return;
                        }
                    },
                }
            }
        }))
    }
}

struct FeedFactory(Feed);

impl Factory for FeedFactory {
    fn type_name(&self) -> &'static str {
        "feed"
    }
    fn description(&self) -> &'static str {
        "test receiver: forwards batches sent by the test"
    }
    fn validate(&self, _: &toml::Value) -> Result<(), Vec<ConfigError>> {
        Ok(())
    }
}

impl ReceiverFactory for FeedFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces]
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(FeedReceiver(Arc::clone(&self.0))))
    }
}

struct Running {
    topology: RunningTopology,
    feed: mpsc::Sender<Batch>,
    probe: Arc<Probe>,
}

async fn start(storage: &std::path::Path) -> Running {
    let (feed, rx) = mpsc::channel(8);
    let probe = Probe::new();
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    registry.add_receiver(FeedFactory(Arc::new(Mutex::new(Some(rx)))));
    register_probe(&mut registry, &probe);
    let text = format!(
        r#"
        [receivers.feed]
        [processors.anomaly]
        storage_dir = {:?}
        [exporters.probe]
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.logs]
        receivers = ["feed"]
        processors = ["anomaly"]
        exporters = ["probe"]
        [service.pipelines.traces]
        receivers = ["feed"]
        processors = ["anomaly"]
        exporters = ["probe"]
        "#,
        storage.display().to_string()
    );
    let config = Config::from_toml(&text).unwrap();
    let topology = Topology::build(&config, &registry, &Telemetry::new())
        .unwrap()
        .start()
        .await
        .unwrap();
    Running {
        topology,
        feed,
        probe,
    }
}

impl Running {
    /// Sends `batch` and waits until the probe holds it; returns its tags.
    async fn send(&self, batch: Batch) -> Vec<Option<Tags>> {
        let before = self.probe.batches().len();
        self.feed.send(batch).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let batches = self.probe.batches();
            if batches.len() > before {
                return tags_of_batch(&batches[before]);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "batch not delivered"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_through_the_topology_and_keeps_baselines_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path()).await;
    // Day 0: alice and the checkout workload are seen (learning).
    let learning = logs(vec![
        audit("alice", "get", "pods").ns("shop").at(T0),
        record(
            flow(
                ("shop", "checkout"),
                "10.2.0.9",
                Some(("shop", "cart")),
                8080,
            ),
            T0,
        ),
    ]);
    assert_eq!(run.send(learning).await, [None, None]);
    // Day 2, traces pipeline: checkout calls out of the cluster; its baseline was
    // started by the flow in the logs pipeline.
    let call = vec![
        kv("server.address", "203.0.113.50"),
        kv_int("server.port", 443),
    ];
    let tags = run
        .send(spans(
            "checkout",
            "shop",
            vec![(SpanKind::Client, call, T0 + 2 * DAY)],
        ))
        .await;
    assert_eq!(types(&tags[0]), ["novel_connection"]);
    assert_eq!(tags[0].as_ref().unwrap().severity, "high");
    // Day 2, logs pipeline: alice lists secrets, and the webhook repeats the event.
    let event = audit("alice", "list", "secrets").ns("shop").id("e-1");
    let tags = run.send(logs(vec![event.clone().at(T0 + 2 * DAY)])).await;
    assert_eq!(types(&tags[0]), ["novel_api_call"]);
    let tags = run.send(logs(vec![event.at(T0 + 2 * DAY)])).await;
    assert_eq!(tags, [None]);
    let report = run.topology.shutdown().await;
    assert!(report.clean);
    assert!(dir.path().join("anomaly.baselines.json").exists());

    // Restart: what was learned before is known, alice is past her learning period.
    let run = start(dir.path()).await;
    let tags = run
        .send(logs(vec![
            audit("alice", "list", "secrets")
                .ns("shop")
                .at(T0 + 3 * DAY),
            audit("alice", "delete", "secrets")
                .ns("shop")
                .at(T0 + 3 * DAY),
        ]))
        .await;
    assert_eq!(tags[0], None);
    assert_eq!(types(&tags[1]), ["novel_api_call"]);
    run.topology.shutdown().await;
}
