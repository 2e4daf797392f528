//! In-process tests of the whole receiver against HTTP(S) targets: good, failing,
//! hanging and garbage targets, file_sd, gzip, bearer tokens, TLS and limits.

use super::tests::{attrs, metrics, number};
use harrier_core::component::Registry;
use harrier_core::config::Config;
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::Topology;
use harrier_pdata::Batch;
use harrier_pdata::otlp::metrics::v1::metric;
use harrier_testkit::exporters::{Probe, register_probe};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A tiny HTTP/1.1 target: `/ok` serves the shared exposition, `/500` fails, `/hang`
/// never answers, `/garbage` serves junk. Records request heads.
struct FakeTarget {
    port: u16,
    body: Arc<Mutex<(String, String)>>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn fake_target(content_type: &str, body: &str) -> FakeTarget {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shared = Arc::new(Mutex::new((content_type.to_string(), body.to_string())));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (s, r) = (Arc::clone(&shared), Arc::clone(&requests));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (s, r) = (Arc::clone(&s), Arc::clone(&r));
            tokio::spawn(async move {
                loop {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    r.lock().unwrap().push(head.clone());
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut encoding = "";
                    let (status, ctype, body) = if path.starts_with("/ok") {
                        let (c, b) = s.lock().unwrap().clone();
                        ("200 OK", c, b.into_bytes())
                    } else if path.starts_with("/gz") {
                        use std::io::Write as _;
                        let (c, b) = s.lock().unwrap().clone();
                        let mut gz =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        gz.write_all(b.as_bytes()).unwrap();
                        encoding = "content-encoding: gzip\r\n";
                        ("200 OK", c, gz.finish().unwrap())
                    } else if path.starts_with("/500") {
                        (
                            "500 Internal Server Error",
                            "text/plain".into(),
                            "boom".into(),
                        )
                    } else if path.starts_with("/hang") {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    } else {
                        (
                            "200 OK",
                            "text/plain; version=0.0.4".into(),
                            b"this is { not an exposition\n".to_vec(),
                        )
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\n{encoding}content-length: {}\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).await.is_err()
                        || stream.write_all(&body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    FakeTarget {
        port,
        body: shared,
        requests,
    }
}

/// The pipeline every test runs its `receivers.prometheus` section in: everything to
/// the test's `probe` exporter, no own-metrics listener.
const PROBE_PIPELINE: &str = r#"
[exporters.probe]
[service.telemetry.metrics]
address = ""
[service.pipelines.metrics]
receivers = ["prometheus"]
exporters = ["probe"]
"#;

/// Runs the receiver section `text` in-process, in [`PROBE_PIPELINE`].
async fn run_config(
    text: &str,
) -> (
    Arc<Probe>,
    Telemetry,
    harrier_core::topology::RunningTopology,
) {
    let probe = Probe::new();
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    register_probe(&mut registry, &probe);
    let config = Config::from_toml(&format!("{text}\n{PROBE_PIPELINE}")).unwrap();
    let telemetry = Telemetry::new();
    let running = Topology::build(&config, &registry, &telemetry)
        .unwrap()
        .start()
        .await
        .unwrap();
    (probe, telemetry, running)
}

/// Waits (up to 10 s) until every job reported `up` at least `n` times.
async fn wait_for_up(probe: &Probe, jobs: &[&str], n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !jobs
        .iter()
        .all(|j| gauge_value(&probe.batches(), j, "up").len() >= n)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn gauge_value(batches: &[Batch], job: &str, name: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for b in batches {
        let Batch::Metrics(resources) = b else {
            continue;
        };
        for r in resources {
            if attrs(&r.resource.as_ref().unwrap().attributes)["service.name"] != job {
                continue;
            }
            if let Some(m) = metrics(std::slice::from_ref(r)).get(name)
                && let Some(metric::Data::Gauge(g)) = &m.data
            {
                out.extend(g.data_points.iter().map(number));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_good_targets_while_bad_ones_are_down() {
    let good = fake_target(
        "text/plain; version=0.0.4; charset=utf-8",
        "# HELP temp Temperature.\n# TYPE temp gauge\ntemp{room=\"a\"} 21.5\n# TYPE hits counter\nhits 3\n",
    )
    .await;
    let bad = fake_target("text/plain", "").await;
    let password = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(password.path(), "s3cret\n").unwrap();
    let text = format!(
        r#"
        [receivers.prometheus.config.global]
        scrape_interval = "200ms"
        scrape_timeout = "150ms"
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "good"
        metrics_path = "/ok"
        [receivers.prometheus.config.scrape_configs.basic_auth]
        username = "prom"
        password_file = "{password}"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{good}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "failing"
        metrics_path = "/500"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{bad}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "hanging"
        metrics_path = "/hang"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{bad}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "garbage"
        metrics_path = "/garbage"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{bad}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "refused"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{closed}"]
        "#,
        password = password.path().display(),
        good = good.port,
        bad = bad.port,
        closed = harrier_testkit::free_port(),
    );
    let (probe, telemetry, running) = run_config(&text).await;
    let jobs = ["good", "failing", "hanging", "garbage", "refused"];
    wait_for_up(&probe, &jobs, 2).await;
    // The good target disappears from its own exposition: temp goes stale.
    good.body.lock().unwrap().1 = "# TYPE hits counter\nhits 4\n".into();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !gauge_value(&probe.batches(), "good", "temp")
        .last()
        .is_some_and(|v| v.is_nan())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.shutdown().await;
    let batches = probe.batches();
    let up = gauge_value(&batches, "good", "up");
    assert!(
        up.len() >= 2 && up.iter().all(|v| *v == 1.0),
        "good up: {up:?}"
    );
    for job in ["failing", "hanging", "garbage", "refused"] {
        let up = gauge_value(&batches, job, "up");
        assert!(
            up.len() >= 2 && up.iter().all(|v| *v == 0.0),
            "{job} up: {up:?}"
        );
    }
    let temps = gauge_value(&batches, "good", "temp");
    assert!(temps.contains(&21.5), "{temps:?}");
    assert!(
        temps.last().unwrap().is_nan(),
        "temp not marked stale: {temps:?}"
    );
    let heads = good.requests.lock().unwrap().clone();
    let head = heads[0].to_ascii_lowercase();
    assert!(
        head.contains("accept: application/openmetrics-text"),
        "{head}"
    );
    assert!(
        head.contains("x-prometheus-scrape-timeout-seconds: 0.15"),
        "{head}"
    );
    // "prom:s3cret" in base64.
    assert!(
        head.contains("authorization: basic chjvbtpzm2nyzxq="),
        "{head}"
    );
    assert!(head.contains("user-agent: harrier/"), "{head}");
    let failures = telemetry.counter_sum("harrier_receiver_prometheus_scrape_failures", &[]);
    assert!(failures >= 8, "failures counted: {failures}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_targets_come_and_go_with_staleness_markers() {
    let a = fake_target("text/plain", "# TYPE a_temp gauge\na_temp 1\n").await;
    let b = fake_target("text/plain", "# TYPE b_temp gauge\nb_temp 2\n").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.json");
    let write = |port: u16, stamp: u64| {
        std::fs::write(
            &file,
            format!(r#"[{{"targets": ["127.0.0.1:{port}"], "labels": {{"team": "t{port}"}}}}]"#),
        )
        .unwrap();
        // An explicit mtime, so the change is seen whatever the file system's clock
        // granularity.
        let f = std::fs::File::options().write(true).open(&file).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_000_000 + stamp))
            .unwrap();
    };
    write(a.port, 0);
    let text = format!(
        r#"
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "sd"
        scrape_interval = "200ms"
        metrics_path = "/ok"
        [[receivers.prometheus.config.scrape_configs.file_sd_configs]]
        files = ["{dir}/*.json"]
        refresh_interval = "1s"
        "#,
        dir = dir.path().display(),
    );
    let (probe, telemetry, running) = run_config(&text).await;
    let wait = |name: &'static str, pred: fn(&[f64]) -> bool| {
        let probe = Arc::clone(&probe);
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let values = gauge_value(&probe.batches(), "sd", name);
                if pred(&values) {
                    return values;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "timed out waiting on {name}: {values:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait("a_temp", |v| v.contains(&1.0)).await;
    write(b.port, 10);
    let b_values = wait("b_temp", |v| v.contains(&2.0)).await;
    assert!(b_values.contains(&2.0));
    let a_values = wait("a_temp", |v| v.last().is_some_and(|x| x.is_nan())).await;
    assert!(a_values.last().unwrap().is_nan());
    running.shutdown().await;
    assert_eq!(
        telemetry.counter_sum("harrier_receiver_prometheus_stale_markers", &[]),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_and_bearer_token_files() {
    let target = fake_target(
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        "# TYPE jobs counter\njobs_total{q=\"a\"} 5\njobs_created{q=\"a\"} 1700000000.5\n# EOF\n",
    )
    .await;
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "first-token\n").unwrap();
    let text = format!(
        r#"
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "gz"
        scrape_interval = "200ms"
        metrics_path = "/gz"
        bearer_token_file = "{token}"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{port}"]
        "#,
        token = token.path().display(),
        port = target.port,
    );
    let (probe, _telemetry, running) = run_config(&text).await;
    let sums = |batches: &[Batch]| -> Vec<(f64, u64)> {
        let mut out = Vec::new();
        for b in batches {
            let Batch::Metrics(resources) = b else {
                continue;
            };
            if let Some(m) = metrics(resources).get("jobs")
                && let Some(metric::Data::Sum(s)) = &m.data
            {
                out.extend(
                    s.data_points
                        .iter()
                        .map(|p| (number(p), p.start_time_unix_nano)),
                );
            }
        }
        out
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sums(&probe.batches()).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The token file is re-read at every scrape (service-account tokens rotate).
    std::fs::write(token.path(), "second-token\n").unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rotated = target
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|h| h.contains("Bearer second-token"));
        if rotated || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.shutdown().await;
    let got = sums(&probe.batches());
    assert_eq!(
        got.first(),
        Some(&(5.0, 1_700_000_000_500_000_000)),
        "{got:?}"
    );
    let heads: Vec<String> = target.requests.lock().unwrap().clone();
    let first = heads[0].to_ascii_lowercase();
    assert!(
        first.contains("authorization: bearer first-token"),
        "{first}"
    );
    assert!(
        first
            .lines()
            .any(|l| l.starts_with("accept-encoding:") && l.contains("gzip")),
        "{first}"
    );
    assert!(
        heads.iter().any(|h| h.contains("Bearer second-token")),
        "token not re-read"
    );
}

/// An HTTPS target (the testkit's certificate for 127.0.0.1, signed by its CA) serving
/// a one-gauge exposition.
async fn tls_target() -> u16 {
    let config = harrier_testkit::tls::server_config(false).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // Clients that do not trust the certificate fail the handshake here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                loop {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match tls.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let body = "# TYPE secure_gauge gauge\nsecure_gauge 7\n";
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tls.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_targets_use_tls_config() {
    let port = tls_target().await;
    let ca = harrier_testkit::tls::path("ca.pem").display().to_string();
    let text = format!(
        r#"
        [receivers.prometheus.config.global]
        scrape_interval = "200ms"
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "trusted"
        scheme = "https"
        tls_config = {{ ca_file = "{ca}" }}
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{port}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "insecure"
        scheme = "https"
        tls_config = {{ insecure_skip_verify = true }}
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["localhost:{port}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "untrusted"
        scheme = "https"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{port}"]
        "#
    );
    let (probe, _telemetry, running) = run_config(&text).await;
    let jobs = ["trusted", "insecure", "untrusted"];
    wait_for_up(&probe, &jobs, 1).await;
    running.shutdown().await;
    let batches = probe.batches();
    assert_eq!(gauge_value(&batches, "trusted", "up").first(), Some(&1.0));
    assert_eq!(
        gauge_value(&batches, "trusted", "secure_gauge").first(),
        Some(&7.0)
    );
    assert_eq!(gauge_value(&batches, "insecure", "up").first(), Some(&1.0));
    // The built-in roots do not know the test CA.
    assert_eq!(gauge_value(&batches, "untrusted", "up").first(), Some(&0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_limit_and_body_size_limit_fail_the_scrape() {
    let target = fake_target("text/plain", "a 1\nb 2\nc 3\n").await;
    let text = format!(
        r#"
        [receivers.prometheus.config.global]
        scrape_interval = "200ms"
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "limited"
        metrics_path = "/ok"
        sample_limit = 2
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{port}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "small_body"
        metrics_path = "/ok"
        body_size_limit = 4
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{port}"]
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "fine"
        metrics_path = "/ok"
        sample_limit = 3
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{port}"]
        "#,
        port = target.port,
    );
    let (probe, _telemetry, running) = run_config(&text).await;
    let jobs = ["limited", "small_body", "fine"];
    wait_for_up(&probe, &jobs, 1).await;
    running.shutdown().await;
    let batches = probe.batches();
    assert_eq!(gauge_value(&batches, "limited", "up").first(), Some(&0.0));
    assert!(gauge_value(&batches, "limited", "a").is_empty());
    assert_eq!(
        gauge_value(&batches, "small_body", "up").first(),
        Some(&0.0)
    );
    assert_eq!(gauge_value(&batches, "fine", "up").first(), Some(&1.0));
    assert_eq!(gauge_value(&batches, "fine", "c").first(), Some(&3.0));
}
