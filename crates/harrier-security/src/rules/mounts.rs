//! `sensitive_mount`: a pod or pod template mounting a sensitive host path.
//!
//! Fires on the same events as `privileged_pod` (pods and workload templates created or
//! changed; not `pods/ephemeralcontainers`, which cannot add volumes) when a `hostPath` volume's path, normalised (repeated and trailing slashes,
//! `.` and `..` segments), is a sensitive path, lies under one, or contains one (a
//! mount of `/var/run` exposes `/var/run/docker.sock`). `/` only matches itself.
//! Paths equal to or under an `allowed_paths` entry are skipped. The reason names the
//! PSS baseline control (HostPath Volumes) and what the path exposes.
//!
//! Escalated: the node's root (`/`) or a container runtime socket (any `.sock` entry),
//! which give the node outright.
//!
//! Options: `sensitive_paths` ([`SENSITIVE_PATHS`]; setting it replaces the list),
//! `allowed_paths` ([`ALLOWED_PATHS`]: time zone and CA certificate files commonly
//! mounted read-only), `exempt_images` (image repositories, exact or `prefix*`: a
//! volume is not checked when every container mounting it, or every container if none
//! does, has an exempt image; default none). Default `exempt_users`:
//! [`CONTROLLER_USERS`](super::CONTROLLER_USERS).

use super::identity::actor;
use super::options::Options;
use super::pod_spec::{self, Location};
use super::request::{join_limited, object_label, past_tense};
use super::written;
use super::{Hit, Rule};
use crate::audit::{self, AuditView};

/// Host paths whose mount exposes the node or the cluster (Falco's
/// `sensitive_vol_mount`, plus kernel, device and etcd paths).
pub const SENSITIVE_PATHS: &[&str] = &[
    "/",
    "/etc",
    "/proc",
    "/root",
    "/home/admin",
    "/boot",
    "/lib/modules",
    "/dev",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/etc/kubernetes",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
];

/// Host paths under sensitive directories that are commonly mounted and harmless.
pub const ALLOWED_PATHS: &[&str] = &[
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/etc/ca-certificates",
];

const MAX_LISTED: usize = 4;

pub(crate) fn build(options: &mut Options<'_>) -> Box<dyn Rule> {
    let normalized = |paths: Vec<String>| paths.iter().map(|p| normalize(p)).collect();
    Box::new(SensitiveMount {
        sensitive_paths: normalized(options.strings("sensitive_paths", SENSITIVE_PATHS)),
        allowed_paths: normalized(options.strings("allowed_paths", ALLOWED_PATHS)),
        exempt_images: options.strings("exempt_images", &[]),
    })
}

#[derive(Debug)]
struct SensitiveMount {
    sensitive_paths: Vec<String>,
    allowed_paths: Vec<String>,
    exempt_images: Vec<String>,
}

/// The path with repeated and trailing slashes removed and `.` / `..` resolved
/// lexically; always absolute.
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `path` is `base` or below it. Nothing is below `/` for this purpose.
fn is_within(path: &str, base: &str) -> bool {
    path == base
        || (base != "/"
            && path
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// Whether `ancestor` contains `path` (strictly).
fn contains(ancestor: &str, path: &str) -> bool {
    ancestor != path
        && (ancestor == "/"
            || path
                .strip_prefix(ancestor)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// What mounting `sensitive` exposes.
fn exposure(sensitive: &str) -> &'static str {
    match sensitive {
        "/" => "the node's root filesystem",
        s if s.ends_with(".sock") => "the container runtime socket",
        "/var/lib/kubelet" => "kubelet credentials and every pod's volumes",
        "/etc/kubernetes" => "control-plane credentials and static pod manifests",
        "/var/lib/etcd" => "the etcd database",
        "/proc" => "the host's processes",
        "/etc" => "the host's configuration",
        "/root" | "/home/admin" => "a host home directory",
        "/boot" | "/lib/modules" => "the host's kernel files",
        "/dev" => "the host's devices",
        _ => "a sensitive host path",
    }
}

impl Rule for SensitiveMount {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        let location = Location::of(event).filter(|l| !l.ephemeral_only)?;
        let object = written::changed_object(event)?;
        let pod = location.template(&object)?;
        let containers = pod.containers();
        let volumes = audit::path(pod.spec, &["volumes"]).map(audit::as_array)?;
        let mut found = Vec::new();
        let mut escalated = false;
        for volume in volumes {
            let Some(raw) = audit::path(volume, &["hostPath", "path"]).and_then(audit::as_str)
            else {
                continue;
            };
            let host_path = normalize(raw);
            if self.allowed_paths.iter().any(|a| is_within(&host_path, a)) {
                continue;
            }
            // The most specific sensitive path the mount lies in, else the first one it
            // contains.
            let within = self
                .sensitive_paths
                .iter()
                .filter(|s| is_within(&host_path, s))
                .max_by_key(|s| s.len());
            let contained: Vec<&String> = self
                .sensitive_paths
                .iter()
                .filter(|s| contains(&host_path, s))
                .collect();
            let Some(sensitive) = within.or(contained.first().copied()) else {
                continue;
            };
            let name = audit::path(volume, &["name"]).and_then(audit::as_str);
            if !self.exempt_images.is_empty() {
                let mounting: Vec<_> = containers
                    .iter()
                    .filter(|c| {
                        audit::path(c.value, &["volumeMounts"])
                            .map(audit::as_array)
                            .unwrap_or_default()
                            .iter()
                            .any(|m| audit::path(m, &["name"]).and_then(audit::as_str) == name)
                    })
                    .collect();
                let users: Vec<_> = if mounting.is_empty() {
                    containers.iter().collect()
                } else {
                    mounting
                };
                if !users.is_empty()
                    && users
                        .iter()
                        .all(|c| pod_spec::image_exempt(&self.exempt_images, c))
                {
                    continue;
                }
            }
            escalated |= within
                .into_iter()
                .chain(contained.iter().copied())
                .any(|s| s == "/" || s.ends_with(".sock"));
            let what = if within.is_some() {
                exposure(sensitive).to_string()
            } else {
                format!("contains {sensitive}: {}", exposure(sensitive))
            };
            found.push(format!(
                "hostPath volume `{}` at {host_path} ({what})",
                name.unwrap_or("?")
            ));
        }
        if found.is_empty() {
            return None;
        }
        let reason = format!(
            "{} {} {} {} with {} (PSS baseline: HostPath Volumes)",
            actor(event),
            past_tense(event.verb().unwrap_or_default()),
            location.kind,
            object_label(event),
            join_limited(&found, MAX_LISTED),
        );
        Some(Hit::new(escalated, reason))
    }
}
