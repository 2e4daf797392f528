#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::config::{HostMetricsConfig, Scraper};
use super::procfs;
use super::scrape::{self, Times};
use harrier_core::component::{Factory, Registry};
use harrier_core::config::Config;
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::Topology;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::any_value;
use harrier_pdata::otlp::metrics::v1::{Metric, metric, number_data_point};
use harrier_testkit::exporters::{Probe, register_probe};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const STAT: &str = "cpu  10 20 30 40 50 60 70 80 0 0
cpu0 100 200 300 400 500 600 700 800 0 0
cpu1 1 2 3 4 5 6 7 8 0 0
intr 12345 0 0
ctxt 999
btime 1700000000
processes 4242
procs_running 3
procs_blocked 1
";

const MEMINFO: &str = "MemTotal:        1000 kB
MemFree:          200 kB
MemAvailable:     500 kB
Buffers:          100 kB
Cached:           300 kB
SwapTotal:        400 kB
SwapFree:         150 kB
SReclaimable:      50 kB
SUnreclaim:        25 kB
";

const LOADAVG: &str = "0.50 1.25 2.00 2/345 6789\n";

const DISKSTATS: &str = "   8       0 sda 100 5 2000 30 200 7 4000 60 0 90 90 0 0 0 0
 259       1 nvme0n1p1 1 0 8 0 2 0 16 0 0 0 0 0 0 0 0
";

const NET_DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0: 5000 50 1 2 0 0 0 0 7000 70 3 4 0 0 0 0
";

const VMSTAT: &str = "pgfault 1000\npgmajfault 10\npswpin 5\npswpout 6\n";

fn fake_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let proc_dir = dir.path().join("proc");
    std::fs::create_dir_all(proc_dir.join("net")).unwrap();
    std::fs::create_dir_all(proc_dir.join("sys/kernel")).unwrap();
    for (name, text) in [
        ("stat", STAT),
        ("meminfo", MEMINFO),
        ("loadavg", LOADAVG),
        ("diskstats", DISKSTATS),
        ("net/dev", NET_DEV),
        ("vmstat", VMSTAT),
        ("sys/kernel/hostname", "fake-host\n"),
    ] {
        std::fs::write(proc_dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn parses_proc_stat() {
    let stat = procfs::parse_stat(STAT);
    assert_eq!(stat.cpus.len(), 2);
    assert_eq!(stat.cpus[0].0, 0);
    assert_eq!(stat.cpus[0].1[0], 1.0);
    assert_eq!(stat.cpus[0].1[7], 8.0);
    assert_eq!(stat.cpus[1].0, 1);
    assert_eq!(stat.boot_time, Some(1_700_000_000));
    assert_eq!(stat.processes_created, Some(4242));
    assert_eq!(stat.procs_running, Some(3));
    assert_eq!(stat.procs_blocked, Some(1));
}

#[test]
fn parses_meminfo_loadavg_vmstat() {
    let mem = procfs::parse_meminfo(MEMINFO);
    assert_eq!(mem["MemTotal"], 1000 * 1024);
    assert_eq!(mem["SwapFree"], 150 * 1024);
    assert_eq!(procfs::parse_loadavg(LOADAVG), Some([0.5, 1.25, 2.0]));
    assert_eq!(procfs::parse_loadavg("1.0 oops"), None);
    let vm = procfs::parse_vmstat(VMSTAT);
    assert_eq!(vm["pgmajfault"], 10);
    assert_eq!(vm["pswpout"], 6);
}

#[test]
fn parses_diskstats_and_net_dev() {
    let disks = procfs::parse_diskstats(DISKSTATS);
    assert_eq!(disks.len(), 2);
    assert_eq!(disks[0].device, "sda");
    assert_eq!(disks[0].reads, 100);
    assert_eq!(disks[0].read_bytes, 2000 * 512);
    assert_eq!(disks[0].writes, 200);
    assert_eq!(disks[0].write_bytes, 4000 * 512);
    let net = procfs::parse_net_dev(NET_DEV);
    assert_eq!(net.len(), 2);
    let eth0 = &net[1];
    assert_eq!(eth0.interface, "eth0");
    assert_eq!(
        (
            eth0.rx_bytes,
            eth0.rx_packets,
            eth0.rx_errors,
            eth0.rx_dropped
        ),
        (5000, 50, 1, 2)
    );
    assert_eq!(
        (
            eth0.tx_bytes,
            eth0.tx_packets,
            eth0.tx_errors,
            eth0.tx_dropped
        ),
        (7000, 70, 3, 4)
    );
}

fn value(m: &Metric, attrs: &[(&str, &str)]) -> f64 {
    let points = match m.data.as_ref().unwrap() {
        metric::Data::Sum(s) => &s.data_points,
        metric::Data::Gauge(g) => &g.data_points,
        other => panic!("unexpected {other:?}"),
    };
    let p = points
        .iter()
        .find(|p| {
            attrs.iter().all(|(k, v)| {
                p.attributes.iter().any(|a| {
                    a.key == *k
                        && matches!(a.value.as_ref().and_then(|v| v.value.as_ref()),
                            Some(harrier_pdata::otlp::common::v1::any_value::Value::StringValue(s)) if s == v)
                })
            })
        })
        .unwrap_or_else(|| panic!("{} has no point {attrs:?}", m.name));
    match p.value.unwrap() {
        number_data_point::Value::AsInt(v) => v as f64,
        number_data_point::Value::AsDouble(v) => v,
    }
}

fn scrape_fake(root: &Path, scraper: Scraper) -> BTreeMap<String, Metric> {
    scrape::scrape(scraper, root, Times { start: 1, now: 2 })
        .unwrap()
        .into_iter()
        .map(|m| (m.name.clone(), m))
        .collect()
}

#[test]
fn scrapers_read_below_root_path() {
    let root = fake_root();
    let root = root.path();
    let cpu = scrape_fake(root, Scraper::Cpu);
    let time = &cpu["system.cpu.time"];
    assert_eq!(time.unit, "s");
    assert_eq!(
        value(time, &[("cpu.logical_number", "0"), ("cpu.mode", "iowait")]),
        5.0
    );
    let mem = scrape_fake(root, Scraper::Memory);
    // used = total - free - buffers - cached - slab reclaimable
    assert_eq!(
        value(
            &mem["system.memory.usage"],
            &[("system.memory.state", "used")]
        ),
        350.0 * 1024.0
    );
    assert_eq!(
        value(
            &mem["system.memory.utilization"],
            &[("system.memory.state", "free")]
        ),
        0.2
    );
    let load = scrape_fake(root, Scraper::Load);
    assert_eq!(value(&load["system.cpu.load_average.5m"], &[]), 1.25);
    assert_eq!(load["system.cpu.load_average.15m"].unit, "{thread}");
    let disk = scrape_fake(root, Scraper::Disk);
    assert_eq!(
        value(
            &disk["system.disk.io"],
            &[("system.device", "sda"), ("disk.io.direction", "write")]
        ),
        4000.0 * 512.0
    );
    let net = scrape_fake(root, Scraper::Network);
    assert_eq!(
        value(
            &net["system.network.io"],
            &[
                ("network.interface.name", "eth0"),
                ("network.io.direction", "transmit")
            ]
        ),
        7000.0
    );
    assert_eq!(
        value(
            &net["system.network.errors"],
            &[
                ("network.interface.name", "eth0"),
                ("network.io.direction", "receive")
            ]
        ),
        1.0
    );
    let paging = scrape_fake(root, Scraper::Paging);
    assert_eq!(
        value(
            &paging["system.paging.usage"],
            &[("system.paging.state", "used")]
        ),
        250.0 * 1024.0
    );
    let procs = scrape_fake(root, Scraper::Processes);
    assert_eq!(
        value(
            &procs["system.process.count"],
            &[("process.state", "running")]
        ),
        3.0
    );
    assert_eq!(value(&procs["system.process.created"], &[]), 4242.0);
}

#[test]
fn missing_file_is_a_scrape_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = scrape::scrape(Scraper::Cpu, dir.path(), Times { start: 1, now: 2 }).unwrap_err();
    assert!(err.to_string().contains("proc/stat"), "{err}");
}

fn validate(text: &str) -> Vec<(String, String)> {
    let value: toml::Value = toml::from_str(text).unwrap();
    match super::HostMetricsFactory.validate(&value) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.path.clone(), e.message.clone()))
            .collect(),
    }
}

#[test]
fn config_defaults_and_validation() {
    let config: HostMetricsConfig =
        harrier_core::component::parse_config(&toml::from_str("[scrapers.cpu]").unwrap()).unwrap();
    assert_eq!(config.collection_interval, Duration::from_secs(10));
    assert_eq!(config.root_path, Path::new("/"));
    assert_eq!(config.enabled(), vec![Scraper::Cpu]);
    assert!(validate("[scrapers.cpu]\n[scrapers.memory]").is_empty());

    let errors = validate("[scrapers.foo]");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "scrapers.foo");

    let errors = validate("collection_interval = \"0s\"\n[scrapers.cpu]");
    assert_eq!(errors[0].0, "collection_interval");

    let errors = validate("");
    assert_eq!(errors[0].0, "scrapers");

    assert!(!validate("bogus = 1\n[scrapers.cpu]").is_empty());
}

fn metrics_of(batch: &Batch) -> Vec<Metric> {
    let Batch::Metrics(resources) = batch else {
        panic!("not metrics")
    };
    assert_eq!(resources.len(), 1);
    let resource = resources[0].resource.as_ref().unwrap();
    assert!(resource.attributes.iter().any(|a| a.key == "host.name"));
    resources[0]
        .scope_metrics
        .iter()
        .flat_map(|s| s.metrics.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collects_every_scraper_on_this_machine() {
    let probe = Probe::new();
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    register_probe(&mut registry, &probe);
    let text = r#"
        [receivers.host_metrics]
        collection_interval = "100ms"
        [receivers.host_metrics.scrapers.cpu]
        [receivers.host_metrics.scrapers.memory]
        [receivers.host_metrics.scrapers.load]
        [receivers.host_metrics.scrapers.filesystem]
        [receivers.host_metrics.scrapers.disk]
        [receivers.host_metrics.scrapers.network]
        [receivers.host_metrics.scrapers.paging]
        [receivers.host_metrics.scrapers.processes]
        [exporters.probe]
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.metrics]
        receivers = ["host_metrics"]
        exporters = ["probe"]
    "#;
    let config = Config::from_toml(text).unwrap();
    let telemetry = Telemetry::new();
    let running = Topology::build(&config, &registry, &telemetry)
        .unwrap()
        .start()
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while probe.batches().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.shutdown().await;
    let batches = probe.batches();
    assert!(batches.len() >= 2, "got {} collections", batches.len());

    let first = metrics_of(&batches[0]);
    let second = metrics_of(&batches[1]);
    let by_name: BTreeMap<&str, &Metric> = first.iter().map(|m| (m.name.as_str(), m)).collect();
    for (name, unit, keys) in [
        (
            "system.cpu.time",
            "s",
            &["cpu.logical_number", "cpu.mode"][..],
        ),
        ("system.memory.usage", "By", &["system.memory.state"][..]),
        (
            "system.memory.utilization",
            "1",
            &["system.memory.state"][..],
        ),
        ("system.cpu.load_average.1m", "{thread}", &[][..]),
        ("system.cpu.load_average.15m", "{thread}", &[][..]),
        (
            "system.disk.io",
            "By",
            &["system.device", "disk.io.direction"][..],
        ),
        (
            "system.network.io",
            "By",
            &["network.interface.name", "network.io.direction"][..],
        ),
        (
            "system.network.packets",
            "{packet}",
            &["network.interface.name", "network.io.direction"][..],
        ),
        (
            "system.network.errors",
            "{error}",
            &["network.interface.name", "network.io.direction"][..],
        ),
        ("system.paging.usage", "By", &["system.paging.state"][..]),
        ("system.process.count", "{process}", &["process.state"][..]),
        ("system.process.created", "{process}", &[][..]),
        (
            "system.filesystem.usage",
            "By",
            &[
                "system.device",
                "system.filesystem.mode",
                "system.filesystem.mountpoint",
                "system.filesystem.type",
                "system.filesystem.state",
            ][..],
        ),
    ] {
        let m = by_name
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(m.unit, unit, "{name}");
        let points = match m.data.as_ref().unwrap() {
            metric::Data::Sum(s) => &s.data_points,
            metric::Data::Gauge(g) => &g.data_points,
            other => panic!("{name}: {other:?}"),
        };
        for p in points {
            let mut got: Vec<&str> = p.attributes.iter().map(|a| a.key.as_str()).collect();
            got.sort_unstable();
            let mut want = keys.to_vec();
            want.sort_unstable();
            assert_eq!(got, want, "{name}");
        }
    }

    // Monotonic cumulative sums: same start time, never decreasing.
    let second_by_name: BTreeMap<&str, &Metric> =
        second.iter().map(|m| (m.name.as_str(), m)).collect();
    for name in [
        "system.cpu.time",
        "system.process.created",
        "system.network.io",
    ] {
        let (Some(metric::Data::Sum(a)), Some(metric::Data::Sum(b))) = (
            by_name[name].data.as_ref(),
            second_by_name[name].data.as_ref(),
        ) else {
            panic!("{name} is not a sum");
        };
        assert!(a.is_monotonic && b.is_monotonic, "{name}");
        assert_eq!(a.aggregation_temporality, 2, "{name} cumulative");
        for (pa, pb) in a.data_points.iter().zip(&b.data_points) {
            assert_ne!(pa.start_time_unix_nano, 0);
            assert_eq!(pa.start_time_unix_nano, pb.start_time_unix_nano, "{name}");
            assert!(pb.time_unix_nano > pa.time_unix_nano, "{name}");
            let as_f64 =
                |p: &harrier_pdata::otlp::metrics::v1::NumberDataPoint| match p.value.unwrap() {
                    number_data_point::Value::AsInt(v) => v as f64,
                    number_data_point::Value::AsDouble(v) => v,
                };
            assert!(as_f64(pb) >= as_f64(pa), "{name} decreased");
        }
    }
}

#[test]
fn identity_reads_boot_time_and_host_name_below_root_path() {
    let root = fake_root();
    let identity = super::Identity::read(root.path());
    assert_eq!(identity.start_unix_nanos, 1_700_000_000 * 1_000_000_000);
    assert_eq!(identity.host_name, "fake-host");
}

#[test]
fn mount_tables_parse_with_escapes_and_skip_pseudo_filesystems() {
    let mounts = super::scrape::parse_mounts(
        "/dev/sda1 / ext4 rw,relatime 0 0\n\
         proc /proc proc rw,nosuid 0 0\n\
         /dev/sdb1 /mnt/my\\040disk xfs ro,noatime 0 0\n\
         tmpfs /run tmpfs rw 0 0\n\
         /dev/sdc1 /run tmpfs rw 0 0\n\
         garbage\n",
    );
    let summary: Vec<(&str, &str, &str, bool)> = mounts
        .iter()
        .map(|m| {
            (
                m.device.as_str(),
                m.mountpoint.as_str(),
                m.fs_type.as_str(),
                m.read_only,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("/dev/sda1", "/", "ext4", false),
            ("/dev/sdb1", "/mnt/my disk", "xfs", true),
            ("/dev/sdc1", "/run", "tmpfs", false),
        ]
    );
}

#[test]
fn filesystem_reads_the_hosts_mount_table_below_root_path() {
    let root = fake_root();
    std::fs::create_dir_all(root.path().join("proc/1")).unwrap();
    std::fs::create_dir_all(root.path().join("data")).unwrap();
    std::fs::write(
        root.path().join("proc/1/mounts"),
        "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data xfs ro 0 0\n/dev/sdz /gone ext4 rw 0 0\nsysfs /sys sysfs rw 0 0\n",
    )
    .unwrap();
    let metrics = scrape_fake(root.path(), Scraper::Filesystem);
    let usage = &metrics["system.filesystem.usage"];
    let Some(metric::Data::Sum(sum)) = &usage.data else {
        panic!("not a sum")
    };
    // `/gone` does not exist below the root: skipped, as df does.
    assert_eq!(sum.data_points.len(), 6);
    let mut seen = std::collections::BTreeSet::new();
    for p in &sum.data_points {
        let attr = |k: &str| {
            p.attributes
                .iter()
                .find(|a| a.key == k)
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap()
        };
        let mode = if attr("system.filesystem.mountpoint") == "/data" {
            "ro"
        } else {
            "rw"
        };
        assert_eq!(attr("system.filesystem.mode"), mode);
        seen.insert((
            attr("system.filesystem.mountpoint"),
            attr("system.filesystem.state"),
        ));
    }
    assert_eq!(seen.len(), 6);
    assert!(seen.contains(&("/data".to_string(), "reserved".to_string())));
}
