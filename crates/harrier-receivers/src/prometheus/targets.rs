//! Discovered target groups -> scrape targets, as Prometheus populates a target's
//! labels: the group's labels plus `__address__`, the job's defaults (`job`,
//! `__scheme__`, `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__`,
//! `__param_<name>`), then `relabel_configs`; `instance` defaults to `__address__`; the
//! URL comes from the `__` labels, which are then removed.

use super::config::Job;
use super::convert::TargetInfo;
use super::discovery::{TargetGroup, validate_target};
use super::relabel::Labels;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// One target to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL to GET.
    pub url: String,
    /// Identity and labels for the produced data.
    pub info: TargetInfo,
    /// A stable hash of the URL and labels: the target's identity across discovery
    /// updates and its offset within the interval.
    pub key: u64,
}

/// Splits `host[:port]` (`[v6][:port]`).
fn split_host_port(address: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = address.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(format!("{address:?}: unterminated IPv6 bracket"));
        };
        return match after.strip_prefix(':') {
            Some(port) => port
                .parse()
                .map(|p| (host.to_string(), Some(p)))
                .map_err(|_| format!("{address:?}: invalid port {port:?}")),
            None if after.is_empty() => Ok((host.to_string(), None)),
            None => Err(format!("{address:?}: junk after IPv6 address")),
        };
    }
    match address.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => Err(format!(
            "{address:?}: IPv6 addresses must be in brackets, e.g. [::1]:9100"
        )),
        Some((host, port)) => port
            .parse()
            .map(|p| (host.to_string(), Some(p)))
            .map_err(|_| format!("{address:?}: invalid port {port:?}")),
        None => Ok((address.to_string(), None)),
    }
}

fn seconds(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn set_default(labels: &mut Labels, name: &str, value: &str) {
    if !labels.iter().any(|(k, _)| k == name) {
        labels.push((name.to_string(), value.to_string()));
    }
}

fn get<'l>(labels: &'l Labels, name: &str) -> Option<&'l str> {
    labels
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Minimal percent-encoding for query parameters.
fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The targets of `job` from its discovered `groups`. Targets dropped by relabeling
/// are skipped; invalid ones are returned as errors (logged by the caller). Duplicates
/// (same URL and labels) are merged.
pub fn build(job: &Job, groups: &[TargetGroup]) -> (Vec<Target>, Vec<String>) {
    let mut targets: Vec<Target> = Vec::new();
    let mut errors = Vec::new();
    let sc = &job.config;
    for group in groups {
        for address in &group.targets {
            let mut labels: Labels = group
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            labels.push(("__address__".to_string(), address.clone()));
            set_default(&mut labels, "job", &sc.job_name);
            set_default(&mut labels, "__scheme__", sc.scheme.as_str());
            set_default(&mut labels, "__metrics_path__", &sc.metrics_path);
            set_default(&mut labels, "__scrape_interval__", &seconds(job.interval));
            set_default(&mut labels, "__scrape_timeout__", &seconds(job.timeout));
            for (name, values) in &sc.params {
                if let Some(first) = values.first() {
                    set_default(&mut labels, &format!("__param_{name}"), first);
                }
            }
            labels.sort();
            labels.dedup_by(|a, b| a.0 == b.0);
            if !job.target_relabel.apply(&mut labels) {
                continue;
            }
            let Some(address) = get(&labels, "__address__").map(str::to_string) else {
                errors.push(format!(
                    "job {}: target {address:?} has no __address__ after relabeling",
                    sc.job_name
                ));
                continue;
            };
            if let Err(e) = validate_target(&address) {
                errors.push(format!("job {}: {e}", sc.job_name));
                continue;
            }
            let Ok((host, port)) = split_host_port(&address) else {
                continue;
            };
            let scheme = match get(&labels, "__scheme__") {
                Some("https") => "https",
                Some("http") | None => "http",
                Some(other) => {
                    errors.push(format!(
                        "job {}: target {address}: unsupported scheme {other:?}",
                        sc.job_name
                    ));
                    continue;
                }
            };
            let path = get(&labels, "__metrics_path__").unwrap_or("/metrics");
            // Query: every configured param, with __param_<name> replacing the first
            // value, plus params only set through relabeling.
            let mut params: BTreeMap<String, Vec<String>> = sc.params.clone();
            for (k, v) in &labels {
                if let Some(name) = k.strip_prefix("__param_") {
                    let values = params.entry(name.to_string()).or_default();
                    if values.is_empty() {
                        values.push(v.clone());
                    } else {
                        values[0] = v.clone();
                    }
                }
            }
            let mut url = format!("{scheme}://{address}{path}");
            let mut sep = if path.contains('?') { '&' } else { '?' };
            for (name, values) in &params {
                for value in values {
                    url.push(sep);
                    url.push_str(&encode_query(name));
                    url.push('=');
                    url.push_str(&encode_query(value));
                    sep = '&';
                }
            }
            let job_name = get(&labels, "job").unwrap_or(&sc.job_name).to_string();
            let instance = get(&labels, "instance").unwrap_or(&address).to_string();
            let rest: Labels = labels
                .into_iter()
                .filter(|(k, v)| {
                    !k.starts_with("__") && k != "job" && k != "instance" && !v.is_empty()
                })
                .collect();
            let mut h = DefaultHasher::new();
            url.hash(&mut h);
            job_name.hash(&mut h);
            instance.hash(&mut h);
            rest.hash(&mut h);
            let key = h.finish();
            if targets.iter().any(|t| t.key == key) {
                continue;
            }
            targets.push(Target {
                url,
                info: TargetInfo {
                    job: job_name,
                    instance,
                    host,
                    port,
                    scheme,
                    labels: rest,
                },
                key,
            });
        }
    }
    (targets, errors)
}
