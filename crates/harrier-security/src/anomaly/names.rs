//! Normalisation of the names detectors key their baselines by: workloads from pod
//! names, images without tag or digest, user agents without versions, and whether a
//! destination is outside the cluster's private address space.

use harrier_pdata::otlp::common::v1::{KeyValue, any_value::Value};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The characters Kubernetes uses for generated name suffixes
/// (`k8s.io/apimachinery/pkg/util/rand.SafeEncodeString`): no vowels, no 0, 1, 3.
const SAFE: &str = "bcdfghjklmnpqrstvwxz2456789";

fn is_safe(segment: &str) -> bool {
    !segment.is_empty() && segment.chars().all(|c| SAFE.contains(c))
}

/// The workload a pod belongs to, derived from the pod's name alone:
///
/// - `name-<hash>-<suffix>` (Deployment -> ReplicaSet -> Pod: a 6-10 character
///   pod-template-hash, or an older all-digit one, then 5 random characters) -> `name`;
/// - `name-<suffix>` (DaemonSet, Job, bare ReplicaSet: 5 random characters) -> `name`;
/// - `name-<ordinal>` (StatefulSet) -> `name`;
/// - anything else is its own workload (a bare pod).
///
/// The random characters are checked against Kubernetes' safe alphabet, so a
/// hand-named pod like `api-proxy` keeps its name. A CronJob's pods
/// (`job-<schedule-time>-<suffix>`) become `job-<schedule-time>`: the Job, not the
/// CronJob.
pub fn workload_of_pod(pod: &str) -> &str {
    let Some((rest, last)) = pod.rsplit_once('-') else {
        return pod;
    };
    if rest.is_empty() {
        return pod;
    }
    if last.len() == 5 && is_safe(last) {
        if let Some((base, hash)) = rest.rsplit_once('-')
            && !base.is_empty()
            && ((6..=10).contains(&hash.len()) && is_safe(hash)
                || (8..=10).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_digit()))
        {
            return base;
        }
        return rest;
    }
    if !last.is_empty() && last.len() <= 5 && last.chars().all(|c| c.is_ascii_digit()) {
        return rest;
    }
    pod
}

/// An image reference without its tag and digest: `ghcr.io/acme/api:1.2@sha256:..`
/// -> `ghcr.io/acme/api`. A registry port (`localhost:5000/app`) is kept.
pub fn image_repository(image: &str) -> &str {
    let image = image.split_once('@').map_or(image, |(name, _)| name);
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(colon) => &image[..last_slash + colon],
        None => image,
    }
}

/// A user agent without versions and platform comments, so upgrades of a client do
/// not look like a new client: every whitespace-separated token is cut at its first
/// `/`, parenthesised comments are removed. `kubectl/v1.30.2 (linux/amd64)
/// kubernetes/39683505` -> `kubectl kubernetes`.
pub fn normalize_user_agent(agent: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut stripped = String::with_capacity(agent.len());
    for c in agent.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => stripped.push(c),
            _ => {}
        }
    }
    for token in stripped.split_whitespace() {
        let name = token.split('/').next().unwrap_or(token);
        if name.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(name);
    }
    out
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        // 100.64.0.0/10, carrier-grade NAT, used as pod/service space by some clusters.
        || (a == 100 && (64..128).contains(&b))
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
}

/// Whether `address` is an IP outside RFC 1918 / RFC 4193, loopback, link-local and
/// carrier-grade NAT space. `None` when it is not an IP.
pub fn is_external_ip(address: &str) -> Option<bool> {
    let address = address.trim_start_matches('[').trim_end_matches(']');
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(!is_internal_v4(v4)),
        IpAddr::V6(v6) => Some(!is_internal_v6(v6)),
    }
}

/// Whether a host name looks like it is outside the cluster: it has a dot and does not
/// end in a cluster or site-local suffix (`.svc`, `.cluster.local`, `.local`,
/// `.internal`). A heuristic for client spans, whose `server.address` is often a name.
pub fn is_external_host(host: &str) -> bool {
    if let Some(external) = is_external_ip(host) {
        return external;
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.contains('.')
        && ![
            ".svc",
            ".cluster.local",
            ".local",
            ".internal",
            ".localdomain",
        ]
        .iter()
        .any(|suffix| host.ends_with(suffix))
}

/// A string or integer attribute as text.
pub fn attr_text<'a>(attrs: &'a [KeyValue], key: &str) -> Option<Cow<'a, str>> {
    let value = attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    match value {
        Value::StringValue(s) if !s.is_empty() => Some(Cow::Borrowed(s)),
        Value::IntValue(i) => Some(Cow::Owned(i.to_string())),
        _ => None,
    }
}

/// A non-empty string attribute.
pub fn attr_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    harrier_pdata::attrs::get_str(attrs, key).filter(|s| !s.is_empty())
}

/// A duration as a short human figure: `4d`, `5h`, `12m`, `30s`.
pub fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs >= 86_400 {
        format!("{}d", secs / 86_400)
    } else if secs >= 3600 {
        format!("{}h", secs / 3600)
    } else if secs >= 60 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
