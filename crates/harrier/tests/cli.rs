//! Black-box: the `harrier` command line (validate, components, help, start-up errors),
//! and every example config in `configs/` validates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};

fn harrier(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harrier"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn validate_accepts_a_good_config_and_the_default() {
    let out = harrier(&["validate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "config is valid");
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
    let mut seen = 0;
    for entry in std::fs::read_dir(configs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = harrier(&["validate", "--config", path.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                text(&out.stderr)
            );
            seen += 1;
        }
    }
    assert!(seen >= 2, "configs/ holds the example configs");
}

#[test]
fn validate_lists_every_error_with_its_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        &dir,
        r#"
        [receivers.otlp.grpc]
        endpoint = "127.0.0.1:notaport"
        [processors.batch]
        timeout = "soon"
        [exporters.otlp]
        endpoint = "http://127.0.0.1:4317"
        sending_queue = { queue_size = 0 }
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = ["batch"]
        exporters = ["otlp", "otlp/missing"]
        "#,
    );
    let out = harrier(&["validate", "--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for expected in [
        r#"error: service.pipelines.traces.exporters[1]: unknown exporter "otlp/missing""#,
        "error: receivers.otlp.grpc.endpoint: invalid address \"127.0.0.1:notaport\"",
        "error: processors.batch.timeout: invalid duration \"soon\"",
        "error: exporters.otlp.sending_queue.queue_size: must be at least 1",
        "config is invalid: 4 error(s)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

#[test]
fn start_up_errors_exit_1_with_the_component() {
    let dir = tempfile::tempdir().unwrap();
    // An unreadable file.
    let out = harrier(&["--config", "/nonexistent/harrier.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read config file /nonexistent/harrier.toml"));
    // A port in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let path = write_config(
        &dir,
        &format!(
            r#"
            [receivers.otlp.grpc]
            endpoint = "127.0.0.1:{port}"
            [exporters.nop]
            [service.telemetry.metrics]
            address = ""
            [service.pipelines.logs]
            receivers = ["otlp"]
            exporters = ["nop"]
            "#
        ),
    );
    let out = harrier(&["--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "receivers.otlp: grpc: cannot listen on 127.0.0.1:{port}"
        )),
        "{err}"
    );
    // Duplicate ports are caught before binding.
    let path = write_config(
        &dir,
        r#"
        [receivers.otlp.grpc]
        endpoint = "127.0.0.1:4317"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:4317"
        [exporters.nop]
        [service.pipelines.logs]
        receivers = ["otlp"]
        exporters = ["nop"]
        "#,
    );
    let out = harrier(&["--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("receivers.otlp.http.endpoint: address 127.0.0.1:4317 is already used by receivers.otlp.grpc.endpoint"));
}

#[test]
fn components_and_help() {
    let out = harrier(&["components"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    for line in [
        "receivers:",
        "  otlp [traces, metrics, logs]",
        "  batch [traces, metrics, logs]",
        "  memory_limiter [traces, metrics, logs]",
        "  correlate [traces, logs]",
        "  attributes [traces, metrics, logs]",
        "  filter [traces, metrics, logs]",
        "  resource [traces, metrics, logs]",
        "  redaction [traces, metrics, logs]",
        "  fluent_forward [logs] (aliases: fluentforward)",
        "  k8s_audit [logs]",
        "  host_metrics [metrics] (aliases: hostmetrics)",
        "  otlp_http [traces, metrics, logs] (aliases: otlphttp)",
        "  file [traces, metrics, logs]",
        "  prometheus [metrics]",
        "  prometheus_remote_write [metrics] (aliases: prometheusremotewrite)",
        "  health_check:",
    ] {
        assert!(listing.contains(line), "missing {line:?} in:\n{listing}");
    }
    for args in [
        &["--help"][..],
        &["validate", "--help"],
        &["components", "--help"],
        &["run", "--help"],
    ] {
        let out = harrier(args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage: harrier"), "{args:?}");
    }
}

fn security_fixture(name: &str) -> String {
    format!(
        "{}/../harrier-security/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn rbac_report_and_netpol_advise_run_from_the_command_line() {
    let rbac = security_fixture("rbac.yaml");
    let audit = security_fixture("audit.jsonl");
    let out = harrier(&[
        "rbac-report",
        "--rbac",
        &rbac,
        "--audit",
        &audit,
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subjects = report["subjects"].as_array().unwrap();
    assert!(
        subjects.iter().any(|s| s.to_string().contains("alice")),
        "alice is a subject"
    );
    let out = harrier(&["rbac-report", "--rbac", &rbac, "--audit", &audit]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("kind: Role"),
        "{}",
        text(&out.stdout)
    );

    let flows = security_fixture("flows.jsonl");
    let policies = security_fixture("policies.yaml");
    let out = harrier(&[
        "netpol-advise",
        "--flows",
        &flows,
        "--policies",
        &policies,
        "--format",
        "yaml",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("NetworkPolicy"),
        "{}",
        text(&out.stdout)
    );

    // Errors name the file and fail.
    let out = harrier(&[
        "rbac-report",
        "--rbac",
        "/nonexistent.yaml",
        "--audit",
        &audit,
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/nonexistent.yaml"));
    let out = harrier(&["netpol-advise", "--flows", &flows, "--format", "xml"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown format"),
        "{}",
        text(&out.stderr)
    );
}
