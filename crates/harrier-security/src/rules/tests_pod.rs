//! Tests of `privileged_pod`.

use super::fixtures::{DEPLOYER, Ev, app, create_pod, fired, only, pod, rules_from, run, run_with};
use crate::finding::Severity;
use serde_json::{Value, json};

// ---- privileged_pod ----

#[test]
fn privileged_container_names_the_control() {
    let finding = only(
        &run(&create_pod(
            json!({"containers": [app(json!({"privileged": true}))]}),
        )),
        "privileged_pod",
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.reason,
        "system:serviceaccount:ci:deployer created pod shop/x with privileged container `app` (PSS baseline: Privileged Containers)"
    );
}

#[test]
fn privileged_false_and_plain_pods_are_fine() {
    assert!(
        run(&create_pod(
            json!({"containers": [app(json!({"privileged": false}))]})
        ))
        .is_empty()
    );
    assert!(
        run(&create_pod(
            json!({"containers": [{"name": "app", "image": "nginx"}]})
        ))
        .is_empty()
    );
    let restricted = app(json!({
        "allowPrivilegeEscalation": false, "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        "seccompProfile": {"type": "RuntimeDefault"}, "procMount": "Default",
        "seLinuxOptions": {"type": "container_t"}, "appArmorProfile": {"type": "RuntimeDefault"},
    }));
    assert!(
        run(&create_pod(
            json!({"containers": [restricted], "hostNetwork": false})
        ))
        .is_empty()
    );
}

#[test]
fn init_and_ephemeral_containers_are_checked() {
    let spec = json!({
        "initContainers": [{"name": "setup", "image": "busybox", "securityContext": {"privileged": true}}],
        "containers": [{"name": "app", "image": "nginx"}],
    });
    let finding = only(&run(&create_pod(spec)), "privileged_pod");
    assert!(
        finding.reason.contains("privileged init container `setup`"),
        "{}",
        finding.reason
    );

    // Through the subresource only the ephemeral containers are new: the pod's own
    // privileged container and host namespaces were reported when it was created.
    let debug = Ev::new("alice@example.com", "update")
        .on("", "pods", "shop", "x")
        .sub("ephemeralcontainers")
        .request(pod(
            json!({"hostPID": true, "containers": [app(json!({"privileged": true}))],
            "ephemeralContainers": [{"name": "debugger", "image": "busybox"}]}),
        ));
    assert!(!fired(&run(&debug), "privileged_pod"));
    let debug = Ev::new("alice@example.com", "patch")
        .on("", "pods", "shop", "x")
        .sub("ephemeralcontainers")
        .request(json!({"spec": {"ephemeralContainers": [
            {"name": "debugger", "image": "busybox", "securityContext": {"privileged": true}}
        ]}}));
    let findings = run(&debug);
    assert!(fired(&findings, "pod_exec"));
    let finding = findings
        .iter()
        .find(|f| f.kind == "privileged_pod")
        .unwrap();
    assert!(
        finding
            .reason
            .contains("privileged ephemeral container `debugger`")
    );
    assert!(
        finding
            .reason
            .starts_with("alice@example.com patched pod shop/x")
    );
}

#[test]
fn host_namespaces() {
    let finding = only(
        &run(&create_pod(
            json!({"hostPID": true, "hostIPC": true, "hostNetwork": true, "containers": [{"name": "app", "image": "nginx"}]}),
        )),
        "privileged_pod",
    );
    assert_eq!(finding.severity, Severity::High);
    for field in ["hostPID", "hostIPC", "hostNetwork"] {
        assert!(
            finding
                .reason
                .contains(&format!("{field} (PSS baseline: Host Namespaces)")),
            "{}",
            finding.reason
        );
    }
}

#[test]
fn privileged_with_host_pid_is_critical() {
    let spec = json!({"hostPID": true, "containers": [app(json!({"privileged": true}))]});
    assert_eq!(
        only(&run(&create_pod(spec)), "privileged_pod").severity,
        Severity::Critical
    );
    let spec = json!({"hostPID": true, "containers": [app(json!({"capabilities": {"add": ["SYS_ADMIN"]}}))]});
    assert_eq!(
        only(&run(&create_pod(spec)), "privileged_pod").severity,
        Severity::Critical
    );
    // hostNetwork with a privileged container: high, not critical.
    let spec = json!({"hostNetwork": true, "containers": [app(json!({"privileged": true}))]});
    assert_eq!(
        only(&run(&create_pod(spec)), "privileged_pod").severity,
        Severity::High
    );
}

#[test]
fn capabilities_beyond_the_baseline() {
    let caps = |add: Value| {
        create_pod(json!({"containers": [app(json!({"capabilities": {"add": add}}))]}))
    };
    let finding = only(
        &run(&caps(json!(["NET_RAW", "CAP_SYS_PTRACE", "CHOWN"]))),
        "privileged_pod",
    );
    assert!(
        finding.reason.contains(
            "container `app` adding capabilities NET_RAW, SYS_PTRACE (PSS baseline: Capabilities)"
        ),
        "{}",
        finding.reason
    );
    assert!(
        run(&caps(json!([
            "CHOWN",
            "NET_BIND_SERVICE",
            "kill",
            "SETUID"
        ])))
        .is_empty()
    );
    // Dropping is always fine.
    let drop = create_pod(json!({"containers": [app(json!({"capabilities": {"drop": ["ALL"]}}))]}));
    assert!(run(&drop).is_empty());
}

#[test]
fn allowed_capabilities_option() {
    let rules = rules_from("[privileged_pod]\nallowed_capabilities = [\"NET_RAW\"]\n");
    let ev =
        create_pod(json!({"containers": [app(json!({"capabilities": {"add": ["net_raw"]}}))]}));
    assert!(run_with(&rules, &ev).is_empty());
    // CHOWN is no longer in the list.
    let ev = create_pod(json!({"containers": [app(json!({"capabilities": {"add": ["CHOWN"]}}))]}));
    assert!(fired(&run_with(&rules, &ev), "privileged_pod"));
}

#[test]
fn privilege_escalation_is_the_restricted_control() {
    let finding = only(
        &run(&create_pod(
            json!({"containers": [app(json!({"allowPrivilegeEscalation": true}))]}),
        )),
        "privileged_pod",
    );
    assert!(
        finding
            .reason
            .contains("(PSS restricted: Privilege Escalation)")
    );
    assert!(
        run(&create_pod(
            json!({"containers": [app(json!({"allowPrivilegeEscalation": false}))]})
        ))
        .is_empty()
    );
}

#[test]
fn host_ports() {
    let with_ports = |ports: Value| {
        create_pod(json!({"containers": [{"name": "app", "image": "nginx", "ports": ports}]}))
    };
    let finding = only(
        &run(&with_ports(
            json!([{"containerPort": 80, "hostPort": 8080}]),
        )),
        "privileged_pod",
    );
    assert!(
        finding
            .reason
            .contains("container `app` on host port 8080 (PSS baseline: Host Ports)")
    );
    assert!(
        run(&with_ports(
            json!([{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}])
        ))
        .is_empty()
    );
}

#[test]
fn windows_host_process_is_critical() {
    let spec = json!({"securityContext": {"windowsOptions": {"hostProcess": true}}, "hostNetwork": true,
        "containers": [{"name": "app", "image": "mcr.microsoft.com/windows/nanoserver"}]});
    let finding = only(&run(&create_pod(spec)), "privileged_pod");
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.reason.contains("(PSS baseline: HostProcess)"));
}

#[test]
fn proc_mount_seccomp_apparmor_selinux() {
    for (context, control) in [
        (json!({"procMount": "Unmasked"}), "/proc Mount Type"),
        (json!({"seccompProfile": {"type": "Unconfined"}}), "Seccomp"),
        (
            json!({"appArmorProfile": {"type": "Unconfined"}}),
            "AppArmor",
        ),
        (json!({"seLinuxOptions": {"type": "spc_t"}}), "SELinux"),
        (json!({"seLinuxOptions": {"user": "system_u"}}), "SELinux"),
    ] {
        let finding = only(
            &run(&create_pod(json!({"containers": [app(context.clone())]}))),
            "privileged_pod",
        );
        assert!(
            finding
                .reason
                .contains(&format!("(PSS baseline: {control})")),
            "{context}: {}",
            finding.reason
        );
    }
    for context in [
        json!({"procMount": "Default"}),
        json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}),
        json!({"appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-nginx"}}),
        json!({"seLinuxOptions": {"type": "container_init_t", "level": "s0:c123,c456"}}),
    ] {
        assert!(
            run(&create_pod(json!({"containers": [app(context.clone())]}))).is_empty(),
            "{context}"
        );
    }
    // Pod level.
    let spec = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "app", "image": "nginx"}]});
    assert!(
        only(&run(&create_pod(spec)), "privileged_pod")
            .reason
            .contains("pod seccomp Unconfined (PSS baseline: Seccomp)")
    );
}

#[test]
fn apparmor_and_seccomp_annotations() {
    let mut object = pod(json!({"containers": [{"name": "app", "image": "nginx"}]}));
    object["metadata"]["annotations"] =
        json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"});
    let ev = Ev::new(DEPLOYER, "create")
        .on("", "pods", "shop", "")
        .request(object.clone());
    assert!(
        only(&run(&ev), "privileged_pod")
            .reason
            .contains("AppArmor unconfined for `app` (annotation) (PSS baseline: AppArmor)")
    );
    object["metadata"]["annotations"] =
        json!({"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"});
    let ev = Ev::new(DEPLOYER, "create")
        .on("", "pods", "shop", "")
        .request(object);
    assert!(run(&ev).is_empty());
}

#[test]
fn sysctls() {
    let with = |name: &str| {
        create_pod(
            json!({"securityContext": {"sysctls": [{"name": name, "value": "1"}]}, "containers": [{"name": "app", "image": "nginx"}]}),
        )
    };
    let finding = only(&run(&with("kernel.msgmax")), "privileged_pod");
    assert!(
        finding
            .reason
            .contains("unsafe sysctls kernel.msgmax (PSS baseline: Sysctls)")
    );
    assert!(run(&with("net.ipv4.tcp_syncookies")).is_empty());
    assert!(run(&with("net.ipv4.ip_unprivileged_port_start")).is_empty());
}

#[test]
fn workload_templates() {
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [app(json!({"privileged": true}))]}});
    let deployment = Ev::new("alice@example.com", "create")
        .on("apps", "deployments", "shop", "")
        .request(json!({"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2, "template": template}}));
    let finding = only(&run(&deployment), "privileged_pod");
    assert!(
        finding.reason.starts_with(
            "alice@example.com created deployment shop/web with privileged container `app`"
        ),
        "{}",
        finding.reason
    );

    let cron = Ev::new("alice@example.com", "update")
        .on("batch", "cronjobs", "shop", "nightly")
        .request(json!({"kind": "CronJob", "metadata": {"name": "nightly"}, "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": template}}}}));
    assert!(
        only(&run(&cron), "privileged_pod")
            .reason
            .starts_with("alice@example.com updated cronjob shop/nightly")
    );

    let daemonset = Ev::new("alice@example.com", "create")
        .on("apps", "daemonsets", "monitoring", "")
        .request(json!({"metadata": {"generateName": "agent-"}, "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "agent", "image": "agent"}]}}}}));
    assert!(
        only(&run(&daemonset), "privileged_pod")
            .reason
            .contains("daemonset monitoring/agent-* with hostNetwork")
    );

    // The same shape in an unrelated API group is not a workload.
    let custom = Ev::new("alice@example.com", "create")
        .on("example.com", "deployments", "shop", "")
        .request(json!({"spec": {"template": template}}));
    assert!(run(&custom).is_empty());
}

#[test]
fn refused_dry_run_and_status_updates_are_ignored() {
    let privileged = json!({"containers": [app(json!({"privileged": true}))]});
    assert!(run(&create_pod(privileged.clone()).code(403)).is_empty());
    assert!(run(&create_pod(privileged.clone()).code(422)).is_empty());
    assert!(
        run(&create_pod(privileged.clone()).uri("/api/v1/namespaces/shop/pods?dryRun=All"))
            .is_empty()
    );
    let status = Ev::new("system:node:n1", "update")
        .on("", "pods", "shop", "x")
        .sub("status")
        .request(pod(privileged.clone()));
    assert!(run(&status).is_empty());
    let delete = Ev::new(DEPLOYER, "delete")
        .on("", "pods", "shop", "x")
        .response(pod(privileged));
    assert!(run(&delete).is_empty());
}

#[test]
fn controllers_and_mirror_pods_are_exempt_by_default() {
    let privileged = json!({"hostNetwork": true, "containers": [app(json!({"privileged": true}))]});
    for user in [
        "system:serviceaccount:kube-system:replicaset-controller",
        "system:node:cp-1",
    ] {
        let ev = Ev::new(user, "create")
            .on("", "pods", "shop", "")
            .request(pod(privileged.clone()));
        assert!(run(&ev).is_empty(), "{user}");
    }
    // Other kube-system service accounts are not.
    let ev = Ev::new("system:serviceaccount:kube-system:coredns", "create")
        .on("", "pods", "shop", "")
        .request(pod(privileged));
    assert!(fired(&run(&ev), "privileged_pod"));
}

#[test]
fn json_and_merge_patches() {
    let json_patch = Ev::new("alice@example.com", "patch")
        .on("apps", "deployments", "shop", "web")
        .request(json!([
            {"op": "replace", "path": "/spec/template/spec/containers/1/securityContext/privileged", "value": true},
            {"op": "add", "path": "/spec/template/spec/hostPID", "value": true},
        ]));
    let finding = only(&run(&json_patch), "privileged_pod");
    assert!(
        finding.reason.contains("privileged container #1"),
        "{}",
        finding.reason
    );
    assert_eq!(finding.severity, Severity::Critical);

    let image_only = Ev::new("alice@example.com", "patch")
        .on("apps", "deployments", "shop", "web")
        .request(json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.27"}]));
    assert!(run(&image_only).is_empty());

    let removal = Ev::new("alice@example.com", "patch")
        .on("apps", "deployments", "shop", "web")
        .request(
            json!([{"op": "remove", "path": "/spec/template/spec/hostNetwork", "value": true}]),
        );
    assert!(run(&removal).is_empty());

    let merge = Ev::new("alice@example.com", "patch")
        .on("apps", "statefulsets", "shop", "db")
        .request(json!({"spec": {"template": {"spec": {"containers": [{"name": "db", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}}}}));
    assert!(
        only(&run(&merge), "privileged_pod")
            .reason
            .contains("container `db` adding capabilities SYS_ADMIN")
    );
}

#[test]
fn response_object_when_request_object_is_missing() {
    let ev = Ev::new("alice@example.com", "update")
        .on("", "pods", "shop", "x")
        .response(pod(
            json!({"containers": [app(json!({"privileged": true}))]}),
        ));
    assert!(fired(&run(&ev), "privileged_pod"));
    // Metadata level: nothing to look at.
    let ev = Ev::new("alice@example.com", "create").on("", "pods", "shop", "x");
    assert!(run(&ev).is_empty());
}

#[test]
fn exempt_images() {
    let rules = rules_from(
        "[privileged_pod]\nexempt_images = [\"docker.io/calico/node\", \"registry.k8s.io/kube-proxy*\"]\n",
    );
    let calico = json!({"hostNetwork": true, "containers": [{"name": "calico", "image": "docker.io/calico/node:v3.28.0", "securityContext": {"privileged": true}}]});
    assert!(run_with(&rules, &create_pod(calico)).is_empty());
    let proxy = json!({"containers": [{"name": "p", "image": "registry.k8s.io/kube-proxy-amd64@sha256:abcd", "securityContext": {"privileged": true}}]});
    assert!(run_with(&rules, &create_pod(proxy)).is_empty());
    // A non-exempt container beside it is still checked, and so are pod fields.
    let mixed = json!({"hostNetwork": true, "containers": [
        {"name": "calico", "image": "docker.io/calico/node:v3.28.0", "securityContext": {"privileged": true}},
        {"name": "sidecar", "image": "evil/miner:latest"},
    ]});
    let finding = only(&run_with(&rules, &create_pod(mixed)), "privileged_pod");
    assert!(finding.reason.contains("hostNetwork"));
    assert!(!finding.reason.contains("calico"));
}

#[test]
fn many_violations_are_listed_up_to_a_limit() {
    let containers: Vec<Value> = (0..9)
        .map(|i| json!({"name": format!("c{i}"), "image": "x", "securityContext": {"privileged": true}}))
        .collect();
    let finding = only(
        &run(&create_pod(json!({"containers": containers}))),
        "privileged_pod",
    );
    assert!(
        finding.reason.ends_with(" and 3 more"),
        "{}",
        finding.reason
    );
}
