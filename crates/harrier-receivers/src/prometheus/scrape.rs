//! The scrape machinery: per job, a discovery loop keeping one scrape loop per target;
//! per target, a loop that scrapes every interval (starting at an offset derived from
//! the target's hash, so targets spread over the interval), converts and sends.

use super::config::Job;
use super::convert::{self, Options};
use super::discovery::{FileWatcher, TargetGroup, static_groups};
use super::parse::{self, Format};
use super::series::{self, SeriesTracker};
use super::targets::{self, Target};
use harrier_core::envelope::Envelope;
use harrier_core::error::ComponentError;
use harrier_core::output::Output;
use harrier_core::telemetry::{Counter, Gauge};
use harrier_pdata::Batch;
use harrier_pdata::otlp::metrics::v1::ResourceMetrics;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Certificate, Client, Identity};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The User-Agent of every scrape.
const USER_AGENT: &str = concat!("harrier/", env!("CARGO_PKG_VERSION"));

/// How long a removed target's staleness markers may wait for the pipeline.
const STALE_SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything one job's loops share.
pub struct JobRuntime {
    /// Settings.
    pub job: Job,
    /// The job's HTTP client (its TLS settings).
    pub client: Client,
    /// Where batches go.
    pub output: Output,
    /// Successful scrapes.
    pub scrapes: Counter,
    /// Failed scrapes (down targets, bad expositions, limits).
    pub failures: Counter,
    /// Target-discovery problems (unreadable files, invalid targets).
    pub sd_errors: Counter,
    /// Staleness markers emitted.
    pub stale_markers: Counter,
    /// Current number of targets.
    pub targets: Gauge,
}

/// Builds the HTTP client of a job.
///
/// # Errors
/// When a TLS file cannot be read or is not valid PEM.
pub async fn build_client(job: &Job) -> Result<Client, ComponentError> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let sc = &job.config;
    let key = |k: &str| format!("scrape_configs job {:?}: tls_config.{k}", sc.job_name);
    let mut builder = Client::builder()
        .user_agent(USER_AGENT)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1);
    if !sc.enable_compression {
        builder = builder.no_gzip();
    }
    let tls = &sc.tls_config;
    if let Some(ca) = &tls.ca_file {
        let pem = tokio::fs::read(ca).await.map_err(|e| {
            ComponentError::new(format!("{} {}: {e}", key("ca_file"), ca.display()))
        })?;
        let certs = Certificate::from_pem_bundle(&pem).map_err(|e| {
            ComponentError::new(format!("{} {}: {e}", key("ca_file"), ca.display()))
        })?;
        if certs.is_empty() {
            return Err(ComponentError::new(format!(
                "{} {} holds no certificate",
                key("ca_file"),
                ca.display()
            )));
        }
        builder = builder.tls_certs_only(certs);
    }
    if let (Some(cert), Some(key_file)) = (&tls.cert_file, &tls.key_file) {
        let mut pem = tokio::fs::read(cert).await.map_err(|e| {
            ComponentError::new(format!("{} {}: {e}", key("cert_file"), cert.display()))
        })?;
        pem.push(b'\n');
        pem.extend(tokio::fs::read(key_file).await.map_err(|e| {
            ComponentError::new(format!("{} {}: {e}", key("key_file"), key_file.display()))
        })?);
        let identity = Identity::from_pem(&pem)
            .map_err(|e| ComponentError::new(format!("{}: {e}", key("cert_file"))))?;
        builder = builder.identity(identity);
    }
    if tls.insecure_skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| ComponentError::new(format!("cannot build the HTTP client: {e}")))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Runs a job until `shutdown`: discovery plus one scrape loop per target.
pub async fn run_job(rt: Arc<JobRuntime>, shutdown: CancellationToken) {
    let sc = &rt.job.config;
    let static_groups = static_groups(&sc.static_configs);
    let mut watcher =
        (!sc.file_sd_configs.is_empty()).then(|| FileWatcher::new(&sc.file_sd_configs));
    let mut file_groups: Vec<TargetGroup> = Vec::new();
    let mut running: HashMap<u64, (CancellationToken, JoinHandle<()>)> = HashMap::new();
    let mut first = true;
    loop {
        let mut changed = first;
        first = false;
        if let Some(w) = watcher.take() {
            let polled = tokio::task::spawn_blocking(move || {
                let mut w = w;
                let result = w.poll();
                (w, result)
            })
            .await;
            match polled {
                Ok((w, (groups, errors))) => {
                    for e in errors {
                        rt.sd_errors.inc();
                        tracing::warn!(receiver = %rt.output.id(), job = %sc.job_name, error = %e, "file_sd: target file not usable; keeping its previous targets");
                    }
                    if let Some(groups) = groups {
                        file_groups = groups;
                        changed = true;
                    }
                    watcher = Some(w);
                }
                Err(e) => {
                    tracing::error!(receiver = %rt.output.id(), job = %sc.job_name, error = %e, "file_sd: discovery stopped");
                }
            }
        }
        if changed {
            let groups: Vec<TargetGroup> =
                static_groups.iter().chain(&file_groups).cloned().collect();
            let (targets, errors) = targets::build(&rt.job, &groups);
            for e in errors {
                rt.sd_errors.inc();
                tracing::warn!(receiver = %rt.output.id(), job = %sc.job_name, error = %e, "invalid target");
            }
            sync(&rt, &shutdown, &mut running, targets);
        }
        let wait = watcher
            .as_ref()
            .map_or(Duration::from_secs(3600), FileWatcher::poll_interval);
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    for (_, (_, handle)) in running {
        let _ = handle.await;
    }
}

/// Starts loops for new targets and stops those of removed ones.
fn sync(
    rt: &Arc<JobRuntime>,
    shutdown: &CancellationToken,
    running: &mut HashMap<u64, (CancellationToken, JoinHandle<()>)>,
    targets: Vec<Target>,
) {
    let keep: Vec<u64> = targets.iter().map(|t| t.key).collect();
    running.retain(|key, (removed, _)| {
        if keep.contains(key) {
            true
        } else {
            removed.cancel();
            false
        }
    });
    for target in targets {
        if running.contains_key(&target.key) {
            continue;
        }
        tracing::info!(receiver = %rt.output.id(), job = %rt.job.config.job_name, url = %target.url, "scraping target");
        let removed = CancellationToken::new();
        let key = target.key;
        let handle = tokio::spawn(run_target(
            Arc::clone(rt),
            target,
            shutdown.clone(),
            removed.clone(),
        ));
        running.insert(key, (removed, handle));
    }
    rt.targets
        .set(i64::try_from(running.len()).unwrap_or(i64::MAX));
}

/// Where in each interval a target is scraped: derived from the hash of its URL and
/// labels, so targets spread evenly over the interval instead of all scraping at once,
/// and a target keeps its slot across restarts and discovery updates.
pub fn offset_in_interval(key: u64, interval: Duration) -> Duration {
    let interval_ms = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(key % interval_ms)
}

/// Scrapes one target every interval until shutdown or removal.
async fn run_target(
    rt: Arc<JobRuntime>,
    target: Target,
    shutdown: CancellationToken,
    removed: CancellationToken,
) {
    let interval = rt.job.interval;
    let offset = offset_in_interval(target.key, interval);
    let mut tracker = SeriesTracker::default();
    let mut next = tokio::time::Instant::now() + offset;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = removed.cancelled() => break,
            () = tokio::time::sleep_until(next) => {}
        }
        next += interval;
        let resources = tokio::select! {
            () = shutdown.cancelled() => return,
            () = removed.cancelled() => break,
            r = scrape_once(&rt, &target, &mut tracker) => r,
        };
        send(&rt, resources, &shutdown, None).await;
        // A scrape longer than the interval skips the missed ticks.
        let now = tokio::time::Instant::now();
        while next < now {
            next += interval;
        }
    }
    // The target went away: its series are stale now.
    let (resources, n) = series::all_stale(&target.info, &mut tracker, now_ms());
    rt.stale_markers.add(n);
    if n > 0 {
        send(&rt, resources, &shutdown, Some(STALE_SEND_TIMEOUT)).await;
    }
}

async fn send(
    rt: &JobRuntime,
    resources: Vec<ResourceMetrics>,
    shutdown: &CancellationToken,
    timeout: Option<Duration>,
) {
    if resources.is_empty() {
        return;
    }
    let batch = Batch::Metrics(resources);
    tokio::select! {
        () = shutdown.cancelled() => {}
        sent = rt.output.send(Envelope::new(batch), timeout) => {
            if let Err(e) = sent {
                tracing::warn!(receiver = %rt.output.id(), job = %rt.job.config.job_name, error = %e, "scraped metrics not accepted");
            }
        }
    }
}

/// One scrape: fetch, parse, convert, plus the synthetic series.
pub async fn scrape_once(
    rt: &JobRuntime,
    target: &Target,
    tracker: &mut SeriesTracker,
) -> Vec<ResourceMetrics> {
    let started = Instant::now();
    let now = now_ms();
    let fetched = fetch(rt, target).await;
    let result = fetched.and_then(|(body, content_type)| {
        let text = std::str::from_utf8(&body)
            .map_err(|e| format!("exposition is not valid UTF-8: {e}"))?;
        let format = Format::from_content_type(&content_type);
        let families = parse::parse(text, format).map_err(|e| format!("parse error: {e}"))?;
        let sc = &rt.job.config;
        let options = Options {
            honor_labels: sc.honor_labels,
            honor_timestamps: sc.honor_timestamps,
            metric_relabel: &rt.job.metric_relabel,
        };
        // Over the sample limit the whole scrape fails, as in Prometheus: the error
        // path below then marks every series stale.
        let (resources, counts) = convert::convert(&families, &target.info, &options, tracker, now);
        if sc.sample_limit > 0 && counts.post_relabel > sc.sample_limit as u64 {
            // The scrape fails: series it would have added were never reported, so
            // they must not get staleness markers below.
            tracker.forget_new();
            return Err(format!(
                "sample_limit exceeded: {} samples after relabeling, limit {}",
                counts.post_relabel, sc.sample_limit
            ));
        }
        Ok((resources, counts))
    });
    let duration = started.elapsed().as_secs_f64();
    match result {
        Ok((mut resources, counts)) => {
            rt.scrapes.inc();
            rt.stale_markers.add(counts.stale);
            series::add_synthetic(&mut resources, &target.info, true, duration, &counts, now);
            resources
        }
        Err(e) => {
            rt.failures.inc();
            tracing::warn!(receiver = %rt.output.id(), job = %rt.job.config.job_name, url = %target.url, error = %e, "scrape failed");
            let (mut resources, n) = series::all_stale(&target.info, tracker, now);
            rt.stale_markers.add(n);
            let counts = convert::Counts::default();
            series::add_synthetic(&mut resources, &target.info, false, duration, &counts, now);
            resources
        }
    }
}

/// GETs the target; returns the (decompressed) body and its content type.
async fn fetch(rt: &JobRuntime, target: &Target) -> Result<(Vec<u8>, String), String> {
    let sc = &rt.job.config;
    let timeout = rt.job.timeout;
    let mut request = rt
        .client
        .get(&target.url)
        .header(ACCEPT, parse::ACCEPT_HEADER)
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", timeout.as_secs_f64()),
        )
        .timeout(timeout);
    if let Some(auth) = &sc.basic_auth {
        let password = match &auth.password_file {
            Some(path) => Some(
                tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| format!("basic_auth.password_file {}: {e}", path.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            ),
            None => auth.password.clone(),
        };
        request = request.basic_auth(&auth.username, password);
    }
    let token = match (&sc.bearer_token, &sc.bearer_token_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(path)) => Some(
            tokio::fs::read_to_string(path)
                .await
                .map_err(|e| format!("bearer_token_file {}: {e}", path.display()))?
                .trim()
                .to_string(),
        ),
        (None, None) => None,
    };
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let limit = sc.body_size_limit.as_usize();
    let work = async {
        let mut response = request.send().await.map_err(|e| error_chain(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("server returned HTTP status {status}"));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(format!("body exceeds body_size_limit of {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, content_type))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "scrape timed out after {}",
            humantime::format_duration(timeout)
        )),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
