//! A started topology: start-up in reverse flow order, receiver supervision, and the
//! shutdown cascade (see the parent module's documentation).

use super::*;

impl Topology {
    /// Starts everything: extensions and own metrics, exporters, pipelines, receivers.
    ///
    /// # Errors
    /// A [`StartError`] naming the first component that failed; everything started
    /// before it is stopped again.
    pub async fn start(self) -> Result<RunningTopology, StartError> {
        let health = HealthState::default();
        let mut running = RunningTopology {
            health: health.clone(),
            telemetry: self.telemetry.clone(),
            shutdown_timeout: self.shutdown_timeout,
            receivers_stop: CancellationToken::new(),
            services_stop: CancellationToken::new(),
            hard_stop: CancellationToken::new(),
            receivers: Vec::new(),
            pipelines: Vec::new(),
            exporters: Vec::new(),
            services: Vec::new(),
            metrics_addr: None,
        };
        register_process_metrics(&self.telemetry);
        if let Err(e) = running.start_inner(self).await {
            running.shutdown().await;
            return Err(e);
        }
        health.set(Health::Ready);
        Ok(running)
    }
}

fn register_process_metrics(telemetry: &Telemetry) {
    telemetry.gauge_fn(
        "otelcol_process_memory_rss",
        "Total physical memory (resident set size) in bytes.",
        &[],
        || crate::process::rss_bytes().unwrap_or(0) as f64,
    );
    telemetry.gauge_fn(
        "otelcol_process_cpu_seconds",
        "Total CPU user and system time in seconds.",
        &[],
        || crate::process::cpu_seconds().unwrap_or(0.0),
    );
    let start = Instant::now();
    telemetry.gauge_fn(
        "otelcol_process_uptime",
        "Uptime of the process in seconds.",
        &[],
        move || start.elapsed().as_secs_f64(),
    );
}

/// What a shutdown did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Whether everything drained before the deadline.
    pub clean: bool,
    /// Items counted as failed because the deadline passed.
    pub dropped_items: usize,
}

/// A started topology.
pub struct RunningTopology {
    health: HealthState,
    telemetry: Telemetry,
    shutdown_timeout: Duration,
    receivers_stop: CancellationToken,
    services_stop: CancellationToken,
    hard_stop: CancellationToken,
    receivers: Vec<(ComponentId, JoinHandle<()>)>,
    pipelines: Vec<(String, JoinHandle<()>)>,
    exporters: Vec<RunningExporter>,
    services: Vec<JoinHandle<()>>,
    metrics_addr: Option<std::net::SocketAddr>,
}

impl RunningTopology {
    async fn start_inner(&mut self, topology: Topology) -> Result<(), StartError> {
        if !topology.metrics_address.is_empty() {
            let listener = http_server::bind(&topology.metrics_address)
                .await
                .map_err(|error| StartError {
                    component: "service.telemetry.metrics.address".into(),
                    error,
                })?;
            self.metrics_addr = listener.local_addr().ok();
            let telemetry = self.telemetry.clone();
            let handler: http_server::Handler = Arc::new(move |req| {
                let resp = if req.uri().path() == "/metrics" {
                    http_server::response(
                        200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        telemetry.render(),
                    )
                } else {
                    http_server::response(404, "text/plain", "not found: try /metrics\n")
                };
                async move { resp }.boxed()
            });
            let stop = self.services_stop.clone();
            self.services.push(tokio::spawn(http_server::serve(
                listener,
                handler,
                stop,
                64,
                Duration::from_secs(1),
            )));
        }
        for (id, ext) in topology.extensions {
            let ctx = ExtensionContext {
                health: self.health.clone(),
                shutdown: self.services_stop.clone(),
            };
            let fut = ext.start(ctx).await.map_err(|error| StartError {
                component: format!("extensions.{id}"),
                error,
            })?;
            self.services.push(tokio::spawn(fut));
        }
        for built in topology.exporters {
            built.exporter.start().await.map_err(|error| StartError {
                component: format!("exporters.{}", built.id),
                error,
            })?;
            self.exporters.push(runner::start(
                built.id,
                built.exporter,
                built.config,
                built.queue,
                built.counters,
                self.hard_stop.clone(),
            ));
        }
        for p in topology.pipelines {
            let name = p.name.clone();
            self.pipelines.push((name, tokio::spawn(p.run())));
        }
        for built in topology.receivers {
            let ctx = ReceiverContext {
                output: built.output.clone(),
                shutdown: self.receivers_stop.clone(),
            };
            let fut = built
                .receiver
                .start(ctx)
                .await
                .map_err(|error| StartError {
                    component: format!("receivers.{}", built.id),
                    error,
                })?;
            tracing::info!(receiver = %built.id, "receiver started");
            let id = built.id.clone();
            let stop = self.receivers_stop.clone();
            let supervised = supervise(built.id, fut, built.output, built.rebuild, stop);
            self.receivers.push((id, tokio::spawn(supervised)));
        }
        Ok(())
    }

    /// The readiness state (shared with the health check).
    pub fn health(&self) -> &HealthState {
        &self.health
    }

    /// The collector's own metrics.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Where own metrics are served, if enabled.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_addr
    }

    /// Shuts down gracefully within `service.shutdown_timeout`.
    pub async fn shutdown(self) -> ShutdownReport {
        let timeout = self.shutdown_timeout;
        self.shutdown_with_deadline(Instant::now() + timeout).await
    }

    /// Shuts down gracefully, giving up at `deadline`.
    pub async fn shutdown_with_deadline(mut self, deadline: Instant) -> ShutdownReport {
        self.health.set(Health::Stopping);
        let mut clean = true;
        self.receivers_stop.cancel();
        for (id, handle) in self.receivers.drain(..) {
            if !join_until(handle, deadline).await {
                tracing::warn!(receiver = %id, "receiver did not stop before the deadline");
                clean = false;
            }
        }
        for (name, handle) in self.pipelines.drain(..) {
            if !join_until(handle, deadline).await {
                tracing::warn!(pipeline = %name, "pipeline did not drain before the deadline");
                clean = false;
            }
        }
        let mut dropped_items = 0;
        for exporter in self.exporters.drain(..) {
            let stopped = join_all_until(&exporter, deadline).await;
            if !stopped {
                clean = false;
                self.hard_stop.cancel();
                // Give in-flight attempts a moment to observe the hard stop.
                join_all_until(&exporter, Instant::now() + Duration::from_millis(500)).await;
                for h in &exporter.workers {
                    h.abort();
                }
                dropped_items += exporter.drop_remaining().await;
            }
            exporter.exporter.shutdown().await;
        }
        self.services_stop.cancel();
        for handle in self.services.drain(..) {
            let _ = join_until(handle, Instant::now() + Duration::from_secs(2)).await;
        }
        tracing::info!(clean, dropped_items, "collector stopped");
        ShutdownReport {
            clean,
            dropped_items,
        }
    }
}

/// First wait before restarting a receiver that stopped on its own.
pub const RESTART_BACKOFF_INITIAL: Duration = Duration::from_millis(200);
/// Longest wait between restarts.
pub const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Runs a receiver; if it stops while the collector is not shutting down (a failure
/// after start-up), logs it and restarts it from its config with exponential backoff.
/// Holds the receiver's `Output` only until shutdown, so pipelines can close.
async fn supervise(
    id: ComponentId,
    first: futures::future::BoxFuture<'static, ()>,
    output: Output,
    rebuild: Box<dyn Fn() -> Result<Box<dyn Receiver>, ConfigError> + Send + Sync>,
    stop: CancellationToken,
) {
    let mut running = Some(first);
    let mut backoff = RESTART_BACKOFF_INITIAL;
    loop {
        if let Some(fut) = running.take() {
            fut.await;
        }
        if stop.is_cancelled() {
            return;
        }
        tracing::error!(receiver = %id, retry_in = ?backoff, "receiver stopped unexpectedly; restarting");
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
        let ctx = ReceiverContext {
            output: output.clone(),
            shutdown: stop.clone(),
        };
        match rebuild() {
            Ok(receiver) => match receiver.start(ctx).await {
                Ok(fut) => {
                    tracing::info!(receiver = %id, "receiver restarted");
                    running = Some(fut);
                }
                Err(e) => tracing::error!(receiver = %id, error = %e, "receiver restart failed"),
            },
            Err(e) => tracing::error!(receiver = %id, error = %e, "receiver rebuild failed"),
        }
    }
}

async fn join_until(handle: JoinHandle<()>, deadline: Instant) -> bool {
    let abort = handle.abort_handle();
    match tokio::time::timeout_at(deadline, handle).await {
        Ok(_) => true,
        Err(_) => {
            abort.abort();
            false
        }
    }
}

async fn join_all_until(exporter: &RunningExporter, deadline: Instant) -> bool {
    loop {
        if exporter.workers.iter().all(JoinHandle::is_finished) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
