//! Unit tests of the config: defaults, which inputs run, and validation messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use harrier_core::component::parse_config;

fn config(text: &str) -> K8sAuditConfig {
    parse_config(&toml::from_str::<toml::Value>(text).unwrap()).unwrap()
}

fn errors(text: &str) -> Vec<String> {
    match config(text).validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn config_defaults_and_inputs() {
    let c = config("");
    assert_eq!(c, K8sAuditConfig::default());
    assert_eq!(c.webhook_endpoint(), Some("127.0.0.1:8099"));
    assert_eq!(c.path, "/audit");
    assert_eq!(c.max_request_body_size.0, 32 << 20);
    assert_eq!(c.max_batch_lines, 1000);
    assert_eq!(c.poll_interval, Duration::from_secs(1));
    assert_eq!(c.stages, ["ResponseComplete", "Panic"]);
    assert!(c.include_objects);
    assert!(c.validate().is_ok());
    let file_only = config("log_path = '/var/log/audit.log'\nstorage_dir = '/var/lib/h'");
    assert_eq!(file_only.webhook_endpoint(), None);
    assert!(file_only.listen_addresses().is_empty());
    let both = config("endpoint = '0.0.0.0:9000'\nlog_path = '/a.log'\nstorage_dir = '/s'");
    assert_eq!(both.webhook_endpoint(), Some("0.0.0.0:9000"));
    assert_eq!(both.listen_addresses()[0].0, "endpoint");
    assert!(both.file_settings().is_some());
}

#[test]
fn config_errors_name_their_keys() {
    assert_eq!(
        errors("endpoint = ''"),
        [
            "enable at least one input: set `endpoint` (the audit webhook, e.g. \"127.0.0.1:8099\") and/or `log_path` (the audit log file)"
        ]
    );
    let e = errors(
        "endpoint = 'nowhere'\npath = 'audit'\nlog_path = '/a.log'\nmax_batch_lines = 0\npoll_interval = '0s'\nstages = ['ResponseComplete', 'Done']\nmax_concurrent_requests = 0\ncluster_name = ''",
    );
    let keys: Vec<&str> = e.iter().map(|e| e.split(':').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "endpoint",
            "path",
            "max_concurrent_requests",
            "storage_dir",
            "max_batch_lines",
            "poll_interval",
            "stages[1]",
            "cluster_name"
        ],
        "{e:?}"
    );
    assert!(errors("stages = []")[0].starts_with("stages"));
    let unknown = parse_config::<K8sAuditConfig>(&toml::from_str("paht = '/x'").unwrap());
    assert!(unknown.unwrap_err().to_string().contains("paht"));
}
