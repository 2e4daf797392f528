//! Tests of `sensitive_mount`.

use super::fixtures::{Ev, create_pod, fired, host_path_pod, only, pod, rules_from, run, run_with};
use crate::finding::Severity;
use serde_json::json;

// ---- sensitive_mount ----

#[test]
fn docker_socket_is_critical() {
    let finding = only(
        &run(&host_path_pod("/var/run/docker.sock")),
        "sensitive_mount",
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(
        finding.reason,
        "system:serviceaccount:ci:deployer created pod shop/x with hostPath volume `host` at /var/run/docker.sock (the container runtime socket) (PSS baseline: HostPath Volumes)"
    );
    assert_eq!(
        only(
            &run(&host_path_pod("/run/containerd/containerd.sock")),
            "sensitive_mount"
        )
        .severity,
        Severity::Critical
    );
    assert_eq!(
        only(&run(&host_path_pod("/")), "sensitive_mount").severity,
        Severity::Critical
    );
    // A parent of a socket exposes the socket.
    let finding = only(&run(&host_path_pod("/var/run")), "sensitive_mount");
    assert_eq!(finding.severity, Severity::Critical);
    assert!(
        finding
            .reason
            .contains("at /var/run (contains /var/run/docker.sock: the container runtime socket)"),
        "{}",
        finding.reason
    );
}

#[test]
fn sensitive_paths_their_subpaths_and_parents() {
    for (path, shown, what) in [
        ("/etc", "/etc", "the host's configuration"),
        ("/etc/", "/etc", "the host's configuration"),
        ("//etc//", "/etc", "the host's configuration"),
        (
            "/etc/kubernetes/pki",
            "/etc/kubernetes/pki",
            "control-plane credentials",
        ),
        (
            "/var/lib/kubelet/pods",
            "/var/lib/kubelet/pods",
            "kubelet credentials",
        ),
        ("/proc", "/proc", "the host's processes"),
        ("/root/.ssh", "/root/.ssh", "a host home directory"),
        (
            "/var/log/../../etc/shadow",
            "/etc/shadow",
            "the host's configuration",
        ),
        ("/var/lib", "/var/lib", "contains /var/lib/kubelet"),
        ("/dev/mem", "/dev/mem", "the host's devices"),
    ] {
        let finding = only(&run(&host_path_pod(path)), "sensitive_mount");
        assert_eq!(finding.severity, Severity::High, "{path}");
        assert!(
            finding.reason.contains(&format!("at {shown} (")),
            "{path}: {}",
            finding.reason
        );
        assert!(finding.reason.contains(what), "{path}: {}", finding.reason);
    }
}

#[test]
fn harmless_host_paths() {
    for path in [
        "/etcd-data",
        "/var/log",
        "/var/log/pods",
        "/etc/localtime",
        "/etc/ssl/certs/",
        "/data/shop",
        "/var/lib/docker-data",
        "/procfs-copy",
    ] {
        assert!(run(&host_path_pod(path)).is_empty(), "{path}");
    }
    let empty_dir = create_pod(
        json!({"containers": [{"name": "app", "image": "x"}], "volumes": [{"name": "tmp", "emptyDir": {}}]}),
    );
    assert!(run(&empty_dir).is_empty());
}

#[test]
fn workload_template_mounts() {
    let ev = Ev::new("alice@example.com", "create")
        .on("apps", "daemonsets", "kube-system", "")
        .request(json!({"metadata": {"name": "node-agent"}, "spec": {"template": {"spec": {
            "containers": [{"name": "agent", "image": "agent:1"}],
            "volumes": [{"name": "kubelet", "hostPath": {"path": "/var/lib/kubelet", "type": "Directory"}}, {"name": "logs", "hostPath": {"path": "/var/log"}}],
        }}}}));
    let finding = only(&run(&ev), "sensitive_mount");
    assert!(finding.reason.starts_with("alice@example.com created daemonset kube-system/node-agent with hostPath volume `kubelet` at /var/lib/kubelet"));
    assert!(!finding.reason.contains("/var/log"));
}

#[test]
fn mount_options() {
    let rules = rules_from(
        "[sensitive_mount]\nsensitive_paths = [\"/data/secrets\"]\nallowed_paths = [\"/data/secrets/public\"]\n",
    );
    assert!(fired(
        &run_with(&rules, &host_path_pod("/data/secrets/db")),
        "sensitive_mount"
    ));
    assert!(fired(
        &run_with(&rules, &host_path_pod("/data")),
        "sensitive_mount"
    ));
    assert!(run_with(&rules, &host_path_pod("/data/secrets/public/x")).is_empty());
    assert!(run_with(&rules, &host_path_pod("/etc")).is_empty());

    let rules = rules_from("[sensitive_mount]\nexempt_images = [\"busybox\"]\n");
    assert!(run_with(&rules, &host_path_pod("/proc")).is_empty());
    // Mounted by a non-exempt container: checked.
    let ev = create_pod(json!({
        "containers": [{"name": "a", "image": "busybox:1"}, {"name": "b", "image": "evil", "volumeMounts": [{"name": "host", "mountPath": "/h"}]}],
        "volumes": [{"name": "host", "hostPath": {"path": "/proc"}}],
    }));
    assert!(fired(&run_with(&rules, &ev), "sensitive_mount"));
}

#[test]
fn mirror_pods_of_static_control_plane_pods_are_exempt() {
    let ev = Ev::new("system:node:cp-1", "create")
        .on("", "pods", "kube-system", "")
        .request(pod(json!({"hostNetwork": true, "containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.31.0"}],
            "volumes": [{"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki"}}]})));
    assert!(run(&ev).is_empty());
}

#[test]
fn json_patch_adding_a_host_path_volume() {
    let ev = Ev::new("alice@example.com", "patch")
        .on("apps", "deployments", "shop", "web")
        .request(json!([{"op": "add", "path": "/spec/template/spec/volumes/-", "value": {"name": "sock", "hostPath": {"path": "/run/crio/crio.sock"}}}]));
    let finding = only(&run(&ev), "sensitive_mount");
    assert_eq!(finding.severity, Severity::Critical);
    assert!(
        finding
            .reason
            .contains("alice@example.com patched deployment shop/web")
    );
}
