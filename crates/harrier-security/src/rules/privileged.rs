//! `privileged_pod`: a pod or pod template that breaks the Pod Security Standards.
//!
//! Fires on `create`, `update` and `patch` of pods (also `pods/ephemeralcontainers`,
//! where only the ephemeral containers are looked at),
//! Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs and
//! ReplicationControllers whose pod spec violates a **baseline** control, each named in
//! the reason:
//!
//! - HostProcess: `windowsOptions.hostProcess: true` (pod or container);
//! - Host Namespaces: `hostNetwork`, `hostPID`, `hostIPC`;
//! - Privileged Containers: `securityContext.privileged: true` (containers, init and
//!   ephemeral containers);
//! - Capabilities: `capabilities.add` beyond `allowed_capabilities`;
//! - Host Ports: a non-zero `hostPort`;
//! - AppArmor: profile `Unconfined` (field or the beta annotation);
//! - SELinux: a custom `seLinuxOptions.type`, or `user` / `role` set;
//! - /proc Mount Type: `procMount` other than `Default`;
//! - Seccomp: profile `Unconfined` (field or the alpha annotations);
//! - Sysctls: names beyond `allowed_sysctls`;
//!
//! and of the **restricted** profile only an explicit `allowPrivilegeEscalation: true`
//! (the other restricted controls are unset in most pods and would drown the rest).
//! HostPath volumes are `sensitive_mount`'s business.
//!
//! Escalated (one level up, critical by default): a privileged (or `SYS_ADMIN`, `ALL`)
//! container in a `hostPID` pod (a root shell on the node is one `nsenter` away), or a
//! Windows HostProcess pod.
//!
//! Options: `allowed_capabilities` (default the baseline list: `AUDIT_WRITE`, `CHOWN`,
//! `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`,
//! `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`; compared without a `CAP_` prefix and case),
//! `allowed_sysctls` (default the baseline's safe set), `exempt_images` (image
//! repositories, exact or `prefix*`, whose containers are not checked; pod-level fields
//! are not checked when every container is exempt; default none). Default
//! `exempt_users`: [`CONTROLLER_USERS`](super::CONTROLLER_USERS).

use super::identity::actor;
use super::options::Options;
use super::pod_spec::{self, Container, Location, PodTemplate};
use super::request::{join_limited, object_label, past_tense};
use super::written;
use super::{Hit, Rule};
use crate::audit::{self, AuditView};
use harrier_pdata::otlp::common::v1::AnyValue;

/// Capabilities the PSS baseline profile allows to add.
pub const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls the PSS baseline profile allows (the namespaced, node-isolated ones).
pub const BASELINE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// SELinux types the PSS baseline profile allows.
const BASELINE_SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Capabilities that make a container as good as privileged.
const ROOT_EQUIVALENT_CAPABILITIES: &[&str] = &["SYS_ADMIN", "ALL"];

/// Most violations named in one reason.
const MAX_LISTED: usize = 6;

pub(crate) fn build(options: &mut Options<'_>) -> Box<dyn Rule> {
    let normalize = |caps: Vec<String>| caps.iter().map(|c| capability_name(c)).collect();
    Box::new(PrivilegedPod {
        allowed_capabilities: normalize(
            options.strings("allowed_capabilities", BASELINE_CAPABILITIES),
        ),
        allowed_sysctls: options.strings("allowed_sysctls", BASELINE_SYSCTLS),
        exempt_images: options.strings("exempt_images", &[]),
    })
}

#[derive(Debug)]
struct PrivilegedPod {
    allowed_capabilities: Vec<String>,
    allowed_sysctls: Vec<String>,
    exempt_images: Vec<String>,
}

/// `CAP_SYS_ADMIN` and `sys_admin` both name `SYS_ADMIN`.
fn capability_name(raw: &str) -> String {
    let upper = raw.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map_or(upper.clone(), str::to_string)
}

#[derive(Default)]
struct Violations {
    items: Vec<String>,
    root_equivalent_container: bool,
    host_pid: bool,
    host_process: bool,
}

impl Violations {
    fn push(&mut self, what: String, control: &str) {
        self.items.push(format!("{what} ({control})"));
    }
}

fn is_true(value: Option<&AnyValue>) -> bool {
    value.and_then(audit::as_bool) == Some(true)
}

fn str_of(value: Option<&AnyValue>) -> Option<&str> {
    value.and_then(audit::as_str)
}

/// A `seLinuxOptions` the baseline profile refuses, described.
fn selinux_problem(options: Option<&AnyValue>) -> Option<String> {
    let options = options?;
    let field = |key| {
        audit::path(options, &[key])
            .and_then(audit::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(kind) = field("type")
        && !BASELINE_SELINUX_TYPES.contains(&kind)
    {
        return Some(format!("SELinux type `{kind}`"));
    }
    for key in ["user", "role"] {
        if let Some(value) = field(key) {
            return Some(format!("SELinux {key} `{value}`"));
        }
    }
    None
}

impl PrivilegedPod {
    fn check_container(&self, c: &Container<'_>, v: &mut Violations) {
        let label = c.label();
        if is_true(c.security(&["privileged"])) {
            v.push(
                format!("privileged {label}"),
                "PSS baseline: Privileged Containers",
            );
            v.root_equivalent_container = true;
        }
        let added: Vec<String> = c
            .security(&["capabilities", "add"])
            .map(audit::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(audit::as_str)
            .map(capability_name)
            .filter(|cap| !self.allowed_capabilities.contains(cap))
            .collect();
        if !added.is_empty() {
            if added
                .iter()
                .any(|cap| ROOT_EQUIVALENT_CAPABILITIES.contains(&cap.as_str()))
            {
                v.root_equivalent_container = true;
            }
            v.push(
                format!("{label} adding capabilities {}", added.join(", ")),
                "PSS baseline: Capabilities",
            );
        }
        if is_true(c.security(&["allowPrivilegeEscalation"])) {
            v.push(
                format!("{label} allowing privilege escalation"),
                "PSS restricted: Privilege Escalation",
            );
        }
        if is_true(c.security(&["windowsOptions", "hostProcess"])) {
            v.push(
                format!("Windows HostProcess {label}"),
                "PSS baseline: HostProcess",
            );
            v.host_process = true;
        }
        if let Some(mount) = str_of(c.security(&["procMount"])).filter(|m| *m != "Default") {
            v.push(
                format!("{label} with procMount {mount}"),
                "PSS baseline: /proc Mount Type",
            );
        }
        if str_of(c.security(&["seccompProfile", "type"])) == Some("Unconfined") {
            v.push(
                format!("{label} with seccomp Unconfined"),
                "PSS baseline: Seccomp",
            );
        }
        if str_of(c.security(&["appArmorProfile", "type"])) == Some("Unconfined") {
            v.push(
                format!("{label} with AppArmor Unconfined"),
                "PSS baseline: AppArmor",
            );
        }
        if let Some(problem) = selinux_problem(c.security(&["seLinuxOptions"])) {
            v.push(format!("{label} with {problem}"), "PSS baseline: SELinux");
        }
        let host_ports: Vec<String> = audit::path(c.value, &["ports"])
            .map(audit::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| audit::path(p, &["hostPort"]).and_then(audit::as_i64))
            .filter(|port| *port != 0)
            .map(|port| port.to_string())
            .collect();
        if !host_ports.is_empty() {
            v.push(
                format!("{label} on host port {}", host_ports.join(", ")),
                "PSS baseline: Host Ports",
            );
        }
    }

    fn check_pod(&self, pod: &PodTemplate<'_>, v: &mut Violations) {
        for (field, name) in [
            ("hostPID", "hostPID"),
            ("hostIPC", "hostIPC"),
            ("hostNetwork", "hostNetwork"),
        ] {
            if is_true(audit::path(pod.spec, &[field])) {
                v.push(name.to_string(), "PSS baseline: Host Namespaces");
                if field == "hostPID" {
                    v.host_pid = true;
                }
            }
        }
        if is_true(pod.pod_security(&["windowsOptions", "hostProcess"])) {
            v.push(
                "Windows HostProcess pod".to_string(),
                "PSS baseline: HostProcess",
            );
            v.host_process = true;
        }
        if str_of(pod.pod_security(&["seccompProfile", "type"])) == Some("Unconfined") {
            v.push(
                "pod seccomp Unconfined".to_string(),
                "PSS baseline: Seccomp",
            );
        }
        if str_of(pod.pod_security(&["appArmorProfile", "type"])) == Some("Unconfined") {
            v.push(
                "pod AppArmor Unconfined".to_string(),
                "PSS baseline: AppArmor",
            );
        }
        if let Some(problem) = selinux_problem(pod.pod_security(&["seLinuxOptions"])) {
            v.push(format!("pod {problem}"), "PSS baseline: SELinux");
        }
        let unsafe_sysctls: Vec<&str> = pod
            .pod_security(&["sysctls"])
            .map(audit::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| audit::path(s, &["name"]).and_then(audit::as_str))
            .filter(|name| !self.allowed_sysctls.iter().any(|a| a == name))
            .collect();
        if !unsafe_sysctls.is_empty() {
            v.push(
                format!("unsafe sysctls {}", unsafe_sysctls.join(", ")),
                "PSS baseline: Sysctls",
            );
        }
        for kv in pod.annotations() {
            let value = kv
                .value
                .as_ref()
                .and_then(audit::as_str)
                .unwrap_or_default();
            if !value.eq_ignore_ascii_case("unconfined") {
                continue;
            }
            if let Some(container) = kv
                .key
                .strip_prefix("container.apparmor.security.beta.kubernetes.io/")
            {
                v.push(
                    format!("AppArmor unconfined for `{container}` (annotation)"),
                    "PSS baseline: AppArmor",
                );
            } else if kv.key.starts_with("seccomp.security.alpha.kubernetes.io/")
                || kv
                    .key
                    .starts_with("container.seccomp.security.alpha.kubernetes.io/")
            {
                v.push(
                    format!("seccomp unconfined ({})", kv.key),
                    "PSS baseline: Seccomp",
                );
            }
        }
    }
}

impl Rule for PrivilegedPod {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        let location = Location::of(event)?;
        let object = written::changed_object(event)?;
        let pod = location.template(&object)?;
        let containers = pod.containers();
        let mut violations = Violations::default();
        let mut all_exempt = !containers.is_empty();
        for container in &containers {
            if location.ephemeral_only && container.role != pod_spec::EPHEMERAL {
                continue;
            }
            if pod_spec::image_exempt(&self.exempt_images, container) {
                continue;
            }
            all_exempt = false;
            self.check_container(container, &mut violations);
        }
        if !all_exempt && !location.ephemeral_only {
            self.check_pod(&pod, &mut violations);
        }
        if violations.items.is_empty() {
            return None;
        }
        let escalated = (violations.root_equivalent_container && violations.host_pid)
            || violations.host_process;
        let reason = format!(
            "{} {} {} {} with {}",
            actor(event),
            past_tense(event.verb().unwrap_or_default()),
            location.kind,
            object_label(event),
            join_limited(&violations.items, MAX_LISTED),
        );
        Some(Hit::new(escalated, reason))
    }
}
